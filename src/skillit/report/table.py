"""The final comparison table (rich): one row per method, mean ± std over seeds."""

from __future__ import annotations

import os
from typing import Any

from rich.table import Table


def _pm(mean: float | None, std: float | None, digits: int = 3, scale: float = 1.0) -> str:
    if mean is None:
        return "n/a"
    if std is None:
        return f"{mean * scale:.{digits}f}"
    return f"{mean * scale:.{digits}f}±{std * scale:.{digits}f}"


def comparison_table(summary: dict[str, Any], title: str | None = None) -> Table:
    """Mean loss and accuracy over the objective skills, per-skill accuracy and steps to the target loss."""
    methods = summary["methods"]
    first = next(iter(methods.values()))
    skills = list(first["final"]["per_skill"])
    n_seeds = len(summary["seeds"])
    table = Table(
        title=title or f"{summary.get('name', summary['task'])}: {summary['steps']} steps, {n_seeds} seed(s)",
        caption=(
            "loss and acc %: mean over the objective skills (" + ", ".join(summary["objective_skills"])
            + "), ± std over seeds; skill columns: accuracy %; train s / eval s: wall-clock seconds per run"
            + " spent training and evaluating (evaluation is counted apart; on a loaded machine they grow with the"
            + " load: summary.json has cpu_seconds)"
            + (f"; →target: mean first step with loss ≤ {summary['target_loss']}" if summary.get("target_loss") else "")
        ),
    )
    table.add_column("method", style="bold", no_wrap=True)
    table.add_column("loss", justify="right", no_wrap=True)
    table.add_column("acc %", justify="right", no_wrap=True)
    for skill in skills:
        table.add_column(skill, justify="right", no_wrap=True)
    if summary.get("target_loss"):
        table.add_column("→target", justify="right", no_wrap=True)
    table.add_column("train s", justify="right", no_wrap=True)
    table.add_column("eval s", justify="right", no_wrap=True)
    best = min(
        (name for name in methods if methods[name]["final"]["mean_loss"] is not None),
        key=lambda name: methods[name]["final"]["mean_loss"],
        default=None,
    )
    for name, result in methods.items():
        final = result["final"]
        row = [
            name + (" *" if name == best and len(methods) > 1 else ""),
            _pm(final["mean_loss"], final.get("mean_loss_std")),
            _pm(final["mean_accuracy"], final.get("mean_accuracy_std"), digits=1, scale=100),
        ]
        for skill in skills:
            acc = final["per_skill"][skill]["accuracy"]
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


def comparison_tables(summary: dict[str, Any], width: int, title: str | None = None) -> list[Table]:
    """The comparison table laid out to ``width`` columns without ever shrinking method, loss or accuracy.

    When everything does not fit in one table, the first keeps method, loss and acc % and as many of the
    next columns (→target, train s, eval s, then the per-skill accuracies) as fit; the rest follow in further
    tables, each with the method column again. A skill name longer than 16 characters is folded onto several
    header lines (never cut); no other column is narrower than its widest value.
    """
    full = comparison_table(summary, title=title)
    columns = full.columns
    cells = [[str(c) for c in column.cells] for column in columns]
    headers = [str(column.header) for column in columns]
    n_skills = len(next(iter(summary["methods"].values()))["final"]["per_skill"])
    skill_index = list(range(3, 3 + n_skills))

    def natural(i: int) -> int:
        return max(len(headers[i]), max((len(text) for text in cells[i]), default=0))

    def table_width(widths: list[int]) -> int:
        return sum(w + 2 for w in widths) + len(widths) + 1  # padding 1 each side, one border per column + 1

    if table_width([natural(i) for i in range(len(columns))]) <= width:
        return [full]
    # a skill column is as wide as its values, and its name up to 16 characters (longer names fold)
    widths = {i: natural(i) for i in range(len(columns))}
    for i in skill_index:
        widths[i] = max(max((len(text) for text in cells[i]), default=0), min(len(headers[i]), 16))
    rest = [i for i in range(3, len(columns)) if i not in skill_index] + skill_index  # totals before skills
    groups: list[list[int]] = [[0, 1, 2]]
    for i in rest:
        if table_width([widths[j] for j in groups[-1] + [i]]) > width and len(groups[-1]) > 1:
            groups.append([0])
        groups[-1].append(i)

    def build(indices: list[int], title_text: str | None, caption: str | None) -> Table:
        table = Table(title=title_text, caption=caption)
        for i in indices:
            column = columns[i]
            if i in skill_index:
                table.add_column(column.header, justify="right", width=widths[i], overflow="fold")
            else:
                table.add_column(column.header, justify=column.justify, style=column.style, no_wrap=True,
                                 min_width=widths[i])
        for row in range(len(cells[0])):
            table.add_row(*(cells[i][row] for i in indices))
        return table

    tables = [build(groups[0], str(full.title), str(full.caption))]
    for number, group in enumerate(groups[1:], start=2):
        what = "final accuracy % per skill" if all(i in skill_index for i in group[1:]) else "continued"
        tables.append(build(group, f"{what} ({number}/{len(groups)})", None))
    return tables
