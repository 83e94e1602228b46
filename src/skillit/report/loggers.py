"""Logging to the tools users already watch: TensorBoard and Weights & Biases, as trainer callbacks.

Both implement :class:`skillit.trainer.loop.TrainerCallback` through ``on_evaluate(record)`` and
``on_train_end``; a record (one per evaluation) has ``step``, ``round``, ``losses`` and ``accuracies`` per
evaluation skill, ``weights`` in force and cumulative ``examples_seen`` per training skill, ``train_loss``,
``lr``, ``train_seconds``, ``eval_seconds`` and ``eval_examples``. Scalars are written at the record's
``step`` under these tags::

    loss/SKILL  accuracy/SKILL  weight/SKILL  examples_seen/SKILL
    loss/mean   accuracy/mean   train_loss    lr

``write_tensorboard(run_dir)`` replays a finished run directory's ``metrics.jsonl`` through the same
callback, one event directory per method and seed (``RUN_DIR/tensorboard/METHOD__seedS``), so
``tensorboard --logdir RUN_DIR/tensorboard`` shows every run side by side.

TensorBoard needs the ``tensorboard`` package (``pip install tensorboard``, or the ``tensorboard`` extra:
``pip install -e ".[tensorboard]"`` in a clone); W&B needs ``wandb`` (the ``wandb`` extra), runs offline
(``mode="offline"``: nothing leaves the machine; ``wandb sync`` uploads later) and is never required.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from skillit.errors import ConfigError, DataError
from skillit.records.layout import METRICS, RunLayout, run_id
from skillit.trainer.loop import TrainerCallback


def scalars_of(record: Mapping[str, Any]) -> Iterator[tuple[str, float]]:
    """The ``(tag, value)`` pairs of one evaluation record; missing and non-finite values are left out."""

    def finite(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

    for prefix, key in (("loss", "losses"), ("accuracy", "accuracies"), ("weight", "weights"),
                        ("examples_seen", "examples_seen")):
        values = record.get(key) or {}
        for skill, value in values.items():
            if finite(value):
                yield f"{prefix}/{skill}", float(value)
        if prefix in ("loss", "accuracy"):
            present = [float(v) for v in values.values() if finite(v)]
            if present and len(present) == len(values):
                yield f"{prefix}/mean", sum(present) / len(present)
    for key in ("train_loss", "lr"):
        if finite(record.get(key)):
            yield key, float(record[key])


class TensorBoardLogger(TrainerCallback):
    """Writes each evaluation record's scalars to a TensorBoard event directory (``torch.utils.tensorboard``)."""

    def __init__(self, log_dir: str | Path):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ConfigError(
                "TensorBoard logging needs the tensorboard package: pip install tensorboard (or the extra: "
                "pip install -e '.[tensorboard]' in a skillit clone)"
            ) from None
        self.log_dir = Path(log_dir)
        self.writer = SummaryWriter(log_dir=str(self.log_dir))

    def on_evaluate(self, record: dict[str, Any]) -> None:
        step = int(record["step"])
        for tag, value in scalars_of(record):
            self.writer.add_scalar(tag, value, global_step=step)

    def on_train_end(self, result: Any = None) -> None:
        self.writer.flush()
        self.writer.close()


class WandbLogger(TrainerCallback):
    """Logs each evaluation record to Weights & Biases in offline mode (``wandb`` must be installed)."""

    def __init__(self, *, project: str = "skillit", name: str | None = None, config: dict[str, Any] | None = None,
                 directory: str | Path | None = None, mode: str = "offline"):
        try:
            import wandb
        except ImportError:
            raise ConfigError("W&B logging needs the wandb package: pip install wandb (or the extra: "
                              "pip install -e '.[wandb]' in a skillit clone)") from None
        self.run = wandb.init(project=project, name=name, config=config or {}, mode=mode,
                              dir=str(directory) if directory is not None else None)

    def on_evaluate(self, record: dict[str, Any]) -> None:
        self.run.log(dict(scalars_of(record)), step=int(record["step"]))

    def on_train_end(self, result: Any = None) -> None:
        self.run.finish()


def write_tensorboard(run_dir: str | Path, log_dir: str | Path | None = None) -> list[Path]:
    """TensorBoard event files for a finished run directory (default ``RUN_DIR/tensorboard``), one per run.

    Replaying into a directory that already has events for a run writes a fresh event file beside them;
    delete ``log_dir`` first to start clean.
    """
    root = Path(run_dir)
    layout = RunLayout(root)
    if not layout.metrics.is_file():
        raise DataError(f"{str(root)!r} has no {METRICS}: give the directory of a finished `skillit run`")
    out = Path(log_dir) if log_dir is not None else layout.tensorboard_dir
    runs: dict[str, list[dict[str, Any]]] = {}
    for line in layout.read_metrics():
        runs.setdefault(run_id(line["method"], line["seed"]), []).append(line)
    written = []
    for name, records in runs.items():
        logger = TensorBoardLogger(out / name)
        for record in records:
            logger.on_evaluate(record)
        logger.on_train_end()
        written.append(out / name)
    return written


__all__ = ["TensorBoardLogger", "WandbLogger", "scalars_of", "write_tensorboard"]
