"""Velocitune: reweight skills by how much of their way to a target loss is still left (frontier.md §5.7).

Every ``update_every`` rounds, with ℓ_i the latest validation loss of training skill i,

    V_i = clip( (ℓ_i − ℓ_i^target) / (ℓ_i^init − ℓ_i^target), 0, 1 ),      w ← normalise(w ⊙ exp(V))

starting from w_0 = the natural pool share (``prior="natural"``, Velocitune's "original weights") or uniform.
ℓ^init is the step-0 evaluation. ℓ^target is what the skill's loss can reach: the paper fits it with a
Chinchilla-style law on a subset proxy; here it is given (``target_losses``: one floor for all skills, or one
per skill; default 0, i.e. V = ℓ/ℓ^init). A skill that is already at or below its target (ℓ^init ≤ ℓ^target)
has V = 0, and a training skill without a validation set keeps V = 0 (its weight follows only the
normalisation). The multiplicative update accumulates: a skill that stays far from its target keeps gaining.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import Field

from skillit.errors import PolicyError
from skillit.policy._signals import latest_eval_losses
from skillit.policy.base import MixingPolicy, Observation, PolicyContext, PolicyParams, PolicyState
from skillit.policy.registry import register_policy


@register_policy("velocitune")
class Velocitune(MixingPolicy):
    """w ← normalise(w ⊙ exp(V)), V_i = clip((ℓ_i − ℓ*_i)/(ℓ⁰_i − ℓ*_i), 0, 1); parameters
    :class:`Velocitune.Params`."""

    class Params(PolicyParams):
        target_losses: float | dict[str, float] = Field(0.0, description="ℓ*: one number for every skill or "
                                                        "{skill: loss} (missing skills: 0)")
        update_every: int = Field(1, ge=1, description="m, rounds between updates")
        prior: Literal["natural", "uniform"] = Field("natural", description="initial weights: natural (pool "
                                                     "share) or uniform")

    description = "Velocitune: w ∝ w·exp(remaining fraction of the way to a target loss)"
    requires = frozenset({"val_loss"})

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        p = self.params
        self.target_losses, self.update_every, self.prior = p.target_losses, p.update_every, p.prior

    def init(self, context: PolicyContext) -> PolicyState:
        skills = context.train_skills
        if isinstance(self.target_losses, Mapping):
            unknown = [s for s in self.target_losses if s not in skills]
            if unknown:
                raise PolicyError(f"velocitune: target loss for unknown training skill {unknown[0]!r}; skills: {list(skills)}")
            target = [float(self.target_losses.get(s, 0.0)) for s in skills]
        else:
            target = [float(self.target_losses)] * context.k
        evaluated = [s in context.eval_skills for s in skills]
        initial = [float("nan")] * context.k
        if context.initial_eval is not None:
            initial = [float(context.initial_eval.losses.get(s, float("nan"))) for s in skills]
        if not any(evaluated):
            raise PolicyError("velocitune: no training skill has a validation set; it needs validation losses of training skills")
        w = context.natural() if self.prior == "natural" else np.full(context.k, 1.0 / context.k)
        return {"train_skills": list(skills), "target": target, "initial": [None if np.isnan(v) else v for v in initial],
                "latest": [None] * context.k, "weights": w.tolist(), "round": 0}

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        skills = state["train_skills"]
        previous = [np.nan if v is None else v for v in state["latest"]]
        latest = latest_eval_losses(observation, skills, previous)  # (k,), NaN: never evaluated
        initial = np.array([np.nan if v is None else v for v in state["initial"]])
        initial = np.where(np.isnan(initial), latest, initial)  # no step-0 evaluation: the first one seen
        rounds = observation.round + 1
        w = np.asarray(state["weights"], dtype=float)
        if rounds % self.update_every == 0:
            w = velocitune_step(w, latest, initial, np.asarray(state["target"], dtype=float))
        return {**state, "initial": _as_json(initial), "latest": _as_json(latest), "weights": w.tolist(), "round": rounds}

    def weights(self, state: PolicyState) -> np.ndarray:
        return np.asarray(state["weights"], dtype=float)



def _as_json(values: np.ndarray) -> list[float | None]:
    """NaN (unknown loss) as null, so the state stays standard JSON."""
    return [None if np.isnan(x) else float(x) for x in values]


def velocitune_step(w: np.ndarray, loss: np.ndarray, initial: np.ndarray, target: np.ndarray) -> np.ndarray:
    """One update: normalise(w ⊙ exp(V)); V = 0 where the loss is unknown or the skill starts at its target."""
    span = initial - target
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.clip((loss - target) / span, 0.0, 1.0)
    v = np.where(np.isfinite(v) & (span > 0), v, 0.0)
    fresh = w * np.exp(v)
    return fresh / fresh.sum()
