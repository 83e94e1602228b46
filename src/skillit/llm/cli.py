"""Commands of the LLM-side methods, registered on the main ``skillit`` app (docs/llm-skills.md).

    skillit skillmix generate --skills F --topics F --k K --n N --out gen.jsonl      Skill-Mix texts (student)
    skillit skillmix grade GEN.jsonl --skills F --out graded.jsonl                    rubric points (grader)
    skillit skillmix metrics GRADED.jsonl                                             the paper's three ratios
    skillit synth --skills F --query-types F --k 2 --n N --out data.jsonl            Instruct-SkillMix data
    skillit stat profile FAILURES.jsonl --skills F --out diag.jsonl --profile p.json  missing-skill profile
    skillit stat select --profile p.json --data train.jsonl --budget N --out sel.jsonl  STAT-Sel
    skillit graft run BASE FINETUNED --data skill.jsonl --out DIR                     graft masks + curve
    skillit graft overlap A.pt B.pt ... --out graph.json                              mask overlap graph

The model options (``--backend``, ``--base-url``, ``--model``, ``--cache-dir``, ``--concurrency``,
``--timeout``, ``--retries``) are the same everywhere; the URL, model and key may come from
``SKILLIT_LLM_BASE_URL``, ``SKILLIT_LLM_MODEL`` and ``SKILLIT_LLM_API_KEY``. Every JSONL output is resumed
when it exists (finished records are skipped, their calls come from the cache); a failure prints one
message and exits with code 2, keeping the whole records written before it and nothing half-written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

# the commands import the backends, Skill-Mix, STAT and grafting (torch) when they run, so that `skillit --help`
# answers at once (tests/test_startup.py)
from skillit.errors import DataError, SkillitError
from skillit.llm.jsonl import JsonlAppender, read_jsonl
from skillit.report.console import reports_errors
from skillit.utils.io import atomic_write_json, atomic_write_text

skillmix_app = typer.Typer(no_args_is_help=True, help="Skill-Mix: generate k-skill texts, grade them, report the metrics.")
stat_app = typer.Typer(no_args_is_help=True, help="STAT: missing-skill profile from failures, and STAT-Sel selection.")
graft_app = typer.Typer(no_args_is_help=True, help="Skill localization by grafting: sparse masks, curve, overlap graph.")

BACKEND = typer.Option("openai", "--backend", help="openai | hf | python:package.module:function")
BASE_URL = typer.Option(None, "--base-url", help="server root with /v1 (default $SKILLIT_LLM_BASE_URL)")
MODEL = typer.Option(None, "--model", help="model name on the server, or a path for --backend hf (default $SKILLIT_LLM_MODEL)")
CACHE_DIR = typer.Option(None, "--cache-dir", help="request cache (default $SKILLIT_LLM_CACHE or ~/.cache/skillit/llm)")
NO_CACHE = typer.Option(False, "--no-cache", help="do not read or write the request cache")
CONCURRENCY = typer.Option(4, "--concurrency", help="requests in flight at once")
TIMEOUT = typer.Option(120.0, "--timeout", help="seconds to wait for one reply")
RETRIES = typer.Option(5, "--retries", help="retries of a failed request (exponential back-off from 1 s)")


console = Console(width=None if sys.stdout.isatty() else 120)


def _console() -> Console:
    return console


def _backend(kind: str, base_url: str | None, model: str | None, cache_dir: Path | None, no_cache: bool,
             concurrency: int, timeout: float, retries: int):
    from skillit.llm.backends import build_backend

    return build_backend(kind, base_url=base_url, model=model, cache_dir=False if no_cache else cache_dir,
                         concurrency=concurrency, timeout=timeout, max_retries=retries)


def _run_items(backend, function, items: list[dict[str, Any]], out: Path, what: str) -> int:
    """Run ``function`` over the items not yet in ``out`` and append each result whole; returns how many ran."""

    writer = JsonlAppender(out)
    done = writer.done_ids
    todo = [item for item in items if str(item["id"]) not in done]
    if done:
        _console().print(f"resuming {out}: {len(items) - len(todo)} of {len(items)} {what} already done", highlight=False)
    with Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=_console()) as bar:
        task = bar.add_task(what, total=len(todo))
        for record in backend.map(function, todo):
            writer.append(record)
            bar.advance(task)
    return len(todo)


# ---- Skill-Mix -----------------------------------------------------------------------------------


@skillmix_app.command("generate")
@reports_errors
def skillmix_generate(
    skills: Path = typer.Option(..., "--skills", help="skills file: .jsonl (skill, definition, example), .csv or .txt"),
    topics: Path = typer.Option(..., "--topics", help="topics: a JSON list or one per line"),
    out: Path = typer.Option(..., "--out", help="output JSONL (resumed if it exists)"),
    k: int = typer.Option(2, "--k", help="skills per combination"),
    n: int = typer.Option(10, "--n", help="combinations"),
    seed: int = typer.Option(0, "--seed"),
    rounds: int = typer.Option(1, "--rounds", help="generations per combination (the paper reports the best of 3)"),
    revise: bool = typer.Option(True, "--revise/--no-revise", help="the second, self-check turn"),
    temperature: float = typer.Option(0.7, "--temperature"),
    max_tokens: int = typer.Option(512, "--max-tokens"),
    backend: str = BACKEND, base_url: Optional[str] = BASE_URL, model: Optional[str] = MODEL,
    cache_dir: Optional[Path] = CACHE_DIR, no_cache: bool = NO_CACHE, concurrency: int = CONCURRENCY,
    timeout: float = TIMEOUT, retries: int = RETRIES,
) -> None:
    """Ask a student model for texts that combine k random skills on a random topic (seeded)."""
    from skillit.llm import skillmix as sm

    skill_list = sm.load_text_skills(skills)
    combinations = sm.sample_combinations(skill_list, sm.load_topics(topics), k, n, seed)
    student = _backend(backend, base_url, model, cache_dir, no_cache, concurrency, timeout, retries)
    settings = sm.GenerationSettings(temperature=temperature, max_tokens=max_tokens, rounds=rounds, revise=revise)
    ran = _run_items(student, lambda c: sm.generate(student, c, skill_list, settings), combinations, out,
                     "combinations")
    _console().print(f"{ran} combination(s) generated → {out}", highlight=False)


@skillmix_app.command("grade")
@reports_errors
def skillmix_grade(
    generations: Path = typer.Argument(..., help="JSONL written by `skillit skillmix generate`"),
    skills: Path = typer.Option(..., "--skills", help="the skills file used for generation"),
    out: Path = typer.Option(..., "--out", help="graded JSONL (resumed if it exists)"),
    grading_rounds: int = typer.Option(3, "--grading-rounds", help="grader samples per text (majority vote)"),
    filter_names: bool = typer.Option(False, "--filter-explicit-names", help="zero a skill's point if its name is in the text"),
    max_tokens: int = typer.Option(512, "--max-tokens"),
    backend: str = BACKEND, base_url: Optional[str] = BASE_URL, model: Optional[str] = MODEL,
    cache_dir: Optional[Path] = CACHE_DIR, no_cache: bool = NO_CACHE, concurrency: int = CONCURRENCY,
    timeout: float = TIMEOUT, retries: int = RETRIES,
) -> None:
    """Grade generated texts with the (k + 3)-point rubric; prints the aggregated metrics."""
    from skillit.llm import skillmix as sm

    skill_list = sm.load_text_skills(skills)
    records = []
    for i, row in enumerate(read_jsonl(generations, what="generations"), start=1):
        record = sm.combination_from_dict(row, f"{generations}:{i}")
        if not record.get("generations"):
            raise DataError(f"{generations}:{i}: record {record['id']!r} has no 'generations'")
        sm.check_combination(record, skill_list, f"{generations}:{i}")
        records.append(record)
    grader = _backend(backend, base_url, model, cache_dir, no_cache, concurrency, timeout, retries)
    _run_items(grader, lambda r: sm.grade(grader, r, skill_list, rounds=grading_rounds,
                                          filter_explicit_name=filter_names, max_tokens=max_tokens),
               records, out, "texts graded")
    summary = sm.summarize(read_jsonl(out, what="graded"))
    _print_skillmix(summary)


@skillmix_app.command("metrics")
@reports_errors
def skillmix_metrics(
    graded: Path = typer.Argument(..., help="JSONL written by `skillit skillmix grade`"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Ratio of full marks, ratio of all skills and skill fraction (mean ± SE over combinations), per k."""
    from skillit.llm import skillmix as sm

    summary = sm.summarize(read_jsonl(graded, what="graded"))
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        _print_skillmix(summary)


