"""The writable run directory: its creation, its lock, its manifest and the checks that make resume safe.

Layout (the names and paths are :mod:`skillit.records.layout`'s, which readers use without the lock; every
path here is a :class:`RunDirectory` property or method, so no caller spells a file name)::

    config.yaml                 the resolved configuration (written once, at creation; never on resume)
    manifest.json               written once at creation, never rewritten: the config, its hash, each
                                method's policy description, the data fingerprint, the skillit version,
                                the machine that created it (``skillit.utils.machine``; not checked on
                                resume, which may continue elsewhere)
    .skillit.lock               fcntl lock held by the run that uses the folder
    runs/METHOD__seedS.json     each finished run, stamped with the manifest's ``run_id``
    checkpoints/METHOD__seedS/  the loop's checkpoint.pt (training.checkpoint_every)
    draws/METHOD__seedS.jsonl   the draw log (training.log_draws)
    warm_start/seedS.pt         the warm-start model of a seed
    graph/                      a learned skills graph (``graph: learn``)
    metrics.jsonl, summary.json, accuracy.png (bits.png for whole-text targets), loss.png, weights.png
    report.html                 everything on one self-contained page (skillit.report.html)
    tensorboard/                TensorBoard events, when `skillit tensorboard` wrote them

Use::

    run_dir = RunDirectory.claim(out, config, policies=..., data=...)       # every command that writes a run
    with run_dir:                                                           # releases the lock at the end
        ... run_dir.continued ... run_dir.save_record(record); run_dir.finished_record(method, seed) ...

:meth:`RunDirectory.claim` is the one rule for a run folder, whichever command writes it (``skillit run``,
``bench``, ``search``'s phases): a new or empty folder (or one holding only a learned ``graph/``) gets a
new run; a folder holding a run of the same configuration (:meth:`RunDirectory.difference`: the resolved
config, each method's policy and the data; methods and seeds may be a subset) is continued, its finished
runs kept (``continued``); a folder holding another configuration's run is refused before anything is
written, naming the folder, the differing settings and the three ways out (another ``--out``, ``--resume``,
``--overwrite``); ``overwrite=True`` deletes the earlier run (every name of :data:`LAYOUT` it holds, its
``graph/`` included) and starts a new one; ``resume=True`` (``--resume``) requires a run to continue.

Below it: ``create`` checks the path (refusing the current folder or one of its parents, an existing folder
that is not a run directory, a file, a path below a file, a folder that cannot be written) and writes the
manifest, refusing a folder that holds a run unless told to replace it; ``open_for_resume`` refuses a
folder without a manifest, a config that differs from the manifest's (naming the differing keys), a
finished run record or a checkpoint that does not belong to the manifest (stale, foreign or corrupt). Every
refusal is a :class:`~skillit.errors.CheckpointError` (resume) or :class:`~skillit.errors.OutputError`
(output path).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shlex
import shutil
import uuid
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from skillit.errors import CheckpointError, OutputError, SkillitError
from skillit.experiment.config import dump_config, upgrade_graph_learning, upgrade_method_params
from skillit.policy.registry import upgrade_description
from skillit.records.layout import (
    CHECKPOINTS,
    CONFIG,
    DRAWS,
    GRAPH,
    LOCK,
    MANIFEST,
    METRICS,
    PLOTS,
    REPORT,
    RUNS,
    SUMMARY,
    TENSORBOARD,
    WARM_START,
    RunLayout,
)
from skillit.records.metrics import RunRecord
from skillit.trainer.loop import CHECKPOINT_NAME
from skillit.trainer.settings import resume_difference
from skillit.utils.checkpoint import load_checkpoint
from skillit.utils.io import (
    atomic_write_json,
    atomic_write_text,
    file_sha256,
    os_error_message,
)
from skillit.utils.machine import machine_fingerprint

REPORTS = (REPORT, TENSORBOARD)  # derived from the results: cleared with them
#: everything a run writes; a folder holding only these names is a run directory
LAYOUT = frozenset({CONFIG, MANIFEST, LOCK, RUNS, CHECKPOINTS, DRAWS, WARM_START, GRAPH, METRICS, SUMMARY, *PLOTS,
                    *REPORTS})
#: a run's results: a folder holding one of these (or a manifest) holds a run that a new one must not replace
RESULTS = (RUNS, CHECKPOINTS, DRAWS, WARM_START, METRICS, SUMMARY, *PLOTS, *REPORTS)
#: what ``--overwrite`` deletes: everything a run writes except the lock (which must stay: see ``close``)
REPLACED = (CONFIG, MANIFEST, GRAPH, *RESULTS)
#: what a graph folder holds (``skillit graph --out DIR``, a run's ``graph/``): what its --overwrite deletes
GRAPH_WRITTEN = ("graph.json", "graph_heatmap.png", "graph_drawing.png", "work", REPORT)
MANIFEST_FORMAT = 1
# keys a resume may narrow (a subset of the original methods or seeds): every other key must be equal
NARROWABLE = ("methods", "seeds")


def config_hash(config_data: Mapping[str, Any]) -> str:
    """sha256 of the config as canonical JSON (sorted keys): equal hashes ⇔ equal resolved configs."""
    text = json.dumps(config_data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def data_fingerprint(task_params: Mapping[str, Any]) -> dict[str, str]:
    """Per data file named in the task's params (any string value that is an existing file): its sha256.

    A file changed between a run and its resume changes the fingerprint, and resume refuses it.
    """
    found: dict[str, str] = {}

    def visit(value: Any) -> None:
        if isinstance(value, Mapping):
            for item in value.values():
                visit(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)
        elif isinstance(value, str) and value and len(value) < 4096:
            path = Path(value)
            try:
                if path.is_file():
                    found[str(path)] = file_sha256(path)
            except OSError:
                pass

    visit(task_params)
    return dict(sorted(found.items()))


DISTRIBUTION = "skillit-mix"  # pyproject.toml's [project] name: "skillit" on the package index is another project


def _skillit_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # an uninstalled checkout
        return "unknown"


def _differences(ours: Any, theirs: Any, key: str = "") -> list[str]:
    """The dotted keys at which two JSON-like values differ, in ``theirs``' key order (empty when equal)."""
    if isinstance(ours, Mapping) and isinstance(theirs, Mapping):
        found: list[str] = []
        for name in list(theirs) + [k for k in ours if k not in theirs]:
            sub = f"{key}.{name}" if key else str(name)
            if name not in ours or name not in theirs:
                found.append(sub)
            else:
                found.extend(_differences(ours[name], theirs[name], sub))
        return found
    return [] if ours == theirs else [key or "(whole value)"]


