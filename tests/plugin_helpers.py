"""Plug-in tests register policies and learners and import modules from tmp folders: undo all of it after."""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import skillit.graph_learners.registry as graph_learners
from skillit.graph_learners import LEARNERS
from skillit.policy import registry
from skillit.policy.registry import POLICIES

DOCS = Path(__file__).resolve().parents[1] / "docs"


@contextmanager
def isolated_plugins(*roots: Path) -> Iterator[None]:
    """Restore the policy and learner registries, sys.path and the loaded entry points afterwards, and forget
    the modules imported from ``roots`` (so another test may use the same module name)."""
    policies, learners, path = dict(POLICIES), dict(LEARNERS), list(sys.path)
    loaded = set(registry._LOADED_ENTRY_POINTS), set(graph_learners._LOADED_ENTRY_POINTS)
    try:
        yield
    finally:
        POLICIES.clear()
        POLICIES.update(policies)
        LEARNERS.clear()
        LEARNERS.update(learners)
        sys.path[:] = path
        registry._LOADED_ENTRY_POINTS.clear()
        registry._LOADED_ENTRY_POINTS.update(loaded[0])
        graph_learners._LOADED_ENTRY_POINTS.clear()
        graph_learners._LOADED_ENTRY_POINTS.update(loaded[1])
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if file and any(Path(file).resolve().is_relative_to(root.resolve()) for root in roots):
                del sys.modules[name]
        importlib.invalidate_caches()


def section(page: Path, heading: str) -> str:
    """The text of ``## heading`` in a Markdown page, up to the next ``## `` heading."""
    text = page.read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else len(text)]


def code_blocks(text: str, language: str) -> list[str]:
    """The fenced code blocks of ``language`` (the same pattern as tests/test_readme.py)."""
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)
