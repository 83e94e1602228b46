"""A leaderboard of methods × benchmarks from finished run directories (``skillit compare RUN_DIR ...``).

Every run directory (what ``skillit run`` / ``skillit bench`` writes) is one benchmark: its ``summary.json``
gives each method's final objective loss and accuracy per seed, and its costs; ``metrics.jsonl`` gives the
per-evaluation records (cost fields a driver may add, such as ``signal_seconds``).

Per benchmark and method, with n seeds:

* loss, accuracy: mean ± sample standard deviation over seeds (ddof = 1; a single seed has no std). Where
  the targets are whole texts (``summary.json`` ``whole_text``, language modelling) accuracy is all but always
  0, and the accuracy column shows bits per token instead (loss ÷ ln 2).
* the paired difference to the baseline (``stratified``), paired by seed over the seeds both ran:
  d_s = L_method(s) − L_baseline(s), d̄ = mean d_s, and the two-sided Student-t interval
  d̄ ± t_{(1+c)/2, n−1} · s_d / √n (c = 0.95 by default, s_d the sample std of the d_s). Negative = lower
  loss than the baseline. Needs n ≥ 2 paired seeds; otherwise no interval.
* win / tie / loss against the baseline: win when the whole interval is below 0, loss when it is above 0,
  tie when it contains 0 (the per-benchmark tables say better / tie / worse, and "1 seed: no interval" where
  there is no interval, :func:`skillit.report.stats.verdict`; the overall table counts W / T / L). A *clear*
  win (the overall table's "wins > seed sd") also needs |d̄| larger than the larger of the two methods'
  seed-to-seed sample standard deviations of the loss.
* steps to target (when the config sets ``target_loss``): per seed, the first evaluation step at which the
  objective's mean loss is ≤ the target (``summary.json`` ``steps_to_target``), the paper's fine-tuning
  measure, which keeps telling methods apart after every final loss has saturated near 0. Shown as the mean
  over seeds when every seed reached it, else as ``r/n reached``. *Faster by more than the seed sd*: the
  method reached the target on every seed and its mean saving against the baseline, mean_s (S_base(s) −
  S_method(s)), is larger than the larger of the two methods' seed-to-seed standard deviations of the steps.
  A baseline seed that never reached the target counts as the run's length (a lower bound on its steps,
  so the saving is understated, never overstated).
* rank: 1 = lowest mean loss among the benchmark's methods, compared as the table shows them, rounded to
  ``rank_decimals`` (3) decimals: a saturated benchmark's 10⁻⁵-nat differences are below anything the seeds
  resolve, and ranking them would turn noise into rank points. Ties share the average rank. The mean rank
  averages a method's ranks over the benchmarks it ran on, so two methods' mean ranks are comparable only
  when they ran on the same benchmarks against the same rivals. The *common rank* is the comparable one: each
  benchmark is re-ranked among only the methods that ran on every benchmark given, and those ranks are
  averaged; a method missing from some benchmark has none. The overall table is sorted by it, then by the
  mean rank.
* one benchmark in several directories (a method run later with ``skillit run CONFIG --methods NEW``): the
  directories are merged into one benchmark, after checking that they ran the same set-up (the
  ``config.yaml`` sections ``task``, ``setting``, ``target_skills``, ``target_loss``, ``model``,
  ``training`` and ``warm_start`` agree wherever both name a field, and so do the data files' fingerprints in
  ``manifest.json``) and that a method present in more than one of them has the same loss on every seed
  they share (the runs are seeded, so a re-run is identical);
  otherwise it is an error naming the field or method (``--replace``: a later directory's method replaces
  the earlier one's, for a method re-run with new parameters; never the baseline, which every other method
  is paired with). The merged benchmark's wall time is the sum. Seeded runs repeat on one machine, not
  across CPUs, so when differing losses refuse a merge and the directories' ``manifest.json`` name different
  machines (``machine``: CPU, its vector kernels, cores, torch, Python), the message says so; a merged
  benchmark whose directories ran on different machines says so in its heading, since its wall times (and
  any re-run pairs) are then not comparable.
* headroom captured (``--oracle a,b``: the hindsight oracle's methods, e.g. target-only and static target
  shares, or a ``skillit search`` test merged in): per benchmark, L_oracle = the lowest mean loss of the named
  methods present and the baseline, and the headroom H = L_baseline − L_oracle. When H is larger than the
  baseline's seed-to-seed std, each method's share of it is (L_baseline − L_method) / H = −d̄ / H, with the
  interval −[high, low] / H from the paired difference's interval (the oracle's mean taken as fixed, so the
  interval carries the method's seed noise, not the oracle's); otherwise the benchmark has no headroom and no
  share is given. The overall table averages each method's share over the benchmarks with headroom.
* costs: extra training steps (steps outside the compared runs: the graph learning of ``graph: learn``,
  summary ``graph_cost``, summed over its learner seeds and marked "graph at N seeds: N× one learning",
  plus an offline search that chose a static mixture, summary ``offline_cost``, which ``skillit search``
  writes), evaluation examples per run, time per run relative to the
  baseline's, the share of a run's time spent outside the optimiser steps (evaluation + signals), and the
  signals' seconds when the records carry them (``signal_seconds`` in ``metrics.jsonl`` records: a number or
  ``{signal: seconds}``, cumulative; absent = not reported).
* where the budget went (:mod:`skillit.records.budget`), after a benchmark's table when the task declared junk
  skills or a graph leaves some training skill without an edge into the objective (nothing otherwise): per
  method, the share of its examples drawn on junk and on skills with no edge, mean ± sd over seeds, over the run,
  after the first round (with the largest seed's share: issue 29 asks ≤ 5 % junk there in every seed) and per
  round.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from skillit.errors import DataError, did_you_mean
from skillit.records.budget import MethodSpend, RunSpend, method_spend, read_budget
from skillit.records.layout import CONFIG, MANIFEST, RunLayout
from skillit.records.metrics import read_metrics
from skillit.records.summary import BITS_PER_NAT
from skillit.report.stats import PairedDifference, verdict
from skillit.report.stats import paired_difference as seed_difference
from skillit.utils.io import atomic_write_bytes, atomic_write_text
from skillit.utils.machine import describe_machine, machine_difference

BASELINE = "stratified"
RANK_DECIMALS = 3  # losses are ranked as the tables print them
SETUP_SECTIONS = ("task", "setting", "target_skills", "target_loss", "model", "training", "warm_start")


# ---- what a run directory holds ------------------------------------------------------------------------
@dataclass(frozen=True)
class MethodRuns:
    """One method's finished runs on one benchmark, keyed by seed."""

    method: str
    loss: dict[int, float | None]
    accuracy: dict[int, float | None]
    train_seconds: dict[int, float] = field(default_factory=dict)
    eval_seconds: dict[int, float] = field(default_factory=dict)
    eval_examples: dict[int, int] = field(default_factory=dict)
    extra_steps: int = 0
    graph_seeds: int = 1  # learner seeds behind the graph cost in extra_steps (N seeds: N learnings)
    signal_seconds: float | None = None  # mean per run; None when the records do not report it
    epochs: dict[str, float | None] = field(default_factory=dict)
    steps_to_target: dict[int, int | None] = field(default_factory=dict)  # empty when no target_loss is set
    spend: dict[int, RunSpend] = field(default_factory=dict)  # per seed: examples on junk / no-edge skills
    graph: str = "n/a"  # the graph of the no-edge share (skillit.records.budget.GraphUsed.label)
    no_edge: tuple[str, ...] | None = None  # the training skills with no edge into the objective (None: no graph)


