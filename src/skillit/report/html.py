"""One self-contained ``report.html`` for one or more run directories (and one for a learned skills graph).

The page needs nothing but the file: styles are inline, figures are base64 PNGs in ``<img>`` tags, and
there is no script at all. Per run directory it shows the resolved config; the method table (mean ± std
over seeds and the paired difference to ``stratified`` with a Student-t confidence interval, and the best
mark only beyond the seed noise, see :mod:`skillit.report.stats`; bits per token instead of accuracy for
whole-text targets, ``summary.json`` ``whole_text``); per-skill loss and accuracy curves with ±1 std bands; each method's mixture
over time (stacked area); examples and epochs seen per training skill; the learned skills graph and its
cost; steps to the target loss; time and overhead; and, where the task declared junk skills or a graph leaves a
skill without an edge into the objective, where the budget went (:mod:`skillit.records.budget`: per method the
share of the examples drawn on them, after the first round and per round, in a table and a figure). With several run directories a comparison of all
methods of all runs comes first.

Everything is read from what a run directory holds (``skillit.experiment.runner``): ``summary.json``,
``metrics.jsonl``, ``config.yaml`` and, where a graph was learned, ``graph/graph.json``.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from skillit.errors import DataError
from skillit.graph.skills_graph import SkillsGraph
from skillit.graph.uncertainty import EdgeUncertainty, uncertainty_of
from skillit.records.budget import Budget, read_budget
from skillit.records.layout import ACCURACY_PLOT, BITS_PLOT, CONFIG, LOSS_PLOT, METRICS, REPORT, SUMMARY, RunLayout
from skillit.records.metrics import RunRecord
from skillit.records.summary import BITS_PER_NAT
from skillit.report.graph_plots import graph_lines, heatmap_figure, seeds_note
from skillit.report.plots import _pyplot, budget_figure, metric_figure, weights_figure
from skillit.report.stats import BASELINE, CONFIDENCE, PairedDifference, clear_best, difference_to_baseline
from skillit.utils.io import atomic_write_text

_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:1.5em auto;max-width:1280px;
color:#1b1b1b;padding:0 1em;line-height:1.4}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:1px solid #ccc;margin-top:1.6em}
h3{font-size:1.05em;margin-top:1.2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #d0d0d0;padding:.25em .55em;text-align:right;white-space:nowrap}
th{background:#f2f2f2;white-space:normal;min-width:3em}td:first-child,th:first-child{text-align:left}
tr.best td:first-child{font-weight:bold}
.better{color:#0a6b2d}.worse{color:#a3141c}.muted{color:#666;font-size:.88em}
figure{margin:.8em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.88em}
pre{background:#f7f7f7;padding:.7em;overflow-x:auto;font-size:.85em;border:1px solid #e2e2e2}
details{margin:.5em 0}.scroll{overflow-x:auto}
table.comparison td:nth-child(2),table.comparison th:nth-child(2){text-align:left}
.warnings{border-left:4px solid #c77700;background:#fff8ec;padding:.1em .8em;margin:.8em 0}
"""


# ---- reading a run directory -------------------------------------------------------------------
@dataclass
class RunContents:
    """What the report needs from one run directory."""

    path: Path
    summary: dict[str, Any]
    config_text: str
    runs: list[RunRecord]
    graph: SkillsGraph | None  # the learned graph (graph/graph.json or a graph file with a recorded cost)
    budget: Budget | None = None  # where the examples went: junk and no-edge shares (skillit.records.budget)

    @property
    def name(self) -> str:
        return str(self.summary.get("name") or self.summary.get("task") or self.path.name)


