"""Example-level curriculum (Bengio et al. 2009) and anti-curriculum (Wu et al. 2020), paper §4 / App. C.3.

Every example of the finite training pool is scored by the *initial* model's loss (``context.score_pool``).
Examples are ranked easiest first (curriculum) or hardest first (anti-curriculum). In round t (0-based) of
T, the sampler draws uniformly from the g(t) first-ranked examples, with linear pacing

    g(t) = ceil(N · (s + (1 − s) · (t + 1) / T)),     N = pool size, s = ``start_fraction``,

so the last round sees the whole pool. Uniform over the admitted examples means skill i's weight is
(admitted examples of skill i) / g(t), and within skill i only its admitted examples are drawn.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from skillit.errors import PolicyError
from skillit.policy.base import MixingPolicy, Observation, PolicyContext, PolicyParams, PolicyState
from skillit.policy.checks import finite_scores
from skillit.policy.registry import register_policy


@register_policy("curriculum")
class Curriculum(MixingPolicy):
    """Rank pool examples by initial loss, easiest first; admit a linearly growing prefix of the ranking each
    round. :class:`AntiCurriculum` ranks the hardest first."""

    class Params(PolicyParams):
        start_fraction: float = Field(0.0, ge=0, le=1, description="s, the share of the pool admitted at the start")

    description = "examples ranked by initial loss, easiest first, linear pacing"
    order: ClassVar[Literal["easy-first", "hard-first"]] = "easy-first"

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        self.start_fraction = self.params.start_fraction

    def init(self, context: PolicyContext) -> PolicyState:
        if context.score_pool is None or context.pool_sizes is None or any(s is None for s in context.pool_sizes):
            raise PolicyError(
                f"{self.name}: ranks every training example, so every training skill needs a finite pool; "
                "set the task's train_pool_size (or use finite data sources)"
            )
        scores = context.score_pool()
        skill_ids, example_ids, losses = [], [], []
        for s, name in enumerate(context.train_skills):
            values = finite_scores(self.name, name, np.asarray(scores[name], dtype=float))  # (pool_size_s,)
            skill_ids.append(np.full(values.shape, s))
            example_ids.append(np.arange(values.size))
            losses.append(values)
        skill_id = np.concatenate(skill_ids)
        example_id = np.concatenate(example_ids)
        loss = np.concatenate(losses)
        key = loss if self.order == "easy-first" else -loss
        ranking = np.lexsort((example_id, skill_id, key))  # ties broken by skill, then example index
        return {
            "k": context.k,
            "n_rounds": context.n_rounds,
            "ranked_skill": skill_id[ranking].tolist(),
            "ranked_example": example_id[ranking].tolist(),
            "round": 0,
        }

    def admitted(self, state: PolicyState) -> int:
        """g(t): how many top-ranked examples the current round may draw from."""
        n = len(state["ranked_skill"])
        t, T = state["round"], state["n_rounds"]
        fraction = min(1.0, self.start_fraction + (1.0 - self.start_fraction) * (t + 1) / T)
        return max(1, min(n, math.ceil(n * fraction - 1e-9)))

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        return {**state, "round": observation.round + 1}

    def weights(self, state: PolicyState) -> np.ndarray:
        g = self.admitted(state)
        counts = np.bincount(np.asarray(state["ranked_skill"][:g]), minlength=state["k"])
        return counts / g

    def scope(self, state: PolicyState) -> dict[int, list[int]]:
        g = self.admitted(state)
        admitted: dict[int, list[int]] = {}
        for s, i in zip(state["ranked_skill"][:g], state["ranked_example"][:g]):
            admitted.setdefault(int(s), []).append(int(i))
        return {s: sorted(v) for s, v in admitted.items()}

    def describe(self) -> dict:
        return {**super().describe(), "order": self.order}


@register_policy("anti-curriculum")
class AntiCurriculum(Curriculum):
    """Curriculum with the hardest examples first."""

    description = "examples ranked by initial loss, hardest first, linear pacing"
    order = "hard-first"
