"""The ``torchrun`` entry point: an experiment whose every run is data-parallel over the launched ranks.

    torchrun --nproc_per_node 2 -m skillit.experiment.distributed_run lego-demo --out runs/lego-ddp
    torchrun --nproc_per_node 2 -m skillit.experiment.distributed_run --resume runs/lego-ddp

Runs (method × seed) go one after another, each over all ranks (``skillit.trainer.distributed``: every rank
draws a disjoint share of each global batch at the same weights; per-skill evaluation sums are
all-reduced, so every rank makes the same policy update). Rank 0 writes the run directory exactly as
``skillit run`` does (config.yaml, runs/, checkpoints/, draws/, metrics.jsonl, summary.json, plots), so
``--resume`` and the reports work the same way; under DDP the draw log is one file per rank
(``draws/METHOD__seedS.rankR.jsonl``). ``training.batch_size`` is the global batch: it must be divisible
by the number of ranks × ``training.gradient_accumulation_steps``.

Backend: nccl when CUDA is available, else gloo (``--backend`` overrides). Each CPU rank uses
``cores // ranks`` intra-op threads. Exit code 2 on a SkillitError (printed by rank 0).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from skillit.errors import CheckpointError, ConfigError, SkillitError
from skillit.trainer.distributed import ProcessGroup, cpu_threads_per_rank, process_group


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="torchrun --nproc_per_node N -m skillit.experiment.distributed_run",
        description="Run a skillit experiment with every run data-parallel over the torchrun ranks.",
    )
    parser.add_argument("config", nargs="?", help="a YAML file or a shipped config name")
    parser.add_argument("--out", type=Path, help="run directory (default: runs/<name>)")
    parser.add_argument("--resume", type=Path, help="continue the run directory DIR")
    parser.add_argument("--seeds", type=int, help="run seeds 0..N-1 instead of the config's seeds")
    parser.add_argument("--steps", type=int, help="training steps (rounds and evaluations scale along)")
    parser.add_argument("--methods", help="comma-separated subset of the config's methods")
    parser.add_argument("--backend", choices=("gloo", "nccl"), help="default: nccl with CUDA, else gloo")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    torch.set_num_threads(cpu_threads_per_rank())
    rank = 0
    try:
        with process_group(args.backend) as group:
            rank = group.rank
            run_distributed(args, group)
    except SkillitError as exc:
        if rank == 0:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def run_distributed(args: argparse.Namespace, group: ProcessGroup) -> dict | None:
    """Train every run over the group's ranks; rank 0 writes the directory and returns the summary."""
    from skillit.experiment.config import dump_config, load_config, resolve_config_path
    from skillit.experiment.runner import (
        RunSpec,
        apply_overrides,
        resolve_device,
        run_experiment,
        run_one,
        validate_experiment,
        warm_start,
    )
    from skillit.utils.io import atomic_write_json, atomic_write_text

    started = time.perf_counter()
    if args.resume is not None:
        if args.config is not None:
            raise SkillitError("give either CONFIG or --resume DIR, not both (the run directory holds its config)")
        if not (args.resume / "config.yaml").is_file():
            raise CheckpointError(f"nothing to resume in {str(args.resume)!r}: it has no config.yaml")
        config = load_config(args.resume / "config.yaml")
        config_dir, out = args.resume, args.resume
    else:
        path = resolve_config_path(args.config or "lego-demo")
        config = load_config(path)
        config_dir = path.parent
        out = args.out if args.out is not None else Path("runs") / config.name
    methods = [m.strip() for m in args.methods.split(",") if m.strip()] if args.methods else None
    config = apply_overrides(config, seeds=args.seeds, steps=args.steps, methods=methods)
    if group.backend is None:  # a single process: honour the config's device
        group = ProcessGroup(device=resolve_device(config.device))
    validate_experiment(config, config_dir)  # every rank: same checks, same error, nothing written
    shares = group.world_size * config.training.gradient_accumulation_steps
    if config.training.batch_size % shares:
        raise ConfigError(
            f"training.batch_size {config.training.batch_size} must split evenly over {group.world_size} rank(s) × "
            f"{config.training.gradient_accumulation_steps} accumulation micro-batches; choose a multiple of {shares}"
        )
    resume = args.resume is not None

    if group.is_main:
        (out / "runs").mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "config.yaml", dump_config(config))
        if config.warm_start is not None:  # a small single-process pre-training, once per seed
            for seed in config.seeds:
                path = out / "warm_start" / f"seed{seed}.pt"
                if not path.is_file():
                    warm_start(config, seed, path)
    group.barrier()

    for method in config.methods:
        for seed in config.seeds:
            run_id = f"{method}__seed{seed}"
            record_path = out / "runs" / f"{run_id}.json"
            if resume and record_path.is_file():
                continue
            ckpt = out / "checkpoints" / run_id if config.training.checkpoint_every else None
            spec = RunSpec(
                config, method, seed, str(config_dir),
                str(ckpt) if ckpt else None,
                resume=bool(resume and ckpt is not None and (ckpt / "checkpoint.pt").is_file()),
                device=group.device,
                warm_start_path=str(out / "warm_start" / f"seed{seed}.pt") if config.warm_start else None,
                draws_path=str(out / "draws" / f"{run_id}.jsonl") if config.training.log_draws else None,
            )
            record = run_one(spec, group=group)
            record.extra["world_size"] = group.world_size
            if group.is_main:
                record.save(record_path)
                print(f"{run_id}: {record.steps} steps on {group.world_size} rank(s), "
                      f"{record.train_seconds:.1f} s training", flush=True)
            group.barrier()

    if not group.is_main:
        return None
    summary = run_experiment(config, out, config_dir=config_dir, jobs=1, resume=True)  # every run is done: reports only
    summary["wall_seconds"] = time.perf_counter() - started
    summary["world_size"] = group.world_size
    summary["backend"] = group.backend
    from skillit.records.metrics import finite_or_none

    atomic_write_json(out / "summary.json", finite_or_none(summary))
    print(f"results in {out}/ (summary.json, metrics.jsonl)", flush=True)
    return summary


if __name__ == "__main__":
    sys.exit(main())