def load_run_directory(path: str | Path) -> RunContents:
    """Read ``summary.json``, ``metrics.jsonl``, ``config.yaml`` and ``graph/graph.json`` of a finished run."""
    root = Path(path)
    layout = RunLayout(root)
    summary = layout.read_summary()
    if not layout.metrics.is_file():
        raise DataError(f"{str(root)!r} has {SUMMARY} but no {METRICS}; rerun or --resume the run")
    grouped: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for line in layout.read_metrics():
        grouped.setdefault((line["method"], int(line["seed"])), []).append(
            {k: v for k, v in line.items() if k not in ("method", "seed")}
        )
    order = list(summary.get("methods", {}))
    keys = sorted(grouped, key=lambda key: (order.index(key[0]) if key[0] in order else len(order), key[1]))
    runs = []
    for method, seed in keys:
        records = grouped[(method, seed)]
        last = records[-1]
        runs.append(RunRecord(method, seed, {}, records, int(last.get("step", 0)), float(last.get("train_seconds") or 0.0),
                              float(last.get("eval_seconds") or 0.0), int(last.get("eval_examples") or 0)))
    config_path = layout.config
    config_text = config_path.read_text() if config_path.is_file() else f"(no {CONFIG} in the run directory)"
    # a graph learned by this run, else one learned by `skillit graph` and given as a file (its cost is recorded)
    candidates = [layout.graph_dir / "graph.json"] + [
        Path(cost["source"]) for cost in (summary.get("graph_cost") or {}).values()
        if isinstance(cost, dict) and str(cost.get("source", "")).endswith(".json")
    ]
    graph_path = next((path for path in candidates if path.is_file()), None)
    graph = SkillsGraph.load(graph_path) if graph_path is not None else None
    return RunContents(root, summary, config_text, runs, graph, read_budget(root))


# ---- paths: never absolute in a report (no home folder in a page that is shared) ----------------------
def shown_path(path: str | Path, base: str | Path) -> str:
    """A path as a report shows it: as given when relative; else relative to ``base`` (the run folder) when
    the two share a folder below the root at most three folders up (``../../data/train.jsonl``), else
    ``.../folder/file``."""
    path = Path(path)
    if not path.is_absolute():
        return str(path)
    base = Path(base).resolve()
    try:
        near = Path(os.path.commonpath([path, base])) != Path(path.anchor)  # a shared folder below the root
    except ValueError:  # another drive (Windows)
        near = False
    relative = Path(os.path.relpath(path, base)) if near else None
    if relative is not None and relative.parts.count("..") <= 3:
        return relative.as_posix()
    return ".../" + "/".join(path.parts[-2:])


def without_absolute_paths(value: Any, base: str | Path) -> Any:
    """``value`` (nested dicts and lists) with every absolute path string shown by :func:`shown_path`."""
    if isinstance(value, str) and value.startswith("/") and len(Path(value).parts) >= 3:
        return shown_path(value, base)
    if isinstance(value, dict):
        return {key: without_absolute_paths(item, base) for key, item in value.items()}
    if isinstance(value, list):
        return [without_absolute_paths(item, base) for item in value]
    return value


def _shown_config(run: RunContents) -> str:
    """``config.yaml`` with its data paths relative to the run folder (the file keeps them absolute, for resume)."""
    try:
        data = yaml.safe_load(run.config_text)
    except yaml.YAMLError:
        return run.config_text
    shown = without_absolute_paths(data, run.path)
    if not isinstance(data, dict) or shown == data:
        return run.config_text
    return yaml.safe_dump(shown, sort_keys=False)  # as config.yaml was written (dump_config)


# ---- small HTML helpers --------------------------------------------------------------------------
def _e(value: Any) -> str:
    return html.escape(str(value))


def _img(fig, alt: str, caption: str | None = None) -> str:
    """A matplotlib figure as an inline base64 PNG (the figure is closed)."""
    plt = _pyplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return _png_tag(buffer.getvalue(), alt, caption)


def _png_tag(data: bytes, alt: str, caption: str | None) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure><img class="figure" alt="{_e(alt)}" src="data:image/png;base64,{encoded}">{cap}</figure>'