@dataclass(frozen=True)
class BenchmarkRuns:
    name: str
    path: str
    steps: int
    seeds: tuple[int, ...]
    methods: dict[str, MethodRuns]
    wall_seconds: float | None = None
    jobs: int | None = None
    target_loss: float | None = None
    setup: dict[str, Any] = field(default_factory=dict)  # SETUP_SECTIONS of config.yaml + data_fingerprint
    # manifest.json's machine of each directory merged into this benchmark (None: not recorded)
    machines: tuple[dict[str, Any] | None, ...] = (None,)
    whole_text: bool = False  # summary.json whole_text: whole-text targets, bits per token instead of accuracy
    junk_skills: tuple[str, ...] = ()  # the junk the task declared (summary.json junk_skills)
    budget_shown: bool = False  # junk, or a graph that leaves a skill without an edge: the budget table is printed
    round_steps: int | None = None  # config.yaml training.round_steps: the budget table's round grid


def load_run_dir(path: str | Path) -> BenchmarkRuns:
    """Read a finished run directory (``summary.json`` and, when present, ``metrics.jsonl``)."""
    folder = Path(path)
    layout = RunLayout(folder)
    summary = layout.read_summary()
    summary_path = layout.summary
    manifest = layout.read_manifest()
    machine = manifest.get("machine")  # None: a directory made before the machine was recorded
    methods_data = summary["methods"]
    signals = _signal_seconds(layout.metrics)
    graph_cost = summary.get("graph_cost") or {}
    offline_cost = summary.get("offline_cost") or {}
    target_loss = summary.get("target_loss")
    budget = read_budget(folder)
    methods: dict[str, MethodRuns] = {}
    for method, entry in methods_data.items():
        per_seed = entry.get("per_seed") or []
        if not per_seed:
            raise DataError(f"{summary_path}: method {method!r} has no per_seed results")
        seed_signals = [signals[(method, s["seed"])] for s in per_seed if (method, s["seed"]) in signals]
        methods[method] = MethodRuns(
            method=method,
            loss={int(s["seed"]): s.get("mean_loss") for s in per_seed},
            accuracy={int(s["seed"]): s.get("mean_accuracy") for s in per_seed},
            train_seconds={int(s["seed"]): float(s.get("train_seconds") or 0.0) for s in per_seed},
            eval_seconds={int(s["seed"]): float(s.get("eval_seconds") or 0.0) for s in per_seed},
            eval_examples={int(s["seed"]): int(s.get("eval_examples") or 0) for s in per_seed},
            extra_steps=int((graph_cost.get(method) or {}).get("train_steps") or 0)
            + int((offline_cost.get(method) or {}).get("train_steps") or 0),
            graph_seeds=int((graph_cost.get(method) or {}).get("seeds") or 1),
            signal_seconds=float(np.mean(seed_signals)) if seed_signals else None,
            epochs=dict(entry.get("epochs") or {}),
            steps_to_target=({int(s["seed"]): (None if s.get("steps_to_target") is None else int(s["steps_to_target"]))
                              for s in per_seed} if target_loss is not None else {}),
            spend=dict(budget.runs.get(method) or {}),
            graph=budget.graphs[method].label, no_edge=budget.graphs[method].no_edge,
        )
    return BenchmarkRuns(
        name=str(summary.get("name") or folder.name),
        path=str(folder),
        steps=int(summary.get("steps") or 0),
        seeds=tuple(int(s) for s in summary.get("seeds", [])),
        methods=methods,
        wall_seconds=summary.get("wall_seconds"),
        jobs=summary.get("jobs"),
        target_loss=None if target_loss is None else float(target_loss),
        setup=_setup(folder, manifest),
        machines=(machine if isinstance(machine, Mapping) else None,),
        whole_text=bool(summary.get("whole_text")),
        junk_skills=budget.junk_skills, budget_shown=budget.shown, round_steps=budget.round_steps,
    )


