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


def builtin_graph(name: str) -> SkillsGraph:
    """Load a shipped graph by name, e.g. ``builtin_graph("lego")``."""
    names = builtin_graph_names()
    if name not in names:
        raise GraphError(f"unknown built-in graph {name!r}; {did_you_mean(name, names)}")
    with resources.as_file(resources.files("skillit.graph") / "builtin" / f"{name}.json") as path:
        return SkillsGraph.load(path)


__all__ = ["SkillsGraph", "SparseMatrix", "builtin_graph", "builtin_graph_names"]
