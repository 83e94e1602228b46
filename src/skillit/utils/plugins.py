"""Plug-ins: your own policies and graph learners, from a module you name or a package you install.

Two ways in (docs/policies.md, "Your own policy"):

* **imports** — modules imported before a config is checked: ``imports: [my_policies]`` in the config, or
  ``skillit run --import my_policies``. Importing the module runs its ``register_policy(...)`` lines. Besides
  the installed packages, a module is looked for in the config file's folder and then the current folder,
  so a plain ``my_policies.py`` next to the config works (those two folders are appended to ``sys.path``,
  after the installed packages, so a file there never hides an installed module). ``--jobs N`` worker
  processes import the same modules before they build their policies.
* **entry points** — an installed package declares ``[project.entry-points."skillit.policies"]``
  ``my-policy = "my_pkg.policies:SPEC"`` (or ``"skillit.graph_learners"`` for a graph learner); skillit loads
  it the first time a config names a policy it does not know (and when ``skillit policies`` lists them).

Nothing here imports torch.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skillit.errors import ConfigError, SkillitError

MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
POLICY_GROUP = "skillit.policies"
LEARNER_GROUP = "skillit.graph_learners"

HOW_TO_REGISTER = (
    "a policy of your own is known once its module is imported: name the module in the config "
    "(imports: [my_policies]; a my_policies.py next to the config works) or on the command line "
    "(skillit run --import my_policies), or install a package that declares it under the entry-point group "
    f"{POLICY_GROUP!r} (docs/policies.md, \"Your own policy\")"
)


def module_name_problem(name: Any) -> str | None:
    """Why ``name`` is not a module name to import (None when it is one)."""
    if not isinstance(name, str) or not MODULE_NAME.match(name):
        hint = ""
        if isinstance(name, str) and (name.endswith(".py") or "/" in name or "\\" in name):
            stem = Path(name).stem
            hint = f" (a file {Path(name).name} in the config's folder or the current folder is module {stem!r})"
        return f"{name!r} is not a module name; name modules like my_pkg.my_policies{hint}"
    return None


def search_folders(config_dir: str | Path | None) -> list[Path]:
    """Where a plug-in module is looked for besides the installed packages: the config's folder, then the cwd."""
    folders = [Path(config_dir).expanduser().resolve()] if config_dir is not None else []
    cwd = Path(os.getcwd()).resolve()
    return folders + ([cwd] if cwd not in folders else [])


def _add_to_path(folders: Sequence[Path]) -> None:
    entries = {str(Path(entry or ".").resolve()) for entry in sys.path}
    for folder in folders:
        if str(folder) not in entries:
            sys.path.append(str(folder))  # after the installed packages: a stray file never hides one
            entries.add(str(folder))


def _where_it_failed(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if "importlib" not in f.filename and not f.filename.startswith("<frozen")]
    if not own or isinstance(exc, SyntaxError):  # a SyntaxError names its file and line itself
        return ""
    return f" (at {own[-1].filename}:{own[-1].lineno})"


def import_modules(modules: Sequence[str], *, config_dir: str | Path | None = None, where: str = "imports") -> None:
    """Import each module (once per process; a module already imported is not run again).

    ``where`` names what asked for them in errors, e.g. ``"lego.yaml: imports"`` or ``"--import"``. A module
    that cannot be imported, or raises while importing, is a :class:`ConfigError` naming the module, ``where``
    and the exception.
    """
    if not modules:
        return
    folders = search_folders(config_dir)
    for name in modules:
        problem = module_name_problem(name)
        if problem is not None:
            raise ConfigError(f"{where}: {problem}")
    _add_to_path(folders)
    importlib.invalidate_caches()  # a module file written since the last import (in this process) is found
    for name in modules:
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
                looked = " or ".join(str(f) for f in folders)
                nearby = sorted({p.stem for f in folders if f.is_dir() for p in f.iterdir()
                                 if (p.suffix == ".py" or (p / "__init__.py").is_file()) and p.stem.isidentifier()})
                close = difflib.get_close_matches(exc.name, nearby, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ConfigError(
                    f"{where}: cannot import module {name!r}: no module named {exc.name!r} among the installed "
                    f"packages or in {looked}; {hint}put {exc.name.split('.')[-1]}.py (or a package folder) in one of "
                    "those folders, install it, or add its folder to PYTHONPATH"
                ) from None
            raise ConfigError(f"{where}: importing module {name!r} failed{_where_it_failed(exc)}: "
                              f"{type(exc).__name__}: {exc}") from None
        except SkillitError as exc:  # e.g. register_policy of a name already registered
            raise ConfigError(f"{where}: importing module {name!r} failed{_where_it_failed(exc)}: {exc}") from None
        except Exception as exc:
            raise ConfigError(f"{where}: importing module {name!r} failed{_where_it_failed(exc)}: "
                              f"{type(exc).__name__}: {exc}") from None


def split_modules(values: Sequence[str] | None) -> list[str]:
    """``--import a --import b,c`` → ``[a, b, c]`` (order kept, repeats dropped)."""
    found: list[str] = []
    for value in values or []:
        for part in value.split(","):
            part = part.strip()
            if part and part not in found:
                found.append(part)
    return found


# ---- entry points ---------------------------------------------------------------------------------
def entry_points(group: str) -> list[importlib.metadata.EntryPoint]:
    """The installed entry points of ``group`` (one per name: the first distribution found wins)."""
    seen: dict[str, importlib.metadata.EntryPoint] = {}
    for point in importlib.metadata.entry_points(group=group):
        seen.setdefault(point.name, point)
    return list(seen.values())


def load_entry_point(point: importlib.metadata.EntryPoint, group: str) -> Any:
    """``point.load()``; a failure is a :class:`ConfigError` naming the entry point, its package and the exception."""
    try:
        return point.load()
    except Exception as exc:
        dist = getattr(point, "dist", None)
        package = f" of package {dist.name} {dist.version}" if dist is not None else ""
        raise ConfigError(
            f"the entry point {point.name!r} = {point.value!r} (group {group!r}){package} failed to load"
            f"{_where_it_failed(exc)}: {type(exc).__name__}: {exc}; fix or uninstall that package"
        ) from None


__all__ = [
    "HOW_TO_REGISTER",
    "LEARNER_GROUP",
    "POLICY_GROUP",
    "entry_points",
    "import_modules",
    "load_entry_point",
    "module_name_problem",
    "search_folders",
    "split_modules",
]
