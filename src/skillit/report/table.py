"""The final comparison table (rich): one row per method, mean ± std over seeds, the paired difference to the
baseline with its interval and a verdict (:mod:`skillit.report.stats`), and a legend line per column and mark."""

from __future__ import annotations

import os
from typing import Any

from rich.table import Table
from rich.text import Text

from skillit.records.layout import SUMMARY
from skillit.records.summary import BITS_PER_NAT
from skillit.report.stats import (
    BASELINE,
    CONFIDENCE,
    NO_INTERVAL,
    PairedDifference,
    clear_best,
    difference_to_baseline,
    verdict,
)


def _pm(mean: float | None, std: float | None, digits: int = 3, scale: float = 1.0, seeds: int = 2) -> str:
    """``mean±std``; the mean alone when there is no std or one seed (one run measures no spread)."""
    if mean is None:
        return "n/a"
    if std is None or seeds < 2:
        return f"{mean * scale:.{digits}f}"
    return f"{mean * scale:.{digits}f}±{std * scale:.{digits}f}"


def _delta(diff: PairedDifference | None) -> str:
    """``-0.012 [-0.020, -0.004]``; the mean alone without an interval (one seed)."""
    if diff is None or diff.mean is None:
        return "n/a"
    if diff.low is None or diff.high is None:
        return f"{diff.mean:+.3f}"
    return f"{diff.mean:+.3f} [{diff.low:+.3f}, {diff.high:+.3f}]"


def _has_differences(summary: dict[str, Any], baseline: str) -> bool:
    return baseline in summary["methods"] and len(summary["methods"]) > 1


def legend_lines(summary: dict[str, Any], *, baseline: str = BASELINE, confidence: float = CONFIDENCE) -> list[str]:
    """One line per column and mark of :func:`comparison_table`, saying how to read it (and what to conclude)."""
    methods = summary["methods"]
    level = f"{confidence:.0%}"
    n_seeds = len(summary.get("seeds", []))
    whole_text = bool(summary.get("whole_text"))
    objective = ", ".join(summary.get("objective_skills", []))
    spread = (f"± std over the {n_seeds} seeds" if n_seeds > 1 else
              "1 seed: no ± (one run measures no spread between seeds)")
    lines = [
        f"loss: final validation loss (nats per answer token), mean over the objective skills ({objective}); "
        + ("bits/tok: the same loss in bits per token (loss / ln 2); the targets are whole texts (language "
           "modelling), whose exact-match accuracy is all but always 0, so no accuracy is shown; " if whole_text else
           "acc %: exact-match accuracy on the same skills; ")
        + spread
    ]
    if _has_differences(summary, baseline):
        lines.append(
            f"Δloss vs {baseline}: per seed, the method's loss − {baseline}'s at the same seed (same initial model and "
            f"evaluation data); mean over the seeds both ran [{level} Student-t interval]; negative = lower loss"
        )
        lines.append(
            f"vs {baseline}: better / worse = the interval lies wholly below / above 0 (a difference beyond the seed "
            f"noise); tie = it contains 0 (the seeds do not resolve a difference); {NO_INTERVAL} = no verdict "
            "(run 2 or more seeds, e.g. --seeds 3)"
        )
    elif len(methods) > 1:
        lines.append(f"no {baseline!r} method in this run, so no paired differences (add {baseline} to the methods)")
    if len(methods) > 1:
        best = clear_best(summary, confidence=confidence)
        if best is not None:
            lines.append(f"*: {best} has the lowest loss, below every other method's beyond the seed noise (paired "
                         f"{level} interval of the difference below 0 against each)")
        else:
            lowest = min((name for name in methods if methods[name]["final"]["mean_loss"] is not None),
                         key=lambda name: methods[name]["final"]["mean_loss"], default=None)
            why = ("one seed gives no interval" if n_seeds < 2 else
                   f"its paired {level} interval against some method contains 0 or lies above it")
            lines.append(f"no * (best) mark: the lowest loss ({lowest}) is not below every other method's beyond "
                         f"the seed noise ({why})")
    lines.append("skill columns: final loss / bits per token per skill" if whole_text else
                 "skill columns: final accuracy % per skill")
    if summary.get("target_loss"):
        lines.append(f"→target: mean first step with objective loss ≤ {summary['target_loss']} ('never' when some "
                     "seed did not reach it)")
    lines.append("train s / eval s: wall-clock seconds per run spent training and evaluating (evaluation is counted "
                 f"apart; on a loaded machine they grow with the load: {SUMMARY} has cpu_seconds)")
    return lines


