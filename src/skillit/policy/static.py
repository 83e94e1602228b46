"""Static mixtures: fixed weights for the whole run (``static``, ``random``, ``stratified``, ``target-only``).

None of these looks at losses; ``update`` only counts rounds so that every policy's state has the same
life cycle. Of them only ``target-only`` reads a weighted objective (``PolicyContext.objective_weights``): it
trains on the target skills in the objective's proportions instead of uniformly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from skillit.errors import PolicyError
from skillit.policy.base import (
    Graph,
    MixingPolicy,
    Observation,
    PolicyContext,
    PolicyParams,
    PolicyState,
    Weights,
    resolve_graph_spec,
    weights_by_name,
)
from skillit.policy.registry import register_policy


class _FixedMixture(MixingPolicy):
    """Weights computed once in ``init`` and kept in the state."""

    online = False

    def _mixture(self, context: PolicyContext) -> np.ndarray:
        raise NotImplementedError

    def init(self, context: PolicyContext) -> PolicyState:
        return {"weights": self._mixture(context).tolist(), "round": 0}

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        return {**state, "round": observation.round + 1}

    def weights(self, state: PolicyState) -> np.ndarray:
        return np.asarray(state["weights"], dtype=float)


@register_policy("static")
class Static(_FixedMixture):
    """p = the given weights, normalised, e.g. ``Static({"a": 1, "b": 3})`` or ``Static([1, 3])``."""

    class Params(PolicyParams):
        weights: Weights = Field(description="{skill: weight} (missing skills get 0) or a list in skill order")

    description = "fixed, given weights"

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        self._given = self.params.weights

    def _mixture(self, context: PolicyContext) -> np.ndarray:
        return weights_by_name(self._given, context.train_skills, where="static policy")


@register_policy("random")
class Random(_FixedMixture):
    """Sample uniformly from the natural pool: p_i ∝ the pool share of skill i (paper §4 "Random").

    On LEGO the pool is built 1:1:1:3:5, on Addition 13:14:18 (skillit.md §1.6); ``proportions`` overrides.
    """

    class Params(PolicyParams):
        proportions: Weights | None = Field(None, description="override the natural pool proportions")

    description = "sample in proportion to the natural (imbalanced) pool"

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        self._proportions = self.params.proportions

    def _mixture(self, context: PolicyContext) -> np.ndarray:
        if self._proportions is None:
            return context.natural()
        return weights_by_name(self._proportions, context.train_skills, where="random policy")



@register_policy("stratified")
class Stratified(_FixedMixture):
    """Skill-stratified sampling (paper §3.3.1): uniform over the relevant training skills.

    Without a graph: uniform over every training skill. With a graph, uniform over S_prereq ∪ S_target,
    where S_prereq = {i : A_ij > 0 for some target column j} (fine-tuning and out-of-domain settings).
    """

    class Params(PolicyParams):
        graph: Graph | None = Field(None, description="if given, uniform over skills with an edge into a target")

    description = "uniform over training skills (or over prerequisites of the targets)"

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        graph = self.params.graph
        self._graph = resolve_graph_spec(graph) if isinstance(graph, str) else graph
        self.params = self.params.model_copy(update={"graph": self._graph})  # describe() shows the graph

    def _mixture(self, context: PolicyContext) -> np.ndarray:
        if self._graph is None:
            return np.full(context.k, 1.0 / context.k)
        targets = list(context.target_skills or context.eval_skills)
        columns = self._graph.submatrix(context.train_skills, targets)  # (k, m)
        keep = (columns > 0).any(axis=1) | np.isin(np.array(context.train_skills), targets)
        if not keep.any():
            raise PolicyError("stratified policy: no training skill has an edge to a target skill in the graph")
        return keep / keep.sum()



@register_policy("target-only")
class TargetOnly(_FixedMixture):
    """Train only on the target skills, uniformly (the fine-tuning baseline); with a weighted objective, in the
    objective's proportions: p_i = w_i / Σ_{j trained} w_j over the target skills that are training skills."""

    description = "train only on the target skills"

    def _mixture(self, context: PolicyContext) -> np.ndarray:
        targets = [name for name in context.target_skills if name in context.train_skills]
        if not targets:
            raise PolicyError(
                "target-only policy: none of the target skills "
                f"{list(context.target_skills)} is a training skill; set target_skills to training skills"
            )
        weights = context.objective_weights_of(targets, where="target-only")  # over the targets, or None: uniform
        if weights is None:
            return np.isin(np.array(context.train_skills), targets) / len(targets)
        by_name = dict(zip(targets, weights.tolist()))
        return np.array([by_name.get(name, 0.0) for name in context.train_skills])
