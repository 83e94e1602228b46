"""The ``skillit discover``, ``skillit regroup`` and ``skillit profile`` commands (registered in skillit.cli).

    skillit discover DATA --k N [--out DIR]      skills from loss trajectories (+ embedding baselines)
    skillit regroup DATA [--k N] [--out DIR]     TF-IDF k-means regrouping with a silhouette sweep
    skillit profile SOURCE [--out DIR]           missing-skill profile: SOURCE is a results .jsonl, or a
                                                 config (trained once, then its failures profiled)

Every input is checked before anything is trained or written; a :class:`~skillit.errors.SkillitError` is
one message and exit code 2, with no output left behind.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

# each command imports what it uses when it runs (data readers, the config schema; the trajectories and
# metrics: torch, scipy), so that `skillit --help` answers at once (tests/test_startup.py)
from skillit.errors import DataError, SkillitError
from skillit.report.console import reports_errors
from skillit.utils.io import atomic_write_json, atomic_write_text

RESULT_SUFFIXES = (".jsonl", ".json", ".ndjson", ".jsonl.gz")


console = Console(width=None if sys.stdout.isatty() else 120)


def _console() -> Console:
    return console


def _need_sklearn() -> None:
    """scikit-learn is an optional dependency (the ``discover`` extra): say how to install it."""
    try:
        import sklearn  # noqa: F401  (an optional extra)
    except ImportError:
        raise SkillitError("this command needs scikit-learn: pip install scikit-learn (or the discover extra: "
                           "pip install -e '.[discover]' in a skillit clone)") from None


def _out_dir(out: Optional[Path], data: Path, command: str) -> Path:
    folder = out if out is not None else Path("runs") / command / data.name.split(".")[0]
    if folder.exists() and not folder.is_dir():
        raise DataError(f"--out {str(folder)!r} is a file; give a directory")
    return folder


@reports_errors
def discover_command(
    data: Path = typer.Argument(..., help="a .jsonl or .parquet file of examples (prompt/answer or text)"),
    k: int = typer.Option(..., "--k", help="number of skills to find"),
    out: Optional[Path] = typer.Option(None, "--out", help="output directory (default runs/discover/<data>)"),
    runs: int = typer.Option(5, "--runs", help="random-mixture runs (each a held-out pair, 2 trainings)"),
    steps: int = typer.Option(300, "--steps", help="training steps per run"),
    checkpoint_every: int = typer.Option(25, "--checkpoint-every", help="score every example this often"),
    mix: str = typer.Option("tfidf", "--mix", help="groups the run mixtures are drawn over: tfidf | uniform | skills"),
    features: str = typer.Option("trajectory,tfidf,hidden-last", "--features",
                                 help="comma-separated: trajectory, tfidf, hidden-last, hidden-mean"),
    label_column: str = typer.Option("skill", "--label-column", help="known skills, if any: scored against ('' none)"),
    column: str = typer.Option("skill", "--column", help="the column the output data gets"),
    prompt_field: str = typer.Option("prompt", "--prompt-field", help="prompt column ('' for none)"),
    answer_field: str = typer.Option("answer", "--answer-field"),
    text_field: Optional[str] = typer.Option(None, "--text-field", help="plain-text column (replaces prompt/answer)"),
    analyzer: str = typer.Option("char", "--analyzer", help="TF-IDF over char n-grams or words"),
    tokenizer: str = typer.Option("char", "--tokenizer", help="char or word tokens for the probe model"),
    max_rows: Optional[int] = typer.Option(None, "--max-rows", help="read at most this many rows"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Find k skills in DATA by clustering loss trajectories; write DATA with a skill column and a report.

    Writes OUT/data.jsonl (every row plus COLUMN = the trajectory cluster, or the first feature set's) and
    OUT/report.json (cluster sizes and members, ARI/accuracy against --label-column when every row has it,
    and the cost in training steps).
    """
    from skillit.discover.data import read_table, write_with_column
    from skillit.discover.discovery import FEATURE_SETS, discover
    from skillit.discover.trajectories import TrajectoryConfig

    console = _console()
    _need_sklearn()
    chosen = [f.strip() for f in features.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FEATURE_SETS]
    if not chosen or unknown:
        raise DataError(f"--features: unknown {unknown or '(none given)'}; choose from {', '.join(FEATURE_SETS)}")
    if mix not in ("tfidf", "uniform", "skills"):
        raise DataError(f"--mix must be tfidf, uniform or skills, got {mix!r}")
    for name, value in (("--analyzer", analyzer), ("--tokenizer", tokenizer)):
        if value not in ("char", "word"):
            raise DataError(f"{name} must be char or word, got {value!r}")
    if not column:
        raise DataError("--column must name a column")
    config = TrajectoryConfig(runs=runs, steps=steps, checkpoint_every=checkpoint_every, seed=seed,
                              tokenizer=tokenizer)  # type: ignore[arg-type]
    folder = _out_dir(out, data, "discover")
    table = read_table(data, prompt_field=prompt_field or None, answer_field=answer_field,
                       text_field=text_field, label_column=label_column or None, max_rows=max_rows)
    if not 2 <= k <= len(table.examples):
        raise DataError(f"--k must be between 2 and the number of examples ({len(table.examples)}), got {k}")
    if mix == "skills" and table.labels is None:
        raise DataError(f"--mix skills needs the column {label_column!r} on every row of {table.source}")
    console.print(f"[bold]discover[/]: {len(table.examples)} examples of {table.source}, k = {k}; "
                  f"{2 * runs} probe trainings of {steps} steps → {folder}", highlight=False)
    result = discover(table.examples, k, config=config, mix=mix, feature_sets=chosen,  # type: ignore[arg-type]
                      analyzer=analyzer, truth=table.labels)  # type: ignore[arg-type]
    main = "trajectory" if "trajectory" in result.labels else chosen[0]
    report = {"source": table.source, "labels_from": main, "column": column, **result.to_dict(table.examples)}
    write_with_column(folder / "data.jsonl", table.rows, column, [f"skill{int(c)}" for c in result.labels[main]])
    atomic_write_json(folder / "report.json", report)
    _print_clusters(result.cluster_report(table.examples, main), f"{main} clusters")
    for name, score in result.scores.items():
        console.print(f"{name:12s} ARI {score['ari']:.3f}  accuracy {100 * score['accuracy']:.1f}%", highlight=False)
    console.print(f"cost: {result.cost['train_steps']} training steps, {result.cost['eval_examples']} evaluated "
                  f"examples; results in {folder}/ (data.jsonl, report.json)", highlight=False)