def _img_or_file(run: RunContents, name: str, make, alt: str, caption: str | None = None) -> str:
    """The run directory's own ``name`` PNG (``plot_run`` draws it from the same records) when it is not older
    than ``metrics.jsonl``, else a freshly drawn figure: the report then costs one drawing less per figure."""
    path, metrics = run.path / name, RunLayout(run.path).metrics
    if path.is_file() and metrics.is_file() and path.stat().st_mtime >= metrics.stat().st_mtime:
        return _png_tag(path.read_bytes(), alt, caption)
    return _img(make(), alt, caption)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, css: str = "", row_classes: Sequence[str] = ()) -> str:
    """An HTML table; ``header`` is escaped, cells are trusted HTML (escape them when building)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for index, row in enumerate(rows):
        cls = row_classes[index] if index < len(row_classes) and row_classes[index] else ""
        body.append(f'<tr class="{cls}">' + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    return f'<div class="scroll"><table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _pm(mean: float | None, std: float | None, digits: int = 3, scale: float = 1.0) -> str:
    if mean is None:
        return "n/a"
    if std is None:
        return f"{mean * scale:.{digits}f}"
    return f"{mean * scale:.{digits}f} ± {std * scale:.{digits}f}"


def _difference(diff: PairedDifference | None, *, lower_is_better: bool, digits: int = 3, scale: float = 1.0) -> str:
    """``+0.012 [−0.003, +0.027]``, coloured where the interval excludes 0."""
    if diff is None:
        return "n/a"
    text = f"{diff.mean * scale:+.{digits}f}"
    if diff.half_width is None:
        return text + ' <span class="muted">(1 seed: no interval)</span>'
    text += f" [{diff.low * scale:+.{digits}f}, {diff.high * scale:+.{digits}f}]"  # type: ignore[operator]
    if diff.excludes_zero:
        better = (diff.mean < 0) == lower_is_better
        return f'<span class="{"better" if better else "worse"}">{text}</span>'
    return text


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


# ---- sections ------------------------------------------------------------------------------------
def _differences(summary: dict[str, Any], method: str) -> tuple[PairedDifference | None, PairedDifference | None]:
    """Paired loss and accuracy differences of ``method`` to the baseline (None where there is no baseline)."""
    return (difference_to_baseline(summary, method, "mean_loss", baseline=BASELINE, confidence=CONFIDENCE),
            difference_to_baseline(summary, method, "mean_accuracy", baseline=BASELINE, confidence=CONFIDENCE))


def _method_table(summary: dict[str, Any]) -> str:
    methods = summary["methods"]
    has_baseline = BASELINE in methods
    whole_text = bool(summary.get("whole_text"))
    second = "bits per token (mean ± std)" if whole_text else "acc % (mean ± std)"
    header = ["method", "loss (mean ± std)", second]
    if has_baseline:
        header += [f"Δ loss vs {BASELINE} [{CONFIDENCE:.0%} CI]"]
        if not whole_text:  # Δ bits would be Δ loss / ln 2: no column of its own
            header += [f"Δ acc % vs {BASELINE} [{CONFIDENCE:.0%} CI]"]
    header += ["steps to target", "train s", "eval s"]
    best = clear_best(summary, confidence=CONFIDENCE)
    rows, classes = [], []
    for name, result in methods.items():
        final = result["final"]
        seeds = len(result.get("per_seed") or []) or len(summary.get("seeds", []))
        loss_std = final.get("mean_loss_std") if seeds > 1 else None
        row = [_e(name) + (" ★" if name == best else ""), _pm(final["mean_loss"], loss_std)]
        if whole_text:
            row.append(_pm(final["mean_loss"], loss_std, scale=BITS_PER_NAT))
        else:
            row.append(_pm(final["mean_accuracy"], final.get("mean_accuracy_std") if seeds > 1 else None, digits=1,
                           scale=100))
        if has_baseline:
            loss_diff, acc_diff = _differences(summary, name)
            row.append("—" if name == BASELINE else _difference(loss_diff, lower_is_better=True))
            if not whole_text:
                row.append("—" if name == BASELINE else _difference(acc_diff, lower_is_better=False, digits=1, scale=100))
        stt = result.get("steps_to_target")
        row.append("n/a" if not summary.get("target_loss") else ("never (some seed)" if stt is None else f"{stt:.0f}"))
        row += [_seconds(result.get("train_seconds")), _seconds(result.get("eval_seconds"))]
        rows.append(row)
        classes.append("best" if name == best else "")
    objective = ", ".join(summary.get("objective_skills", []))
    n = len(summary.get("seeds", []))
    what = ("loss and bits per token (the loss in nats ÷ ln 2; the targets are whole texts, language modelling, "
            "whose exact-match accuracy is all but always 0, so it is not shown)" if whole_text else "loss and accuracy")
    spread = (f"± is the standard deviation over the {n} seeds" if n > 1 else
              "one seed: no ± (one run measures no spread between seeds)")
    notes = [
        f"{what}: the final evaluation, averaged over the objective skills ({_e(objective)}); {spread}. "
        + (f"★ marks {_e(best)}: the lowest loss, below every other method's beyond the seed noise (paired "
           f"{CONFIDENCE:.0%} interval of the difference below 0 against each)." if best is not None else
           "No method is marked best: none has a loss below every other method's beyond the seed noise."
           if len(methods) > 1 else ""),
    ]
    if has_baseline:
        notes.append(
            f"Δ vs {BASELINE}: per seed, this method's value minus {BASELINE}'s at the same seed (same initial model "
            f"and evaluation data); the mean of those differences and its {CONFIDENCE:.0%} Student-t interval "
            f"d̄ ± t<sub>{(1 + CONFIDENCE) / 2:.3f}, n−1</sub>·s<sub>d</sub>/√n over the n seeds. Green/red: the "
            "interval excludes 0 (better/worse than the noise between seeds allows); with one seed there is no interval."
        )
    else:
        notes.append(f"no '{BASELINE}' method in this run, so no paired differences are shown.")
    if summary.get("target_loss"):
        notes.append(f"steps to target: mean over seeds of the first evaluation step with mean objective loss ≤ "
                     f"{summary['target_loss']}; 'never' when some seed did not reach it.")
    notes.append("train s / eval s: mean wall seconds per run spent training and evaluating (evaluation is not "
                 "part of training time; under machine load these include waiting for the CPU).")
    return _table(header, rows, css="methods", row_classes=classes) + "".join(
        f'<p class="muted">{note}</p>' for note in notes)


def _per_skill_table(summary: dict[str, Any]) -> str:
    methods = summary["methods"]
    skills = list(next(iter(methods.values()))["final"]["per_skill"])
    whole_text = bool(summary.get("whole_text"))
    header = ["method"] + [f"{skill} loss / {'bits per token' if whole_text else 'acc %'}" for skill in skills]
    rows = []
    for name, result in methods.items():
        cells = [_e(name)]
        for skill in skills:
            entry = result["final"]["per_skill"].get(skill, {})
            loss, acc = entry.get("loss"), entry.get("accuracy")
            second = (("n/a" if loss is None else f"{loss * BITS_PER_NAT:.3f}") if whole_text else
                      ("n/a" if acc is None else f"{acc * 100:.1f}"))
            cells.append(("n/a" if loss is None else f"{loss:.3f}") + " / " + second)
        rows.append(cells)
    return _table(header, rows, css="per-skill")


def _examples_table(run: RunContents) -> str:
    """Examples seen per training skill at the end (mean over seeds) and epochs = examples / pool size."""
    pools: dict[str, int | None] = run.summary.get("pool_sizes") or {}
    methods = list(dict.fromkeys(r.method for r in run.runs))
    if not methods:
        return ""
    skills = list(run.runs[0].records[-1].get("examples_seen") or {})
    if not skills:
        return '<p class="muted">no examples_seen in the records</p>'
    header = ["method"] + skills + ["total"]
    rows = []
    for method in methods:
        seen = np.array([[r.records[-1]["examples_seen"].get(s, 0) for s in skills] for r in run.runs if r.method == method],
                        dtype=float).mean(axis=0)
        cells = [_e(method)]
        for skill, value in zip(skills, seen):
            pool = pools.get(skill)
            cells.append(f"{value:,.0f}" + (f" ({value / pool:.2f} ep)" if pool else ""))
        cells.append(f"{seen.sum():,.0f}")
        rows.append(cells)
    note = ("mean over seeds of the training examples drawn per skill by the end of training"
            + ("; ep = epochs, examples seen ÷ the skill's training pool size" if any(pools.values()) else
               "; the pools are generated on demand (no fixed size), so epochs do not apply"))
    if pools:
        pool_row = ["pool size"] + [("∞" if pools.get(s) is None else f"{pools[s]:,}") for s in skills] + [""]
        rows.append(pool_row)
    return _table(header, rows, css="examples") + f'<p class="muted">{note}</p>'


def _time_section(run: RunContents) -> str:
    summary = run.summary
    methods = summary["methods"]
    lines = []
    base = methods.get(BASELINE, {}).get("train_seconds")
    header = ["method", "train s / run", "eval s / run", "eval examples / run", f"train time ÷ {BASELINE}'s"]
    rows = []
    for name, result in methods.items():
        per_seed = result.get("per_seed", [])
        examples = np.mean([s.get("eval_examples", 0) for s in per_seed]) if per_seed else None
        ratio = result.get("train_seconds", 0) / base if base else None
        rows.append([_e(name), _seconds(result.get("train_seconds")), _seconds(result.get("eval_seconds")),
                     "n/a" if examples is None else f"{examples:,.0f}", "n/a" if ratio is None else f"{ratio:.2f}×"])
    lines.append(_table(header, rows, css="time"))
    facts = [f"wall time of the whole run: {summary.get('wall_seconds', 0):.1f} s on {_e(summary.get('device', '?'))} "
             f"with {_e(summary.get('jobs', '?'))} parallel job(s)"]
    warm = summary.get("warm_start")
    if warm:
        secs = sum(r.get("train_seconds", 0) for r in warm.get("runs", []))
        facts.append(f"warm start on {_e(', '.join(warm.get('skills', [])))}: {secs:.1f} s of training over "
                     f"{len(warm.get('runs', []))} seed(s), shared by every method")
    for method, cost in (summary.get("graph_cost") or {}).items():
        ratio = cost.get("ratio_to_training_run")
        facts.append(
            f"graph of {_e(method)}: {_e(cost.get('method'))} ({_e(without_absolute_paths(cost.get('source'), run.path))}): {_e(cost.get('train_steps'))} "
            f"train steps{_e(seeds_note(cost))}" + (f" ({ratio:.2f}× one training run)" if ratio is not None else "")
            + f", {_e(cost.get('eval_examples'))} evaluated examples, {cost.get('wall_seconds') or 0:.1f} s")
    lines.append("<ul>" + "".join(f"<li>{fact}</li>" for fact in facts) + "</ul>")
    lines.append(f'<p class="muted">overhead of a mixing method = its train time ÷ {BASELINE}\'s (policy updates and '
                 "pool scoring happen inside training time) plus the graph learning and warm start above.</p>")
    return "".join(lines)


def _graph_section(graph: SkillsGraph, base: str | Path | None = None) -> str:
    parts = []
    k, m = len(graph.train_skills), len(graph.eval_skills)
    if k * m <= 40_000:
        parts.append(_img(heatmap_figure(graph), "skills graph heatmap",
                          "row i → column j: training on skill i lowers the loss on skill j by A[i, j]"))
    else:
        parts.append(f'<p class="muted">{k}×{m} graph: too large to draw as a heatmap</p>')
    lines = graph_lines(graph)
    if lines:
        parts.append("<ul>" + "".join(f"<li>{'<b>' + _e(line) + '</b>' if line.startswith('warning') else _e(line)}</li>"
                                      for line in lines) + "</ul>")
    uncertainty = uncertainty_of(graph)
    if uncertainty is not None and k * m <= 2_500:
        parts.append(_interval_table(uncertainty))
    provenance = {key: value for key, value in graph.provenance.items() if key != "diagnostics"}
    if base is not None:  # the task's data paths, relative to the report's folder
        provenance = without_absolute_paths(provenance, base)
    parts.append("<details><summary>provenance</summary><pre>" + _e(json.dumps(provenance, indent=2, default=str))
                 + "</pre></details>")
    return "".join(parts)


def _interval_table(uncertainty: EdgeUncertainty) -> str:
    """Per edge: mean [t-interval] over the learner seeds; stable edges (interval excludes 0) in bold with ✓."""
    rows = []
    for i, name in enumerate(uncertainty.train_skills):
        cells = [_e(name)]
        for j in range(len(uncertainty.eval_skills)):
            text = (f"{uncertainty.mean[i, j]:.2g} [{uncertainty.low[i, j]:.2g}, {uncertainty.high[i, j]:.2g}]")
            cells.append(f"<b>{_e(text)} ✓</b>" if uncertainty.stable[i, j] else _e(text))
        rows.append(cells)
    return (f"<h4>Edges over {uncertainty.n} learner seeds: mean [{100 * uncertainty.level:g}% t-interval]; "
            "✓ stable (interval excludes 0)</h4>" + _table(["train \\ eval", *uncertainty.eval_skills], rows,
                                                           css="graph-matrix"))


def _curves(run: RunContents) -> str:
    if not run.runs:
        return '<p class="muted">no evaluation records</p>'
    methods = list(dict.fromkeys(r.method for r in run.runs))
    if run.summary.get("whole_text"):  # whole-text targets: bits per token, not an accuracy that stays at 0
        second = ["<h3>Bits per token per skill</h3>",
                  _img_or_file(run, BITS_PLOT, lambda: metric_figure(run.runs, "losses", "bits per token",
                                                                     scale=BITS_PER_NAT),
                               "per-skill bits per token curves",
                               "loss ÷ ln 2; mean over seeds, band ±1 std (the targets are whole texts: no accuracy)")]
    else:
        second = ["<h3>Accuracy per skill</h3>",
                  _img_or_file(run, ACCURACY_PLOT, lambda: metric_figure(run.runs, "accuracies", "exact-match accuracy"),
                               "per-skill accuracy curves", "mean over seeds, band ±1 std")]
    return "".join([
        "<h3>Loss per skill</h3>",
        _img_or_file(run, LOSS_PLOT, lambda: metric_figure(run.runs, "losses", "answer loss"), "per-skill loss curves",
                     "mean over seeds, band ±1 std; one panel per evaluation skill"),
        *second,
        "<h3>Mixture over time</h3>",
        _img(weights_figure(run.runs, methods), "mixture weights over time",
             "weights in force per training skill (stacked), mean over seeds; a static method is flat"),
    ])


def _share(value: tuple[float | None, float | None]) -> str:
    mean, sd = value
    if mean is None:
        return "n/a"
    return f"{100 * mean:.1f}%" + ("" if sd is None else f" ± {100 * sd:.1f}")


def _budget_section(budget: Budget) -> str:
    """Where the budget went: per method its junk and no-edge shares (whole run, after the first round) and a
    per-round figure (:func:`skillit.report.plots.budget_figure`)."""
    methods = budget.methods()
    junk = bool(budget.junk_skills)
    no_edge = any(found.no_edge_skills is not None for found in methods)
    rows = [[_e(found.method), _share(found.junk) if junk else "—", _share(found.junk_after_first) if junk else "—",
             _share(found.no_edge), _share(found.no_edge_after_first),
             _e(found.graph + ("" if found.no_edge_skills is None else f" ({', '.join(found.no_edge_skills) or 'none'})"))]
            for found in methods]
    grid = f"rounds of {budget.round_steps} steps" if budget.round_steps else "the records' rounds"
    note = (f"share of the examples drawn, mean ± sd over seeds; junk: the skills the task declared junk "
            f"({_e(', '.join(budget.junk_skills) or 'none')}); no edge: training skills outside the objective whose "
            f"row of the graph has no entry &gt; 0 into an objective skill (the method's own graph, else the run's); "
            f"after round 1: from the end of the first round on ({grid}); the issue-29 criterion asks ≤ 5 % junk there.")
    return (_table(["method", "junk", "junk after round 1", "no edge", "no edge after round 1",
                    "graph (skills with no edge)"], rows, css="budget")
            + f'<p class="muted">{note}</p>'
            + _img(budget_figure(methods, junk=junk, no_edge=no_edge), "where the budget went per round",
                   "share of each round's examples, mean over seeds, band ±1 sd; dotted: the 5 % criterion"))


def run_warnings(run: RunContents) -> list[str]:
    """Every warning the run recorded, as the terminal printed them: the mixture's (η out of its tuned range, a
    collapse: ``summary.json`` ``mixture_warnings``), diverged runs (``divergence_warnings``) and the learned
    graph's (density, a target without a stable helper)."""
    lines = [*run.summary.get("mixture_warnings", []), *run.summary.get("divergence_warnings", [])]
    if run.graph is not None:
        lines += [line.removeprefix("warning: ") for line in graph_lines(run.graph) if line.startswith("warning")]
    return [str(line) for line in lines]


