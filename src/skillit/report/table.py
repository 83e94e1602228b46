"""The final comparison table (rich): one row per method, mean ± std over seeds."""

from __future__ import annotations

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
            + "), ± std over seeds; skill columns: accuracy %; train s / eval s: seconds per run spent training"
            + " and evaluating (evaluation is counted apart)"
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
