"""Skill-level curriculum and anti-curriculum (Varshney et al. 2022, Alg. 1), paper §4 / App. C.3.

Skills are ranked by their initial validation loss, easiest first (``skill-curriculum``) or hardest first
(``skill-anti-curriculum``). The T rounds are split into k + 1 equal stages. In stage s < k the model trains
on the s-th ranked skill, with a fraction ``mixing_fraction`` of the data drawn uniformly from the skills of
earlier stages (to limit forgetting); the last stage trains on the whole natural pool. The paper (v1) uses
``mixing_fraction = 0.4``; the reference scripts used 0.0, which the paper says "resulted in forgetting".

    stage(t) = floor(t · (k + 1) / T)
    p_{order[s]} = 1 − f (or 1 when s = 0),  p_{order[r]} = f / s for r < s
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from skillit.errors import PolicyError
from skillit.policy.base import MixingPolicy, Observation, PolicyContext, PolicyParams, PolicyState
from skillit.policy.checks import finite_losses
from skillit.policy.registry import register_policy


@register_policy("skill-curriculum")
class SkillCurriculum(MixingPolicy):
    """Skills ranked by initial loss, easiest first, one stage each (:class:`SkillAntiCurriculum`: hardest)."""

    class Params(PolicyParams):
        mixing_fraction: float = Field(0.4, ge=0, lt=1, description="f, the share drawn from earlier stages' "
                                       "skills (paper v1: 0.4; the reference scripts: 0.0)")

    description = "skills ranked by initial loss, easiest first, one stage each"
    order: ClassVar[Literal["easy-first", "hard-first"]] = "easy-first"

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        self.mixing_fraction = self.params.mixing_fraction

    def init(self, context: PolicyContext) -> PolicyState:
        if context.initial_eval is None:
            raise PolicyError(f"{self.name}: ranks skills by their initial loss and needs an evaluation before training")
        if context.n_rounds < context.k + 1:
            raise PolicyError(
                f"{self.name}: needs at least k + 1 = {context.k + 1} rounds (one stage per skill and a final "
                f"stage), the schedule has {context.n_rounds}; shorten round_steps"
            )
        losses = finite_losses(self.name, context.initial_eval, context.train_skills)
        key = losses if self.order == "easy-first" else -losses
        order = np.lexsort((np.arange(context.k), key))  # ties broken by skill order
        return {
            "order": order.tolist(),
            "natural": context.natural().tolist(),
            "n_rounds": context.n_rounds,
            "round": 0,
        }

    def stage(self, state: PolicyState) -> int:
        k = len(state["order"])
        return min(k, state["round"] * (k + 1) // state["n_rounds"])

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        return {**state, "round": observation.round + 1}

    def weights(self, state: PolicyState) -> np.ndarray:
        order = state["order"]
        k, s = len(order), self.stage(state)
        if s >= k:
            return np.asarray(state["natural"], dtype=float)
        w = np.zeros(k)
        if s == 0 or self.mixing_fraction == 0.0:
            w[order[s]] = 1.0
        else:
            w[order[s]] = 1.0 - self.mixing_fraction
            w[order[:s]] = self.mixing_fraction / s
        return w

    def describe(self) -> dict:
        return {**super().describe(), "order": self.order}


@register_policy("skill-anti-curriculum")
class SkillAntiCurriculum(SkillCurriculum):
    description = "skills ranked by initial loss, hardest first, one stage each"
    order = "hard-first"