def _setup(folder: Path, manifest: Mapping[str, Any]) -> dict[str, Any]:
    """What must agree before two directories merge: the set-up sections of ``config.yaml`` and the data
    files' fingerprints of ``manifest.json`` (each absent when its file is)."""
    setup: dict[str, Any] = {}
    config = RunLayout(folder).read_config()
    if config is not None:
        setup.update({key: config[key] for key in SETUP_SECTIONS if key in config})
    fingerprint = manifest.get("data_fingerprint")
    if fingerprint:
        setup["data_fingerprint"] = fingerprint
    return setup


def _other_machine(earlier: Sequence[BenchmarkRuns], other: BenchmarkRuns) -> str:
    """A clause for a refusal: ``other`` ran on another machine than an earlier directory (empty when not
    known to: equal or unrecorded machines)."""
    for mine in (m for bench in earlier for m in bench.machines):
        difference = machine_difference(mine, other.machines[0])
        if difference:
            return (f"; they ran on different machines ({difference}), and seeded runs repeat on one machine, "
                    "not across CPUs: run every method of a benchmark on one machine")
    return ""


def _first_difference(a: Any, b: Any, where: str) -> str | None:
    """The path of the first field both name with different values (fields only one names are skipped)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in a:
            if key in b:
                found = _first_difference(a[key], b[key], f"{where}.{key}" if where else str(key))
                if found:
                    return found
        return None
    return None if a == b else where


def merge_benchmarks(
    benchmarks: Sequence[BenchmarkRuns], *, replace: bool = False, baseline: str = BASELINE
) -> list[BenchmarkRuns]:
    """One entry per benchmark name, in first-seen order; directories of the same benchmark merged.

    Raises ``DataError`` when the directories ran different set-ups, or the same method with different
    results (module docstring). With ``replace``, a method in a later directory replaces the same method of
    an earlier one instead (a method re-run with new parameters) — except the baseline: every method of the
    earlier directories is paired with it, so differing baseline runs are always an error.
    """
    groups: dict[str, list[BenchmarkRuns]] = {}
    for bench in benchmarks:
        groups.setdefault(bench.name, []).append(bench)
    merged = []
    for name, group in groups.items():
        first = group[0]
        methods = dict(first.methods)
        for index, other in enumerate(group[1:], start=1):
            if other.steps != first.steps:
                raise DataError(f"benchmark {name!r}: {first.path} ran {first.steps} steps and {other.path} "
                                f"{other.steps}; only runs of the same set-up can share a leaderboard")
            different = _first_difference(first.setup, other.setup, "")
            if different:
                where = MANIFEST if different.startswith("data_fingerprint") else CONFIG
                raise DataError(f"benchmark {name!r}: {first.path} and {other.path} ran different set-ups "
                                f"({where} field {different!r}); compare them as separate benchmarks by "
                                "giving each its own name")
            for method, runs in other.methods.items():
                if method not in methods:
                    methods[method] = runs
                    continue
                kept = methods[method]
                shared = set(kept.loss) & set(runs.loss)
                if any(not _same(kept.loss[s], runs.loss[s]) for s in shared):
                    if method == baseline:
                        raise DataError(
                            f"benchmark {name!r}: the baseline {method!r} ran in {first.path} and {other.path} with "
                            "different losses on the same seed (a different baseline spec or code"
                            f"{_other_machine(group[:index], other)}); every other "
                            "method is paired with it, so it is never replaced: re-run one directory's methods "
                            "with the other's baseline"
                        )
                    if not replace:
                        raise DataError(
                            f"benchmark {name!r}: method {method!r} ran in {first.path} and {other.path} with "
                            f"different losses on the same seed{_other_machine(group[:index], other)}; leave it out of one "
                            "of them, or give --replace to keep the later directory's runs"
                        )
                    methods[method] = runs
                    continue
                if set(runs.loss) - set(kept.loss):  # seeds only the other directory ran
                    methods[method] = _union(kept, runs)
        walls = [b.wall_seconds for b in group]
        merged.append(BenchmarkRuns(
            name=name, path=" + ".join(b.path for b in group), steps=first.steps,
            seeds=tuple(sorted({s for b in group for s in b.seeds})), methods=methods,
            wall_seconds=float(sum(walls)) if all(w is not None for w in walls) else None,
            jobs=first.jobs if all(b.jobs == first.jobs for b in group) else None,
            target_loss=first.target_loss, setup=first.setup,
            machines=tuple(m for b in group for m in b.machines), whole_text=first.whole_text,
            junk_skills=tuple(dict.fromkeys(n for b in group for n in b.junk_skills)),
            budget_shown=any(b.budget_shown for b in group), round_steps=first.round_steps,
        ))
    return merged


def distinct_machines(bench: BenchmarkRuns) -> list[dict[str, Any]]:
    """The different recorded machines a (merged) benchmark's directories ran on, in first-seen order."""
    found: list[dict[str, Any]] = []
    for machine in bench.machines:
        if machine and all(machine_difference(machine, seen) for seen in found):
            found.append(dict(machine))
    return found


def _same(a: float | None, b: float | None) -> bool:
    """Equal losses of a seeded re-run (None: diverged; NaN equals NaN)."""
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= 1e-9 * max(1.0, abs(a))