def _print_clusters(report: list[dict], title: str) -> None:

    table = Table(title=title)
    table.add_column("cluster", style="bold")
    table.add_column("size", justify="right")
    table.add_column("example members")
    for row in report:
        table.add_row(f"skill{row['cluster']}", str(row["size"]), " | ".join(e[:40] for e in row["examples"]))
    _console().print(table)


@reports_errors
def regroup_command(
    data: Path = typer.Argument(..., help="a .jsonl or .parquet file of examples"),
    k: Optional[int] = typer.Option(None, "--k", help="number of groups (default: silhouette sweep)"),
    k_min: int = typer.Option(2, "--k-min", help="smallest k of the sweep"),
    k_max: int = typer.Option(10, "--k-max", help="largest k of the sweep"),
    svd: Optional[int] = typer.Option(None, "--svd", help="reduce TF-IDF to this many LSA dimensions"),
    analyzer: str = typer.Option("word", "--analyzer", help="TF-IDF over words or char n-grams"),
    out: Optional[Path] = typer.Option(None, "--out", help="output directory (default runs/regroup/<data>)"),
    column: str = typer.Option("skill", "--column", help="the column the output data gets"),
    label_column: str = typer.Option("skill", "--label-column", help="known groups, if any: scored against ('' none)"),
    prompt_field: str = typer.Option("prompt", "--prompt-field", help="prompt column ('' for none)"),
    answer_field: str = typer.Option("answer", "--answer-field"),
    text_field: Optional[str] = typer.Option(None, "--text-field", help="plain-text column (replaces prompt/answer)"),
    max_rows: Optional[int] = typer.Option(None, "--max-rows", help="read at most this many rows"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Cluster DATA's texts into k groups (TF-IDF + k-means) and write DATA with a new skill column.

    Writes OUT/data.jsonl and OUT/regroup.json (silhouette per k, group sizes, and the ARI/accuracy against
    --label-column when every row has one).
    """
    from skillit.discover.data import read_table, write_with_column
    from skillit.discover.metrics import recovery
    from skillit.discover.regroup import regroup

    console = _console()
    _need_sklearn()
    if analyzer not in ("char", "word"):
        raise DataError(f"--analyzer must be char or word, got {analyzer!r}")
    if k is None and not 2 <= k_min <= k_max:
        raise DataError(f"the sweep needs 2 <= --k-min <= --k-max, got {k_min}..{k_max}")
    if k is not None and k < 2:
        raise DataError(f"--k must be at least 2, got {k}")
    if not column:
        raise DataError("--column must name a column")
    folder = _out_dir(out, data, "regroup")
    table = read_table(data, prompt_field=prompt_field or None, answer_field=answer_field,
                       text_field=text_field, label_column=label_column or None, max_rows=max_rows)
    if k is not None and k > len(table.examples):
        raise DataError(f"--k {k} is more than the {len(table.examples)} examples")
    result = regroup([e.text for e in table.examples], k=k, ks=range(k_min, k_max + 1), analyzer=analyzer,  # type: ignore[arg-type]
                     svd=svd, seed=seed)
    report = {"source": table.source, "column": column, **result.to_dict()}
    if table.labels is not None:
        report["scores"] = recovery(result.labels.tolist(), table.labels)
    write_with_column(folder / "data.jsonl", table.rows, column, result.names())
    atomic_write_json(folder / "regroup.json", report)
    for kk, score in sorted(result.sweep.silhouettes.items()):
        mark = "  ← chosen" if kk == result.k else ""
        console.print(f"k = {kk:3d}  silhouette {score:.3f}{mark}", highlight=False)
    console.print(f"group sizes: {report['sizes']}", highlight=False)
    if "scores" in report:
        console.print(f"against {label_column!r}: ARI {report['scores']['ari']:.3f}, accuracy "
                      f"{100 * report['scores']['accuracy']:.1f}%", highlight=False)
    console.print(f"results in {folder}/ (data.jsonl, regroup.json)")


@reports_errors
def profile_command(
    source: str = typer.Argument(..., help="per-example results (.jsonl: skill, correct and/or loss, optional "
                                            "needs) or a config to train once and profile"),
    prerequisites: Optional[Path] = typer.Option(None, "--prerequisites",
                                                 help="JSON {skill: [skills it needs]} (a config: its task's graph)"),
    signal: str = typer.Option("accuracy", "--signal", help="failures by exact match (accuracy) or answer loss"),
    coverage: float = typer.Option(0.8, "--coverage", help="the target set holds this share of the profile"),
    floor: float = typer.Option(0.0, "--floor", help="least weight of every skill in the mixture prior"),
    method: Optional[str] = typer.Option(None, "--method", help="config: the method to train (default: first)"),
    seed: Optional[int] = typer.Option(None, "--seed", help="config: the seed (default: first)"),
    steps: Optional[int] = typer.Option(None, "--steps", help="config: training steps"),
    out: Optional[Path] = typer.Option(None, "--out", help="output directory (default runs/profile/<source>)"),
) -> None:
    """Missing-skill profile (after STAT): which skills fail most, weighted by how often they are needed.

    Writes OUT/profile.json (per skill: failure rate, need, blame count and share; the ranking, the
    mixture prior p ∝ count and the target set) and, for a config, OUT/outcomes.jsonl.
    """
    from skillit.discover.profile import missing_skill_profile

    console = _console()
    if signal not in ("accuracy", "loss"):
        raise DataError(f"--signal must be accuracy or loss, got {signal!r}")
    if not 0 < coverage <= 1:
        raise DataError(f"--coverage must be in (0, 1], got {coverage}")
    name = Path(source).name.split(".")[0]
    folder = out if out is not None else Path("runs") / "profile" / name
    if folder.exists() and not folder.is_dir():
        raise DataError(f"--out {str(folder)!r} is a file; give a directory")
    given = _read_prerequisites(prerequisites) if prerequisites is not None else None
    outcomes_text = None
    train_skills = None
    if source.endswith(RESULT_SUFFIXES):
        if any(v is not None for v in (method, seed, steps)):
            raise DataError("--method, --seed and --steps apply to a config SOURCE, not a results file")
        outcomes, needs = _read_outcomes(Path(source), signal)
        profile = missing_skill_profile(outcomes, {**needs, **(given or {})}, signal=signal)  # type: ignore[arg-type]
        header = f"{len(outcomes)} results from {source}"
    else:
        from skillit.discover.trained_profile import profile_after_training
        from skillit.experiment.config import load_config, resolve_config_path

        path = resolve_config_path(source)
        cfg = load_config(path)
        trained = profile_after_training(cfg, path.parent, method=method, seed=seed, steps=steps,
                                         signal=signal)  # type: ignore[arg-type]
        profile = trained.profile
        if given is not None:
            profile = missing_skill_profile(trained.outcomes, given, signal=signal)  # type: ignore[arg-type]
        train_skills = trained.train_skills
        outcomes_text = "".join(json.dumps({"skill": o.skill, "correct": o.correct, "loss": o.loss}) + "\n"
                                for o in trained.outcomes)
        header = (f"{cfg.name}: {trained.method}, seed {trained.seed}, {trained.steps} steps on "
                  f"{', '.join(trained.train_skills)}")
    report = profile.to_dict(coverage=coverage, floor=floor)
    if train_skills is not None:
        report["train_skills"] = train_skills
    report["mixture"] = profile.mixture(floor=floor)
    atomic_write_json(folder / "profile.json", report)
    if outcomes_text is not None:
        atomic_write_text(folder / "outcomes.jsonl", outcomes_text)
    _print_profile(profile, header, report)
    console.print(f"results in {folder}/ (profile.json{', outcomes.jsonl' if outcomes_text else ''})")


def _print_profile(profile, header: str, report: dict) -> None:

    table = Table(title=f"missing-skill profile — {header}")
    for name, justify in (("skill", "left"), ("failure rate", "right"), ("need", "right"), ("blame", "right"),
                          ("share", "right"), ("mixture", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for skill in profile.ranking():
        table.add_row(skill, f"{profile.failure_rate[skill]:.3f}", f"{profile.need[skill]:.3f}",
                      f"{profile.count[skill]:.1f}", f"{100 * profile.share[skill]:.1f}%",
                      f"{report['mixture'][skill]:.3f}")
    console = _console()
    console.print(table)
    console.print(f"most missing: {profile.ranking()[0]}; target set ({100 * report['coverage']:.0f}% of the "
                  f"profile): {', '.join(report['targets']) or '(none: no failures)'}", highlight=False)


def _read_prerequisites(path: Path) -> dict[str, list[str]]:
    if not path.is_file():
        raise DataError(f"--prerequisites {str(path)!r} does not exist")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in data.values()
    ):
        raise DataError(f"{path}: prerequisites must be a JSON object {{skill: [skill, ...]}}")
    return {str(k): list(v) for k, v in data.items()}


def _read_outcomes(path: Path, signal: str):
    from skillit.discover.profile import Outcome
    from skillit.skills.io.records import open_rows

    outcomes, needs = [], {}
    for where, row in open_rows(path):
        if not isinstance(row, dict) or not isinstance(row.get("skill"), str) or not row["skill"]:
            raise DataError(f"{where}: each result needs a non-empty string 'skill'")
        correct = row.get("correct")
        loss = row.get("loss")
        if signal == "accuracy" and not isinstance(correct, (bool, int)):
            raise DataError(f"{where}: 'correct' must be true/false (or 0/1) for --signal accuracy, got {correct!r}")
        if signal == "loss" and (isinstance(loss, bool) or not isinstance(loss, (int, float))):
            raise DataError(f"{where}: 'loss' must be a number for --signal loss, got {loss!r}")
        row_needs = row.get("needs")
        if row_needs is not None:
            if not isinstance(row_needs, list) or not all(isinstance(x, str) for x in row_needs):
                raise DataError(f"{where}: 'needs' must be a list of skill names")
            needs.setdefault(row["skill"], list(row_needs))
        outcomes.append(Outcome(row["skill"], bool(correct), None if loss is None else float(loss)))
    if not outcomes:
        raise DataError(f"{path}: no results")
    return outcomes, needs


def register(app: typer.Typer) -> None:
    """Add the three commands to the ``skillit`` app."""
    app.command("discover")(discover_command)
    app.command("regroup")(regroup_command)
    app.command("profile")(profile_command)