def comparison_table(
    summary: dict[str, Any], title: str | None = None, *, baseline: str = BASELINE, confidence: float = CONFIDENCE,
) -> Table:
    """One row per method: the objective's mean loss and accuracy (bits per token for whole-text targets), the
    paired difference to ``baseline`` with its interval and verdict, per-skill numbers, steps to the target
    loss, time; the legend (:func:`legend_lines`) is the caption."""
    methods = summary["methods"]
    first = next(iter(methods.values()))
    skills = list(first["final"]["per_skill"])
    n_seeds = len(summary["seeds"])
    whole_text = bool(summary.get("whole_text"))
    differences = _has_differences(summary, baseline)
    table = Table(
        title=title or f"{summary.get('name', summary['task'])}: {summary['steps']} steps, {n_seeds} seed(s)",
        caption="\n".join(legend_lines(summary, baseline=baseline, confidence=confidence)),
        caption_justify="left",
    )
    table.add_column("method", style="bold", no_wrap=True)
    table.add_column("loss", justify="right", no_wrap=True)
    table.add_column("bits/tok" if whole_text else "acc %", justify="right", no_wrap=True)
    if differences:
        table.add_column(f"Δloss vs {baseline} [{confidence:.0%} CI]", justify="right", no_wrap=True)
        table.add_column(f"vs {baseline}", justify="left", no_wrap=True)
    for skill in skills:
        table.add_column(skill, justify="right", no_wrap=True)
    if summary.get("target_loss"):
        table.add_column("→target", justify="right", no_wrap=True)
    table.add_column("train s", justify="right", no_wrap=True)
    table.add_column("eval s", justify="right", no_wrap=True)
    best = clear_best(summary, confidence=confidence)
    for name, result in methods.items():
        final = result["final"]
        seeds = len(result.get("per_seed") or []) or n_seeds
        row = [name + (" *" if name == best else ""), _pm(final["mean_loss"], final.get("mean_loss_std"), seeds=seeds)]
        if whole_text:
            row.append(_pm(final["mean_loss"], final.get("mean_loss_std"), scale=BITS_PER_NAT, seeds=seeds))
        else:
            row.append(_pm(final["mean_accuracy"], final.get("mean_accuracy_std"), digits=1, scale=100, seeds=seeds))
        if differences:
            if name == baseline:
                row += ["—", "baseline"]
            else:
                diff = difference_to_baseline(summary, name, baseline=baseline, confidence=confidence)
                row += [_delta(diff), verdict(diff)]
        for skill in skills:
            entry = final["per_skill"][skill]
            if whole_text:
                loss = entry["loss"]
                row.append("n/a" if loss is None else f"{loss:.3f} / {loss * BITS_PER_NAT:.2f}")
            else:
                acc = entry["accuracy"]
                row.append("n/a" if acc is None else f"{acc * 100:.1f}")
        if summary.get("target_loss"):
            stt = result.get("steps_to_target")
            row.append("never" if stt is None else f"{stt:.0f}")
        row.append(f"{result.get('train_seconds', 0.0):.0f}")
        row.append(f"{result.get('eval_seconds', 0.0):.0f}")
        table.add_row(*row)
    return table


def _fewer_or_more(reduction: float) -> str:
    """A relative reduction in steps, in words: 0.25 → "25.0% fewer", -1.5 → "150.0% more"."""
    return f"{100 * abs(reduction):.1f}% {'fewer' if reduction >= 0 else 'more'}"


def reference_lines(summary: dict[str, Any], reference: dict[str, Any] | None) -> list[str]:
    """Lines comparing our figures with the paper's (from a config's ``reference`` block), and steps to target.

    ``reference`` maps a metric of ``summary.methods.*.final`` (``mean_accuracy``, ``mean_loss``) or
    ``steps_reduction_vs_target_only`` to ``{method: value}``; ``source`` says where the figures come from.
    """
    lines: list[str] = []
    methods = summary["methods"]
    ours_reduction = {}
    base = methods.get("target-only", {}).get("steps_to_target")
    if base:
        for name, result in methods.items():
            if name != "target-only" and result.get("steps_to_target") is not None:
                ours_reduction[name] = 1.0 - result["steps_to_target"] / base
        for name, value in ours_reduction.items():
            lines.append(f"{name} reached the target loss in {100 * (1 - value):.0f}% of target-only's steps "
                         f"({_fewer_or_more(value)})")
    if not reference:
        return lines
    lines.append(f"paper: {reference.get('source', 'reference figures')}")
    for metric, values in reference.items():
        if metric in ("source", "note") or not isinstance(values, dict):
            continue
        for name, paper in values.items():
            if metric == "steps_reduction_vs_target_only":
                ours = ours_reduction.get(name)
                ours_text = "n/a" if ours is None else _fewer_or_more(ours)
                lines.append(f"  {name}: {100 * paper:.1f}% fewer steps than target-only in the paper; ours {ours_text}")
                continue
            ours = methods.get(name, {}).get("final", {}).get(metric)
            scale, unit = (100, "%") if "accuracy" in metric else (1, "")
            ours_text = "n/a" if ours is None else f"{ours * scale:.3f}{unit}"
            lines.append(f"  {metric} {name}: paper {paper * scale:.3f}{unit}, ours {ours_text}")
    if reference.get("note"):
        lines.append(f"  note: {reference['note']}")
    return lines