def _first_difference(ours: Any, theirs: Any, key: str = "") -> str | None:
    """The dotted key of the first difference between two JSON-like values (None when equal)."""
    found = _differences(ours, theirs, key)
    return found[0] if found else None


def _lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return "(absent)"
        data = data[part]
    return data


class RunDirectory:
    """One run directory: paths of its layout, its lock and its manifest (see the module docstring)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.layout = RunLayout(self.path)  # the names and paths, read-only
        self._lock_fd: int | None = None
        self._manifest: dict[str, Any] | None = None
        #: True when this run continues the run the folder held (claim found the same config, or --resume)
        self.continued = False

    # ---- layout ---------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.layout.config

    @property
    def manifest_path(self) -> Path:
        return self.layout.manifest

    @property
    def runs_dir(self) -> Path:
        return self.layout.runs_dir

    @property
    def graph_dir(self) -> Path:
        return self.layout.graph_dir

    @property
    def metrics_path(self) -> Path:
        return self.layout.metrics

    @property
    def summary_path(self) -> Path:
        return self.layout.summary

    def record_path(self, method: str, seed: int) -> Path:
        return self.layout.record(method, seed)

    def checkpoint_dir(self, method: str, seed: int) -> Path:
        return self.layout.checkpoint_dir(method, seed)

    def draws_path(self, method: str, seed: int) -> Path:
        return self.layout.draws(method, seed)

    def warm_start_path(self, seed: int) -> Path:
        return self.layout.warm_start(seed)

    @property
    def manifest(self) -> dict[str, Any]:
        if self._manifest is None:
            self._manifest = self._read_manifest()
        return self._manifest

    # ---- creating and opening -------------------------------------------------------------------
    @staticmethod
    def check_output_path(path: str | Path) -> Path:
        """Refuse (OutputError) an output path that would overwrite or mix with something that is not a run."""
        target = RunDirectory.check_output_location(path)
        raw, resolved = str(path), target.resolve()
        if resolved.is_dir():
            try:
                entries = sorted(entry.name for entry in resolved.iterdir())
            except OSError as exc:
                raise OutputError(f"cannot read the output folder {raw!r}: {os_error_message(exc)}") from None
            foreign = [name for name in entries if name not in LAYOUT and not _is_leftover(name)]
            if foreign:
                shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
                raise OutputError(f"the output folder {raw!r} exists and is not a skillit run directory (it holds "
                                  f"{shown}); give a new or empty folder")
        return target

    @staticmethod
    def check_output_location(path: str | Path) -> Path:
        """Refuse (OutputError) an empty path, the current folder or a parent of it, a file, a path below a file."""
        raw = str(path)
        if not raw.strip():
            raise OutputError("the output folder is an empty string (the current folder); give a folder name, "
                              "e.g. --out runs/my-run")
        target = Path(path).expanduser()
        resolved = target.resolve()
        cwd = Path.cwd().resolve()
        if resolved == cwd or resolved in cwd.parents:
            what = "the current folder" if resolved == cwd else "a parent of the current folder"
            raise OutputError(f"the output folder {raw!r} is {what}; a run would overwrite files there: "
                              "give a new folder, e.g. --out runs/my-run (check the config's name too)")
        for parent in [resolved, *resolved.parents]:
            if parent.exists() and not parent.is_dir():
                if parent == resolved:
                    raise OutputError(f"the output folder {raw!r} is a file; give a folder path instead")
                raise OutputError(f"the output folder {raw!r} lies below the file {str(parent)!r}, which cannot "
                                  "hold folders; give another path")
            if parent.exists():
                break
        return target

    @classmethod
    def claim(
        cls,
        path: str | Path,
        config: Any,
        *,
        policies: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
        resume: bool = False,
        overwrite: bool = False,
    ) -> RunDirectory:
        """The folder ``path`` for a run of ``config``, locked: the one rule of every command that writes a run.

        * ``resume`` (``--resume``): the run the folder holds, checked by :meth:`open_for_resume`;
        * a new or empty folder, or one without a run (e.g. only a learned ``graph/``): a new run (:meth:`create`);
        * a folder holding a run whose :meth:`difference` to ``config``/``policies``/``data`` is none: that run,
          continued (``continued`` is True; the caller keeps its finished runs);
        * a folder holding another configuration's run: refused (:class:`OutputError` naming the folder, the
          differing settings and the ways out), nothing written, not even the lock file's pid;
        * ``overwrite``: the earlier run deleted (:data:`REPLACED`), then a new run.
        """
        if resume and overwrite:
            raise OutputError("--resume continues the run in the folder and --overwrite deletes it: give one of them")
        if resume:
            run_dir = cls.open_for_resume(path, config, policies=policies, data=data)
            run_dir.continued = True
            return run_dir
        target = cls.check_output_path(path)
        run_dir = cls(target)
        if overwrite or not run_dir.holds_run():
            return cls.create(target, config, policies=policies, data=data, overwrite=overwrite)
        lock_existed = (target / LOCK).exists()
        run_dir.lock(stamp=False)  # refused while another run uses the folder; the pid is written only if we stay
        try:
            raw = str(path)
            ways = (f"choose another --out; or continue that run as it was: skillit run --resume {shlex.quote(raw)}; "
                    "or delete its results and start this run there: add --overwrite")
            if not run_dir.manifest_path.is_file():
                raise OutputError(
                    f"the output folder {raw!r} holds an earlier run's results without its {MANIFEST} (an older "
                    "skillit's run, or one killed as it started), which cannot be checked against this "
                    "configuration; nothing was written. Choose another --out, or add --overwrite to delete them "
                    "and start this run there")
            try:
                found = run_dir.difference(config, policies=policies, data=data)
            except CheckpointError as exc:  # an unreadable manifest
                raise OutputError(f"{exc}; or add --overwrite to delete that run's results") from None
            if found is not None:
                raise OutputError(f"the output folder {raw!r} holds a run of another configuration: {found[0]}. "
                                  f"Nothing was written. To keep that run, {ways}")
            run_dir._stamp_lock()
            run_dir.continued = True
        except BaseException:
            run_dir.close()
            if not lock_existed:
                (target / LOCK).unlink(missing_ok=True)
            raise
        return run_dir

    def holds_run(self) -> bool:
        """Whether the folder holds a run: a manifest, or any of a run's results (:data:`RESULTS`)."""
        return any((self.path / name).exists() or (self.path / name).is_symlink() for name in (MANIFEST, *RESULTS))

    @classmethod
    def create(
        cls,
        path: str | Path,
        config: Any,
        *,
        policies: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
        overwrite: bool = False,
    ) -> RunDirectory:
        """A new run in ``path``: check the path, make and lock the folder, write ``config.yaml`` and
        ``manifest.json``. ``config`` is an ExperimentConfig; ``policies`` maps each method to its policy's
        ``describe()``; ``data`` is :func:`data_fingerprint` of the task's params. A folder that holds a run
        is refused unless ``overwrite``, which deletes that run first (:data:`REPLACED`; :meth:`claim` decides)."""
        target = cls.check_output_path(path)
        run_dir = cls(target)
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the output folder {str(target)!r}: {os_error_message(exc)}") from None
        run_dir.lock()
        try:
            if run_dir.holds_run() and not overwrite:  # checked again under the lock
                raise OutputError(f"the output folder {str(path)!r} holds a run; choose another --out, or add "
                                  "--overwrite to delete it and start a new run there")
            run_dir._clear(REPLACED if overwrite else ())
            config_data = config.model_dump(mode="json")
            manifest = {
                "format": MANIFEST_FORMAT,
                "run_id": uuid.uuid4().hex,
                "skillit_version": _skillit_version(),
                "config_hash": config_hash(config_data),
                "config": config_data,
                "policies": dict(policies or {}),
                "data_fingerprint": dict(data or {}),
                "machine": machine_fingerprint(),
            }
            _write(lambda: atomic_write_text(run_dir.config_path, dump_config(config)), run_dir.config_path)
            _write(lambda: atomic_write_json(run_dir.manifest_path, json.loads(json.dumps(manifest, default=str))),
                   run_dir.manifest_path)
            run_dir._manifest = json.loads(run_dir.manifest_path.read_text(encoding="utf-8"))
        except BaseException:
            run_dir.close()
            raise
        return run_dir

    @classmethod
    def open_for_resume(
        cls,
        path: str | Path,
        config: Any,
        *,
        policies: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
        lock: bool = True,
    ) -> RunDirectory:
        """An existing run directory to continue: lock it, then check ``config`` (after --steps/--seeds/--methods),
        ``policies`` and ``data`` against the manifest. Nothing is written; a mismatch names the field.
        ``lock=False``: the same checks without the lock (the other ranks of a torchrun group)."""
        run_dir = cls(path)
        where = str(path)
        start = f"start a run there with: skillit run CONFIG --out {shlex.quote(where)}"
        if not run_dir.path.is_dir():
            raise CheckpointError(f"nothing to resume: {where!r} is not a folder; {start}")
        if not run_dir.manifest_path.is_file():
            raise CheckpointError(
                f"nothing to resume in {where!r}: it has no {MANIFEST} (not a run directory, or one made by a skillit "
                f"before 0.1 manifests); {start}, or choose another --out"
            )
        if lock:
            run_dir.lock()
        try:
            found = run_dir.difference(config, policies=policies, data=data)
            if found is not None:
                raise CheckpointError(f"cannot resume {where!r}: {found[0]}; {found[1]}")
        except BaseException:
            run_dir.close()
            raise
        return run_dir

    def difference(
        self, config: Any, *, policies: Mapping[str, Any] | None = None, data: Mapping[str, str] | None = None,
    ) -> tuple[str, str] | None:
        """How ``config`` (an ExperimentConfig after --steps/--seeds/--methods), ``policies`` (method → the
        policy's ``describe()``) and ``data`` (:func:`data_fingerprint`) differ from the run in the manifest:
        ``(what differs, how to resume anyway)``, or None when they describe the same run.

        The one "same run?" test, used by :meth:`claim` and :meth:`open_for_resume`: the resolved config
        compared key by key, except that ``methods`` and ``seeds`` may be a subset of the run's (e.g.
        ``--methods a``); then the policies of the methods both have; then the data files' digests."""
        found = self._config_difference(config)
        if found is not None:
            return found
        theirs_policies = upgrade_description(self.manifest.get("policies", {}))  # renamed parameters: new spelling
        for method, described in json.loads(json.dumps(dict(policies or {}), default=str)).items():
            if method in theirs_policies and theirs_policies[method] != described:
                key = _first_difference(described, theirs_policies[method])
                return (f"method {method!r} now builds a different policy ({key}: run directory has "
                        f"{_lookup(theirs_policies[method], key)!r}, now {_lookup(described, key)!r})",
                        "resume with the configuration the run started with")
        theirs_data = self.manifest.get("data_fingerprint", {})
        ours_data = dict(data or {})
        if ours_data != theirs_data:
            changed = sorted(set(ours_data) ^ set(theirs_data) | {k for k in ours_data if theirs_data.get(k) != ours_data[k]})
            return (f"the data changed since the run started ({', '.join(changed)})",
                    "restore the data, or start a new run with --out")
        return None

    def check_config(self, config: Any) -> None:
        """Refuse (CheckpointError naming the key) a config that differs from the manifest's.

        ``methods`` and ``seeds`` may be a subset of the original ones (e.g. ``--methods a`` on resume);
        every other key must be equal."""
        found = self._config_difference(config)
        if found is not None:
            raise CheckpointError(f"cannot resume {str(self.path)!r}: {found[0]}; {found[1]}")

    def _config_difference(self, config: Any) -> tuple[str, str] | None:
        theirs = dict(self.manifest.get("config", {}))
        section = theirs.get("graph_learning")
        if isinstance(section, dict):  # a manifest written before `params` (the flat form, unset fields null)
            try:
                theirs["graph_learning"] = upgrade_graph_learning(section, warn=False)
            except ValueError:  # not a section this skillit wrote: compared as it is
                pass
        if isinstance(theirs.get("methods"), dict):  # written before a policy parameter was renamed
            theirs["methods"] = upgrade_method_params(theirs["methods"], warn=False)
        ours = config.model_dump(mode="json")
        ours = json.loads(json.dumps(ours, default=str))
        for key in NARROWABLE:
            extra = [item for item in ours.get(key, []) if item not in theirs.get(key, [])]
            if extra:
                return (f"{key} {extra} were not part of the run (it has {list(theirs.get(key, []))})",
                        "start a new run with --out")
        keys: list[str] = []
        if isinstance(ours.get("methods"), dict):
            theirs_methods = theirs.get("methods", {})
            for method, spec in ours["methods"].items():
                if spec != theirs_methods.get(method):
                    found = _differences(spec, theirs_methods.get(method) or {}) or [""]
                    keys.extend(f"methods.{method}.{key}".rstrip(".") for key in found)
        rest_ours = {k: v for k, v in ours.items() if k not in NARROWABLE}
        rest_theirs = {k: v for k, v in theirs.items() if k not in NARROWABLE}
        keys.extend(_differences(rest_ours, rest_theirs))
        if not keys:
            return None
        first, others = keys[0], keys[1:]
        text = f"{first} differs (the run started with {_lookup(theirs, first)!r}, now {_lookup(ours, first)!r})"
        if others:
            shown = [f"{key} ({_lookup(theirs, key)!r} → {_lookup(ours, key)!r})" for key in others[:4]]
            text += "; so do " + ", ".join(shown) + (f" and {len(others) - 4} more" if len(others) > 4 else "")
        return (text, f"resume with the configuration the run started with (its {MANIFEST} keeps it), or start a "
                "new run with --out")

    # ---- finished runs and checkpoints ----------------------------------------------------------
    def save_record(self, record: Any) -> Path:
        """Write a finished run (a RunRecord) to runs/, stamped with this directory's manifest."""
        record.extra = {**(record.extra or {}), "run_id": self.manifest["run_id"],
                        "config_hash": self.manifest["config_hash"]}
        path = self.record_path(record.method, record.seed)
        return _write(lambda: record.save(path), path)

    def finished_record(self, method: str, seed: int, steps: int | None = None) -> Any:
        """The finished run of ``method`` at ``seed``, or None when it has not finished.

        A record that is corrupt, or was not written by this run directory's manifest (a stale or foreign
        file), or has another step count, is refused with a :class:`CheckpointError`, never reused."""
        path = self.record_path(method, seed)
        if not path.is_file():
            return None
        try:
            record = RunRecord.load(path)
        except SkillitError as exc:
            raise CheckpointError(f"{exc}; delete it to rerun that run") from None
        extra = record.extra or {}
        problem = None
        if extra.get("run_id") != self.manifest.get("run_id") or extra.get("config_hash") != self.manifest.get("config_hash"):
            problem = "was not written by this run directory's run (a stale or copied file)"
        elif (record.method, record.seed) != (method, seed):
            problem = f"holds method {record.method!r} seed {record.seed}, not method {method!r} seed {seed}"
        elif steps is not None and record.steps != steps:
            problem = f"ran {record.steps} steps, this run has {steps}"
        if problem:
            raise CheckpointError(f"{path}: this finished run {problem}; delete it to rerun that run, or start a "
                                  "new run with --out")
        return record

    def check_checkpoint(self, method: str, seed: int, expected: Mapping[str, Any] | None = None) -> bool:
        """Whether the run has a checkpoint to resume; a corrupt one, or one saved under other training
        settings (``expected``: the run's TrainConfig as a dict, compared by
        :func:`~skillit.trainer.settings.resume_difference`), is refused with a :class:`CheckpointError`."""
        path = self.checkpoint_dir(method, seed) / CHECKPOINT_NAME
        if not path.is_file():
            return False
        saved = load_checkpoint(path)  # a corrupt file: CheckpointError "cannot be read …; delete it"
        saved_config = saved.get("config") if isinstance(saved, dict) else None
        if not isinstance(saved_config, dict):
            raise CheckpointError(f"{path}: not a skillit checkpoint; delete the folder {str(path.parent)!r} to restart "
                                  "that run from step 0")
        found = resume_difference(saved_config, expected or {})
        if found is not None:
            key, theirs, ours = found
            raise CheckpointError(
                f"{path}: saved with training.{key}={theirs!r}, this run has {ours!r}; delete the "
                f"folder {str(path.parent)!r} to restart that run, or resume with the original configuration"
            )
        return True

    # ---- the lock -------------------------------------------------------------------------------
    def lock(self, *, stamp: bool = True) -> None:
        """Take the folder's exclusive lock (non-blocking); a second run into the same folder is refused.
        ``stamp``: write our pid into the lock file (the hint a refused second run prints)."""
        if self._lock_fd is not None:
            return
        lock_path = self.path / LOCK
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot write to the output folder {str(self.path)!r}: {os_error_message(exc)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = ""
            try:
                holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
            except OSError:
                pass
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise CheckpointError(
                    f"the run directory {str(self.path)!r} is in use by another skillit run"
                    + (f" (process {holder})" if holder else "")
                    + "; wait for it to finish, or choose another --out"
                ) from None
            raise OutputError(f"cannot lock the output folder {str(self.path)!r}: {os_error_message(exc)}") from None
        self._lock_fd = fd
        if stamp:
            self._stamp_lock()

    def _stamp_lock(self) -> None:
        if self._lock_fd is None:
            return
        try:
            os.ftruncate(self._lock_fd, 0)
            os.pwrite(self._lock_fd, str(os.getpid()).encode(), 0)
        except OSError:
            pass  # the pid is only a hint in the message above

    def close(self) -> None:
        """Release the lock (the lock file stays: removing it would race with the next run)."""
        if self._lock_fd is not None:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            finally:
                os.close(self._lock_fd)
                self._lock_fd = None

    def __enter__(self) -> RunDirectory:  # noqa: PYI034 - Python 3.10 has no typing.Self
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- internals ------------------------------------------------------------------------------
    def _read_manifest(self) -> dict[str, Any]:
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"{self.manifest_path}: unreadable manifest ({exc}); the run directory cannot be "
                                  "resumed: start a new run with --out") from None
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or "run_id" not in data:
            raise CheckpointError(f"{self.manifest_path}: not a skillit manifest (format {MANIFEST_FORMAT}); start a "
                                  "new run with --out")
        return data

    def _clear(self, names: tuple[str, ...]) -> None:
        """Remove ``names`` (layout names only: :data:`REPLACED` for --overwrite) and the temporary files of
        killed atomic writes, so that nothing of an earlier run can be mistaken for this run's."""
        leftovers = [entry.name for entry in self.path.iterdir() if _is_leftover(entry.name)]
        for name in (*names, *leftovers):
            assert name in LAYOUT or _is_leftover(name), name  # never a file the run did not write
        _delete(self.path, (*names, *leftovers), "the earlier run's")


