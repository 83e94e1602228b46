"""The ``skillit`` command line.

    skillit run [CONFIG] [--out DIR] [--seeds N|a-b,c] [--steps N] [--methods a,b] [--jobs N] [--overwrite]
    skillit run --resume DIR               continue a run directory (its finished runs are kept)
    torchrun --nproc_per_node N -m skillit run CONFIG [--backend gloo|nccl]   every run data-parallel over the ranks
    skillit graph CONFIG [--method M] [--seed N | --seeds 0-2] [--out DIR] [--jobs N] [--overwrite]
                                          learn the skills graph (graph.json + plots; --seeds: per-edge intervals)
    skillit bench [NAME] [--seeds N|a-b,c] run a shipped benchmark (without NAME: list them)
    skillit configs                       list the shipped configs (and the data each needs)
    skillit data inspect SOURCE [--skill-column COL] [--validation FILE] [--holdout F] [--skills a,b]
                         [--max-length N] [--json]
                                          skills, counts, token lengths and problems of your own data
    skillit data fetch NAME [--python PY]   generate a data set that is not shipped (math_skills) into $SKILLIT_DATA
    skillit policies                      list the registered mixing policies
    skillit skillmix | synth | stat | graft   LLM-side skill methods (skillit.llm.cli, docs/llm-skills.md)
    skillit compare RUN_DIR... [--out DIR] [--baseline M]   leaderboard of methods × benchmarks (Markdown + PNG)
    skillit mixture RUN_DIR [--methods a,b]   each method's mean training mixture, as static methods to paste
    skillit search CONFIG [--trials N] [--model log|linear|best-trial] [--out DIR]
                                          RegMix-style static-mixture search, tested on held-out seeds
    skillit report RUN_DIR [RUN_DIR ...] [--out FILE]
                                          one self-contained report.html (several: a comparison)
    skillit tensorboard RUN_DIR [RUN_DIR ...] [--logdir DIR]   TensorBoard events from runs' metrics.jsonl
    skillit discover DATA --k N           skills from loss trajectories; skillit regroup DATA; skillit profile SOURCE

Any :class:`~skillit.errors.SkillitError` (bad config, unknown method or skill, malformed graph) is printed
as one message and exits with code 2, before any output is written. A folder that holds another
configuration's run is refused the same way (``RunDirectory.claim``); the same configuration again continues
it. Ctrl-C exits with 130 and prints the command that continues.
"""

from __future__ import annotations

import json as json_module
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from skillit.discover.cli import register as register_discover_commands
from skillit.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    SkillitError,
    did_you_mean,
    pydantic_message,
)
from skillit.experiment.search_choices import MODELS, PRIORS, SEARCH_SEED
from skillit.llm.cli import register as register_llm_commands
from skillit.records.layout import CONFIG, METRICS, REPORT, SUMMARY, RunLayout, run_id
from skillit.report.console import err_console, fail, print_error, reports_errors
from skillit.report.live import LiveView
from skillit.report.table import comparison_tables, output_width, reference_lines
from skillit.skills.io.spec import DataSpec
from skillit.skills.io.spec import default as spec_default
from skillit.skills.io.spec import description as spec_description
from skillit.utils.launch import launched_by_torchrun, torchrun_env
from skillit.utils.plugins import import_modules, split_modules

# Each command imports what it uses (the config schema and the policies: pydantic and numpy; training, graphs
# and plots: torch, scipy, matplotlib) when it runs, so that --help answers at once and `policies`, `configs`,
# `bench` (the list) and a config error without torch or scipy (tests/test_startup.py).

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Skills graphs and online data-mixing policies (Skill-It and its baselines) for LM training.",
)
# a terminal's own width; redirected output: COLUMNS when set, else 120
console = Console(width=output_width(sys.stdout.isatty()))

DEFAULT_CONFIG = "lego-demo"
SEEDS_HELP = "N: seeds 0..N-1 instead of the config's; or seeds and ranges, e.g. 3-6 or 0,2,5 (more seeds later)"
OVERWRITE_HELP = ("delete the run that --out holds (its results, checkpoints and graph/) and start this one; "
                  "without it a folder holding another configuration's run is refused, and the same configuration "
                  "again continues it")


def _check_jobs(jobs: int | None) -> None:
    if jobs is not None and jobs < 1:
        raise ConfigError(f"--jobs must be >= 1 (parallel training processes), got {jobs}")


def _refuse_torchrun(command: str) -> None:
    """Only `skillit run` splits its runs over torchrun's ranks; another command would run whole on every rank,
    all into the same folder."""
    if launched_by_torchrun():
        raise ConfigError(f"skillit {command} does not run under torchrun (every rank would run all of it into the same "
                          "folder): run it without torchrun, with --jobs N for parallel runs; `torchrun ... skillit run "
                          "CONFIG` is the data-parallel path")


IMPORT_HELP = ("a module to import first, e.g. one that registers your own policy (repeatable or comma-separated); "
               "besides installed packages, looked for in the config's folder and the current folder; kept in the "
               f"run's {CONFIG} as imports:")


def _import_modules(values: list[str] | None, config_path: Path | None) -> list[str]:
    """``--import``: import the modules (before the config is checked: they may register its policies)."""
    names = split_modules(values)
    where = f"--import (with config {config_path})" if config_path is not None else "--import"
    import_modules(names, config_dir=config_path.parent if config_path is not None else None, where=where)
    return names


