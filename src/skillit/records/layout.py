"""The run directory's names, its run ids, and a read-only view of it: the one module that spells them.

What a run folder holds (``skillit run``/``bench``/``search`` write it through
:class:`skillit.experiment.run_dir.RunDirectory`, which owns creation, the lock and the resume checks and
takes every name from here)::

    config.yaml                 the resolved configuration (CONFIG)
    manifest.json               the config, its hash, the policies, the data fingerprint, the machine (MANIFEST)
    .skillit.lock               the lock of the run that uses the folder (LOCK)
    runs/METHOD__seedS.json     each finished run (RUNS, run_id)
    checkpoints/METHOD__seedS/  the loop's checkpoint (CHECKPOINTS)
    draws/METHOD__seedS.jsonl   the draw log (DRAWS; ``.rankR.jsonl`` per rank under DDP)
    warm_start/seedS.pt         the warm-start model of a seed (WARM_START, warm_start_file)
    graph/                      a learned skills graph (GRAPH)
    metrics.jsonl, summary.json the records of every run and their summary (METRICS, SUMMARY)
    accuracy.png, bits.png, loss.png, weights.png                              (PLOTS)
    report.html                 the self-contained report (REPORT)
    tensorboard/                TensorBoard events (TENSORBOARD)

Readers (``skillit report``, ``compare``, ``mixtures``, ``tensorboard``, the benchmark scripts) go through
:class:`RunLayout`, so no module below or above spells a file name or builds a run id itself
(``tests/records/test_layout.py`` greps for them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from skillit.errors import DataError
from skillit.records.metrics import read_metrics

CONFIG = "config.yaml"
MANIFEST = "manifest.json"
LOCK = ".skillit.lock"
METRICS = "metrics.jsonl"
SUMMARY = "summary.json"
REPORT = "report.html"
RUNS, CHECKPOINTS, DRAWS, WARM_START, GRAPH = "runs", "checkpoints", "draws", "warm_start", "graph"
TENSORBOARD = "tensorboard"
ACCURACY_PLOT, BITS_PLOT, LOSS_PLOT, WEIGHTS_PLOT = "accuracy.png", "bits.png", "loss.png", "weights.png"
PLOTS = (ACCURACY_PLOT, BITS_PLOT, LOSS_PLOT, WEIGHTS_PLOT)

_SEED = "__seed"  # run ids are METHOD__seedS


def run_id(method: str, seed: int | str) -> str:
    """The id of ``method`` at ``seed``: ``"skill-it__seed0"`` (file names under runs/, checkpoints/, draws/,
    tensorboard/; the rows of the live table)."""
    return f"{method}{_SEED}{seed}"


def parse_run_id(name: str) -> tuple[str, str]:
    """``"skill-it__seed0"`` → ``("skill-it", "0")``; an id without a seed part → ``(name, "")``."""
    method, _, seed = name.rpartition(_SEED)
    return (method, seed) if method else (name, "")


def warm_start_file(seed: int) -> str:
    """The warm-start model of ``seed`` in a warm-start folder: ``seed0.pt``."""
    return f"seed{seed}.pt"


def read_summary(run_dir: str | Path) -> dict[str, Any]:
    """The ``summary.json`` of a finished run directory, checked to be a skillit summary (a ``methods`` map).

    Every reader of a finished run (``skillit report``, ``skillit compare``, the benchmark scripts) goes
    through here, so a missing or broken summary reads the same everywhere: the path, what is wrong, and
    how to get a finished run directory.
    """
    folder = Path(run_dir)
    path = folder / SUMMARY
    if not path.is_file():
        raise DataError(
            f"{str(folder)!r} is not a finished run directory: it has no {SUMMARY} (give the --out "
            "directory of a `skillit run` or `skillit bench` that has finished, or finish it with "
            "`skillit run --resume DIR`)"
        )
    try:
        summary = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not a skillit summary (not JSON: {exc.msg}, line {exc.lineno})") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("methods"), dict):
        raise DataError(f"{path}: not a skillit summary (no 'methods' map); was it written by `skillit run`?")
    return summary


class RunLayout:
    """Paths of one run folder and its readers; writes nothing (``RunDirectory`` writes)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    # ---- files and folders of the run ---------------------------------------------------------
    @property
    def config(self) -> Path:
        return self.root / CONFIG

    @property
    def manifest(self) -> Path:
        return self.root / MANIFEST

    @property
    def lock(self) -> Path:
        return self.root / LOCK

    @property
    def metrics(self) -> Path:
        return self.root / METRICS

    @property
    def summary(self) -> Path:
        return self.root / SUMMARY

    @property
    def report(self) -> Path:
        return self.root / REPORT

    @property
    def runs_dir(self) -> Path:
        return self.root / RUNS

    @property
    def graph_dir(self) -> Path:
        return self.root / GRAPH

    @property
    def warm_start_dir(self) -> Path:
        return self.root / WARM_START

    @property
    def tensorboard_dir(self) -> Path:
        return self.root / TENSORBOARD

    # ---- one run (a method at a seed) -----------------------------------------------------------
    def record(self, method: str, seed: int) -> Path:
        """The finished run of ``method`` at ``seed``: ``runs/METHOD__seedS.json``."""
        return self.runs_dir / f"{run_id(method, seed)}.json"

    def checkpoint_dir(self, method: str, seed: int) -> Path:
        return self.root / CHECKPOINTS / run_id(method, seed)

    def draws(self, method: str, seed: int) -> Path:
        return self.root / DRAWS / f"{run_id(method, seed)}.jsonl"

    def warm_start(self, seed: int) -> Path:
        return self.warm_start_dir / warm_start_file(seed)

    # ---- readers --------------------------------------------------------------------------------
    def read_summary(self) -> dict[str, Any]:
        """:func:`read_summary` of this folder."""
        return read_summary(self.root)

    def read_metrics(self) -> list[dict[str, Any]]:
        """Every line of ``metrics.jsonl`` (:func:`skillit.records.metrics.read_metrics`)."""
        return read_metrics(self.metrics)

    def read_manifest(self) -> Mapping[str, Any]:
        """``manifest.json`` of a run directory ({} when absent; a file that is not a JSON object: DataError).
        Resume reads it more strictly (``RunDirectory``)."""
        path = self.manifest
        if not path.is_file():
            return {}
        try:
            manifest = json.loads(path.read_text())
        except json.JSONDecodeError:
            manifest = None
        if not isinstance(manifest, Mapping):
            raise DataError(f"{path}: not a skillit run manifest")
        return manifest

    def read_config(self) -> Mapping[str, Any] | None:
        """``config.yaml`` as a mapping (None when absent; unreadable YAML or another shape: DataError)."""
        path = self.config
        if not path.is_file():
            return None
        try:
            config = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise DataError(f"{path}: not readable YAML ({exc})") from None
        if not isinstance(config, Mapping):
            raise DataError(f"{path}: not a skillit run config (a mapping at the top level)")
        return config


__all__ = [
    "ACCURACY_PLOT", "BITS_PLOT", "CHECKPOINTS", "CONFIG", "DRAWS", "GRAPH", "LOCK", "LOSS_PLOT", "MANIFEST",
    "METRICS", "PLOTS", "REPORT", "RUNS", "RunLayout", "SUMMARY", "TENSORBOARD", "WARM_START", "WEIGHTS_PLOT",
    "parse_run_id", "read_summary", "run_id", "warm_start_file",
]
