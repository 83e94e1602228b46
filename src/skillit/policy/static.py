"""Static mixtures: fixed weights for the whole run (``static``, ``random``, ``stratified``, ``target-only``).

None of these looks at losses; ``update`` only counts rounds so that every policy's state has the same
life cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from skillit.errors import PolicyError
from skillit.graph.skills_graph import SkillsGraph
from skillit.policy.base import MixingPolicy, Observation, PolicyContext, PolicyState, weights_by_name


class _FixedMixture(MixingPolicy):
    """Weights computed once in ``init`` and kept in the state."""

    def _mixture(self, context: PolicyContext) -> np.ndarray:
        raise NotImplementedError

    def init(self, context: PolicyContext) -> PolicyState:
        return {"weights": self._mixture(context).tolist(), "round": 0}

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        return {**state, "round": observation.round + 1}

    def weights(self, state: PolicyState) -> np.ndarray:
        return np.asarray(state["weights"], dtype=float)


class Static(_FixedMixture):
    """p = the given weights, normalised. ``weights`` maps skill name → weight (missing skills get 0)."""

    name = "static"

    def __init__(self, weights: Mapping[str, float] | Sequence[float]):
        self._given = weights

    def _mixture(self, context: PolicyContext) -> np.ndarray:
        return weights_by_name(self._given, context.train_skills, where="static policy")

    def describe(self) -> dict:
        given = dict(self._given) if isinstance(self._given, Mapping) else list(self._given)
        return {"name": self.name, "weights": given}


class Random(_FixedMixture):
    """Sample uniformly from the natural pool: p_i ∝ the pool share of skill i (paper §4 "Random").

    On LEGO the pool is built 1:1:1:3:5, on Addition 13:14:18 (skillit.md §1.6); ``proportions`` overrides.
    """

    name = "random"

    def __init__(self, proportions: Mapping[str, float] | Sequence[float] | None = None):
        self._proportions = proportions

    def _mixture(self, context: PolicyContext) -> np.ndarray:
        if self._proportions is None:
            return context.natural()
        return weights_by_name(self._proportions, context.train_skills, where="random policy")

    def describe(self) -> dict:
        return {"name": self.name, "proportions": self._proportions}


class Stratified(_FixedMixture):
    """Skill-stratified sampling (paper §3.3.1): uniform over the relevant training skills.

    Without a graph: uniform over every training skill. With a graph, uniform over S_prereq ∪ S_target,
    where S_prereq = {i : A_ij > 0 for some target column j} (fine-tuning and out-of-domain settings).
    """

    name = "stratified"

    def __init__(self, graph: SkillsGraph | None = None):
        self._graph = graph

    def _mixture(self, context: PolicyContext) -> np.ndarray:
        if self._graph is None:
            return np.full(context.k, 1.0 / context.k)
        targets = list(context.target_skills or context.eval_skills)
        columns = self._graph.submatrix(context.train_skills, targets)  # (k, m)
        keep = (columns > 0).any(axis=1) | np.isin(np.array(context.train_skills), targets)
        if not keep.any():
            raise PolicyError("stratified policy: no training skill has an edge to a target skill in the graph")
        return keep / keep.sum()

    def describe(self) -> dict:
        return {"name": self.name, "graph": self._graph.provenance if self._graph is not None else None}


class TargetOnly(_FixedMixture):
    """Train only on the target skills, uniformly (the fine-tuning baseline)."""

    name = "target-only"

    def _mixture(self, context: PolicyContext) -> np.ndarray:
        targets = [name for name in context.target_skills if name in context.train_skills]
        if not targets:
            raise PolicyError(
                "target-only policy: none of the target skills "
                f"{list(context.target_skills)} is a training skill; set target_skills to training skills"
            )
        return np.isin(np.array(context.train_skills), targets) / len(targets)