def _with_imports(cfg, names: list[str]):
    """The config with the ``--import`` modules added to its ``imports`` (so --jobs workers and --resume import them)."""
    added = [name for name in names if name not in cfg.imports]
    return cfg.model_copy(update={"imports": [*cfg.imports, *added]}) if added else cfg


def _spec_option(name: str, *, help: str | None = None):
    """A ``data inspect`` option for :class:`DataSpec`'s field ``name``: its default and (unless ``help`` is given)
    its description come from the spec, so that they are declared once."""
    return typer.Option(spec_default(name), "--" + name.replace("_", "-"), help=help or spec_description(name))


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or None


@app.command()
def run(
    config: Optional[str] = typer.Argument(None, help=f"a YAML file or a shipped config name (default: {DEFAULT_CONFIG})"),
    out: Optional[Path] = typer.Option(None, "--out", help="run directory (default: runs/<name>)"),
    seeds: Optional[str] = typer.Option(None, "--seeds", help=SEEDS_HELP),
    steps: Optional[int] = typer.Option(None, "--steps", help="training steps (rounds and evaluations scale along)"),
    methods: Optional[str] = typer.Option(None, "--methods", help="comma-separated subset of the config's methods"),
    jobs: Optional[int] = typer.Option(None, "--jobs", help="parallel training processes (default: min(2, cores))"),
    resume: Optional[Path] = typer.Option(None, "--resume", help="continue the run directory DIR (finished runs are "
                                          "kept; a run stopped mid-way continues if training.checkpoint_every)"),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
    imports: Optional[list[str]] = typer.Option(None, "--import", metavar="MODULE", help=IMPORT_HELP),
    backend: Optional[str] = typer.Option(None, "--backend", help="under torchrun: the process group's backend, gloo "
                                          "or nccl (default: nccl with CUDA, else gloo)"),
) -> None:
    """Run every method × seed of an experiment and print the comparison table.

    Into a folder that holds a run of the same configuration it continues that run (finished runs kept);
    another configuration's run is refused unless --overwrite.
    """
    from skillit.experiment.config import load_config, resolve_config_path

    try:
        _check_jobs(jobs)
        if backend is not None and (backend not in ("gloo", "nccl") or not launched_by_torchrun()):
            raise ConfigError(f"--backend {backend}: the backend is gloo or nccl, and it applies under torchrun only "
                              "(torchrun --nproc_per_node N -m skillit run CONFIG --backend gloo)")
        if resume is not None:
            if config is not None:
                raise SkillitError("give either CONFIG or --resume DIR, not both (the run directory holds its config)")
            if overwrite:
                raise SkillitError("--resume continues the run in the folder and --overwrite deletes it: give one of them")
            cfg_path = RunLayout(resume).config
            if not cfg_path.is_file():
                what = "is not a folder" if not resume.is_dir() else f"has no {CONFIG} (it is not a run directory)"
                raise CheckpointError(f"nothing to resume: {str(resume)!r} {what}; start a run there with: skillit "
                                      f"run CONFIG --out {shlex.quote(str(resume))}")
            added = _import_modules(imports, cfg_path)
            cfg = load_config(cfg_path)
            config_dir = resume
            out_dir = resume
        else:
            path = resolve_config_path(config or DEFAULT_CONFIG)
            added = _import_modules(imports, path)
            cfg = load_config(path)
            config_dir = path.parent
            out_dir = out if out is not None else Path("runs") / cfg.name
        cfg = _with_imports(cfg, added)
        from skillit.experiment.runner import apply_overrides  # after the config is read: its errors need no torch

        cfg = apply_overrides(cfg, seeds=seeds, steps=steps, methods=_split(methods))
        if launched_by_torchrun():  # torchrun ... skillit run: every run data-parallel over the ranks
            from skillit.experiment.distributed_run import run_under_torchrun

            rank, world = torchrun_env()[:2]  # rank 0 prints the header and progress, as a plain run does
            with _live_view(cfg, out_dir, f"data-parallel over {world} torchrun rank(s)", enabled=rank == 0) as hooks:
                summary, rank = run_under_torchrun(cfg, out_dir, config_dir=config_dir, resume=resume is not None,
                                                   overwrite=overwrite, backend=backend, **hooks)
            if summary is None:
                return
        else:
            summary = _execute(cfg, config_dir, out_dir, jobs, resume is not None, overwrite,
                               again=f"skillit run --resume {shlex.quote(str(out_dir))}")
    except SkillitError as exc:
        if launched_by_torchrun() and torchrun_env()[0] != 0:
            raise typer.Exit(2) from None  # rank 0 prints the message
        fail(exc)
        return
    _print_results(cfg, summary, out_dir)


def _execute(cfg, config_dir: Path, out_dir: Path, jobs: int | None, resume: bool, overwrite: bool, *,
             again: str) -> dict:
    """Run an experiment with a live view (plain progress lines when not a terminal); returns the summary.
    ``again``: the command that continues the run, printed on Ctrl-C (:func:`_interrupted`)."""
    from skillit.experiment.runner import default_jobs, run_experiment

    n_jobs = jobs if jobs is not None else default_jobs()
    runs = len(cfg.methods) * len(cfg.seeds)
    with _interrupted(out_dir, again, cfg), _live_view(cfg, out_dir, f"{min(n_jobs, runs)} parallel job(s)") as hooks:
        return run_experiment(cfg, out_dir, config_dir=config_dir, jobs=n_jobs, resume=resume, overwrite=overwrite,
                              **hooks)


