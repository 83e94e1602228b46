"""A package's names imported on first use (PEP 562), so that importing the package imports no heavy module.

    _LAZY = {"write_report": "skillit.report.html", ...}     # name -> the module that defines it
    __getattr__, __dir__ = lazy_names(__name__, _LAZY)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, table: Mapping[str, str], *, cache: bool = False
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of ``package``: a name of ``table`` is looked up in its
    module when first asked for (with ``cache``, then kept as an ordinary attribute of the package; without it,
    looked up each time, so that a test's patch of the defining module shows through)."""

    def __getattr__(name: str) -> Any:
        if name in table:
            value = getattr(importlib.import_module(table[name]), name)
            if cache:
                vars(sys.modules[package])[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(table))

    return __getattr__, __dir__