def _print_skillmix(summary: dict[str, Any]) -> None:
    table = Table(title="Skill-Mix metrics (mean ± SE over combinations)")
    for column in ("k", "combinations", "ratio of full marks", "ratio of all skills", "skill fraction"):
        table.add_column(column, justify="right")
    for k, metrics in summary.items():
        cells = [f"{metrics[m]['mean']:.3f} ± {metrics[m]['se']:.3f}" for m in ("full_marks", "all_skills", "skill_fraction")]
        table.add_row(k, str(metrics["full_marks"]["n"]), *cells)
    _console().print(table)


# ---- Instruct-SkillMix ---------------------------------------------------------------------------


@reports_errors
def synth(
    skills: Path = typer.Option(..., "--skills", help="skills: .txt (one per line), .jsonl or .csv"),
    query_types: Path = typer.Option(..., "--query-types", help="query types: .json/.jsonl (name, definition) or 'name: definition' lines"),
    out: Path = typer.Option(..., "--out", help="output JSONL (resumed if it exists)"),
    k: int = typer.Option(2, "--k", help="skills per example (the paper: 2)"),
    n: int = typer.Option(100, "--n", help="examples"),
    seed: int = typer.Option(0, "--seed"),
    refine: bool = typer.Option(True, "--refine/--no-refine", help="critique and rewrite after the first draft"),
    temperature: float = typer.Option(0.7, "--temperature"),
    max_tokens: int = typer.Option(1024, "--max-tokens"),
    backend: str = BACKEND, base_url: Optional[str] = BASE_URL, model: Optional[str] = MODEL,
    cache_dir: Optional[Path] = CACHE_DIR, no_cache: bool = NO_CACHE, concurrency: int = CONCURRENCY,
    timeout: float = TIMEOUT, retries: int = RETRIES,
) -> None:
    """Instruct-SkillMix: instruction/response pairs from random (k skills, query type) pairs.

    Every record keeps its skills; `skillit data inspect OUT` and `load_skills(OUT)` read it as a data set
    (one skill per combination, prompt/answer columns).
    """
    from skillit.llm import skillmix as sm
    from skillit.llm import synth as sy

    skill_list = sm.load_text_skills(skills)
    specs = sy.sample_specs([s.name for s in skill_list], sy.load_query_types(query_types), k, n, seed)
    definitions = {s.name: s.definition for s in skill_list}
    generator = _backend(backend, base_url, model, cache_dir, no_cache, concurrency, timeout, retries)
    ran = _run_items(generator, lambda spec: sy.synthesize(generator, spec, definitions=definitions, refine=refine,
                                                           temperature=temperature, max_tokens=max_tokens),
                     specs, out, "examples")
    _console().print(f"{ran} example(s) written → {out} (load with skillit.load_skills({str(out)!r}))", highlight=False)


