"""Experiments under ``torchrun``: every run data-parallel over the launched ranks.

    torchrun --nproc_per_node 2 -m skillit run lego-demo --out runs/lego-ddp      # skillit run detects torchrun
    torchrun --nproc_per_node 2 -m skillit.experiment.distributed_run lego-demo --out runs/lego-ddp
    torchrun --nproc_per_node 2 -m skillit run --resume runs/lego-ddp

There is one experiment driver, :func:`skillit.experiment.runner.run_experiment`; this module only opens
the process group around it (:func:`run_under_torchrun`) and keeps the historical module entry point.
Runs (method × seed) go one after another, each over all ranks (every rank draws a disjoint share of each
global batch at the same weights; per-skill evaluation sums are all-reduced, so every rank makes the same
policy update). Rank 0 writes the run directory exactly as ``skillit run`` does, so ``--resume`` and the
reports work the same way; under DDP the draw log is one file per rank (``draws/METHOD__seedS.rankR.jsonl``).
``training.batch_size`` is the global batch: it must be divisible by the number of ranks ×
``training.gradient_accumulation_steps``.

Backend: nccl when CUDA is available, else gloo (``--backend`` overrides). Each CPU rank uses
``cores // ranks`` intra-op threads. Exit code 2 on a SkillitError (printed by rank 0).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from skillit.errors import CheckpointError, SkillitError
from skillit.experiment.config import ExperimentConfig, load_config, resolve_config_path
from skillit.experiment.runner import apply_overrides, run_experiment
from skillit.records.layout import CONFIG, METRICS, SUMMARY, RunLayout
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="torchrun --nproc_per_node N -m skillit.experiment.distributed_run",
        description="Run a skillit experiment with every run data-parallel over the torchrun ranks.",
    )
    parser.add_argument("config", nargs="?", help="a YAML file or a shipped config name")
    parser.add_argument("--out", type=Path, help="run directory (default: runs/<name>)")
    parser.add_argument("--resume", type=Path, help="continue the run directory DIR")
    parser.add_argument("--overwrite", action="store_true", help="delete the run that --out holds and start this one")
    parser.add_argument("--seeds", type=int, help="run seeds 0..N-1 instead of the config's seeds")
    parser.add_argument("--steps", type=int, help="training steps (rounds and evaluations scale along)")
    parser.add_argument("--methods", help="comma-separated subset of the config's methods")
    parser.add_argument("--backend", choices=("gloo", "nccl"), help="default: nccl with CUDA, else gloo")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    rank = torchrun_env()[0]
    try:
        if args.resume is not None:
            if args.config is not None:
                raise SkillitError("give either CONFIG or --resume DIR, not both (the run directory holds its config)")
            if not RunLayout(args.resume).config.is_file():
                raise CheckpointError(f"nothing to resume in {str(args.resume)!r}: it has no {CONFIG}")
            config = load_config(RunLayout(args.resume).config)
            config_dir, out = args.resume, args.resume
        else:
            path = resolve_config_path(args.config or "lego-demo")
            config = load_config(path)
            config_dir = path.parent
            out = args.out if args.out is not None else Path("runs") / config.name
        methods = [m.strip() for m in args.methods.split(",") if m.strip()] if args.methods else None
        config = apply_overrides(config, seeds=args.seeds, steps=args.steps, methods=methods)
        summary, rank = run_under_torchrun(config, out, config_dir=config_dir, resume=args.resume is not None,
                                           overwrite=args.overwrite, backend=args.backend)
    except SkillitError as exc:
        if rank == 0:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    if summary is not None:
        print(f"results in {out}/ ({SUMMARY}, {METRICS})", flush=True)
    return 0


__all__ = ["ProcessGroup", "launched_by_torchrun", "main", "run_under_torchrun"]


if __name__ == "__main__":
    sys.exit(main())
