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
from skillit.graph_learners.params import learner_names
from skillit.graph_learners.probe import TrajectoryProbe
from skillit.graph_learners.threshold import StepsToThreshold
from skillit.graph_learners.tracin import TracIn

LEARNERS: dict[str, type[GraphLearner]] = {
    cls.name: cls for cls in (LinearApproximation, BruteForce, StepsToThreshold, TrajectoryProbe, TracIn)
}


def get_learner(name: str) -> type[GraphLearner]:
    if name not in LEARNERS:
        raise ConfigError(f"unknown graph learning method {name!r}; {did_you_mean(name, learner_names())}")
    return LEARNERS[name]


def build_learner(name: str, params: dict[str, Any] | None = None, **kwargs: Any) -> GraphLearner:
    """A configured learner, e.g. ``build_learner("probe", base_steps=600, points=3, steps=25)``."""
    return get_learner(name)({**(params or {}), **kwargs})