# ---- STAT ----------------------------------------------------------------------------------------


def _skill_names(path: Path) -> list[str]:
    from skillit.llm import skillmix as sm

    return [s.name for s in sm.load_text_skills(path)]


@stat_app.command("profile")
@reports_errors
def stat_profile(
    failures: Path = typer.Argument(..., help="JSONL of difficult questions: id, question, response (, reference)"),
    skills: Path = typer.Option(..., "--skills", help="the allowed skill list: .txt (one per line), .jsonl or .csv"),
    out: Path = typer.Option(..., "--out", help="per-question diagnoses JSONL (resumed if it exists)"),
    profile: Path = typer.Option(..., "--profile", help="where to write the profile JSON (counts and mixture)"),
    max_skills: int = typer.Option(5, "--max-skills", help="skills kept per question"),
    cutoff: float = typer.Option(0.8, "--match-cutoff", help="fuzzy-match similarity needed to accept a skill name"),
    backend: str = BACKEND, base_url: Optional[str] = BASE_URL, model: Optional[str] = MODEL,
    cache_dir: Optional[Path] = CACHE_DIR, no_cache: bool = NO_CACHE, concurrency: int = CONCURRENCY,
    timeout: float = TIMEOUT, retries: int = RETRIES,
) -> None:
    """A teacher reads each failure and names the missing skills; the counts become the missing-skill profile."""
    from skillit.llm.stat import MissingSkillProfile, diagnose

    names = _skill_names(skills)
    items = read_jsonl(failures, what="failures")
    for i, item in enumerate(items, start=1):
        missing = [key for key in ("id", "question", "response") if key not in item]
        if missing:
            raise DataError(f"{failures}:{i}: record lacks {missing} (needs id, question, response)")
    teacher = _backend(backend, base_url, model, cache_dir, no_cache, concurrency, timeout, retries)
    _run_items(teacher, lambda item: diagnose(teacher, item, names, max_skills=max_skills, cutoff=cutoff),
               items, out, "failures diagnosed")
    records = read_jsonl(out, what="diagnoses")
    result = MissingSkillProfile.from_records(records, names)
    result.save(profile)
    counts = result.counts()
    total = sum(counts.values())
    table = Table(title=f"missing-skill profile ({len(result.questions)} question(s) with named skills)")
    table.add_column("skill", style="bold")
    table.add_column("questions", justify="right")
    table.add_column("share", justify="right")
    for name, count in sorted(counts.items(), key=lambda kv: -kv[1]):
        table.add_row(name, str(count), f"{count / total:.3f}" if total else "-")
    _console().print(table)
    unmatched = sorted({u for r in records for u in r.get("unmatched", [])})
    if unmatched:
        _console().print(f"names matching no skill (not counted): {', '.join(unmatched[:10])}", highlight=False)
    _console().print(f"profile → {profile}", highlight=False)


