"""Where the training budget went: per run and round, the share of the examples drawn on junk skills and on
skills with no edge into the objective (issue 29: "spends ≤ 5 % of its examples on junk after the first round").

What it reads from a finished run directory (:class:`~skillit.records.layout.RunLayout`):

* ``metrics.jsonl``: each evaluation record's cumulative ``examples_seen`` per training skill at its ``step``;
* ``summary.json``: ``objective_skills`` and ``junk_skills``, the junk the task declared (``task.params.junk``,
  :mod:`skillit.tasks.junk`; a run made before the summary recorded them: the names in ``config.yaml``'s
  ``task.params.junk``);
* ``config.yaml``: ``training.round_steps`` (the round grid) and each method's ``params.graph``.

**Rounds.** Records at steps t_0 < t_1 < … < t_K carry cumulative counts n_i(t_k); the examples of skill i drawn
in the interval (t_{k−1}, t_k] are d_i(k) = n_i(t_k) − n_i(t_{k−1}) (n_i = 0 before the first record). Round r of
the config's grid covers the steps (r·R, (r+1)·R], R = ``training.round_steps``, and an interval belongs to the
round that holds its end step: r(k) = ⌈t_k / R⌉ − 1. This is exact when the evaluations fall on the round ends
(``eval_every`` a divisor of ``round_steps``, as in the shipped benchmarks); otherwise an interval that straddles a
round end counts wholly in the later round, so "after the first round" may include first-round examples but never
leaves later ones out. The grid is the config's, not the sampler's: Aioli's probe sub-rounds are rounds to the
sampler (the records' ``round`` counts them) but lie inside one round of the grid. Without a round length the
records' own ``round`` labels the intervals.

**Shares.** Per round r, with D_r = Σ_{k: r(k)=r} Σ_i d_i(k) the examples drawn in it,

    junk share J_r = Σ_{k: r(k)=r} Σ_{i ∈ junk} d_i(k) / D_r,      no-edge share E_r = (the same over i ∈ N) / D_r,

and the same sums over all rounds (the whole run) and over the rounds r ≥ 1 (*after the first round*, the
criterion's measure). Over seeds: the mean and the sample standard deviation (ddof = 1).

**No edge.** N is the set of training skills that are not themselves objective skills and whose row of the graph
has no entry A[i, j] > 0 for an objective skill j (an *edge* is A[i, j] > 0, as in
:func:`skillit.graph.diagnostics.edges`), or that the graph has no row for: the graph measured no way for them to
help the objective. The graph of a method is the one its ``params.graph`` names: ``learn`` → the run folder's
``graph/graph.json``; ``identity`` → A = I; ``builtin:NAME``; ``prerequisites`` → the task's planted graph; a file
(absolute, else the file ``summary.json`` ``graph_cost`` recorded for the method, else relative to the current
folder). A method without a graph of its own (stratified, ODM, …) is measured against the experiment's graph: the
run folder's ``graph/graph.json`` when there is one, else the first method's graph in the config's order; with
none, the no-edge share is n/a.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skillit.errors import DataError, SkillitError
from skillit.graph import builtin_graph
from skillit.graph.skills_graph import SkillsGraph
from skillit.records.layout import GRAPH, RunLayout
from skillit.tasks import get_task, parse_task_params

JUNK_SKILLS = "junk_skills"  # summary.json: the junk skills the task declared (skillit.tasks.junk.JUNK_SKILLS)
GRAPH_FILE = "graph.json"  # graph/graph.json: the graph a run learned (skillit.experiment.graph_learning)


# ---- one run: pure functions of its records ---------------------------------------------------------------
@dataclass(frozen=True)
class Spend:
    """Examples drawn in a span of a run: in all, on junk skills, and on skills with no edge into the objective
    (``None``: no graph to tell)."""

    examples: int
    junk: int
    no_edge: int | None

    @property
    def junk_share(self) -> float | None:
        return self.junk / self.examples if self.examples else None

    @property
    def no_edge_share(self) -> float | None:
        return self.no_edge / self.examples if self.examples and self.no_edge is not None else None


@dataclass(frozen=True)
class RunSpend:
    """One run's spending: per round of the grid (``rounds``: round index → :class:`Spend`), over the whole run
    and after the first round (rounds ≥ 1)."""

    rounds: dict[int, Spend]
    total: Spend
    after_first: Spend


def drawn_per_round(records: Sequence[Mapping[str, Any]], round_steps: int | None) -> dict[int, dict[str, int]]:
    """{round: {skill: examples drawn in it}} from a run's evaluation records (the module docstring's d_i(k),
    summed per round r(k) = ⌈t_k / R⌉ − 1 with R = ``round_steps``; None: the records' own ``round``).

    Records without ``examples_seen`` (a run recorded before it existed) give {}. Intervals that draw nothing (the
    step-0 record) are left out.
    """
    rows = sorted((r for r in records if r.get("examples_seen")), key=lambda r: int(r["step"]))
    out: dict[int, dict[str, int]] = {}
    before: dict[str, int] = {}
    for row in rows:
        seen = {name: int(n) for name, n in row["examples_seen"].items()}
        drawn = {name: n - before.get(name, 0) for name, n in seen.items()}
        before = seen
        if not any(drawn.values()):
            continue
        step = int(row["step"])
        index = (max(0, math.ceil(step / round_steps) - 1) if round_steps else int(row.get("round") or 0))
        into = out.setdefault(index, {})
        for name, n in drawn.items():
            into[name] = into.get(name, 0) + n
    return out


def spend(drawn: Mapping[str, int], junk: Sequence[str], no_edge: Sequence[str] | None) -> Spend:
    """The :class:`Spend` of ``drawn`` ({skill: examples}) for the junk and no-edge skills given."""
    return Spend(int(sum(drawn.values())), int(sum(drawn.get(name, 0) for name in junk)),
                 None if no_edge is None else int(sum(drawn.get(name, 0) for name in no_edge)))


def run_spend(records: Sequence[Mapping[str, Any]], junk: Sequence[str], no_edge: Sequence[str] | None,
              round_steps: int | None) -> RunSpend | None:
    """A run's :class:`RunSpend` (None when its records carry no ``examples_seen``)."""
    per_round = drawn_per_round(records, round_steps)
    if not per_round:
        return None

    def summed(rounds: Sequence[int]) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in rounds:
            for name, n in per_round[r].items():
                out[name] = out.get(name, 0) + n
        return out

    order = sorted(per_round)
    return RunSpend(
        rounds={r: spend(per_round[r], junk, no_edge) for r in order},
        total=spend(summed(order), junk, no_edge),
        after_first=spend(summed([r for r in order if r >= 1]), junk, no_edge),
    )


