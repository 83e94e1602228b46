"""Pictures of a skills graph: the matrix as a heatmap, and its edges as a drawing.

Rows are training skills (sources), columns evaluation skills (targets): an arrow i → j means training on i
lowers the loss on j. The drawing shows off-diagonal edges with A[i, j] > ``threshold``, the arrow width
proportional to the weight; skills that are both a row and a column are one node.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.table import Table

from skillit.graph.skills_graph import SkillsGraph
from skillit.graph.uncertainty import uncertainty_of
from skillit.report.plots import _pyplot, _save


def _title(graph: SkillsGraph) -> str:
    method = graph.provenance.get("method") or graph.provenance.get("source") or "skills graph"
    cost = graph.provenance.get("cost", {})
    seeds = cost.get("seeds") or 1
    kept = "" if seeds == 1 else (f", {seeds} seeds, stable edges" if (graph.provenance.get("uncertainty") or {}).get(
        "stable_only", True) else f", {seeds} seeds, mean")
    if cost.get("train_steps") is not None:
        return f"{method} ({cost['train_steps']} train steps{kept})"
    return str(method)


def plot_heatmap(graph: SkillsGraph, path: str | Path, *, title: str | None = None) -> Path:
    """A heatmap of A (rows: training skills, columns: evaluation skills), values written in the cells."""
    plt = _pyplot()
    fig = heatmap_figure(graph, title=title)
    path = _save(fig, Path(path))
    plt.close(fig)
    return path


def heatmap_figure(graph: SkillsGraph, *, title: str | None = None):
    """The heatmap of :func:`plot_heatmap` as a matplotlib figure."""
    plt = _pyplot()
    matrix = graph.matrix
    k, m = matrix.shape
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * m, 0.8 + 0.6 * k))
    limit = float(np.abs(matrix).max()) or 1.0
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_xticks(range(m), graph.eval_skills, rotation=45, ha="right")
    ax.set_yticks(range(k), graph.train_skills)
    ax.set_xlabel("evaluation skill j (loss lowered)")
    ax.set_ylabel("training skill i")
    if k * m <= 400:
        for i in range(k):
            for j in range(m):
                ax.text(j, i, f"{matrix[i, j]:.2g}", ha="center", va="center", fontsize=7,
                        color="white" if abs(matrix[i, j]) > 0.6 * limit else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(title or _title(graph), fontsize=9)
    return fig


def draw_graph(graph: SkillsGraph, path: str | Path, *, threshold: float = 0.0, title: str | None = None) -> Path:
    """Draw the off-diagonal edges with weight > ``threshold`` (arrow width ∝ weight), nodes on a circle."""
    import networkx as nx

    plt = _pyplot()
    nodes = list(dict.fromkeys([*graph.train_skills, *graph.eval_skills]))
    drawn = nx.DiGraph()
    drawn.add_nodes_from(nodes)
    for i in graph.train_skills:
        for j in graph.eval_skills:
            weight = graph.weight(i, j)
            if i != j and weight > threshold:
                drawn.add_edge(i, j, weight=weight)
    position = nx.circular_layout(drawn)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    colours = ["#9ecae1" if n in graph.train_skills else "#fdae6b" for n in nodes]
    nx.draw_networkx_nodes(drawn, position, ax=ax, node_color=colours, node_size=900)
    nx.draw_networkx_labels(drawn, position, ax=ax, font_size=8)
    weights = [d["weight"] for _, _, d in drawn.edges(data=True)]
    if weights:
        top = max(weights)
        nx.draw_networkx_edges(drawn, position, ax=ax, width=[0.5 + 3.5 * w / top for w in weights],
                               arrowsize=14, node_size=900, connectionstyle="arc3,rad=0.12")
    ax.set_title(title or f"{_title(graph)}: {len(weights)} edge(s) > {threshold:g}", fontsize=9)
    ax.axis("off")
    path = _save(fig, Path(path))
    plt.close(fig)
    return path


def graph_table(graph: SkillsGraph):
    """A rich table of the matrix (rows: training skills) for the terminal."""
    table = Table(title=f"skills graph: {_title(graph)}  (row i → column j: training on i lowers the loss on j)")
    table.add_column("train \\ eval", style="bold")
    for name in graph.eval_skills:
        table.add_column(name, justify="right")
    for i, name in enumerate(graph.train_skills):
        table.add_row(name, *(f"{v:.3g}" for v in graph.matrix[i]))
    return table


def seeds_note(cost: dict) -> str:
    """`` at N learner seeds (N× one learning)`` for a graph cost summed over N > 1 seeds, else ``""``."""
    seeds = cost.get("seeds") or 1
    return f" at {seeds} learner seeds ({seeds}× one learning)" if seeds > 1 else ""


def graph_lines(graph: SkillsGraph) -> list[str]:
    """Cost, density warning and agreement with the planted graph, as printable lines."""
    lines = []
    cost = graph.provenance.get("cost", {})
    if cost:
        ratio = cost.get("ratio_to_training_run")
        lines.append(
            f"cost: {cost.get('train_steps')} train steps{seeds_note(cost)}"
            + (f" ({ratio:.2f}× one training run)" if ratio is not None else "")
            + f", {cost.get('eval_examples')} evaluated examples, {cost.get('wall_seconds', 0):.0f} s"
        )
    diagnostics = graph.provenance.get("diagnostics", {})
    density = diagnostics.get("density")
    if density:
        lines.append(f"density: {density['edges']}/{density['possible']} off-diagonal edges ({density['density']:.2f})")
        if density.get("warning"):
            lines.append(f"warning: {density['warning']}")
    planted = diagnostics.get("vs_planted")
    if planted and "precision" in planted:
        fmt = lambda v: "n/a" if v is None else f"{v:.2f}"  # noqa: E731
        lines.append(
            f"vs the task's planted prerequisites: precision {fmt(planted['precision'])}, recall "
            f"{fmt(planted['recall'])}, weight correlation {fmt(planted['pearson'])} (off-diagonal edges)"
        )
    return lines + uncertainty_lines(graph)


MAX_TARGET_LINES = 20  # one line per target column; beyond this many, a count


def uncertainty_lines(graph: SkillsGraph) -> list[str]:
    """For a graph learned at several seeds: the interval, how many edges are stable, and per target column its
    stable helpers (mean [interval]) and the helpers that are not stable, with a warning for a target that has
    no stable helper. A graph learned at one seed: a hint that ``--seeds`` measures this."""
    uncertainty = uncertainty_of(graph)
    if uncertainty is None:
        if graph.provenance.get("cost") and graph.provenance.get("method"):  # learned at one seed
            return ["one learner seed: no per-edge interval; `skillit graph CONFIG --seeds 0-2` tells measured "
                    "edges from probe noise"]
        return []
    recorded = graph.provenance.get("uncertainty") or {}
    off = ~uncertainty.self_edges()
    stable_only = recorded.get("stable_only", True)
    lines = [
        f"uncertainty: {uncertainty.n} learner seeds ({', '.join(map(str, uncertainty.seeds))}), "
        f"{100 * uncertainty.level:g}% t-interval per edge; {int((uncertainty.stable & off).sum())} of "
        f"{int(off.sum())} off-diagonal edges stable (interval excludes 0); "
        + ("the policies use the stable graph (unstable edges set to 0, self-edges kept at their mean)"
           if stable_only else "the policies use the mean over seeds (stable_only: false)")
    ]
    targets = [t for t in graph.provenance.get("targets") or uncertainty.eval_skills if t in uncertainty.eval_skills]
    for target in targets[:MAX_TARGET_LINES]:
        helpers = uncertainty.helpers(target)
        stable = [h for h in helpers if h[4]]
        unstable = [h for h in helpers if not h[4]]
        text = lambda h: f"{h[0]} {h[1]:.2g} [{h[2]:.2g}, {h[3]:.2g}]"  # noqa: E731
        line = f"{target}: stable helpers " + (", ".join(map(text, stable)) if stable else "none")
        if unstable:
            line += "; not stable: " + ", ".join(map(text, unstable[:3])) + (" …" if len(unstable) > 3 else "")
        lines.append(line)
        if not stable:
            if not stable_only:
                effect = "the mean over seeds keeps its helpers, but each may be probe noise"
            elif target in uncertainty.train_skills:
                effect = (f"no other skill gains weight from its loss; Skill-It reaches {target} through its "
                          "self-edge only")
            else:
                effect = "no training skill gains weight from its loss"
            lines.append(f"warning: target {target} has no stable helper at {uncertainty.n} seeds: {effect}; "
                         "more seeds narrow the interval"
                         + (" (graph_learning.stable_only: false uses the mean)" if stable_only else ""))
    if len(targets) > MAX_TARGET_LINES:
        lines.append(f"… and {len(targets) - MAX_TARGET_LINES} more target column(s) (graph.json: uncertainty)")
    return lines


__all__ = ["draw_graph", "graph_lines", "graph_table", "plot_heatmap", "seeds_note", "uncertainty_lines"]