def _union(kept: MethodRuns, runs: MethodRuns) -> MethodRuns:
    """A method's seeds from two directories (the kept one's values win on shared seeds)."""
    def both(a: Mapping, b: Mapping) -> dict:
        return {**b, **a}

    return MethodRuns(
        method=kept.method, loss=both(kept.loss, runs.loss), accuracy=both(kept.accuracy, runs.accuracy),
        train_seconds=both(kept.train_seconds, runs.train_seconds), eval_seconds=both(kept.eval_seconds, runs.eval_seconds),
        eval_examples=both(kept.eval_examples, runs.eval_examples), extra_steps=kept.extra_steps,
        graph_seeds=kept.graph_seeds,
        signal_seconds=kept.signal_seconds, epochs=kept.epochs,
        steps_to_target=both(kept.steps_to_target, runs.steps_to_target),
        spend=both(kept.spend, runs.spend), graph=kept.graph, no_edge=kept.no_edge,
    )


def _signal_seconds(path: Path) -> dict[tuple[str, int], float]:
    """Per (method, seed): the signals' seconds of the last record that reports ``signal_seconds``."""
    if not path.is_file():
        return {}
    out: dict[tuple[str, int], float] = {}
    for record in read_metrics(path):
        value = record.get("signal_seconds")
        if value is None:
            continue
        total = float(sum(value.values())) if isinstance(value, Mapping) else float(value)
        out[(str(record.get("method")), int(record.get("seed", 0)))] = total  # cumulative: the last one wins
    return out


