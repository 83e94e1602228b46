"""The mixing-policy protocol: pure ``init`` / ``update`` / ``weights`` over a serialisable state.

A policy decides, while a model trains, how much of each training skill to feed it. Like an optax
transformation it keeps no mutable state of its own: the trainer holds the state and passes it back in.

    state = policy.init(context)                 # once, after the step-0 evaluation
    for each round t:
        p = policy.weights(state)                # simplex vector over context.train_skills
        ... train round_steps steps on batches drawn from p ...
        state = policy.update(state, observation) # the evaluations made during round t

States are plain JSON values (dicts, lists, numbers, strings), so ``json.loads(json.dumps(state))``
restores a policy exactly: that is what checkpoints store, what DDP ranks agree on and what tests compare.
Hyper-parameters (η, the graph, a window) live on the policy object, not in the state.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from skillit.errors import PolicyError

Setting = Literal["pretrain", "finetune", "out-of-domain"]
PolicyState = dict[str, Any]


@dataclass(frozen=True)
class EvalResult:
    """Per-skill validation metrics at one evaluation point (``step`` = optimiser steps done)."""

    step: int
    losses: Mapping[str, float]  # mean answer-token cross-entropy per evaluation skill
    accuracies: Mapping[str, float] = field(default_factory=dict)  # exact-match accuracy per skill

    def loss_vector(self, skills: Sequence[str]) -> np.ndarray:
        """Losses in the order of ``skills``; a clear error if one was not evaluated."""
        try:
            return np.array([self.losses[name] for name in skills], dtype=float)
        except KeyError as exc:
            raise PolicyError(
                f"the policy needs the validation loss of skill {exc.args[0]!r}, which was not evaluated "
                f"at step {self.step} (evaluated: {sorted(self.losses)}); give that skill a validation set"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "losses": dict(self.losses), "accuracies": dict(self.accuracies)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalResult:
        return cls(int(data["step"]), dict(data["losses"]), dict(data.get("accuracies", {})))


@dataclass(frozen=True)
class PolicyContext:
    """What a policy may know when it starts.

    Attributes:
        train_skills: skills the policy mixes (the order of every weight vector).
        eval_skills: skills with a validation set.
        target_skills: the skills whose loss is the objective: all eval skills in pre-training and
            out-of-domain, the chosen targets in fine-tuning.
        setting: ``pretrain`` (S_eval = S_train), ``finetune`` (targets ⊂ S_train) or ``out-of-domain``
            (S_eval ∩ S_train = ∅), paper §3.1.
        natural_proportions: each training skill's share of the natural (possibly imbalanced) pool.
        pool_sizes: finite pool size per training skill, ``None`` for streams.
        n_rounds, round_steps: the schedule (T rounds of H optimiser steps).
        initial_eval: the evaluation before the first optimiser step.
        score_pool: computes the initial model's loss on every pool example, ``{skill: array (pool_size,)}``;
            only the example-level curriculum needs it, so it is lazy.
    """

    train_skills: tuple[str, ...]
    eval_skills: tuple[str, ...] = ()
    target_skills: tuple[str, ...] = ()
    setting: Setting = "pretrain"
    natural_proportions: tuple[float, ...] | None = None
    pool_sizes: tuple[int | None, ...] | None = None
    n_rounds: int = 1
    round_steps: int = 1
    initial_eval: EvalResult | None = None
    score_pool: Callable[[], dict[str, np.ndarray]] | None = None

    def __post_init__(self) -> None:
        if not self.train_skills:
            raise PolicyError("a policy needs at least one training skill")
        if self.natural_proportions is not None and len(self.natural_proportions) != len(self.train_skills):
            raise PolicyError("natural_proportions must have one entry per training skill")

    @property
    def k(self) -> int:
        return len(self.train_skills)

    def natural(self) -> np.ndarray:
        if self.natural_proportions is None:
            return np.full(self.k, 1.0 / self.k)
        p = np.asarray(self.natural_proportions, dtype=float)
        return p / p.sum()


@dataclass(frozen=True)
class Observation:
    """What the trainer reports to a policy at the end of a round."""

    round: int  # 0-based index of the round that just ended
    step: int  # optimiser steps done so far
    evals: tuple[EvalResult, ...]  # the evaluations made during the round, oldest first
    examples_seen: Mapping[str, int] = field(default_factory=dict)  # cumulative, per training skill


class MixingPolicy(ABC):
    """Base class of the built-in policies. Subclasses implement ``init``, ``update`` and ``weights``.

    ``scope`` optionally restricts which examples of a skill may be drawn this round (the example-level
    curriculum admits only the easiest examples); ``None`` means every example.
    """

    name: str = "policy"

    @abstractmethod
    def init(self, context: PolicyContext) -> PolicyState:
        """The initial state; ``weights(init(context))`` is the first round's mixture."""

    @abstractmethod
    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        """A new state after one round (never mutates ``state``)."""

    @abstractmethod
    def weights(self, state: PolicyState) -> np.ndarray:
        """The mixture for the next round: shape (k,), non-negative, sums to 1, in train_skills order."""

    def scope(self, state: PolicyState) -> dict[int, list[int]] | None:
        """Admitted example indices for the next round, keyed by training-skill position, or ``None``.

        A skill absent from the mapping has no admitted example (its weight must then be 0).
        """
        del state
        return None

    def describe(self) -> dict[str, Any]:
        """Hyper-parameters, for records and reports."""
        return {"name": self.name}


def normalise(weights: np.ndarray, *, where: str = "policy") -> np.ndarray:
    """Project non-negative weights onto the simplex; a clear error if they are not finite or all zero."""
    w = np.asarray(weights, dtype=float)
    if not np.isfinite(w).all() or (w < 0).any():
        raise PolicyError(f"{where}: weights must be finite and non-negative, got {w.tolist()}")
    total = w.sum()
    if total <= 0:
        raise PolicyError(f"{where}: weights are all zero; at least one skill needs a positive weight")
    return w / total


def stable_softmax(logits: np.ndarray) -> np.ndarray:
    """softmax(x) = exp(x - max x) / Σ exp(x - max x): never overflows (the reference code's did, §1.5 item 1)."""
    z = np.asarray(logits, dtype=float)
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


def weights_by_name(
    values: Mapping[str, float] | Sequence[float], skills: Sequence[str], *, where: str
) -> np.ndarray:
    """A weight vector in ``skills`` order from a ``{name: weight}`` mapping (missing = 0) or a list."""
    if isinstance(values, Mapping):
        unknown = [name for name in values if name not in skills]
        if unknown:
            from skillit.errors import did_you_mean

            raise PolicyError(f"{where}: unknown training skill {unknown[0]!r}; {did_you_mean(unknown[0], list(skills))}")
        raw = np.array([float(values.get(name, 0.0)) for name in skills])
    else:
        if len(values) != len(skills):
            raise PolicyError(f"{where}: {len(values)} weights given for {len(skills)} training skills {list(skills)}")
        raw = np.asarray(values, dtype=float)
    return normalise(raw, where=where)
