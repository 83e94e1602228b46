"""Task builders: functions that return a SkillSet (and, where known, the planted prerequisite graph).

Each task has a pydantic parameter model (the ``task.params`` block of a config, unknown keys rejected)
and a ``build(params, seed)`` function. Register a new task by adding it to ``TASKS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from skillit.errors import ConfigError, did_you_mean, pydantic_details
from skillit.graph.skills_graph import SkillsGraph
from skillit.skills import SkillSet
from skillit.tasks import addition, composition, data, lego


@dataclass(frozen=True)
class TaskSpec:
    """A registered task: its parameter model, its builder and (optionally) its planted graph."""

    params_model: type[BaseModel]
    build: Callable[[Any, int], SkillSet]
    prerequisites: Callable[[Any], SkillsGraph] | None = None
    description: str = ""
    resolve_paths: Callable[[dict[str, Any], Path], dict[str, Any]] | None = None  # relative to the config's folder


TASKS: dict[str, TaskSpec] = {
    "lego": TaskSpec(
        lego.LegoParams,
        lego.build,
        lambda p: lego.prerequisite_graph(p.k, p.reasoning_graph),
        "LEGO chain reasoning, skill i = value of the i-th variable (paper §2.2)",
    ),
    "addition": TaskSpec(
        addition.AdditionParams,
        addition.build,
        lambda p: addition.prerequisite_graph(p.k),
        "k-digit addition, skill i = digit i of the sum (paper §2.3)",
    ),
    "composition": TaskSpec(composition.CompositionParams, composition.build, composition.prerequisite_graph,
                            "string functions f, g and composed skills f(g(x)) that need them (f(g(x)))"),
    "data": TaskSpec(
        data.DataParams,
        data.build,
        data.prerequisite_graph,
        "your own JSONL/Parquet data, skill from a column (docs/data.md)",
        data.resolve_paths,
    ),
}


def get_task(name: str) -> TaskSpec:
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; {did_you_mean(name, sorted(TASKS))}")
    return TASKS[name]


def parse_task_params(name: str, params: dict[str, Any] | None) -> BaseModel:
    """Validate a task's parameters; unknown keys and bad values raise :class:`ConfigError`."""
    spec = get_task(name)
    try:
        return spec.params_model.model_validate(params or {})
    except ValidationError as exc:
        raise ConfigError(f"task {name!r}: invalid params: {pydantic_details(exc)}") from None


def resolve_task_paths(name: str, params: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """A task's params with relative file paths resolved against ``base_dir`` (a config file's folder)."""
    spec = TASKS.get(name)
    if spec is None or spec.resolve_paths is None:
        return params
    return spec.resolve_paths(params, base_dir)


def build_task(name: str, params: dict[str, Any] | BaseModel | None = None, seed: int = 0) -> SkillSet:
    """Build a task's SkillSet, e.g. ``build_task("lego", {"k": 5}, seed=0)``."""
    spec = get_task(name)
    parsed = params if isinstance(params, BaseModel) else parse_task_params(name, params)
    return spec.build(parsed, seed)


__all__ = ["TASKS", "TaskSpec", "build_task", "get_task", "parse_task_params", "resolve_task_paths"]