@contextmanager
def _live_view(cfg, out_dir: Path, parallel: str, *, enabled: bool = True) -> Iterator[dict]:
    """``run_experiment``'s ``progress``, ``on_event`` and ``notify``: the header line (``parallel`` says how the
    runs share the machine), then a live view (plain progress lines when not a terminal). ``enabled=False``
    (torchrun ranks other than 0): no hooks, nothing printed."""
    if not enabled:
        yield {}
        return
    runs = len(cfg.methods) * len(cfg.seeds)
    view = LiveView(console, _run_ids(cfg), cfg.training.steps)
    started = False

    def advance(done: int, total: int) -> None:
        # the header and the live view appear once the run directory exists: a refused run prints only its error
        nonlocal started
        if not started:
            console.print(
                f"[bold]{escape(cfg.name)}[/]: {len(cfg.methods)} method(s) × {len(cfg.seeds)} seed(s) = {runs} run(s) "
                f"of {cfg.training.steps} steps on {escape(cfg.task.name)} ({cfg.setting}), {parallel} "
                f"→ {escape(str(out_dir))}"
            )
            view.__enter__()
            started = True
        view.progress(done, total)

    try:
        yield {"progress": advance, "on_event": view.event,
               "notify": lambda line: console.print(line, highlight=False, markup=False, soft_wrap=True)}
    finally:
        if started:
            view.__exit__(*sys.exc_info())