def _warnings_section(run: RunContents) -> str:
    lines = run_warnings(run)
    if not lines:
        return ""
    return ('<div class="warnings"><h3>Warnings</h3><ul>' + "".join(f"<li>{_e(line)}</li>" for line in lines)
            + "</ul></div>")


def run_section(run: RunContents, *, anchor: str = "run") -> str:
    s = run.summary
    seeds = s.get("seeds", [])
    parts = [
        f'<h2 id="{anchor}">{_e(run.name)}</h2>',
        f'<p>{_e(s.get("task"))} ({_e(s.get("setting"))}), {_e(s.get("steps"))} steps, {len(seeds)} seed(s) '
        f'{_e(seeds)}, {len(s.get("methods", {}))} method(s) — <span class="muted">{_e(shown_path(run.path, Path.cwd()))}</span></p>',
        "<h3>Methods</h3>", _method_table(s),
        "<details><summary>final loss / accuracy per skill</summary>", _per_skill_table(s), "</details>",
        _curves(run),
        "<h3>Examples seen per training skill</h3>", _examples_table(run),
    ]
    if run.budget is not None and run.budget.shown:
        parts += ["<h3>Where the budget went</h3>", _budget_section(run.budget)]
    warnings = _warnings_section(run)  # one block, before the results it qualifies
    if warnings:
        parts.insert(parts.index("<h3>Methods</h3>") if "<h3>Methods</h3>" in parts else len(parts), warnings)
    if run.graph is not None:
        parts += ["<h3>Learned skills graph</h3>", _graph_section(run.graph, run.path)]
    parts += ["<h3>Time and overhead</h3>", _time_section(run),
              "<h3>Resolved config</h3>", f"<pre>{_e(_shown_config(run))}</pre>",
              f'<p class="muted">paths relative to the run folder; its {CONFIG} holds them in full</p>']
    return "\n".join(parts)


