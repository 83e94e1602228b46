"""Plots of a run directory: per-skill accuracy and loss curves per method, and weight trajectories.

When the targets are whole texts (``summary.json`` ``whole_text``: language modelling, where exact-match
accuracy stays at 0), ``bits.png`` (bits per token = loss / ln 2) replaces ``accuracy.png``.

Curves are the mean over seeds with a ±1 std band. A weight plot is drawn for every method whose mixture
changed during the run (read from the records, not from the method's name).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skillit.records.budget import MethodSpend
from skillit.records.layout import ACCURACY_PLOT, BITS_PLOT, LOSS_PLOT, WEIGHTS_PLOT
from skillit.records.metrics import RunRecord
from skillit.records.summary import BITS_PER_NAT
from skillit.utils.io import atomic_write_bytes


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    """Write the figure as PNG atomically (a temp file renamed into place); the path back."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    atomic_write_bytes(path, buffer.getvalue())
    return path


def _curves(
    runs: Sequence[RunRecord], method: str, metric: str, skill: str, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mine = [run for run in runs if run.method == method]
    steps = np.array([r["step"] for r in mine[0].records])
    values = scale * np.array(
        [[np.nan if r[metric].get(skill) is None else r[metric][skill] for r in run.records[: len(steps)]] for run in mine],
        dtype=float,
    )
    return steps, np.nanmean(values, axis=0), np.nanstd(values, axis=0)


def is_online(run: RunRecord) -> bool:
    """Whether the mixture in force changed during the run."""
    weights = [tuple(r["weights"].values()) for r in run.records if r.get("weights")]
    return any(not np.allclose(w, weights[0], atol=1e-9) for w in weights[1:])


def plot_metric(runs: Sequence[RunRecord], metric: str, path: Path, ylabel: str, scale: float = 1.0) -> Path:
    plt = _pyplot()
    fig = metric_figure(runs, metric, ylabel, scale=scale)
    _save(fig, path)
    plt.close(fig)
    return path


LINE_STYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
MARKS_PER_CURVE = 8


def method_style(index: int, n_points: int, n_methods: int) -> dict[str, Any]:
    """The ``ax.plot`` style of the ``index``-th method: its own line style and marker, markers on about
    :data:`MARKS_PER_CURVE` points staggered between methods, so that curves lying on each other stay apart
    to the eye; each later method is drawn thinner and on top, so the wider line beneath still shows around it."""
    every = max(1, n_points // MARKS_PER_CURVE)
    return {
        "linestyle": LINE_STYLES[index % len(LINE_STYLES)],
        "marker": MARKERS[index % len(MARKERS)],
        "markevery": (index * every // max(1, n_methods) % every, every),
        "markersize": 4,
        "linewidth": 1.2 + 0.8 * (n_methods - 1 - index) / (n_methods - 1) if n_methods > 1 else 1.5,
        "zorder": 3 + index,
        "alpha": 0.9,
    }


def metric_figure(runs: Sequence[RunRecord], metric: str, ylabel: str, *, scale: float = 1.0):
    """One panel per skill: ``metric`` (times ``scale``) over steps per method, mean over seeds with a ±1 std band;
    each method in its own line style and marker (:func:`method_style`)."""
    plt = _pyplot()
    methods = list(dict.fromkeys(run.method for run in runs))
    skills = list(runs[0].records[0][metric])
    cols = min(len(skills), 3)
    rows = int(np.ceil(len(skills) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False, sharex=True)
    for ax, skill in zip(axes.flat, skills):
        for index, method in enumerate(methods):
            steps, mean, std = _curves(runs, method, metric, skill, scale)
            (line,) = ax.plot(steps, mean, label=method, **method_style(index, len(steps), len(methods)))
            ax.fill_between(steps, mean - std, mean + std, color=line.get_color(), alpha=0.15, linewidth=0)
        ax.set_title(skill)
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(skills):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_weights(runs: Sequence[RunRecord], path: Path) -> Path | None:
    """Stacked mixture weights over steps (mean over seeds), one panel per method whose mixture changed."""
    plt = _pyplot()
    methods = [m for m in dict.fromkeys(run.method for run in runs) if any(is_online(r) for r in runs if r.method == m)]
    if not methods:
        return None
    fig = weights_figure(runs, methods)
    _save(fig, path)
    plt.close(fig)
    return path


def weights_figure(runs: Sequence[RunRecord], methods: Sequence[str]):
    """Stacked mixture weights in force over steps (mean over seeds), one panel per method in ``methods``."""
    plt = _pyplot()
    cols = min(len(methods), 3)
    rows = int(np.ceil(len(methods) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.2 * rows), squeeze=False)
    for ax in list(axes.flat)[len(methods):]:
        ax.axis("off")
    for ax, method in zip(axes.flat, methods):
        mine = [run for run in runs if run.method == method]
        skills = list(mine[0].records[0]["weights"])
        steps = np.array([r["step"] for r in mine[0].records])
        w = np.array([[[r["weights"][s] for s in skills] for r in run.records[: len(steps)]] for run in mine]).mean(axis=0)
        ax.stackplot(steps, w.T, labels=skills, step="pre")
        ax.set_title(f"{method} (mean over {len(mine)} seed(s))")
        ax.set_xlabel("step")
        ax.set_ylabel("weight in force")
        ax.set_ylim(0, 1)
    axes.flat[len(methods) - 1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def budget_figure(methods: Sequence[MethodSpend], *, junk: bool, no_edge: bool):
    """Where the budget went, per round: the share of each round's examples drawn on junk (one panel, when the
    task declared junk) and on skills with no edge into the objective (another, when some method has a graph),
    in percent, mean over seeds with a ±1 sd band; rounds numbered from 1 (:mod:`skillit.records.budget`)."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    panels = [(name, label) for name, label, shown in (
        ("junk_per_round", "examples on junk (%)", junk),
        ("no_edge_per_round", "examples on skills with no edge (%)", no_edge)) if shown]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.8 * len(panels), 3.2), squeeze=False)
    for ax, (name, label) in zip(axes.flat, panels):
        for index, found in enumerate(methods):
            values = getattr(found, name)
            rounds = np.array(found.rounds) + 1
            mean = np.array([np.nan if m is None else 100 * m for m, _ in values], dtype=float)
            sd = np.array([0.0 if s is None else 100 * s for _, s in values], dtype=float)
            if np.isnan(mean).all():
                continue
            (line,) = ax.plot(rounds, mean, label=found.method, **method_style(index, len(rounds), len(methods)))
            ax.fill_between(rounds, mean - sd, mean + sd, color=line.get_color(), alpha=0.15, linewidth=0)
        if name == "junk_per_round":
            ax.axhline(5.0, color="black", lw=0.8, ls=":")  # the criterion of issue 29
        ax.set_xlabel("round")
        ax.set_ylabel(label)
        ax.set_ylim(0, max(10.0, ax.get_ylim()[1]))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes.flat[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def plot_run(out_dir: str | Path, runs: Sequence[RunRecord], summary: dict[str, Any] | None = None) -> list[Path]:
    out = Path(out_dir)
    if summary is not None and summary.get("whole_text"):
        second = plot_metric(runs, "losses", out / BITS_PLOT, "bits per token (loss / ln 2)", scale=BITS_PER_NAT)
    else:
        second = plot_metric(runs, "accuracies", out / ACCURACY_PLOT, "exact-match accuracy")
    written = [second, plot_metric(runs, "losses", out / LOSS_PLOT, "answer loss")]
    weights = plot_weights(runs, out / WEIGHTS_PLOT)
    if weights is not None:
        written.append(weights)
    return written