# ---- statistics ------------------------------------------------------------------------------------------
def mean_std(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    """Mean and sample std (ddof = 1) of the finite values; std None with fewer than 2 of them."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return None, None
    return float(np.mean(finite)), (float(np.std(finite, ddof=1)) if len(finite) > 1 else None)


def paired_difference(
    method: Mapping[int, float | None], baseline: Mapping[int, float | None], confidence: float = 0.95
) -> PairedDifference:
    """d_s = method[s] − baseline[s] over the seeds both have (finite); mean and Student-t interval
    (``skillit.report.stats``, shared with report.html); an empty difference (``n = 0``) when no seed is shared."""
    difference = seed_difference(method, baseline, confidence)
    return difference if difference is not None else PairedDifference(None, None, 0, confidence)


def _finite(value: Any) -> bool:
    return value is not None and math.isfinite(float(value))


def average_ranks(scores: Mapping[str, float | None], decimals: int | None = None) -> dict[str, float]:
    """Rank 1 = lowest score; equal scores share the mean of their ranks; a missing score ranks last.

    ``decimals``: scores are compared rounded to this many decimals (None: exactly).
    """
    names = list(scores)
    values = [(float(scores[n]) if decimals is None else round(float(scores[n]), decimals))
              if _finite(scores[n]) else math.inf for n in names]
    return {name: float(rank) for name, rank in zip(names, stats.rankdata(values, method="average"))}


# ---- the leaderboard -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    benchmark: str
    method: str
    seeds: int
    loss: float | None
    loss_std: float | None
    accuracy: float | None
    accuracy_std: float | None
    difference: PairedDifference
    rank: float
    extra_steps: int
    eval_examples: float
    time_ratio: float | None  # seconds per run / the baseline's
    overhead_share: float | None  # (evaluation + signals) / (training + evaluation)
    signal_seconds: float | None
    epochs: dict[str, float | None]
    clear_win: bool = False  # mean Δ < 0 and |mean Δ| > the larger seed-to-seed std of the two methods
    steps_to_target: float | None = None  # mean over seeds; None unless every seed reached the target
    reached: tuple[int, int] = (0, 0)  # (seeds that reached the target, seeds); (0, 0) without a target
    faster: bool = False  # reached on every seed, and saved more steps than the larger seed sd of the steps
    headroom: tuple[float, float | None, float | None] | None = None  # share captured (mean, low, high); None: none
    graph_seeds: int = 1  # learner seeds behind the graph cost in extra_steps


@dataclass(frozen=True)
class Oracle:
    """A benchmark's hindsight oracle: the best of the ``--oracle`` methods (and the baseline) by mean loss."""

    method: str
    loss: float
    headroom: float  # L_baseline − L_oracle (nats)
    has_headroom: bool  # headroom > the baseline's seed-to-seed std


@dataclass(frozen=True)
class Overall:
    method: str
    benchmarks: int
    wins: int
    ties: int
    losses: int
    mean_rank: float
    clear_wins: int = 0  # benchmarks won by more than the seed-to-seed standard deviation
    faster_wins: int = 0  # benchmarks where it reached the target faster by more than the seed sd of the steps
    common_rank: float | None = None  # mean rank among the methods run on every benchmark; None if not one
    mean_headroom: float | None = None  # mean share of the oracle's headroom over the benchmarks that have some


@dataclass(frozen=True)
class Leaderboard:
    baseline: str
    confidence: float
    benchmarks: tuple[BenchmarkRuns, ...]
    rows: tuple[Row, ...]
    overall: tuple[Overall, ...]  # sorted by common rank, then mean rank
    rank_decimals: int | None = RANK_DECIMALS  # losses were ranked rounded to this many decimals
    oracles: Mapping[str, Oracle] = field(default_factory=dict)  # benchmark name → its oracle (with --oracle)


def build_leaderboard(
    benchmarks: Sequence[BenchmarkRuns], *, baseline: str = BASELINE, confidence: float = 0.95,
    rank_decimals: int | None = RANK_DECIMALS, oracle: Sequence[str] | None = None,
) -> Leaderboard:
    """Rows per benchmark × method, and per method its wins/ties/losses and mean rank over benchmarks.

    ``oracle``: the methods whose best (with the baseline) is each benchmark's hindsight oracle; every method's
    share of its headroom is then computed (the module docstring has the definition).
    """
    names = [b.name for b in benchmarks]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        paths = [b.path for b in benchmarks if b.name == duplicated[0]]
        raise DataError(
            f"benchmark {duplicated[0]!r} appears in more than one run directory ({', '.join(paths)}); give one "
            "directory per benchmark"
        )
    if not 0 < confidence < 1:
        raise DataError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    oracles = _oracles(benchmarks, baseline, oracle) if oracle else {}
    rows: list[Row] = []
    means_per_benchmark = []  # {method: mean loss} per benchmark, for the ranks and the common ranks
    for bench in benchmarks:
        base = bench.methods.get(baseline)
        means = {m: mean_std(list(r.loss.values()))[0] for m, r in bench.methods.items()}
        means_per_benchmark.append(means)
        ranks = average_ranks(means, rank_decimals)
        base_seconds = _seconds_per_run(base) if base is not None else None
        base_std = mean_std(list(base.loss.values()))[1] if base is not None else None
        for method, runs in bench.methods.items():
            loss, loss_std = mean_std(list(runs.loss.values()))
            acc, acc_std = mean_std(list(runs.accuracy.values()))
            difference = (
                paired_difference(runs.loss, base.loss, confidence)
                if base is not None and method != baseline else PairedDifference(None, None, 0, confidence)
            )
            clear = (difference.mean is not None and difference.mean < 0 and loss_std is not None
                     and base_std is not None and -difference.mean > max(loss_std, base_std))
            seconds = _seconds_per_run(runs)
            spent = float(np.mean([runs.train_seconds[s] + runs.eval_seconds[s] for s in runs.train_seconds])) \
                if runs.train_seconds else 0.0
            outside = float(np.mean(list(runs.eval_seconds.values()))) if runs.eval_seconds else 0.0
            outside += runs.signal_seconds or 0.0
            to_target, reached, faster = _steps_to_target(runs, base, bench.steps, method == baseline)
            found = oracles.get(bench.name)
            headroom = None
            if found is not None and found.has_headroom and difference.mean is not None:
                h = found.headroom
                headroom = (-difference.mean / h, None if difference.high is None else -difference.high / h,
                            None if difference.low is None else -difference.low / h)
            elif found is not None and found.has_headroom and method == baseline:
                headroom = (0.0, None, None)
            rows.append(Row(
                benchmark=bench.name, method=method, seeds=len(runs.loss), loss=loss, loss_std=loss_std,
                accuracy=acc, accuracy_std=acc_std, difference=difference, rank=ranks[method],
                extra_steps=runs.extra_steps,
                eval_examples=float(np.mean(list(runs.eval_examples.values()))) if runs.eval_examples else 0.0,
                time_ratio=seconds / base_seconds if base_seconds and seconds is not None else None,
                overhead_share=outside / spent if spent > 0 else None,
                signal_seconds=runs.signal_seconds, epochs=runs.epochs, clear_win=clear,
                steps_to_target=to_target, reached=reached, faster=faster, headroom=headroom,
                graph_seeds=runs.graph_seeds,
            ))
    common = _common_ranks(means_per_benchmark, rank_decimals)
    overall = []
    for method in dict.fromkeys(r.method for r in rows):
        mine = [r for r in rows if r.method == method]
        outcomes = [r.difference.outcome for r in mine]
        shares = [r.headroom[0] for r in mine if r.headroom is not None]
        overall.append(Overall(
            method=method, benchmarks=len(mine), wins=outcomes.count("win"), ties=outcomes.count("tie"),
            losses=outcomes.count("loss"), mean_rank=float(np.mean([r.rank for r in mine])),
            clear_wins=sum(r.clear_win for r in mine), faster_wins=sum(r.faster for r in mine),
            common_rank=common.get(method), mean_headroom=float(np.mean(shares)) if shares else None,
        ))
    overall.sort(key=lambda o: (o.common_rank is None, o.common_rank or 0.0, o.mean_rank, o.method))
    return Leaderboard(baseline, confidence, tuple(benchmarks), tuple(rows), tuple(overall), rank_decimals, oracles)


def _oracles(benchmarks: Sequence[BenchmarkRuns], baseline: str, oracle: Sequence[str]) -> dict[str, Oracle]:
    """Per benchmark with the baseline: the lowest mean loss among the oracle's methods present and the baseline."""
    everywhere = {m for b in benchmarks for m in b.methods}
    unknown = [m for m in oracle if m not in everywhere]
    if unknown:
        raise DataError(f"--oracle names method {unknown[0]!r}, which no run directory has; "
                        f"{did_you_mean(unknown[0], sorted(everywhere))}")
    found: dict[str, Oracle] = {}
    for bench in benchmarks:
        base = bench.methods.get(baseline)
        if base is None:
            continue
        base_loss, base_std = mean_std(list(base.loss.values()))
        if base_loss is None:
            continue
        candidates = {m: mean_std(list(bench.methods[m].loss.values()))[0] for m in oracle if m in bench.methods}
        candidates[baseline] = base_loss
        best = min((m for m in candidates if candidates[m] is not None), key=lambda m: candidates[m])
        headroom = base_loss - float(candidates[best])
        found[bench.name] = Oracle(best, float(candidates[best]), headroom,
                                   headroom > 0 and headroom > (base_std or 0.0))
    return found


def _common_ranks(means: Sequence[Mapping[str, float | None]], decimals: int | None) -> dict[str, float]:
    """Per method run on every benchmark: its mean rank when each benchmark ranks only those methods.

    ``means``: one {method: mean loss} per benchmark.
    """
    everywhere = [m for m in means[0] if all(m in b for b in means)] if means else []
    if not everywhere:
        return {}
    ranks = [average_ranks({m: b[m] for m in everywhere}, decimals) for b in means]  # one {method: rank} each
    return {m: float(np.mean([r[m] for r in ranks])) for m in everywhere}


def _steps_to_target(
    runs: MethodRuns, base: MethodRuns | None, run_steps: int, is_baseline: bool
) -> tuple[float | None, tuple[int, int], bool]:
    """(mean steps to the target when every seed reached it, (reached, seeds), faster by more than the seed sd).

    A baseline seed that never reached the target counts as ``run_steps`` (a lower bound), see the module
    docstring.
    """
    if not runs.steps_to_target:
        return None, (0, 0), False
    steps = runs.steps_to_target
    reached = sum(v is not None for v in steps.values())
    mean = float(np.mean(list(steps.values()))) if reached == len(steps) else None
    if mean is None or is_baseline or base is None or not base.steps_to_target:
        return mean, (reached, len(steps)), False
    seeds = sorted(set(steps) & set(base.steps_to_target))
    if len(seeds) < 2:
        return mean, (reached, len(steps)), False
    mine = np.array([float(steps[s]) for s in seeds])  # (n,)
    theirs = np.array([float(run_steps if base.steps_to_target[s] is None else base.steps_to_target[s])
                       for s in seeds])  # (n,) censored at the run's length
    saving = float(np.mean(theirs - mine))
    faster = saving > 0 and saving > max(float(np.std(mine, ddof=1)), float(np.std(theirs, ddof=1)))
    return mean, (reached, len(steps)), faster


def _seconds_per_run(runs: MethodRuns) -> float | None:
    if not runs.train_seconds:
        return None
    total = [runs.train_seconds[s] + runs.eval_seconds.get(s, 0.0) for s in runs.train_seconds]
    return float(np.mean(total)) + (runs.signal_seconds or 0.0)


# ---- output ----------------------------------------------------------------------------------------------
def _pm(mean: float | None, std: float | None, digits: int = 3, scale: float = 1.0) -> str:
    if mean is None:
        return "n/a"
    text = f"{mean * scale:.{digits}f}"
    return text if std is None else f"{text} ± {std * scale:.{digits}f}"


def _difference(d: PairedDifference) -> str:
    """``-0.012 [-0.020, -0.004]``; the mean alone without an interval (one seed: the verdict column says so)."""
    if d.mean is None:
        return "—"
    if d.low is None:
        return f"{d.mean:+.3f}"
    return f"{d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}]"


def _verdict(row: Row, baseline: str) -> str:
    """better / tie / worse against the baseline (:func:`skillit.report.stats.verdict`), ``baseline`` for the
    baseline itself, — without a shared seed."""
    if row.method == baseline:
        return "baseline"
    return "—" if row.difference.mean is None else verdict(row.difference)


def _legend(board: Leaderboard) -> str:
    """The per-benchmark tables' legend: one sentence per column."""
    level = round(board.confidence * 100)
    base = board.baseline
    text = (
        f"Per benchmark: loss: final objective loss (nats per answer token); acc %: exact-match accuracy "
        f"(bits/tok instead, the loss ÷ ln 2, where the targets are whole texts and accuracy is all but always 0); "
        f"± the seed-to-seed sample std (none with one seed); Δloss vs {base}: per seed, the method's loss − {base}'s at "
        f"the same seed, mean [{level}% Student-t interval]; vs {base}: better / worse = the interval lies wholly "
        "below / above 0 (beyond the seed noise), tie = it contains 0, 1 seed: no interval = no verdict; rank: "
        "1 = lowest mean loss"
    )
    if any(bench.target_loss is not None for bench in board.benchmarks):
        text += ("; steps to loss ≤ target: mean first step over seeds, r/n reached when some seed did not, "
                 "(faster) = faster than the baseline by more than the seed sd")
    if board.oracles:
        text += "; headroom captured: the share of L_baseline − L_oracle this method closed"
    return text + (f"; extra steps: training outside the compared runs (graph learning, offline search); time × {base}: "
                   f"seconds per run ÷ {base}'s; eval+signal share: of a run's time; signals s: seconds computing "
                   "the policy's signals; epochs: examples seen ÷ pool size, over the training skills.")


def _share(headroom: tuple[float, float | None, float | None] | None) -> str:
    if headroom is None:
        return "—"
    mean, low, high = headroom
    if low is None or high is None:
        return f"{100 * mean:.0f}%"
    return f"{100 * mean:.0f}% [{100 * low:.0f}, {100 * high:.0f}]"


def _epochs(epochs: Mapping[str, float | None]) -> str:
    values = [v for v in epochs.values() if v is not None]
    if not values:
        return "—"
    return f"{min(values):.2f}–{max(values):.2f}"


def _target(row: Row) -> str:
    reached, seeds = row.reached
    if row.steps_to_target is None:
        return f"{reached}/{seeds} reached"
    return f"{row.steps_to_target:.0f}" + (" (faster)" if row.faster else "")


def _machines_lines(board: Leaderboard) -> list[str]:
    """Where the runs ran (``manifest.json``'s machine): one line when every recorded directory agrees, else
    one per machine with its benchmarks; nothing when no directory recorded one."""
    found: list[tuple[dict[str, Any], list[str]]] = []
    for bench in board.benchmarks:
        for machine in distinct_machines(bench):
            entry = next((e for e in found if not machine_difference(e[0], machine)), None)
            if entry is None:
                found.append((machine, [bench.name]))
            elif bench.name not in entry[1]:
                entry[1].append(bench.name)
    if not found:
        return []
    if len(found) == 1:
        return ["", f"Machine: {describe_machine(found[0][0])}."]
    return ["", "Machines (seeded runs repeat on one machine, not across them):", ""] + [
        f"- {describe_machine(machine)}: {', '.join(names)}" for machine, names in found]


def to_markdown(board: Leaderboard) -> str:
    """The leaderboard as Markdown: an overall table, then one table per benchmark."""
    level = round(board.confidence * 100)
    n_common = sum(o.common_rank is not None for o in board.overall)
    oracle = bool(board.oracles)
    lines = [
        f"## Overall: {len(board.benchmarks)} benchmark(s), baseline `{board.baseline}`",
        "",
        (f"| method | benchmarks | W / T / L vs {board.baseline} | wins > seed sd | faster to target > seed sd | "
         "common rank | mean rank |" + (" headroom captured (mean) |" if oracle else "")),
        "|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if oracle else ""),
    ]
    for o in board.overall:
        common = "—" if o.common_rank is None else f"{o.common_rank:.2f}"
        share = ("" if not oracle else
                 " — |" if o.mean_headroom is None else f" {100 * o.mean_headroom:.0f}% |")
        lines.append(f"| {o.method} | {o.benchmarks} | {o.wins} / {o.ties} / {o.losses} | {o.clear_wins} | "
                     f"{o.faster_wins} | {common} | {o.mean_rank:.2f} |{share}")
    lines += [
        "",
        (f"W / T / L: the paired {level}% interval of the loss difference lies below 0 / contains 0 / lies above 0 "
         "(paired by seed, Student t); wins > seed sd: benchmarks where the mean loss difference is negative and "
         "larger in size than the larger of the two methods' seed-to-seed (sample) standard deviations; faster to "
         "target > seed sd: benchmarks with a target loss where the method reached it on every seed and its mean "
         "saving of steps is larger than the larger seed sd of the two methods' steps (a baseline seed that never "
         "reached it counts as the run's length); rank 1 = lowest mean loss of the benchmark"
         + ("" if board.rank_decimals is None else f" at {board.rank_decimals} decimals (as printed)")
         + f", ties share the mean rank; common rank: the mean rank when every benchmark ranks only the {n_common} method(s) run on all "
         f"{len(board.benchmarks)} benchmarks (— for the others), the one ranking that compares like with like; "
         "mean rank: over the benchmarks the method ran on, against whichever methods ran there."
         + ("" if not oracle else
            f" Headroom captured: (L_{board.baseline} − L_method) / (L_{board.baseline} − L_oracle), L_oracle the "
            "lowest mean loss of the oracle's methods and the baseline (per benchmark below), averaged over the "
            f"{sum(o.has_headroom for o in board.oracles.values())} benchmark(s) whose headroom exceeds the "
            "baseline's seed sd.")),
    ]
    lines += _machines_lines(board)
    for bench in board.benchmarks:
        rows = sorted((r for r in board.rows if r.benchmark == bench.name),
                      key=lambda r: (r.rank, math.inf if r.loss is None else r.loss, r.method))
        wall = f"; wall {bench.wall_seconds:.0f} s with {bench.jobs} job(s)" if bench.wall_seconds is not None else ""
        machines = distinct_machines(bench)
        if len(machines) > 1:
            wall += f"; run on {len(machines)} different machines"
        target = bench.target_loss is not None
        found = board.oracles.get(bench.name)
        lines += [
            "",
            f"### {bench.name} ({len(bench.seeds)} seed(s), {bench.steps} steps{wall})",
            "",
        ]
        if found is not None:
            lines += [
                f"Oracle: `{found.method}` ({found.loss:.3f}); headroom {found.headroom:+.3f} nats"
                + ("" if found.has_headroom else f", within {board.baseline}'s seed sd: no headroom, no shares"),
                "",
            ]
        lines += [
            f"| method | loss | {'bits/tok' if bench.whole_text else 'acc %'} | Δloss vs {board.baseline} [{level}% CI] "
            f"| vs {board.baseline} | rank | "
            + (f"steps to loss ≤ {bench.target_loss:g} | " if target else "")
            + (f"headroom captured [{level}% CI] | " if found is not None else "")
            + "extra steps | eval examples / run | time × " + board.baseline + " | eval+signal share | signals s | "
            "epochs (min–max) |",
            "|---|---:|---:|---:|:---:|---:|" + ("---:|" if target else "") + ("---:|" if found is not None else "")
            + "---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            second = (_pm(r.loss, r.loss_std, 3, BITS_PER_NAT) if bench.whole_text else
                      _pm(r.accuracy, r.accuracy_std, 1, 100))
            lines.append(
                f"| {r.method} | {_pm(r.loss, r.loss_std)} | {second} | "
                f"{_difference(r.difference)} | {_verdict(r, board.baseline)} | {r.rank:g} | "
                + (f"{_target(r)} | " if target else "")
                + (f"{_share(r.headroom)} | " if found is not None else "")
                + f"{r.extra_steps}{_seeds_note(r.graph_seeds)} | {r.eval_examples:.0f} | "
                f"{'—' if r.time_ratio is None else f'{r.time_ratio:.2f}'} | "
                f"{'—' if r.overhead_share is None else f'{100 * r.overhead_share:.0f}%'} | "
                f"{'—' if r.signal_seconds is None else f'{r.signal_seconds:.1f}'} | {_epochs(r.epochs)} |"
            )
        lines += budget_lines(bench, [r.method for r in rows])
    if board.benchmarks:
        lines += ["", _legend(board)]
    return "\n".join(lines) + "\n"


def _percent(value: tuple[float | None, float | None]) -> str:
    """A share's mean ± sd over seeds in percent: ``3.1% ± 0.4`` (``—`` when not measured)."""
    mean, sd = value
    if mean is None:
        return "—"
    return f"{100 * mean:.1f}%" + ("" if sd is None else f" ± {100 * sd:.1f}")


def _after_first(found: MethodSpend) -> str:
    """The junk share after round 1, with the largest seed's when there are several seeds."""
    text = _percent(found.junk_after_first)
    most = found.junk_after_first_max
    return text if len(found.seeds) < 2 or most is None else f"{text} (max {100 * most:.1f}%)"


def _per_round(values: Sequence[tuple[float | None, float | None]]) -> str:
    """Per-round mean shares in whole percent: ``27 · 5 · 0``."""
    if not values or all(mean is None for mean, _ in values):
        return "—"
    return " · ".join("—" if mean is None else f"{100 * mean:.0f}" for mean, _ in values)


def budget_lines(bench: BenchmarkRuns, order: Sequence[str]) -> list[str]:
    """Where the budget went (:mod:`skillit.records.budget`): per method, the share of its examples drawn on junk
    and on skills with no edge into the objective, mean ± sd over seeds, over the run, after the first round and
    per round. Nothing when the benchmark has no declared junk and no graph leaves a skill without an edge."""
    if not bench.budget_shown:
        return []
    junk = bool(bench.junk_skills)
    grid = f"rounds of {bench.round_steps} steps" if bench.round_steps else "the records' rounds"
    lines = [
        "",
        f"Where the budget went ({'junk: ' + ', '.join(bench.junk_skills) if junk else 'no junk declared'}; {grid}): "
        "share of the examples drawn, mean ± sd over seeds",
        "",
        "| method | junk | junk after round 1 | no edge | no edge after round 1 | junk per round (%) | "
        "no edge per round (%) | graph (skills with no edge) |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    for method in order:
        runs = bench.methods.get(method)
        if runs is None or not runs.spend:
            continue
        found = method_spend(method, runs.spend, runs.graph, runs.no_edge)
        skills = "" if found.no_edge_skills is None else f" ({', '.join(found.no_edge_skills) or 'none'})"
        lines.append(
            f"| {method} | {_percent(found.junk) if junk else '—'} | {_after_first(found) if junk else '—'} "
            f"| {_percent(found.no_edge)} | {_percent(found.no_edge_after_first)} | "
            f"{_per_round(found.junk_per_round) if junk else '—'} | {_per_round(found.no_edge_per_round)} | "
            f"{found.graph}{skills} |")
    lines += [
        "",
        "junk: examples drawn on the skills the task declared junk (task.params.junk) ÷ all examples drawn; no edge: "
        "on training skills outside the objective whose row of the graph has no entry > 0 into an objective skill "
        "(the method's own graph, else the run's); after round 1: from the end of the first round on (the criterion "
        "of issue 29: ≤ 5 % junk in every seed; max: the largest seed's share); per round: each round's share, "
        "mean over seeds (docs/usage.md, \"Where the budget went\").",
    ]
    return lines


def _seeds_note(seeds: int) -> str:
    return f" (graph at {seeds} seeds: {seeds}× one learning)" if seeds > 1 else ""


def plot_leaderboard(board: Leaderboard, path: str | Path) -> Path:
    """One panel per benchmark: each method's paired loss difference to the baseline with its interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(1, len(board.benchmarks))
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 0.45 * max(len(b.methods) for b in board.benchmarks) + 1.6),
                             squeeze=False)
    for ax, bench in zip(axes[0], board.benchmarks):
        rows = [r for r in board.rows if r.benchmark == bench.name and r.method != board.baseline]
        rows.sort(key=lambda r: r.rank)
        for y, r in enumerate(rows):
            d = r.difference
            if d.mean is None:
                continue
            color = {"win": "tab:green", "loss": "tab:red"}.get(d.outcome or "", "tab:gray")
            if d.low is not None:
                ax.plot([d.low, d.high], [y, y], color=color, lw=2)
            ax.plot([d.mean], [y], "o", color=color)
        ax.axvline(0.0, color="black", lw=0.8)
        ax.set_yticks(range(len(rows)), [r.method for r in rows])
        ax.invert_yaxis()
        ax.set_title(bench.name, fontsize=10)
        ax.set_xlabel(f"loss − {board.baseline} ({round(board.confidence * 100)}% CI)")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(Path(path), buffer.getvalue())


def compare_runs(
    run_dirs: Sequence[str | Path], out_dir: str | Path | None, *, baseline: str = BASELINE, confidence: float = 0.95,
    replace: bool = False, rank_decimals: int | None = RANK_DECIMALS, oracle: Sequence[str] | None = None,
) -> Leaderboard:
    """Read every run directory, build the leaderboard and write ``leaderboard.md`` and ``leaderboard.png``
    into ``out_dir`` (None: write nothing, return the leaderboard).

    ``oracle``: the hindsight oracle's methods (:func:`build_leaderboard`), for the share of headroom captured.

    Everything is read and checked before anything is written; each file is written atomically.
    """
    if not run_dirs:
        raise DataError("give at least one finished run directory")
    resolved = [Path(d).resolve() for d in run_dirs]
    twice = next((d for d in run_dirs if resolved.count(Path(d).resolve()) > 1), None)
    if twice is not None:
        raise DataError(f"run directory {str(twice)!r} is given more than once; give each directory once")
    board = build_leaderboard(merge_benchmarks([load_run_dir(d) for d in run_dirs], replace=replace, baseline=baseline),
                              baseline=baseline, confidence=confidence, rank_decimals=rank_decimals, oracle=oracle)
    if out_dir is None:
        return board
    out = Path(out_dir)
    atomic_write_text(out / "leaderboard.md", to_markdown(board))
    plot_leaderboard(board, out / "leaderboard.png")
    return board


__all__ = [
    "BenchmarkRuns",
    "Leaderboard",
    "MethodRuns",
    "Oracle",
    "PairedDifference",
    "average_ranks",
    "budget_lines",
    "build_leaderboard",
    "compare_runs",
    "load_run_dir",
    "mean_std",
    "merge_benchmarks",
    "paired_difference",
    "plot_leaderboard",
    "to_markdown",
]
