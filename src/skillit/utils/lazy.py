"""A package's names imported on first use (PEP 562), so that importing the package imports no heavy module.

    _LAZY = {"write_report": "skillit.report.html", ...}     # name -> the module that defines it
    __getattr__, __dir__ = lazy_names(__name__, _LAZY)

A name that moved keeps working for a release as a deprecated alias: ``deprecated={"SkillIt":
"skillit.policies"}`` looks it up in its new home and warns (:class:`DeprecationWarning`) with the import to
write instead; deprecated names are left out of ``dir()``.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, table: Mapping[str, str], *, cache: bool = False,
               deprecated: Mapping[str, str] | None = None,
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of ``package``: a name of ``table`` is looked up in its
    module when first asked for (with ``cache``, then kept as an ordinary attribute of the package; without it,
    looked up each time, so that a test's patch of the defining module shows through). A name of ``deprecated``
    (name -> its new public module) is looked up there on every access, with a :class:`DeprecationWarning`
    naming the new import; it is never cached, so that every use warns (the warnings filter decides what shows).
    """
    moved = dict(deprecated or {})
    overlap = sorted(set(moved) & set(table))
    if overlap:
        raise ValueError(f"{package}: {overlap} are both current and deprecated names")

    def __getattr__(name: str) -> Any:
        if name in table:
            value = getattr(importlib.import_module(table[name]), name)
            if cache:
                vars(sys.modules[package])[name] = value
            return value
        if name in moved:
            # `from package import name` asks twice: importlib's hasattr probe, then the import itself; warn once
            if sys._getframe(1).f_globals.get("__name__") != "importlib._bootstrap":
                warnings.warn(f"{package}.{name} is deprecated and will be removed in the next release; "
                              f"import it from {moved[name]}: from {moved[name]} import {name}",
                              DeprecationWarning, stacklevel=2)
            return getattr(importlib.import_module(moved[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(table))

    return __getattr__, __dir__
