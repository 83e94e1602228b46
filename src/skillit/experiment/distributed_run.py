"""Experiments under ``torchrun``: every run data-parallel over the launched ranks.

    torchrun --nproc_per_node 2 -m skillit run lego-demo --out runs/lego-ddp      # skillit run detects torchrun
    torchrun --nproc_per_node 2 -m skillit run --resume runs/lego-ddp

There is one experiment driver, :func:`skillit.experiment.runner.run_experiment`, and one command line,
``skillit run``; this module only opens the process group around the driver (:func:`run_under_torchrun`,
which ``skillit run`` calls when torchrun launched it). Runs (method × seed) go one after another, each over
all ranks (every rank draws a disjoint share of each global batch at the same weights; per-skill evaluation
sums are all-reduced, so every rank makes the same policy update). Rank 0 writes the run directory exactly as
``skillit run`` does, so ``--resume`` and the reports work the same way; under DDP the draw log is one file per
rank (``draws/METHOD__seedS.rankR.jsonl``). ``training.batch_size`` is the global batch: it must be divisible
by the number of ranks × ``training.gradient_accumulation_steps``.

Backend: nccl when CUDA is available, else gloo (``skillit run --backend`` overrides). Each CPU rank uses
``cores // ranks`` intra-op threads. Exit code 2 on a SkillitError (printed by rank 0).

Deprecated: ``torchrun ... -m skillit.experiment.distributed_run CONFIG ...``, this module's own argument
parser until issue 27, still works for one release: :func:`main` warns and runs ``python -m skillit run`` with
the same arguments in its place (the same process, so torchrun's rank variables carry over).
"""

from __future__ import annotations

import os
import shlex
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from skillit.experiment.config import ExperimentConfig
from skillit.experiment.runner import run_experiment
from skillit.trainer.distributed import (
    ProcessGroup,
    cpu_threads_per_rank,
    process_group,
    torchrun_env,
)
from skillit.utils.launch import launched_by_torchrun


def run_under_torchrun(
    config: ExperimentConfig,
    out_dir: str | Path,
    *,
    config_dir: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    backend: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_event: Callable[[str, dict[str, Any]], None] | None = None,
    notify: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any] | None, int]:
    """Open the process group, run the experiment over it, tear it down; ``(summary on rank 0, rank)``.

    ``progress``, ``on_event`` and ``notify`` are :func:`~skillit.experiment.runner.run_experiment`'s; pass them
    on rank 0 only (``skillit run`` does: rank 0 prints what a plain run prints)."""
    torch.set_num_threads(cpu_threads_per_rank())
    with process_group(backend) as group:
        summary = run_experiment(config, out_dir, config_dir=config_dir, resume=resume, overwrite=overwrite,
                                 group=group, progress=progress, on_event=on_event, notify=notify)
        return summary, group.rank


def main(argv: list[str] | None = None) -> int:
    """Deprecated entry point: ``python -m skillit.experiment.distributed_run ARGS`` is ``python -m skillit run
    ARGS`` (the process is replaced by that command, keeping torchrun's environment); it warns first."""
    args = list(sys.argv[1:] if argv is None else argv)
    message = ("`-m skillit.experiment.distributed_run` is deprecated and will be removed in the next release; "
               f"run: torchrun ... -m skillit run {shlex.join(args)}".rstrip())
    if torchrun_env()[0] == 0:  # once, not once per rank (shown: the caller is __main__)
        warnings.warn(message, DeprecationWarning, stacklevel=2)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "skillit", "run", *args])
    return 0  # not reached: execv replaces the process


__all__ = ["ProcessGroup", "launched_by_torchrun", "main", "run_under_torchrun"]


if __name__ == "__main__":
    sys.exit(main())