def comparison_section(runs: Sequence[RunContents]) -> str:
    """All methods of all run directories in one table, and their mean objective loss in one figure."""
    header = ["run", "method", "loss (mean ± std)", "acc % (mean ± std)", f"Δ loss vs {BASELINE} [{CONFIDENCE:.0%} CI]",
              "steps to target", "train s", "wall s (run)"]
    rows = []
    for run in runs:
        for name, result in run.summary["methods"].items():
            final = result["final"]
            loss_diff, _ = _differences(run.summary, name)
            stt = result.get("steps_to_target")
            rows.append([_e(run.name), _e(name), _pm(final["mean_loss"], final.get("mean_loss_std")),
                         (f"n/a (whole texts: {final['mean_loss'] * BITS_PER_NAT:.3f} bits/token)"
                          if run.summary.get("whole_text") and final["mean_loss"] is not None else
                          _pm(final["mean_accuracy"], final.get("mean_accuracy_std"), digits=1, scale=100)),
                         "—" if name == BASELINE or BASELINE not in run.summary["methods"] else
                         _difference(loss_diff, lower_is_better=True),
                         "n/a" if not run.summary.get("target_loss") else ("never" if stt is None else f"{stt:.0f}"),
                         _seconds(result.get("train_seconds")), _seconds(run.summary.get("wall_seconds"))])
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    for run in runs:
        objective = run.summary.get("objective_skills") or []
        for method in dict.fromkeys(r.method for r in run.runs):
            mine = [r for r in run.runs if r.method == method]
            length = min(len(r.records) for r in mine)
            steps = np.array([rec["step"] for rec in mine[0].records[:length]])
            values = np.array([[np.mean([np.nan if rec["losses"].get(k) is None else rec["losses"][k] for k in objective])
                                for rec in r.records[:length]] for r in mine], dtype=float)
            mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
            (line,) = ax.plot(steps, mean, label=f"{run.name}: {method}")
            ax.fill_between(steps, mean - std, mean + std, color=line.get_color(), alpha=0.12)
    ax.set_xlabel("step")
    ax.set_ylabel("mean loss over objective skills")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ("<h2 id=\"comparison\">Comparison</h2>" + _table(header, rows, css="methods comparison")
            + '<p class="muted">Δ is paired within each run directory (its own seeds); runs of different set-ups '
              "are compared by their means only.</p>"
            + _img(fig, "comparison of mean objective loss", "mean objective loss per run and method; band ±1 std over seeds"))


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>\n{body}\n"
        "<p class=\"muted\">written by skillit report; self-contained (no network, no scripts)</p></body></html>\n"
    )


