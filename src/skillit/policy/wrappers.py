"""Policy variants as wrappers, not flags: each takes a policy and returns a policy.

* :class:`Frozen`: keep the first mixture for the whole run (Skill-It's static variant, T = 1).
* :class:`MinimumProbability`: mix with the uniform distribution so every skill keeps ≥ ``floor``
  (the exploration floors of ODM/ADO/DoReMi, peers.md §5 item 3).
* :class:`Smoothed`: exponential moving average of successive mixtures.
* :class:`TokenProportions`: read the inner policy's mixture as shares of *tokens* and hand the sampler the
  example weights that give them (the sampler's weights are shares of *examples*).

A wrapper's state is ``{"inner": <inner state>, ...}``, still plain JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from skillit.errors import PolicyError, did_you_mean
from skillit.policy.base import (
    MixingPolicy,
    Observation,
    PolicyContext,
    PolicyParams,
    PolicyState,
    RoundPlan,
    normalise,
)
from skillit.policy.registry import register_wrapper


class Wrapper(MixingPolicy):
    """A policy around an inner policy. Its parameters are its ``Params`` (one field at most: a config gives
    its value as the wrapper's, ``wrappers: [{floor: 0.01}]``), validated like a policy's."""

    wrapper_name = "wrapper"
    takes: ClassVar[str] = "a number"  # what a config's value must be, for the error message
    keeps_scope = True  # False where the wrapper changes weights that a scope (curriculum) depends on

    def __init__(self, inner: MixingPolicy, *args: Any, **params: Any):
        super().__init__(*args, **params)
        self.inner = inner
        self.name = f"{self.wrapper_name}({inner.name})"
        self.requires = inner.requires
        self.version = inner.version
        self.probe_examples = inner.probe_examples  # the inner policy's probe size (grad_probe)

    @classmethod
    def _refused(cls, params: dict[str, Any], details: str) -> str:
        given = next(iter(params.values())) if len(params) == 1 else params
        return f"wrapper {cls.wrapper_name!r} takes {cls.takes}, got {given!r} ({details})"

    @classmethod
    def wrap(cls, inner: MixingPolicy, value: Any, *, where: str = "") -> MixingPolicy:
        """``inner`` wrapped as a config's ``{wrapper_name: value}`` asks: the value fills ``Params``' field."""
        return cls(inner, **dict(cls.parse_params(value, where=where)))

    def init(self, context: PolicyContext) -> PolicyState:
        return {"inner": self._init_inner(context)}

    def _init_inner(self, context: PolicyContext) -> PolicyState:
        inner = self.inner.init(context)
        if not self.keeps_scope and self.inner.scope(inner) is not None:
            raise PolicyError(
                f"{self.wrapper_name} changes the mixture, which cannot be combined with {self.inner.name}, "
                "a policy that restricts which examples are drawn"
            )
        return inner

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        return {**state, "inner": self.inner.update(state["inner"], observation)}

    def weights(self, state: PolicyState) -> np.ndarray:
        return self.inner.weights(state["inner"])

    def scope(self, state: PolicyState):
        return self.inner.scope(state["inner"])

    def plan(self, state: PolicyState, round_steps: int) -> RoundPlan:
        """The inner policy's plan; a mixture it planned explicitly (a probe) is kept as it is."""
        return self.inner.plan(state["inner"], round_steps)

    def describe(self) -> dict:
        """The wrapper's name, the inner policy's description and the wrapper's parameters."""
        own = {name: value for name, value in super().describe().items() if name != "name"}
        return {"name": self.wrapper_name, "inner": self.inner.describe(), **own}


@register_wrapper("frozen")
class Frozen(Wrapper):
    """p_t = p_1 for every round: the inner policy's first mixture, never updated (T = 1)."""

    takes = "true or false"

    def __init__(self, inner: MixingPolicy):
        super().__init__(inner)
        self.requires = frozenset()  # never updated, so it reads no signal

    @classmethod
    def wrap(cls, inner: MixingPolicy, value: Any, *, where: str = "") -> MixingPolicy:
        if not isinstance(value, bool):
            raise PolicyError(f"{where}: wrapper 'frozen' takes {cls.takes}, got {value!r}")
        return cls(inner) if value else inner

    def plan(self, state: PolicyState, round_steps: int) -> RoundPlan:
        return RoundPlan(steps=round_steps)  # no probes: the mixture is fixed

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        return state


@register_wrapper("floor")
class MinimumProbability(Wrapper):
    """p' = (1 − k·floor) · p + floor, so every skill gets at least ``floor`` (requires k·floor ≤ 1)."""

    class Params(PolicyParams):
        floor: float = Field(ge=0, description="the least weight of every skill (k·floor ≤ 1)")

    keeps_scope = False

    def __init__(self, inner: MixingPolicy, *args: Any, **params: Any):
        super().__init__(inner, *args, **params)
        self.floor = self.params.floor

    def init(self, context: PolicyContext) -> PolicyState:
        if self.floor * context.k > 1.0:
            raise PolicyError(
                f"floor {self.floor} is too large for {context.k} skills (k·floor = {self.floor * context.k} > 1)"
            )
        return super().init(context)

    def weights(self, state: PolicyState) -> np.ndarray:
        p = self.inner.weights(state["inner"])
        return (1.0 - p.size * self.floor) * p + self.floor


@register_wrapper("smoothed")
class Smoothed(Wrapper):
    """p'_t = β · p'_{t−1} + (1 − β) · p_t, with p'_1 = p_1 (an EMA over training rounds).

    The EMA advances on training rounds only: a probe sub-round that the inner policy planned (Aioli's
    LearnParams) updates the inner state but not p', so β means the same with and without probes.
    """

    class Params(PolicyParams):
        beta: float = Field(ge=0, lt=1, description="β, the weight of the previous mixture")

    keeps_scope = False

    def __init__(self, inner: MixingPolicy, *args: Any, **params: Any):
        super().__init__(inner, *args, **params)
        self.beta = self.params.beta

    def init(self, context: PolicyContext) -> PolicyState:
        inner = self._init_inner(context)
        return {"inner": inner, "smoothed": self.inner.weights(inner).tolist()}

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        inner = self.inner.update(state["inner"], observation)
        if observation.kind == "probe":  # a probe sub-round: the inner policy learns, the mixture does not move
            return {**state, "inner": inner}
        fresh = self.inner.weights(inner)
        smoothed = self.beta * np.asarray(state["smoothed"]) + (1.0 - self.beta) * fresh
        return {"inner": inner, "smoothed": (smoothed / smoothed.sum()).tolist()}

    def weights(self, state: PolicyState) -> np.ndarray:
        return np.asarray(state["smoothed"], dtype=float)


def example_weights_from_token_shares(token_shares: np.ndarray, mean_tokens: np.ndarray) -> np.ndarray:
    """Example weights p whose expected token shares are ``token_shares`` (t), given mean tokens m per example.

    A skill drawn with example probability p_i contributes p_i · m_i tokens per draw on average, so its
    token share is t_i = p_i m_i / Σ_j p_j m_j; inverting, p_i = (t_i / m_i) / Σ_j (t_j / m_j).
    """
    t = normalise(np.asarray(token_shares, dtype=float), where="token shares")
    m = np.asarray(mean_tokens, dtype=float)
    if m.shape != t.shape or not np.isfinite(m).all() or (m <= 0).any():
        raise PolicyError(f"mean tokens per example must be {t.size} positive numbers, got {m.tolist()}")
    return normalise(t / m, where="token shares")


def token_shares_from_example_weights(weights: np.ndarray, mean_tokens: np.ndarray) -> np.ndarray:
    """The expected token share of each skill at example weights p: t_i = p_i m_i / Σ_j p_j m_j."""
    p = normalise(np.asarray(weights, dtype=float), where="example weights")
    m = np.asarray(mean_tokens, dtype=float)
    if m.shape != p.shape or not np.isfinite(m).all() or (m <= 0).any():
        raise PolicyError(f"mean tokens per example must be {p.size} positive numbers, got {m.tolist()}")
    return normalise(p * m, where="example weights")


@register_wrapper("tokens")
class TokenProportions(Wrapper):
    """p_i = (q_i / m_i) / Σ_j (q_j / m_j): the inner mixture q taken as token shares (see
    :func:`example_weights_from_token_shares`), with m_i the mean tokens per example of skill i.

    ``mean_tokens`` given (``{skill: tokens}``, e.g. from ``skillit data inspect``) or, when ``None``,
    counted by the trainer at the start of the run (``PolicyContext.mean_tokens``); kept in the state, so a
    resumed run uses the same counts.
    """

    class Params(PolicyParams):
        mean_tokens: dict[str, float] | None = Field(
            None, description="mean tokens per example of each skill; default: counted by the trainer")

    takes = "true, false or {skill: mean tokens per example}"
    keeps_scope = False

    def __init__(self, inner: MixingPolicy, *args: Any, **params: Any):
        super().__init__(inner, *args, **params)
        self.mean_tokens = self.params.mean_tokens

    @classmethod
    def wrap(cls, inner: MixingPolicy, value: Any, *, where: str = "") -> MixingPolicy:
        """``tokens: true`` (counted by the trainer), ``false`` (no wrapper) or ``{skill: mean tokens}``."""
        if isinstance(value, bool):
            return cls(inner) if value else inner
        if not isinstance(value, Mapping):
            raise PolicyError(f"{where}: wrapper 'tokens' takes {cls.takes}, got {value!r}")
        return cls(inner, cls.parse_params(value, where=where).mean_tokens)

    def init(self, context: PolicyContext) -> PolicyState:
        inner = self._init_inner(context)
        if self.mean_tokens is not None:
            unknown = [name for name in self.mean_tokens if name not in context.train_skills]
            if unknown:
                raise PolicyError(f"tokens wrapper: unknown training skill {unknown[0]!r}; "
                                  f"{did_you_mean(unknown[0], list(context.train_skills))}")
            missing = [name for name in context.train_skills if name not in self.mean_tokens]
            if missing:
                raise PolicyError(f"tokens wrapper: no mean tokens per example given for skill {missing[0]!r}")
            counts = [float(self.mean_tokens[name]) for name in context.train_skills]
        elif context.mean_tokens is not None:
            counts = [float(c) for c in context.mean_tokens()]
        else:
            raise PolicyError(
                "tokens wrapper: this trainer does not count tokens per example; give them per skill, e.g. "
                "wrappers: [{tokens: {skill_a: 120, skill_b: 12}}] (skillit data inspect prints the means)"
            )
        example_weights_from_token_shares(np.full(len(counts), 1.0 / len(counts)), np.asarray(counts))  # checks
        return {"inner": inner, "mean_tokens": counts}

    def weights(self, state: PolicyState) -> np.ndarray:
        return example_weights_from_token_shares(self.inner.weights(state["inner"]), np.asarray(state["mean_tokens"]))

    def describe(self) -> dict:
        return {**super().describe(), "mean_tokens": self.mean_tokens or "counted"}
