"""``skillit report`` and ``skillit tensorboard``: look at finished run directories.

    skillit report RUN_DIR [RUN_DIR ...] [--out FILE] [--tensorboard]
                                          one self-contained report.html (several directories: a comparison)
    skillit tensorboard RUN_DIR [--logdir DIR]
                                          TensorBoard event files from RUN_DIR/metrics.jsonl

Registered on the main app by :func:`register` (``skillit.cli``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from skillit.errors import SkillitError


def _fail(exc: SkillitError) -> None:
    Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(2)


def report(
    run_dirs: list[Path] = typer.Argument(..., help="one or more run directories (the --out of `skillit run`)"),
    out: Optional[Path] = typer.Option(None, "--out", help="the HTML file (default: FIRST_RUN_DIR/report.html)"),
    tensorboard: bool = typer.Option(False, "--tensorboard", help="also write TensorBoard events (RUN_DIR/tensorboard)"),
) -> None:
    """Write one self-contained report.html for run directories: tables, curves, mixtures, graph, cost."""
    from skillit.report.html import write_report
    from skillit.report.loggers import write_tensorboard

    try:
        path = write_report(run_dirs, out)
        logdirs = [write_tensorboard(run_dir) for run_dir in run_dirs] if tensorboard else []
    except SkillitError as exc:
        _fail(exc)
        return
    for run_dir, written in zip(run_dirs, logdirs):
        print(f"tensorboard: {len(written)} run(s) → tensorboard --logdir {run_dir / 'tensorboard'}")
    print(f"report: {path}")


def tensorboard(
    run_dir: Path = typer.Argument(..., help="a finished run directory"),
    logdir: Optional[Path] = typer.Option(None, "--logdir", help="where the events go (default: RUN_DIR/tensorboard)"),
) -> None:
    """Write TensorBoard scalars (per-skill loss, accuracy, weights, examples seen) from a run's metrics.jsonl."""
    from skillit.report.loggers import write_tensorboard

    try:
        written = write_tensorboard(run_dir, logdir)
    except SkillitError as exc:
        _fail(exc)
        return
    target = logdir if logdir is not None else run_dir / "tensorboard"
    print(f"{len(written)} run(s) written; view with: tensorboard --logdir {target}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("tensorboard")(tensorboard)


__all__ = ["register"]