def render_report(runs: Sequence[RunContents]) -> str:
    """The HTML text of the report of ``runs`` (one or more run directories)."""
    if not runs:
        raise DataError("no run directory given to the report")
    title = runs[0].name if len(runs) == 1 else "comparison: " + ", ".join(run.name for run in runs)
    parts = [f"<h1>skillit report: {_e(title)}</h1>"]
    if len(runs) > 1:
        parts.append("<p>" + " · ".join(f'<a href="#run{i}">{_e(run.name)}</a>' for i, run in enumerate(runs)) + "</p>")
        parts.append(comparison_section(runs))
    for index, run in enumerate(runs):
        parts.append(run_section(run, anchor=f"run{index}"))
    return _page(f"skillit report: {title}", "\n".join(parts))


def write_report(run_dirs: str | Path | Sequence[str | Path], out: str | Path | None = None) -> Path:
    """Write ``report.html`` for one or more run directories (atomically); its path back.

    ``out`` defaults to ``RUN_DIR/report.html`` for one directory; several need an explicit ``out``
    unless the first directory should hold the comparison.
    """
    dirs = [run_dirs] if isinstance(run_dirs, (str, Path)) else list(run_dirs)
    runs = [load_run_directory(path) for path in dirs]
    path = Path(out) if out is not None else Path(dirs[0]) / REPORT
    return atomic_write_text(path, render_report(runs))


