"""The ``skillit`` command line.

    skillit run [CONFIG] [--out DIR] [--seeds N] [--steps N] [--methods a,b] [--jobs N] [--resume]
    skillit configs                       list the shipped configs
    skillit policies                      list the registered mixing policies

Any :class:`~skillit.errors.SkillitError` (bad config, unknown method or skill, malformed graph) is printed
as one message and exits with code 2, before any output is written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from skillit.errors import SkillitError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Skills graphs and online data-mixing policies (Skill-It and its baselines) for LM training.",
)
console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True)

DEFAULT_CONFIG = "lego-demo"


def _fail(exc: SkillitError) -> None:
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(2)


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or None


@app.command()
def run(
    config: Optional[str] = typer.Argument(None, help=f"a YAML file or a shipped config name (default: {DEFAULT_CONFIG})"),
    out: Optional[Path] = typer.Option(None, "--out", help="run directory (default: runs/<name>)"),
    seeds: Optional[int] = typer.Option(None, "--seeds", help="run seeds 0..N-1 instead of the config's seeds"),
    steps: Optional[int] = typer.Option(None, "--steps", help="training steps (rounds and evaluations scale along)"),
    methods: Optional[str] = typer.Option(None, "--methods", help="comma-separated subset of the config's methods"),
    jobs: Optional[int] = typer.Option(None, "--jobs", help="parallel training processes (default: min(2, cores))"),
    resume: Optional[Path] = typer.Option(None, "--resume", help="continue the run directory DIR"),
) -> None:
    """Run every method × seed of an experiment and print the comparison table."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from skillit.experiment.config import load_config, resolve_config_path
    from skillit.experiment.runner import apply_overrides, default_jobs, run_experiment
    from skillit.report.table import comparison_table

    try:
        if resume is not None:
            if config is not None:
                raise SkillitError("give either CONFIG or --resume DIR, not both (the run directory holds its config)")
            cfg_path = resume / "config.yaml"
            if not cfg_path.is_file():
                from skillit.errors import CheckpointError

                raise CheckpointError(f"nothing to resume in {str(resume)!r}: it has no config.yaml")
            cfg = load_config(cfg_path)
            config_dir = resume
            out_dir = resume
        else:
            path = resolve_config_path(config or DEFAULT_CONFIG)
            cfg = load_config(path)
            config_dir = path.parent
            out_dir = out if out is not None else Path("runs") / cfg.name
        cfg = apply_overrides(cfg, seeds=seeds, steps=steps, methods=_split(methods))
        n_jobs = jobs if jobs is not None else default_jobs()
        runs = len(cfg.methods) * len(cfg.seeds)
        console.print(
            f"[bold]{cfg.name}[/]: {len(cfg.methods)} method(s) × {len(cfg.seeds)} seed(s) = {runs} run(s) of "
            f"{cfg.training.steps} steps on {cfg.task.name} ({cfg.setting}), {min(n_jobs, runs)} parallel job(s) "
            f"→ {out_dir}"
        )
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        ) as progress:
            task = progress.add_task("training steps", total=runs * cfg.training.steps)
            summary = run_experiment(
                cfg,
                out_dir,
                config_dir=config_dir,
                jobs=n_jobs,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
                resume=resume is not None,
            )
    except SkillitError as exc:
        _fail(exc)
        return
    console.print(comparison_table(summary))
    console.print(f"wall time {summary['wall_seconds']:.0f} s; results in {out_dir}/ (summary.json, metrics.jsonl, *.png)")


@app.command()
def configs() -> None:
    """List the shipped experiment configs."""
    from rich.table import Table

    from skillit.experiment.config import load_config, shipped_config_names, shipped_config_path

    table = Table(title="shipped configs (skillit run NAME)")
    table.add_column("name", style="bold")
    table.add_column("task")
    table.add_column("setting")
    table.add_column("steps", justify="right")
    table.add_column("methods")
    table.add_column("description")
    for name in shipped_config_names():
        cfg = load_config(shipped_config_path(name))
        table.add_row(name, cfg.task.name, cfg.setting, str(cfg.training.steps), ", ".join(cfg.methods), cfg.description)
    console.print(table)


@app.command()
def policies() -> None:
    """List the registered mixing policies and the wrappers that make variants of them."""
    from rich.table import Table

    from skillit.policy.registry import POLICIES, WRAPPERS

    table = Table(title="mixing policies (methods.<name>.policy)")
    table.add_column("policy", style="bold")
    table.add_column("parameters")
    table.add_column("what it does")
    for spec in POLICIES.values():
        table.add_row(spec.name, ", ".join(spec.params_model.model_fields) or "-", spec.description)
    console.print(table)
    console.print("wrappers (methods.<name>.wrappers): " + ", ".join(WRAPPERS))


def main() -> None:
    try:
        app()
    except SkillitError as exc:  # errors raised outside a command's own handler
        err_console.print(f"[bold red]error:[/] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
