"""Skills graphs: the value type and the graphs shipped with skillit; learning them is
``skillit.graph_learners`` (above the trainer, since learners train) and judging them (density, comparison) ``skillit.graph.diagnostics`` (docs/graphs.md)."""

from __future__ import annotations

from importlib import resources

from skillit.errors import GraphError, did_you_mean
from skillit.graph.skills_graph import SkillsGraph, SparseMatrix


def builtin_graph_names() -> list[str]:
    """Names of the graphs shipped in ``skillit/graph/builtin`` (the paper's hand-made graphs)."""
    folder = resources.files("skillit.graph") / "builtin"
    return sorted(entry.name[: -len(".json")] for entry in folder.iterdir() if entry.name.endswith(".json"))


# the task whose skills a built-in graph names, by the first part of its name (lego-finetune: lego)
BUILTIN_GRAPH_TASKS = {"lego": "lego", "addition": "addition", "ni": "data (the Natural Instructions categories)"}


def builtin_graph_task(name: str) -> str:
    """The task a built-in graph belongs to: ``lego`` for ``lego`` and ``lego-finetune``, and so on."""
    return BUILTIN_GRAPH_TASKS.get(name.split("-", 1)[0], "unknown")


def builtin_graph(name: str) -> SkillsGraph:
    """Load a shipped graph by name, e.g. ``builtin_graph("lego")``."""
    names = builtin_graph_names()
    if name not in names:
        raise GraphError(f"unknown built-in graph {name!r}; {did_you_mean(name, names)}")
    with resources.as_file(resources.files("skillit.graph") / "builtin" / f"{name}.json") as path:
        return SkillsGraph.load(path)


__all__ = ["BUILTIN_GRAPH_TASKS", "SkillsGraph", "SparseMatrix", "builtin_graph", "builtin_graph_names", "builtin_graph_task"]
