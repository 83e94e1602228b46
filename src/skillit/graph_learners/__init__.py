"""Learning skills graphs (paper §3.2, App. B.2): one estimator interface, five learners.

    from skillit.graph_learners import build_learner
    graph = build_learner("linear", steps=100, base_steps=300).fit(skillset, model_builder, tokenizer, training)

| name | rule | runs |
|---|---|---|
| ``linear`` | Alg. 3: loss decrease on j after h steps on i alone | k × h |
| ``brute-force`` | Alg. 2: pair {i, j} beats j alone on j | (m + pairs) × H |
| ``threshold`` | the paper's LEGO/Addition rule: pair reaches a loss threshold on j sooner | (m + pairs) × ≤ H |
| ``probe`` | ours: short tilted-mixture probes along one stratified run, de-mixed (Aioli-style) | base + P·k·h |
| ``tracin`` | TracIn-style: Σ_c lr_c ⟨g_i, h_j⟩ of full-model gradients at C checkpoints of the base | base + C·(k·b + Σ_j ⌈n_j/B⌉) passes |
"""

from __future__ import annotations

from typing import Any

from skillit.errors import ConfigError, did_you_mean
from skillit.graph_learners.base import GraphLearner, LearnerParams
from skillit.graph_learners.brute_force import BruteForce
from skillit.graph_learners.linear import LinearApproximation
from skillit.graph_learners.probe import TrajectoryProbe
from skillit.graph_learners.runs import GraphCost, ProbeRun, RunOutcome
from skillit.graph_learners.threshold import StepsToThreshold
from skillit.graph_learners.tracin import TracIn

LEARNERS: dict[str, type[GraphLearner]] = {
    cls.name: cls for cls in (LinearApproximation, BruteForce, StepsToThreshold, TrajectoryProbe, TracIn)
}


def learner_names() -> list[str]:
    return list(LEARNERS)


def get_learner(name: str) -> type[GraphLearner]:
    if name not in LEARNERS:
        raise ConfigError(f"unknown graph learning method {name!r}; {did_you_mean(name, learner_names())}")
    return LEARNERS[name]


def build_learner(name: str, params: dict[str, Any] | None = None, **kwargs: Any) -> GraphLearner:
    """A configured learner, e.g. ``build_learner("probe", base_steps=600, points=3, steps=25)``."""
    return get_learner(name)({**(params or {}), **kwargs})


__all__ = [
    "LEARNERS",
    "BruteForce",
    "GraphCost",
    "GraphLearner",
    "LearnerParams",
    "LinearApproximation",
    "ProbeRun",
    "RunOutcome",
    "StepsToThreshold",
    "TracIn",
    "TrajectoryProbe",
    "build_learner",
    "get_learner",
    "learner_names",
]