@contextmanager
def _interrupted(out_dir: Path, again: str, cfg=None) -> Iterator[None]:
    """Ctrl-C: exit 130 (as typer does) after saying what was kept and the command that continues the run.

    Printed only once the run directory holds its manifest (before that nothing was written)."""
    from skillit.experiment.run_dir import MANIFEST, RunDirectory

    try:
        yield
    except KeyboardInterrupt:
        if (Path(out_dir) / MANIFEST).is_file():
            checkpoints = cfg is None or bool(cfg.training.checkpoint_every)
            mid = ("runs stopped mid-way continue from their last checkpoint" if checkpoints else
                   "runs stopped mid-way start again from step 0 (training.checkpoint_every lets them continue)")
            finished = len(list(RunDirectory(out_dir).runs_dir.glob("*.json")))
            err_console.print(f"interrupted: {finished} finished run(s) kept in {out_dir}/; {mid}; continue with:\n"
                              f"  {again}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(130) from None


def _print_results(cfg, summary: dict, out_dir: Path) -> None:
    from skillit.report.graph_plots import seeds_note

    for table in comparison_tables(summary, console.width):
        console.print(table)
    for line in reference_lines(summary, cfg.reference):
        console.print(line, highlight=False)
    for method, cost in (summary.get("graph_cost") or {}).items():
        console.print(f"graph of {method}: {cost.get('method')} ({cost.get('source')}), {cost.get('train_steps')} "
                      f"train steps{seeds_note(cost)}, {cost.get('eval_examples')} evaluated examples",
                      highlight=False, markup=False)
    console.print(f"wall time {summary['wall_seconds']:.0f} s; results in {out_dir}/ ({SUMMARY}, {METRICS}, *.png)",
                  markup=False, highlight=False)
    _plain(f"report: {RunLayout(out_dir).report}")


@app.command()
@reports_errors
def graph(
    config: str = typer.Argument(..., help="a YAML file or a shipped config name"),
    method: Optional[str] = typer.Option(
        None, "--method", help="linear | brute-force | threshold | probe | tracin (default: the config's graph_learning.method, else probe)"
    ),
    out: Optional[Path] = typer.Option(None, "--out", help="output directory (default: runs/<name>/graph)"),
    jobs: Optional[int] = typer.Option(None, "--jobs", help="parallel training processes (default: min(2, cores))"),
    seed: Optional[int] = typer.Option(None, "--seed", help="seed of the learner's runs and data (default: the "
                                       "config's graph_learning.seed, else its first seed); another seed shows how "
                                       "stable the edges are"),
    seeds: Optional[str] = typer.Option(None, "--seeds", help="learn at several seeds, e.g. 0-2 or 0,1,2 (N: seeds "
                                        "0..N-1): per-edge mean and t-interval, stable edges marked; the policies' "
                                        "graph keeps the stable edges; costs N learnings"),
    overwrite: bool = typer.Option(False, "--overwrite", help="delete a graph of another set-up that --out holds "
                                   "(graph.json, plots, work/) and learn this one; without it that is refused"),
    imports: Optional[list[str]] = typer.Option(None, "--import", metavar="MODULE", help=IMPORT_HELP),
) -> None:
    """Learn the skills graph of a config's skills: graph.json, graph_heatmap.png, graph_drawing.png.

    Running it again with the same --out resumes an interrupted run without redoing finished runs; a folder
    holding a graph of another set-up (learner, parameters, seed, task, model) is refused unless --overwrite.
    """
    from skillit.experiment.config import load_config, resolve_config_path
    from skillit.experiment.graph_learning import (
        graph_difference,
        graph_seeds,
        learn_graph,
        learner_for,
        seeds_label,
        with_graph_seed,
        with_graph_seeds,
    )
    from skillit.experiment.run_dir import RunDirectory, claim_graph_folder
    from skillit.experiment.runner import parse_seeds
    from skillit.report.graph_plots import graph_lines, graph_table
    from skillit.report.html import write_graph_report

    _check_jobs(jobs)
    _refuse_torchrun("graph")
    if seed is not None and seeds is not None:
        raise ConfigError("give --seed N (one learner seed) or --seeds (several, e.g. 0-2), not both")
    path = resolve_config_path(config)
    added = _import_modules(imports, path)
    cfg = _with_imports(load_config(path), added)
    seed_list = parse_seeds(seeds) if seeds is not None else None
    if seed_list is not None:
        cfg = with_graph_seeds(cfg, seed_list)
    elif seed is not None:
        cfg = with_graph_seed(cfg, seed)
    learner = learner_for(cfg, method)  # validates --method before anything is written
    if out is not None:
        out_dir = RunDirectory.check_output_location(out)
    elif seed_list is not None and len(seed_list) > 1:  # one folder for every seed set: seed<S>/ is learned once
        out_dir = Path("runs") / cfg.name / "graph-seeds"
    elif seed_list is not None or seed is not None:  # not the run's graph folder: `graph: learn` uses the config's seed
        out_dir = Path("runs") / cfg.name / f"graph-seed{seed_list[0] if seed_list else seed}"
    else:  # the same place as a run's `graph: learn` (RunDirectory.graph_dir), so a later `skillit run` reuses it
        out_dir = RunDirectory(Path("runs") / cfg.name).graph_dir
    claim_graph_folder(out_dir, graph_difference(cfg, out_dir, method), overwrite=overwrite)
    learner_seeds = graph_seeds(cfg)
    at = f" at seeds {seeds_label(learner_seeds)}" if len(learner_seeds) > 1 else ""
    console.print(f"[bold]{cfg.name}[/]: learning the skills graph with [bold]{learner.name}[/]{at} → {out_dir}")
    with LiveView(console, [], cfg.training.steps) as view:
        learned = learn_graph(cfg, out_dir, method=method, jobs=jobs, progress=view.progress)
    report_path = write_graph_report(learned, out_dir, title=f"{cfg.name}: {learner.name}")
    console.print(graph_table(learned))
    for line in graph_lines(learned):
        console.print(line, highlight=False, markup=False)
    console.print(f"results in {out_dir}/ (graph.json, graph_heatmap.png, graph_drawing.png)")
    _plain(f"report: {report_path}")


@app.command()
@reports_errors
def bench(
    name: Optional[str] = typer.Argument(None, help="a benchmark config (without NAME: list them)"),
    seeds: Optional[str] = typer.Option(None, "--seeds", help=SEEDS_HELP),
    out: Optional[Path] = typer.Option(None, "--out", help="run directory (default: runs/bench/<name>)"),
    jobs: Optional[int] = typer.Option(None, "--jobs", help="parallel training processes (default: min(2, cores))"),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Run a shipped benchmark (configs tagged `benchmark`) and show the paper's figures beside the results.

    The same benchmark again into its folder continues it (finished runs kept)."""
    from skillit.experiment.config import benchmark_names, load_config, shipped_config_path

    if name is None:
        _list_configs(benchmark_names(), "benchmarks (skillit bench NAME)")
        return
    if name not in benchmark_names():
        raise ConfigError(f"unknown benchmark {name!r}; {did_you_mean(name, benchmark_names())}")
    from skillit.experiment.runner import apply_overrides

    _check_jobs(jobs)
    _refuse_torchrun("bench")
    path = shipped_config_path(name)
    cfg = apply_overrides(load_config(path), seeds=seeds)
    out_dir = out if out is not None else Path("runs") / "bench" / cfg.name
    again = f"skillit bench {name}" + (f" --seeds {shlex.quote(seeds)}" if seeds else "") + (
        f" --out {shlex.quote(str(out))}" if out is not None else "")
    summary = _execute(cfg, path.parent, out_dir, jobs, False, overwrite, again=again)
    _print_results(cfg, summary, out_dir)


def _list_configs(names: list[str], title: str) -> None:
    from skillit.experiment.config import config_needs, load_config, shipped_config_path

    table = Table(title=title)
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("task")
    table.add_column("setting")
    table.add_column("steps", justify="right")
    table.add_column("methods")
    table.add_column("description")
    table.add_column("data")
    for config_name in names:
        cfg = load_config(shipped_config_path(config_name), check_data=False)
        table.add_row(config_name, cfg.task.name, cfg.setting, str(cfg.training.steps), ", ".join(cfg.methods), cfg.description,
                      escape(config_needs(cfg)))
    console.print(table)


@app.command()
def configs() -> None:
    """List the shipped experiment configs."""
    from skillit.experiment.config import shipped_config_names

    _list_configs(shipped_config_names(), "shipped configs (skillit run NAME)")


@app.command()
def policies() -> None:
    """List the registered mixing policies and the wrappers that make variants of them."""
    from skillit.policy.registry import POLICIES, WRAPPERS, load_policy_entry_points, parameter_summary

    load_policy_entry_points()  # policies that installed packages declare (entry-point group skillit.policies)
    table = Table(title="mixing policies (methods.<name>.policy)")
    table.add_column("policy", style="bold")
    table.add_column("parameters (= default)")
    table.add_column("what it does")
    for name, cls in POLICIES.items():
        table.add_row(name, parameter_summary(cls.Params) or "-", cls.description)
    console.print(table)
    console.print("wrappers (methods.<name>.wrappers): " + ", ".join(WRAPPERS))


@app.command()
@reports_errors
def compare(
    run_dirs: list[Path] = typer.Argument(..., help="finished run directories; several of one benchmark (a method run later) are merged"),
    out: Optional[Path] = typer.Option(None, "--out", help="write leaderboard.md and leaderboard.png into this folder "
                                       "(without it the leaderboard is only printed)"),
    baseline: str = typer.Option("stratified", "--baseline", help="the method every other one is paired with"),
    confidence: float = typer.Option(0.95, "--confidence", help="level of the paired t-interval"),
    replace: bool = typer.Option(False, "--replace", help="a method in a later directory of the same benchmark "
                                 "replaces the earlier one's (a method re-run with new parameters)"),
    rank_decimals: int = typer.Option(3, "--rank-decimals", min=0,
                                      help="losses are ranked rounded to this many decimals (as the tables print them)"),
    oracle: Optional[str] = typer.Option(None, "--oracle", help="comma-separated methods of the hindsight oracle "
                                         "(e.g. target-only,static-s50): each method's share of its headroom"),
) -> None:
    """Leaderboard of methods × benchmarks: loss, accuracy, paired difference to the baseline, W/T/L, rank, cost."""
    from skillit.report.compare import compare_runs, to_markdown

    board = compare_runs(run_dirs, out, baseline=baseline, confidence=confidence, replace=replace,
                         rank_decimals=rank_decimals, oracle=_split(oracle))
    for line in to_markdown(board).splitlines():  # unwrapped, so the tables paste as Markdown
        _plain(line)
    if out is not None:
        _plain(f"written: {out / 'leaderboard.md'}, {out / 'leaderboard.png'}")
    else:
        _plain("(printed only: add --out DIR to write leaderboard.md and leaderboard.png)")


@app.command()
@reports_errors
def mixture(
    run_dir: Path = typer.Argument(..., help="a finished run directory (the --out of `skillit run`)"),
    methods: Optional[str] = typer.Option(None, "--methods", help="comma-separated methods (default: all of the run's)"),
    decimals: int = typer.Option(4, "--decimals", min=1, max=12, help="decimals of the printed weights"),
) -> None:
    """The mixture each method trained on (step-weighted, mean over seeds), as static methods to paste into a config."""
    from skillit.report.mixtures import run_mixtures

    mixtures = run_mixtures(run_dir, _split(methods))
    table = Table(title=f"{run_dir}: mean training mixture per method (step-weighted, mean over seeds)")
    for column, justify in (("method", "left"), ("largest shares", "left"), ("seeds", "right"), ("seed spread", "right")):
        table.add_column(column, justify=justify, overflow="fold")
    for found in mixtures.values():
        largest = sorted(((n, v) for n, v in found.mean.items() if round(v, decimals) > 0), key=lambda item: -item[1])[:4]
        table.add_row(escape(found.method), escape(", ".join(f"{name} {value:.{decimals}f}" for name, value in largest)),
                      str(len(found.per_seed)), f"{found.seed_spread:.{decimals}f}")
    console.print(table)
    _plain("# seed spread: the largest |one seed's weight - the mean| over skills. As static methods, under `methods:`:")
    for found in mixtures.values():
        entry = yaml.safe_dump(found.as_static(decimals), default_flow_style=True, sort_keys=False, width=10**6).strip()
        _plain(f"  {found.method}-average: {entry}")


@app.command()
@reports_errors
def search(
    config: str = typer.Argument(..., help="a YAML file or a shipped config name"),
    out: Optional[Path] = typer.Option(None, "--out", help="output folder (default: runs/search/<name>)"),
    trials: int = typer.Option(24, "--trials", help="static mixtures to train at the search seed (plus stratified)"),
    model: str = typer.Option("log", "--model", help=f"{' | '.join(MODELS)}: a ridge fit on log-shares (ours), on "
                              "shares (RegMix's linear model), or no fit: the lowest trial"),
    search_seed: int = typer.Option(SEARCH_SEED, "--search-seed", help="the one seed of the search runs (held out)"),
    seeds: Optional[str] = typer.Option(None, "--seeds", help="the test's seeds: " + SEEDS_HELP),
    steps: Optional[int] = typer.Option(None, "--steps", help="training steps of every run (smoke runs)"),
    ridge: float = typer.Option(1e-2, "--ridge", help="λ of the ridge fit"),
    top_k: int = typer.Option(128, "--top-k", help="the proposal averages the best k of 100,000 simulated mixtures"),
    concentration: str = typer.Option("0.3,10", "--concentration", help="C_MIN,C_MAX of the Dirichlet around "
                                      "the prior (log-uniform per mixture): a larger C_MIN keeps skills off ~0 %"),
    prior: str = typer.Option("stratified", "--prior", help=f"{' | '.join(PRIORS)}: the trials' centre: uniform, "
                              "the pools' example share, or their token share (RegMix's)"),
    jobs: Optional[int] = typer.Option(None, "--jobs", help="parallel training processes (default: min(2, cores))"),
    search_only: bool = typer.Option(False, "--search-only", help="stop after the proposal (no held-out test)"),
    test_out: Optional[Path] = typer.Option(None, "--test-out", help="the test's run directory (default: "
                                            "OUT/test-MODEL; another folder tests more --seeds later, for compare)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="delete the search's and the test's earlier runs in "
                                   "their folders (another set-up's) and start over"),
    imports: Optional[list[str]] = typer.Option(None, "--import", metavar="MODULE", help=IMPORT_HELP),
) -> None:
    """How good can a static mixture be? Train --trials mixtures at one held-out seed, fit their losses, propose
    a mixture and test it against stratified on the config's seeds (RegMix, Liu et al. 2025, §3).

    Writes OUT/search/ (the trial runs), OUT/search-MODEL.json (trials, fit, proposal), OUT/test-MODEL/ (the test).

    The test is a run directory for `skillit compare`, with the search's runs counted as extra steps.

    Running it again continues it (finished runs kept); a second --model reuses the search and costs only its
    test; another set-up into the same --out is refused unless --overwrite.
    """
    from skillit.experiment.config import load_config, resolve_config_path
    from skillit.experiment.mixture_search import choose, default_test_dir, held_out_phase, plan_search, search_phase
    from skillit.experiment.runner import default_jobs

    _check_jobs(jobs)
    _refuse_torchrun("search")
    path = resolve_config_path(config)
    added = _import_modules(imports, path)
    plan = plan_search(_with_imports(load_config(path), added), trials=trials, model=model, ridge=ridge, top_k=top_k,
                       search_seed=search_seed, seeds=seeds, steps=steps,
                       concentration=_concentration(concentration), prior=prior)  # every check before anything runs
    out_dir = out if out is not None else Path("runs") / "search" / plan.config.name
    n_jobs = jobs if jobs is not None else default_jobs()
    around = "" if plan.prior == "stratified" else f" (drawn around the {plan.prior} prior)"
    console.print(f"[bold]{escape(plan.config.name)}[/]: {len(plan.trials)} static mixtures{around} + stratified at "
                  f"seed {plan.search_seed}, {plan.search.training.steps} steps each, {n_jobs} parallel job(s) → "
                  f"{escape(str(out_dir))}")
    again = _command_line("skillit search")
    with _interrupted(out_dir / "search", again), LiveView(console, _run_ids(plan.search),
                                                           plan.search.training.steps) as view:
        summary = search_phase(plan, out_dir, config_dir=path.parent, jobs=n_jobs, progress=view.progress, notify=_plain,
                               on_event=view.event, overwrite=overwrite)
    outcome = choose(plan, out_dir, summary)
    _print_search(plan, outcome)
    _plain(f"written: {out_dir / f'search-{plan.model}.json'}")
    if search_only:
        return
    console.print(f"[bold]test[/]: {plan.method} against stratified on seeds {plan.config.seeds}, which the search "
                  "never saw")
    test_ids = [run_id(method, seed) for method in ("stratified", plan.method) for seed in plan.config.seeds]
    test_dir = test_out if test_out is not None else default_test_dir(plan, out_dir)
    with _interrupted(test_dir, again), LiveView(console, test_ids, plan.config.training.steps) as view:
        outcome = held_out_phase(plan, out_dir, outcome, config_dir=path.parent, jobs=n_jobs, progress=view.progress,
                                 notify=_plain, test_out=test_out, on_event=view.event, overwrite=overwrite)
    _print_results(outcome.test_config, outcome.test_summary, test_dir)
    _plain(f"paired table with its cost: skillit compare {test_dir} --out {out_dir / f'board-{plan.model}'}")


def _command_line(fallback: str) -> str:
    """The command as typed (``skillit ...``), for the line that says how to continue; ``fallback`` (e.g. "skillit
    search", then "with the same arguments") when skillit was not started as a command (tests, the Python API)."""
    if Path(sys.argv[0]).name in ("skillit", "__main__.py"):  # without --overwrite: that would delete what was kept
        return shlex.join(["skillit", *(arg for arg in sys.argv[1:] if arg != "--overwrite")])
    return f"{fallback} with the same arguments"


def _run_ids(cfg) -> list[str]:
    return [run_id(method, seed) for method in cfg.methods for seed in cfg.seeds]


def _concentration(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        low, high = (float(part) for part in parts)
    except ValueError:
        raise ConfigError(f"--concentration takes C_MIN,C_MAX (two numbers), got {text!r}") from None
    return low, high


def _print_search(plan, outcome) -> None:
    """The search's losses, the fit's quality, the proposal beside stratified, and a YAML method to paste."""
    record = outcome.record
    losses = [trial["loss"] for trial in record["trials"]]
    _plain(f"search: {len(losses)} runs, final objective loss {min(losses):.4f}–{max(losses):.4f} "
           f"(stratified {losses[0]:.4f}, best {record['best_trial']['method']} {record['best_trial']['loss']:.4f})")
    if outcome.fit is not None:
        fit = outcome.fit
        _plain(f"{plan.model} fit: leave-one-out rmse {fit.loo_rmse:.4f} against {fit.baseline_rmse:.4f} for the mean "
               f"of the others; the proposal's predicted loss {record['predicted_loss']:.4f}")
        if fit.loo_rmse >= fit.baseline_rmse:
            _plain(f"warning: the {plan.model} fit predicts held-out trials no better than their mean; its proposal is "
                   "an extrapolation, not a finding")
    table = Table(title=f"proposal ({plan.method})")
    table.add_column("skill", style="bold")
    table.add_column("stratified", justify="right")
    with_prior = plan.prior != "stratified"
    if with_prior:
        table.add_column(f"{plan.prior} prior", justify="right")
    table.add_column("proposal", justify="right")
    for skill, mixture, centre in zip(plan.skills, record["trials"][0]["mixture"], plan.prior_mixture):
        prior_cell = [f"{centre:.3f}"] if with_prior else []
        table.add_row(escape(skill), f"{mixture:.3f}", *prior_cell, f"{outcome.proposal[skill]:.3f}")
    console.print(table)
    weights = ", ".join(f"{json_module.dumps(skill)}: {share}" for skill, share in outcome.proposal.items())
    _plain(f"as a method of a config:  {plan.method}: {{policy: static, params: {{weights: {{{weights}}}}}}}")


data_app = typer.Typer(no_args_is_help=True, help="Your own data as skills: inspect a JSONL/Parquet source; "
                       "fetch a data set that is not shipped.")
app.add_typer(data_app, name="data")


@data_app.command("inspect")
@reports_errors
def data_inspect(
    source: Optional[Path] = typer.Argument(None, help="training data: a .jsonl (.gz, .xz) or .parquet file, or "
                                            "skillit-data:NAME/FILE (or --config)"),
    config: Optional[str] = typer.Option(None, "--config", help="read the data as a config of task `data` does (its "
                                         "files, fields and holdout) and count with its model.tokenizer"),
    skill_column: str = _spec_option("skill_column"),
    validation: Optional[Path] = _spec_option("validation"),
    holdout: Optional[float] = _spec_option("holdout", help="fraction held out per skill (seeded rule)"),
    holdout_seed: int = _spec_option("holdout_seed"),
    prompt_field: str = _spec_option("prompt_field", help="prompt column ('' for none)"),
    answer_field: str = _spec_option("answer_field"),
    text_field: Optional[str] = _spec_option("text_field"),
    separator: str = _spec_option("separator"),
    tokenizer: Optional[str] = typer.Option(None, "--tokenizer", help="count tokens as words and punctuation (word) or "
                                            "characters (char); default: word, or the --config's task.params.length_unit, else "
                                            "its model.tokenizer"),
    skills: Optional[str] = typer.Option(None, "--skills", help="comma-separated: report only these skills"),
    max_length: Optional[int] = _spec_option("max_length", help="count the examples longer than this many tokens"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    strict: bool = typer.Option(False, "--strict", help="exit with code 1 when a problem is flagged"),
) -> None:
    """Print a source's skills, example counts and token lengths, and flag problems.

    Flags skills without validation data, empty examples, duplicated examples and validation examples that
    also occur in training. A corrupt line or a missing column is an error naming the file and line (exit 2).
    """
    from skillit.skills.io import inspect_spec
    from skillit.tasks.corpora import resolve_uri

    if tokenizer not in (None, "word", "char"):
        raise DataError(f"--tokenizer must be word or char, got {tokenizer!r}")
    if config is not None:
        spec, unit = _inspect_spec_of_config(config, source, tokenizer, max_length, _split(skills))
    else:
        if source is None:
            raise DataError("data inspect needs the training data: give SOURCE (a data file) or --config CONFIG")
        source, validation = (Path(resolve_uri(str(p)) or p) if p is not None else None for p in (source, validation))
        spec = _data_spec_of_flags(dict(
            train=str(source), validation=str(validation) if validation is not None else None, skill_column=skill_column,
            prompt_field=prompt_field or None, answer_field=answer_field, text_field=text_field,
            separator=separator.replace("\\n", "\n").replace("\\t", "\t"), holdout=holdout,
            holdout_seed=holdout_seed, skills=_split(skills), max_length=max_length))
        unit = tokenizer or "word"
    report = inspect_spec(spec, tokenizer=unit)
    if as_json:
        print(json_module.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_data_report(report)
    if strict and report.problems():
        raise typer.Exit(1)


def _data_spec_of_flags(options: dict) -> DataSpec:
    """The :class:`DataSpec` of ``data inspect``'s flags; a bad value is a DataError naming the flag."""
    try:
        return DataSpec(**options)
    except ValidationError as exc:
        parts = []
        for error in exc.errors():
            flag = ", ".join("--" + str(key).replace("_", "-") for key in error["loc"])
            parts.append(f"{flag}: {pydantic_message(error)}" if flag else pydantic_message(error))
        raise DataError("data inspect: " + "; ".join(parts)) from None


def _inspect_spec_of_config(spec: str, source: Path | None, tokenizer: str | None, max_length: int | None,
                            skills: list[str] | None) -> tuple[DataSpec, str]:
    """The data task's :class:`DataSpec` of a config (its files resolved as ``skillit run`` does) and the tokens to
    count: ``--tokenizer``, else the task's ``length_unit``, else the config's model's tokenizer. ``--skills`` and
    ``--max-length`` override the task's ``skills`` and ``max_length``."""
    from skillit.experiment.config import load_config
    from skillit.tasks import parse_task_params

    if source is not None:
        raise DataError(f"give SOURCE or --config, not both: --config {spec} names its own data files")
    cfg = load_config(spec)
    if cfg.task.name != "data":
        raise DataError(f"--config {spec}: its task is {cfg.task.name!r}, which skillit generates; data inspect "
                        "reads data files: give a config with task: {name: data, params: {train: ...}}")
    params: DataSpec = parse_task_params(cfg.task.name, cfg.task.params)  # type: ignore[assignment]  # DataParams
    overrides = {key: value for key, value in (("skills", skills), ("max_length", max_length)) if value is not None}
    unit = tokenizer or params.length_unit or cfg.model.length_unit
    return params.model_copy(update=overrides), unit


@data_app.command("fetch")
@reports_errors
def data_fetch(
    name: str = typer.Argument(..., help="the data set: math_skills (real_text and natural_instructions are shipped)"),
    python: Optional[str] = typer.Option(None, "--python", help="an interpreter that has the generator's requirements "
                                         "(default: a virtual environment made for it under the data folder)"),
) -> None:
    """Generate a data set the shipped configs name as skillit-data:NAME/... into $SKILLIT_DATA (~/.cache/skillit/data)."""
    from skillit.tasks.corpora import fetch as fetch_data

    fetch_data(name, python=python, progress=_plain)


def _print_data_report(report) -> None:
    """The skills table (problems in a few words, so that it stays readable with many skills), then each
    problem on its own line with its file:line locations."""

    console.print(f"train: {report.source}", highlight=False, markup=False, soft_wrap=True)
    split = f"validation: {report.validation_source}" if report.validation_source else (
        f"validation: holdout {report.holdout} of each skill" if report.holdout else "validation: none (no file or holdout)")
    console.print(split, highlight=False, markup=False, soft_wrap=True)
    table = Table()
    table.add_column("skill", style="bold", overflow="fold")
    table.add_column("train", justify="right", no_wrap=True)
    table.add_column("val", justify="right", no_wrap=True)
    table.add_column(f"{report.tokenizer} tokens min/mean/max", justify="right", no_wrap=True)
    if report.max_length is not None:
        table.add_column(f"> {report.max_length}", justify="right", no_wrap=True)
    table.add_column("problems")
    for skill in report.skills:
        problems = skill.short_problems()
        row = [skill.name, str(skill.train), str(skill.validation),
               f"{skill.tokens_min or 0} / {skill.tokens_mean:.1f} / {skill.tokens_max}"]
        if report.max_length is not None:
            row.append(str(skill.too_long))
        row.append("[red]" + ", ".join(problems) + "[/]" if problems else "[green]ok[/]")
        table.add_row(*row)
    console.print(table)
    total = sum(s.train + s.validation for s in report.skills)
    console.print(
        f"{len(report.skills)} skill(s), {total} example(s); the longest has {report.longest} {report.tokenizer} "
        f"tokens (a model needs block_size >= {report.longest + 1} for it)", highlight=False,
    )
    if report.max_length is not None:
        over = sum(s.too_long for s in report.skills)
        console.print(f"{over} example(s) longer than {report.max_length} {report.tokenizer} tokens (task.params."
                      f"max_length: {report.max_length} drops them, or truncates them with too_long: truncate)",
                      highlight=False, soft_wrap=True)
    problems = report.problems()
    if problems:
        console.print(f"[bold red]{len(problems)} problem(s):[/]")
        for line in problems:
            console.print(f"  - {line}", highlight=False, markup=False, soft_wrap=True)
    else:
        console.print("[green]no problems found[/]")


register_llm_commands(app)  # skillmix, synth, stat, graft (skillit.llm.cli)
register_discover_commands(app)  # discover, regroup, profile (skillit.discover.cli)


@app.command()
@reports_errors
def report(
    run_dirs: list[Path] = typer.Argument(..., help="one or more run directories (the --out of `skillit run`)"),
    out: Optional[Path] = typer.Option(None, "--out", help=f"the HTML file (default: FIRST_RUN_DIR/{REPORT})"),
    tensorboard: bool = typer.Option(False, "--tensorboard", hidden=True,
                                     help="deprecated: use `skillit tensorboard RUN_DIR ...`"),
) -> None:
    """Write one self-contained report.html for run directories (several: a comparison)."""
    from skillit.report.html import write_report

    path = write_report(run_dirs, out)
    if tensorboard:  # the second way to the same events; `skillit tensorboard` is the one
        err_console.print("warning: `skillit report --tensorboard` is deprecated and will be removed in the next "
                          f"release; run: skillit tensorboard {' '.join(shlex.quote(str(d)) for d in run_dirs)}",
                          highlight=False, markup=False, soft_wrap=True)
        _write_tensorboard(run_dirs, None)
    _plain(f"report: {path}")


@app.command("tensorboard")
@reports_errors
def tensorboard_events(
    run_dirs: list[Path] = typer.Argument(..., help="one or more finished run directories"),
    logdir: Optional[Path] = typer.Option(None, "--logdir", help="where the events go (default: RUN_DIR/tensorboard; "
                                          "several RUN_DIRs: DIR/<run directory's name>)"),
) -> None:
    """Write TensorBoard scalars (per-skill loss, accuracy, weights, examples seen) from runs' metrics.jsonl."""
    _write_tensorboard(run_dirs, logdir)


def _write_tensorboard(run_dirs: list[Path], logdir: Path | None) -> None:
    """Events of each run directory: into RUN_DIR/tensorboard, or ``logdir`` (several: ``logdir/<its name>``)."""
    from skillit.report.loggers import write_tensorboard

    names = [run_dir.resolve().name for run_dir in run_dirs]
    if logdir is not None and len(run_dirs) > 1 and len(set(names)) < len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise SkillitError(f"--logdir with several run directories writes each into DIR/<its name>, and {twice} "
                           "name more than one; give them one at a time with their own --logdir")
    for run_dir, name in zip(run_dirs, names):
        target = logdir if logdir is None or len(run_dirs) == 1 else logdir / name
        written = write_tensorboard(run_dir, target)
        shown = target if target is not None else RunLayout(run_dir).tensorboard_dir
        _plain(f"{run_dir}: {len(written)} run(s) written; view with: tensorboard --logdir {shown}")


def _plain(line: str) -> None:
    console.print(line, highlight=False, markup=False, soft_wrap=True)


def main() -> None:
    try:
        app()
    except SkillitError as exc:  # errors raised outside a command's own handler
        print_error(exc)
        sys.exit(2)


if __name__ == "__main__":
    main()