def write_graph_report(graph: SkillsGraph, out_dir: str | Path, *, title: str | None = None) -> Path:
    """``out_dir/report.html`` for a learned skills graph: heatmap, matrix, cost and diagnostics."""
    name = title or str(graph.provenance.get("method") or "skills graph")
    k, m = len(graph.train_skills), len(graph.eval_skills)
    parts = [f"<h1>skillit graph report: {_e(name)}</h1>",
             f"<p>{k} training skill(s) × {m} evaluation skill(s) — <span class=\"muted\">{_e(shown_path(out_dir, Path.cwd()))}</span></p>",
             _graph_section(graph, out_dir)]
    if k * m <= 2_500:
        matrix = np.asarray(graph.matrix, dtype=float)
        rows = [[_e(name_i)] + [f"{matrix[i, j]:.3g}" for j in range(m)] for i, name_i in enumerate(graph.train_skills)]
        heading = "Matrix (the stable graph the policies use)" if uncertainty_of(graph) is not None else "Matrix"
        parts += [f"<h3>{heading}</h3>", _table(["train \\ eval", *graph.eval_skills], rows, css="graph-matrix")]
    return atomic_write_text(Path(out_dir) / REPORT, _page(f"skillit graph report: {name}", "\n".join(parts)))


__all__ = ["RunContents", "load_run_directory", "render_report", "write_graph_report", "write_report"]
