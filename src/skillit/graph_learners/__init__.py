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
from skillit.utils.plugins import LEARNER_GROUP, entry_points, load_entry_point

LEARNERS: dict[str, type[GraphLearner]] = {
    cls.name: cls for cls in (LinearApproximation, BruteForce, StepsToThreshold, TrajectoryProbe, TracIn)
}


def learner_names() -> list[str]:
    return list(LEARNERS)


def register_learner(learner: type[GraphLearner], *, replace: bool = False) -> type[GraphLearner]:
    """Add a graph learner (a :class:`GraphLearner` subclass with ``name`` and ``Params``) under its ``name``,
    so that ``graph_learning: {method: NAME}`` and ``skillit graph --method NAME`` find it."""
    if not (isinstance(learner, type) and issubclass(learner, GraphLearner)) or not isinstance(
            getattr(learner, "name", None), str):
        raise ConfigError(f"register_learner takes a GraphLearner subclass with a name, got {learner!r}")
    if learner.name in LEARNERS and LEARNERS[learner.name] is not learner and not replace:
        raise ConfigError(f"graph learner {learner.name!r} is already registered; choose another name or pass "
                          "replace=True")
    LEARNERS[learner.name] = learner
    return learner


_LOADED_ENTRY_POINTS: set[str] = set()


def load_learner_entry_points(name: str | None = None) -> None:
    """Register the learners installed packages declare under the entry-point group ``skillit.graph_learners``
    (the entry point's name is the learner's; its object a GraphLearner subclass, or a module whose import
    registers it with :func:`register_learner`). With ``name``, only the entry points of that name."""
    for point in entry_points(LEARNER_GROUP):
        if (name is not None and point.name != name) or point.value in _LOADED_ENTRY_POINTS:
            continue
        found = load_entry_point(point, LEARNER_GROUP)
        _LOADED_ENTRY_POINTS.add(point.value)
        if isinstance(found, type) and issubclass(found, GraphLearner):
            register_learner(found)


def get_learner(name: str) -> type[GraphLearner]:
    if name not in LEARNERS:
        load_learner_entry_points(name)
    if name not in LEARNERS:
        known = learner_names() + [p.name for p in entry_points(LEARNER_GROUP) if p.name not in LEARNERS]
        raise ConfigError(f"unknown graph learning method {name!r}; {did_you_mean(name, known)}. A learner of your "
                          "own is known once its module is imported (imports: [my_module] in the config, or "
                          f"--import my_module), or from an installed package's {LEARNER_GROUP!r} entry point")
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
    "load_learner_entry_points",
    "register_learner",
]