@stat_app.command("select")
@reports_errors
def stat_select(
    profile: Path = typer.Option(..., "--profile", help="profile JSON from `skillit stat profile`"),
    data: Path = typer.Option(..., "--data", help="training JSONL with a skill column (or a 'skills' list)"),
    out: Path = typer.Option(..., "--out", help="selected training records (JSONL)"),
    budget: Optional[int] = typer.Option(None, "--budget", help="exact number of examples to select"),
    per_pair: int = typer.Option(5, "--per-pair", help="examples per (question, skill) pair (paper: 5)"),
    skill_column: str = typer.Option("skill", "--skill-column"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """STAT-Sel: draw training examples of each profiled skill, in proportion to its count."""
    from skillit.llm.stat import MissingSkillProfile, skill_map_from_records, stat_sel

    msp = MissingSkillProfile.load(profile)
    records = read_jsonl(data, what="training data")
    chosen = stat_sel(msp, skill_map_from_records(records, skill_column), per_pair=per_pair, budget=budget, seed=seed)
    atomic_write_text(out, "".join(json.dumps(records[i], ensure_ascii=False) + "\n" for i in chosen))
    _console().print(f"{len(chosen)} example(s) selected → {out}", highlight=False)


# ---- grafting ------------------------------------------------------------------------------------


@graft_app.command("run")
@reports_errors
def graft_run(
    base: Path = typer.Argument(..., help="pre-trained Hugging Face model folder"),
    finetuned: Path = typer.Argument(..., help="the fine-tuned model folder (same architecture)"),
    data: Path = typer.Option(..., "--data", help="the skill's examples: JSONL with prompt and answer"),
    out: Path = typer.Option(..., "--out", help="output folder: curve.json and mask_<sparsity>.pt"),
    sparsity: str = typer.Option("0.001,0.01,0.1", "--sparsity", help="comma-separated mask sizes (share of parameters)"),
    steps: int = typer.Option(20, "--steps", help="mask optimisation steps per sparsity (0 = top movement only)"),
    prompt_field: str = typer.Option("prompt", "--prompt-field"),
    answer_field: str = typer.Option("answer", "--answer-field"),
    include_embeddings: bool = typer.Option(
        False, "--include-embeddings/--exclude-embeddings",
        help="let the mask cover token/position embeddings and the output head (the paper leaves them out)"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Find the few parameters that carry a fine-tuned skill; print the sparsity–accuracy curve."""
    from skillit.llm import grafting as gr
    from skillit.skills.example import Example

    levels = [float(s) for s in sparsity.split(",") if s.strip()]
    if not levels or not all(0 < s <= 1 for s in levels):
        raise DataError(f"--sparsity must be comma-separated numbers in (0, 1], got {sparsity!r}")
    rows = read_jsonl(data, what="skill data")
    examples = []
    for i, row in enumerate(rows, start=1):
        if prompt_field not in row or answer_field not in row:
            raise DataError(f"{data}:{i}: needs {prompt_field!r} and {answer_field!r} fields")
        examples.append(Example(str(row[prompt_field]), str(row[answer_field]), "skill"))
    if not examples:
        raise DataError(f"{data}: no examples")
    base_model, tokenizer = _load_hf(base)
    ft_model, _ = _load_hf(finetuned)
    loss_fn = gr.answer_loss(tokenizer, examples)
    evaluate = gr.answer_accuracy(tokenizer, examples)
    curve = []
    base_score, ft_score = evaluate(base_model), evaluate(ft_model)
    for level in levels:
        result = gr.graft(base_model, ft_model, loss_fn, sparsity=level, steps=steps, evaluate=evaluate, seed=seed,
                          exclude=() if include_embeddings else gr.DEFAULT_EXCLUDE)
        path = gr.save_mask(out / f"mask_{level:g}.pt", result.mask)
        gain = ft_score - base_score
        curve.append({"sparsity": level, "fraction": result.fraction, "count": result.count,
                      "accuracy": result.score, "base": base_score, "finetuned": ft_score,
                      "recovered": (result.score - base_score) / gain if gain else None, "mask": path.name})
    atomic_write_json(out / "curve.json", curve)
    table = Table(title=f"grafting {finetuned} onto {base} (base {base_score:.3f}, fine-tuned {ft_score:.3f})")
    for column in ("sparsity", "parameters", "share", "accuracy", "gain recovered"):
        table.add_column(column, justify="right")
    for row in curve:
        table.add_row(f"{row['sparsity']:g}", str(row["count"]), f"{row['fraction']:.2e}", f"{row['accuracy']:.3f}",
                      "-" if row["recovered"] is None else f"{row['recovered']:.2f}")
    _console().print(table)
    _console().print(f"masks and curve.json → {out}", highlight=False)


def _load_hf(path: Path):
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:  # pragma: no cover - optional extra
        raise SkillitError(f"graft run needs transformers: pip install transformers (or the hf extra: "
                           f"pip install -e '.[hf]' in a skillit clone) ({exc})") from None
    from skillit.model.tokenizer import HFTokenizer

    if not Path(path).is_dir():
        raise DataError(f"model folder {str(path)!r} does not exist")
    try:
        model = AutoModelForCausalLM.from_pretrained(path)
        tokenizer = HFTokenizer(AutoTokenizer.from_pretrained(path))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot load a Hugging Face causal LM and tokenizer from {str(path)!r}: {exc}") from None
    return model, tokenizer


@graft_app.command("overlap")
@reports_errors
def graft_overlap(
    masks: list[Path] = typer.Argument(..., help="two or more masks (mask_*.pt), one per skill"),
    names: Optional[str] = typer.Option(None, "--names", help="comma-separated skill names (default: file stems)"),
    out: Optional[Path] = typer.Option(None, "--out", help="write the overlap skills graph (JSON)"),
) -> None:
    """Overlap |γ_i ∩ γ_j| / |γ_j| of skills' masks, as a skills graph."""
    from skillit.llm import grafting as gr

    labels = [s.strip() for s in names.split(",")] if names else [p.stem for p in masks]
    if len(labels) != len(masks) or len(set(labels)) != len(labels):
        raise DataError(f"--names needs {len(masks)} distinct names, got {labels}")
    graph = gr.overlap_graph({label: gr.load_mask(path) for label, path in zip(labels, masks)})
    if out is not None:
        graph.save(out)
    table = Table(title="mask overlap |row ∩ column| / |column|")
    table.add_column("")
    for label in labels:
        table.add_column(label, justify="right")
    for i, label in enumerate(labels):
        table.add_row(label, *(f"{graph.matrix[i, j]:.3f}" for j in range(len(labels))))
    _console().print(table)


def register(app: typer.Typer) -> None:
    """Add the LLM-side commands to the main app."""
    app.add_typer(skillmix_app, name="skillmix")
    app.command("synth")(synth)
    app.add_typer(stat_app, name="stat")
    app.add_typer(graft_app, name="graft")
