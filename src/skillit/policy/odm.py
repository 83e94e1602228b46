"""Online Data Mixing (Albalak et al. 2023): skills as arms of an EXP3 bandit rewarded by their loss.

Two named versions (frontier.md §5.2; peers.md §4.4), with t the optimiser steps done and
ε_t = min(1/k, √(ln k / (k·t))) (ε_0 = 1/k):

``odm`` — **the paper's formula** (EXP3 with importance weighting):

    π_t = (1 − k·ε_t)·softmax(ε_{t−1}·R̂) + ε_t
    R̂_i ← α·R̂_i + (1 − α)·r_i / π_i         for every skill i drawn in the round (π: the mixture it trained on)

``odm-smoothed-mean`` — **the repository's updater** (``SmoothedMeanWeightUpdater.group_update``): no 1/π
importance weight, an exponentiated reward, and linear instead of exponential weighting:

    R̂_i ← α·R̂_i + (1 − α)·exp(r_i),          π_t = (1 − k·ε_t)·R̂ / Σ_j R̂_j + ε_t

The reward r_i is skill i's mean training loss over the round (``reward="train_loss"``, the paper's) or its
latest validation loss (``reward="val_loss"``, the repository's ``validation_based_reward``). High loss means
high reward: the bandit feeds what is still being learned.

Choices: the paper updates after every step for the one sampled domain; here the update is once per round for
every skill drawn in it (the repository's ``group_update``), and t counts optimiser steps (the paper's clock,
so exploration decays as in the paper whatever the round length); α is per update. Before ``warmup_steps`` the
mixture is uniform and rewards still accumulate. ε uses the natural log (the paper; one port uses log10).
There is no random draw (the sampler draws from π), so nothing random is kept in the state.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import Field

from skillit.errors import PolicyError
from skillit.policy._signals import latest_eval_losses
from skillit.policy.base import MixingPolicy, Observation, PolicyContext, PolicyParams, PolicyState, stable_softmax
from skillit.policy.registry import register_policy


def exploration(k: int, t: int) -> float:
    """ε_t = min(1/k, √(ln k / (k·t))), ε_0 = 1/k."""
    if t <= 0 or k == 1:
        return 1.0 / k if t <= 0 else 0.0
    return min(1.0 / k, math.sqrt(math.log(k) / (k * t)))


@register_policy("odm")
class ODM(MixingPolicy):
    """EXP3 over skills, the paper's importance-weighted reward estimate; parameters :class:`ODM.Params`."""

    class Params(PolicyParams):
        smoothing: float = Field(0.9, ge=0, lt=1, description="α, the reward EMA factor")
        reward: Literal["train_loss", "val_loss"] = Field("train_loss", description="train_loss (the paper) or "
                                                          "val_loss")
        warmup_steps: int = Field(0, ge=0, description="optimiser steps of uniform sampling before the bandit's "
                                  "mixture is used")

    description = "ODM: EXP3 bandit on training loss (the paper's importance-weighted form)"

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        p = self.params
        self.smoothing, self.reward, self.warmup_steps = p.smoothing, p.reward, p.warmup_steps
        self.requires = frozenset({"val_loss", "train_loss"} if p.reward == "train_loss" else {"val_loss"})

    def init(self, context: PolicyContext) -> PolicyState:
        if self.reward == "val_loss" and not any(s in context.eval_skills for s in context.train_skills):
            raise PolicyError(f"{self.name}: reward 'val_loss' needs validation sets for training skills; use train_loss")
        k = context.k
        return {"train_skills": list(context.train_skills), "estimate": [0.0] * k, "step": 0,
                "last_reward": [None] * k, "round": 0}

    # ---- the two versions differ only here ---------------------------------------------------------
    def _estimate(self, estimate: np.ndarray, reward: np.ndarray, pi: np.ndarray) -> np.ndarray:
        return self.smoothing * estimate + (1.0 - self.smoothing) * reward / pi

    def _exploit(self, estimate: np.ndarray, previous_eps: float) -> np.ndarray:
        return stable_softmax(previous_eps * estimate)

    # ---- protocol ----------------------------------------------------------------------------------
    def _rewards(self, state: PolicyState, observation: Observation) -> tuple[np.ndarray, np.ndarray]:
        skills = state["train_skills"]
        if self.reward == "train_loss":
            raw = observation.train_loss_vector(skills)  # (k,), NaN where not drawn
            return np.nan_to_num(raw), np.isfinite(raw)
        previous = [np.nan if v is None else v for v in state["last_reward"]]
        latest = latest_eval_losses(observation, skills, previous)
        evaluated = np.array([any(s in e.losses for e in observation.evals[-1:]) for s in skills])
        return np.nan_to_num(latest), evaluated & np.isfinite(latest)

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        pi = self.weights(state)  # the mixture this round trained on
        reward, observed = self._rewards(state, observation)
        estimate = np.asarray(state["estimate"], dtype=float)
        estimate = np.where(observed, self._estimate(estimate, reward, pi), estimate)
        last = [float(r) if o else prev for r, o, prev in zip(reward, observed, state["last_reward"])]
        return {**state, "estimate": estimate.tolist(), "step": int(observation.step), "last_reward": last,
                "round": observation.round + 1}

    def weights(self, state: PolicyState) -> np.ndarray:
        estimate = np.asarray(state["estimate"], dtype=float)
        k, t = estimate.size, int(state["step"])
        if t < self.warmup_steps or t == 0:
            return np.full(k, 1.0 / k)
        eps = exploration(k, t)
        return (1.0 - k * eps) * self._exploit(estimate, exploration(k, t - 1)) + eps



@register_policy("odm-smoothed-mean")
class ODMSmoothedMean(ODM):
    """The ODM repository's smoothed-mean updater: R̂ ← α·R̂ + (1 − α)·exp(r), π ∝ linear in R̂, no 1/π."""

    description = "ODM: the repository's smoothed-mean updater (no 1/π, linear weights)"

    def _estimate(self, estimate: np.ndarray, reward: np.ndarray, pi: np.ndarray) -> np.ndarray:
        del pi  # the repository's updater has no importance weight
        return self.smoothing * estimate + (1.0 - self.smoothing) * np.exp(np.minimum(reward, 700.0))

    def _exploit(self, estimate: np.ndarray, previous_eps: float) -> np.ndarray:
        del previous_eps  # cancels in the repository's normalisation
        total = estimate.sum()
        return estimate / total if total > 0 else np.full(estimate.size, 1.0 / estimate.size)
