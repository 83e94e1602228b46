"""A policy's ``graph`` parameter, parsed once into a typed value: which graph a method asks for.

    identity            IdentityGraph()           no graph: each skill only helps itself
    builtin:NAME        BuiltinGraph("lego")      a graph shipped in skillit/graph/builtin
    prerequisites       PrerequisitesGraph()      the task's planted prerequisite graph
    learn               LearnGraph()              learned before the runs (skillit.experiment.graph_learning)
    PATH                FileGraph(Path(...))      a graph.json or a bare .npy matrix

:func:`parse_graph_spec` is the one place the text is read; what each kind resolves to (it needs the task's
skills) is the experiment's business (``skillit.experiment.build.resolve_graph_spec``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Union

from skillit.errors import GraphError


@dataclass(frozen=True)
class IdentityGraph:
    """``identity``: the identity matrix over the training skills."""

    def __str__(self) -> str:
        return "identity"


@dataclass(frozen=True)
class BuiltinGraph:
    """``builtin:NAME``: a shipped graph (``skillit.graph.builtin_graph``)."""

    name: str

    def __str__(self) -> str:
        return f"builtin:{self.name}"


@dataclass(frozen=True)
class PrerequisitesGraph:
    """``prerequisites``: the task's planted prerequisite graph."""

    def __str__(self) -> str:
        return "prerequisites"


@dataclass(frozen=True)
class LearnGraph:
    """``learn``: learned once before the runs, then read from the learned ``graph.json``."""

    def __str__(self) -> str:
        return "learn"


@dataclass(frozen=True)
class FileGraph:
    """A graph file: ``graph.json`` (names inside) or a bare ``.npy`` matrix (rows: training skills,
    columns: objective skills). ``path`` is resolved (against the config's folder where the text is relative
    and not found from the current folder)."""

    path: Path

    def __str__(self) -> str:
        return str(self.path)


GraphSpec = Union[IdentityGraph, BuiltinGraph, PrerequisitesGraph, LearnGraph, FileGraph]


def parse_graph_spec(text: str, base_dir: str | Path | None = None) -> GraphSpec:
    """The typed graph spec of a ``graph`` parameter; a path is looked for as given, then in ``base_dir``.

    A text that is none of the words and names no existing file is a :class:`GraphError`.
    """
    if text == "identity":
        return IdentityGraph()
    if text == "learn":
        return LearnGraph()
    if text == "prerequisites":
        return PrerequisitesGraph()
    if text.startswith("builtin:"):
        return BuiltinGraph(text.split(":", 1)[1])
    path = Path(text)
    if not path.is_absolute() and base_dir is not None and not path.exists():
        path = Path(base_dir) / path
    if not path.exists():
        raise GraphError(f"graph {text!r} is not 'identity', 'prerequisites', 'builtin:NAME' or an existing file")
    return FileGraph(path)


__all__ = [
    "BuiltinGraph",
    "FileGraph",
    "GraphSpec",
    "IdentityGraph",
    "LearnGraph",
    "PrerequisitesGraph",
    "parse_graph_spec",
]
