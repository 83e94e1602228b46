"""The graph learners by name: ``LEARNERS``, :func:`get_learner`, :func:`build_learner`.

Importing this imports every learner (and torch); their parameter models alone are in
``skillit.graph_learners.params``.
"""

from __future__ import annotations

from typing import Any

from skillit.errors import ConfigError, did_you_mean
from skillit.graph_learners.base import GraphLearner
from skillit.graph_learners.brute_force import BruteForce
from skillit.graph_learners.linear import LinearApproximation
from skillit.graph_learners.probe import TrajectoryProbe
from skillit.graph_learners.threshold import StepsToThreshold
from skillit.graph_learners.tracin import TracIn
from skillit.utils.plugins import LEARNER_GROUP, entry_points, load_entry_point

LEARNERS: dict[str, type[GraphLearner]] = {
    cls.name: cls for cls in (LinearApproximation, BruteForce, StepsToThreshold, TrajectoryProbe, TracIn)
}


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
        known = list(LEARNERS) + [p.name for p in entry_points(LEARNER_GROUP) if p.name not in LEARNERS]
        raise ConfigError(f"unknown graph learning method {name!r}; {did_you_mean(name, known)}. A learner of your "
                          "own is known once its module is imported (imports: [my_module] in the config, or "
                          f"--import my_module), or from an installed package's {LEARNER_GROUP!r} entry point")
    return LEARNERS[name]


def build_learner(name: str, params: dict[str, Any] | None = None, **kwargs: Any) -> GraphLearner:
    """A configured learner, e.g. ``build_learner("probe", base_steps=600, points=3, steps=25)``."""
    return get_learner(name)({**(params or {}), **kwargs})