def claim_graph_folder(path: str | Path, difference: str | None, *, overwrite: bool = False) -> None:
    """:meth:`RunDirectory.claim`'s rule for a graph folder (``skillit graph --out DIR``): ``difference`` is how
    the graph it holds differs from the one to learn (``graph_learning.graph_difference``; None: no graph, or the
    same one, which is reused or resumed). Another set-up's graph is refused, nothing written, unless
    ``overwrite``, which deletes what graph learning writes there (:data:`GRAPH_WRITTEN`, and the ``seed<S>/``
    folders of a graph learned at several seeds)."""
    if difference is None:
        return
    folder = Path(path)
    if not overwrite:
        raise OutputError(f"the graph folder {str(path)!r} holds a graph learned with another set-up: {difference}. "
                          "Nothing was written. To keep it, choose another --out; or delete it and learn this graph "
                          "there: add --overwrite")
    seed_folders = [p.name for p in folder.glob("seed*") if p.is_dir() and p.name[4:].isdigit()]  # --seeds
    _delete(folder, (*GRAPH_WRITTEN, *seed_folders), "the earlier graph's")


def _delete(folder: Path, names: Sequence[str], whose: str) -> None:
    """Delete ``folder/name`` for each name (a folder with its contents; a link, not what it points to); an OS
    error is one :class:`OutputError` naming the entry (``whose``: e.g. "the earlier run's")."""
    for name in names:
        entry = folder / name
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            elif entry.exists() or entry.is_symlink():
                entry.unlink()
        except OSError as exc:
            raise OutputError(f"cannot delete {whose} {str(entry)!r}: {os_error_message(exc)}") from None


def _is_leftover(name: str) -> bool:
    """A temporary file of an atomic write that a killed run left behind (``.summary.json.x1y2.tmp``)."""
    return name.startswith(".") and name.endswith(".tmp")


def _write(write: Any, path: Path) -> Any:
    """Run an atomic write; an OS error (read-only folder, full disk) becomes one OutputError."""
    try:
        return write()
    except OSError as exc:
        raise OutputError(f"cannot write {str(path)!r}: {os_error_message(exc)}") from None


__all__ = ["GRAPH_WRITTEN", "LAYOUT", "REPLACED", "RunDirectory", "claim_graph_folder", "config_hash", "data_fingerprint"]