# ---- tables that fit a width (logs, narrow terminals) ------------------------------------------------
def output_width(is_terminal: bool, environ: dict[str, str] | None = None, default: int = 120) -> int | None:
    """The width for rich output: the terminal's (None) on a TTY, else ``COLUMNS`` when set, else ``default``."""
    environ = dict(os.environ) if environ is None else environ
    if is_terminal:
        return None
    columns = environ.get("COLUMNS", "").strip()
    return int(columns) if columns.isdigit() and int(columns) > 0 else default


def _cell_width(texts: list[str]) -> int:
    return max(len(text) for text in texts)


def comparison_tables(
    summary: dict[str, Any], width: int, title: str | None = None, *, baseline: str = BASELINE,
    confidence: float = CONFIDENCE,
) -> list[Table | Text]:
    """The comparison table laid out to ``width`` columns without ever shrinking method, loss or accuracy.

    When everything does not fit in one table, the first keeps method, loss and acc % (bits/tok) and as many
    of the next columns (the difference to the baseline and its verdict, →target, train s, eval s, then the
    per-skill columns) as fit; the rest follow in further tables, each with the method column again, and the
    legend (a Text, the last item) goes under the last, at the console's width. A skill name longer than 16 characters is folded onto several header lines
    (never cut); no other column is narrower than its widest value.
    """
    full = comparison_table(summary, title=title, baseline=baseline, confidence=confidence)
    columns = full.columns
    cells = [[str(c) for c in column.cells] for column in columns]
    headers = [str(column.header) for column in columns]
    n_skills = len(next(iter(summary["methods"].values()))["final"]["per_skill"])
    lead = 5 if _has_differences(summary, baseline) else 3  # method, loss, acc % [, Δloss, verdict]
    skill_index = list(range(lead, lead + n_skills))

    def natural(i: int) -> int:
        return max(len(headers[i]), max((len(text) for text in cells[i]), default=0))

    def table_width(widths: list[int]) -> int:
        return sum(w + 2 for w in widths) + len(widths) + 1  # padding 1 each side, one border per column + 1

    # the legend goes under the last table at the console's width, not as a caption (which wraps to the width of
    # its table: a narrow per-skill table would fold each legend line onto several)
    legend = Text(str(full.caption))
    if table_width([natural(i) for i in range(len(columns))]) <= width:
        full.caption = None
        return [full, legend]
    # a skill column (and the difference's) is as wide as its values, and its name up to 16 characters (longer
    # names fold onto several header lines)
    folding = skill_index + ([3] if lead == 5 else [])
    widths = {i: natural(i) for i in range(len(columns))}
    for i in folding:
        widths[i] = max(max((len(text) for text in cells[i]), default=0), min(len(headers[i]), 16))
    rest = [i for i in range(3, len(columns)) if i not in skill_index] + skill_index  # totals before skills
    groups: list[list[int]] = [[0, 1, 2]]
    for i in rest:
        if table_width([widths[j] for j in groups[-1] + [i]]) > width and len(groups[-1]) > 1:
            groups.append([0])
        groups[-1].append(i)

    def build(indices: list[int], title_text: str | None, caption: str | None) -> Table:
        table = Table(title=title_text, caption=caption, caption_justify="left")
        for i in indices:
            column = columns[i]
            if i in folding:
                table.add_column(column.header, justify="right", width=widths[i], overflow="fold")
            else:
                table.add_column(column.header, justify=column.justify, style=column.style, no_wrap=True,
                                 min_width=widths[i])
        for row in range(len(cells[0])):
            table.add_row(*(cells[i][row] for i in indices))
        return table

    per_skill = "final loss / bits per token per skill" if summary.get("whole_text") else "final accuracy % per skill"
    tables: list[Table | Text] = [build(groups[0], str(full.title), None)]
    for number, group in enumerate(groups[1:], start=2):
        what = per_skill if all(i in skill_index for i in group[1:]) else "continued"
        tables.append(build(group, f"{what} ({number}/{len(groups)})", None))
    return [*tables, legend]