def no_edge_skills(graph: SkillsGraph, train_skills: Sequence[str], objective_skills: Sequence[str]) -> list[str]:
    """The training skills with no edge into the objective (module docstring): not an objective skill, and no
    A[i, j] > 0 over the objective skills j the graph has (or no row in the graph at all)."""
    columns = [name for name in objective_skills if name in graph.eval_skills]
    rows = set(graph.train_skills)
    out = []
    for name in train_skills:
        if name in objective_skills:
            continue
        if name not in rows or not any(graph.weight(name, j) > 0 for j in columns):
            out.append(name)
    return out


# ---- over seeds --------------------------------------------------------------------------------------------
def mean_sd(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    """Mean and sample sd (ddof = 1) of the values that are not None; sd None with fewer than two."""
    kept = [float(v) for v in values if v is not None]
    if not kept:
        return None, None
    return float(np.mean(kept)), (float(np.std(kept, ddof=1)) if len(kept) > 1 else None)


@dataclass(frozen=True)
class MethodSpend:
    """One method's spending over its seeds: the shares' mean and sd, per round and overall."""

    method: str
    seeds: tuple[int, ...]
    graph: str  # which graph the no-edge share used ("n/a: ..." when none)
    no_edge_skills: tuple[str, ...] | None
    junk: tuple[float | None, float | None]  # whole run: (mean, sd)
    junk_after_first: tuple[float | None, float | None]
    junk_after_first_max: float | None  # the largest seed's: the criterion holds "in every seed" when this does
    no_edge: tuple[float | None, float | None]
    no_edge_after_first: tuple[float | None, float | None]
    rounds: tuple[int, ...] = ()
    junk_per_round: tuple[tuple[float | None, float | None], ...] = ()
    no_edge_per_round: tuple[tuple[float | None, float | None], ...] = ()


def method_spend(method: str, runs: Mapping[int, RunSpend], graph: str = "n/a",
                 no_edge: Sequence[str] | None = None) -> MethodSpend:
    """Mean ± sd over the seeds of ``runs`` ({seed: RunSpend}); per round over the seeds that reached it."""
    seeds = tuple(sorted(runs))
    rounds = tuple(sorted({r for run in runs.values() for r in run.rounds}))

    def over(values: list[float | None]) -> tuple[float | None, float | None]:
        return mean_sd(values)

    return MethodSpend(
        method=method, seeds=seeds, graph=graph, no_edge_skills=None if no_edge is None else tuple(no_edge),
        junk=over([runs[s].total.junk_share for s in seeds]),
        junk_after_first=over([runs[s].after_first.junk_share for s in seeds]),
        junk_after_first_max=max((v for v in (runs[s].after_first.junk_share for s in seeds) if v is not None),
                                 default=None),
        no_edge=over([runs[s].total.no_edge_share for s in seeds]),
        no_edge_after_first=over([runs[s].after_first.no_edge_share for s in seeds]),
        rounds=rounds,
        junk_per_round=tuple(over([runs[s].rounds[r].junk_share for s in seeds if r in runs[s].rounds])
                             for r in rounds),
        no_edge_per_round=tuple(over([runs[s].rounds[r].no_edge_share for s in seeds if r in runs[s].rounds])
                                for r in rounds),
    )


# ---- a run directory --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GraphUsed:
    """The graph a method's no-edge share is measured against: ``label`` says which (``n/a: why`` for none)."""

    label: str
    no_edge: tuple[str, ...] | None


@dataclass(frozen=True)
class Budget:
    """A run directory's budget view: the declared junk, the round length, and per method its graph and runs."""

    junk_skills: tuple[str, ...]
    round_steps: int | None
    graphs: dict[str, GraphUsed]
    runs: dict[str, dict[int, RunSpend]] = field(default_factory=dict)  # method → seed → its spending

    @property
    def shown(self) -> bool:
        """Whether there is anything to show: declared junk, or a graph that leaves some training skill without
        an edge into the objective (a run with neither has no budget view: its outputs stay as they were)."""
        has_runs = any(self.runs.values())
        return has_runs and (bool(self.junk_skills) or any(g.no_edge for g in self.graphs.values()))

    def methods(self) -> list[MethodSpend]:
        """Per method (the summary's order) with recorded draws: its :class:`MethodSpend`."""
        out = []
        for method, runs in self.runs.items():
            if runs:
                used = self.graphs.get(method, GraphUsed("n/a: no graph", None))
                out.append(method_spend(method, runs, used.label, used.no_edge))
        return out


def declared_junk(summary: Mapping[str, Any], config: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The junk skills of a run: ``summary.json`` ``junk_skills``, else (a run made before the summary recorded
    them) the names of ``config.yaml``'s ``task.params.junk`` entries (only the data task declares junk)."""
    if summary.get(JUNK_SKILLS):
        return tuple(str(name) for name in summary[JUNK_SKILLS])
    task = (config or {}).get("task") or {}
    entries = (task.get("params") or {}).get("junk") if isinstance(task, Mapping) else None
    if not isinstance(entries, list):
        return ()
    return tuple(str(e["name"]) for e in entries if isinstance(e, Mapping) and e.get("name"))


def _graph_spec(config: Mapping[str, Any] | None, method: str) -> str | None:
    entry = ((config or {}).get("methods") or {}).get(method) or {}
    params = entry.get("params") if isinstance(entry, Mapping) else None
    spec = (params or {}).get("graph") if isinstance(params, Mapping) else None
    return spec if isinstance(spec, str) and spec else None


def _load_graph(spec: str, method: str | None, layout: RunLayout, summary: Mapping[str, Any],
                config: Mapping[str, Any] | None) -> SkillsGraph | str:
    """The graph ``spec`` names (``identity`` is handled by the caller), or why it cannot be read."""
    try:
        if spec == "learn":
            path = layout.graph_dir / GRAPH_FILE
            return SkillsGraph.load(path) if path.is_file() else f"{GRAPH}/{GRAPH_FILE} is missing"
        if spec.startswith("builtin:"):
            return builtin_graph(spec.split(":", 1)[1])
        if spec == "prerequisites":
            task = (config or {}).get("task") or {}
            name = task.get("name")
            maker = get_task(str(name)).prerequisites if name else None
            if maker is None:
                return f"task {name!r} has no planted graph"
            return maker(parse_task_params(str(name), task.get("params")))
        cost = (summary.get("graph_cost") or {}).get(method) or {}
        candidates = [Path(spec)] + [Path(str(cost[key])) for key in ("source", "path") if cost.get(key)]
        found = next((p for p in candidates if p.suffix == ".json" and p.is_file()), None)
        if found is None:
            return f"graph file {spec!r} not found (a .json beside the run, or give it as an absolute path)"
        return SkillsGraph.load(found)
    except SkillitError as exc:
        return str(exc)


def graph_used(method: str, layout: RunLayout, summary: Mapping[str, Any], config: Mapping[str, Any] | None,
               train_skills: Sequence[str], objective: Sequence[str]) -> GraphUsed:
    """The graph ``method``'s no-edge share is measured against (module docstring) and its no-edge skills."""
    spec = _graph_spec(config, method)
    if spec is not None:
        if spec == "identity":
            return GraphUsed("own: identity", tuple(n for n in train_skills if n not in objective))
        graph = _load_graph(spec, method, layout, summary, config)
        if isinstance(graph, str):
            return GraphUsed(f"n/a: {graph}", None)
        return GraphUsed(f"own: {_short(spec)}", tuple(no_edge_skills(graph, train_skills, objective)))
    learned = layout.graph_dir / GRAPH_FILE
    if learned.is_file():
        graph = _load_graph("learn", None, layout, summary, config)
        if not isinstance(graph, str):
            return GraphUsed(f"the run's {GRAPH}/{GRAPH_FILE}", tuple(no_edge_skills(graph, train_skills, objective)))
    for other in ((config or {}).get("methods") or {}):
        spec = _graph_spec(config, other)
        if spec is None or spec == "identity":
            continue
        graph = _load_graph(spec, other, layout, summary, config)
        if not isinstance(graph, str):
            return GraphUsed(f"{other}'s ({_short(spec)})", tuple(no_edge_skills(graph, train_skills, objective)))
    return GraphUsed("n/a: no graph in the run", None)


def _short(spec: str) -> str:
    """A graph spec as the tables show it: a file by its last two path parts."""
    if spec in ("learn", "identity", "prerequisites") or spec.startswith("builtin:"):
        return spec
    return "/".join(Path(spec).parts[-2:])


def read_budget(run_dir: str | Path) -> Budget:
    """The budget view of a finished run directory (``summary.json``, ``metrics.jsonl``, ``config.yaml``, graphs).

    A directory without ``metrics.jsonl`` or whose records carry no ``examples_seen`` has no runs in the view
    (``Budget.shown`` is then false); a graph that cannot be read makes that method's no-edge share n/a, naming
    why, and an unreadable ``config.yaml`` leaves the records' own rounds and no graph: neither stops the reader
    (a broken ``summary.json`` or ``metrics.jsonl`` does, as in every reader of a run).
    """
    layout = RunLayout(run_dir)
    summary = layout.read_summary()
    try:
        config = layout.read_config()
    except DataError:  # an unreadable config.yaml: no round grid, no graphs named; the junk from the summary
        config = None
    training = (config or {}).get("training") or {}
    round_steps = training.get("round_steps") if isinstance(training, Mapping) else None
    round_steps = int(round_steps) if isinstance(round_steps, int) and round_steps > 0 else None
    junk = declared_junk(summary, config)
    objective = [str(n) for n in summary.get("objective_skills") or []]
    grouped: dict[tuple[str, int], list[dict[str, Any]]] = {}
    if layout.metrics.is_file():
        for line in layout.read_metrics():
            if "method" in line and "seed" in line:
                grouped.setdefault((str(line["method"]), int(line["seed"])), []).append(line)
    train_skills: list[str] = list(summary.get("pool_sizes") or {})
    if not train_skills:
        train_skills = list(dict.fromkeys(name for lines in grouped.values() for line in lines
                                          for name in (line.get("examples_seen") or {})))
    methods = list(summary["methods"])
    graphs = {m: graph_used(m, layout, summary, config, train_skills, objective) for m in methods}
    runs: dict[str, dict[int, RunSpend]] = {}
    for method in methods:
        mine = {}
        for (name, seed), lines in sorted(grouped.items()):
            if name == method:
                found = run_spend(lines, junk, graphs[method].no_edge, round_steps)
                if found is not None:
                    mine[seed] = found
        runs[method] = mine
    return Budget(junk, round_steps, graphs, runs)


__all__ = [
    "Budget", "GraphUsed", "JUNK_SKILLS", "MethodSpend", "RunSpend", "Spend", "declared_junk", "drawn_per_round",
    "graph_used", "mean_sd", "method_spend", "no_edge_skills", "read_budget", "run_spend", "spend",
]
