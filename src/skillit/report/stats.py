"""Paired comparisons over seeds: a method against a baseline run at the same seeds.

Runs at the same seed share the model's initialisation and the evaluation data, so the per-seed difference
``d_s = x_s(method) − x_s(baseline)`` removes what the seed alone explains. Over the n seeds both ran,

    d̄ = (1/n) Σ_s d_s,   s_d = sqrt(Σ_s (d_s − d̄)² / (n − 1)),
    CI_c = d̄ ± t_{(1+c)/2, n−1} · s_d / √n         (Student's t interval, confidence c, default 0.95)

It treats the seeds as independent draws; with n = 1 there is no interval (``half_width`` is None).

The readers of a finished run's ``summary.json`` — the terminal table after ``skillit run``
(``report/table.py``), ``report.html`` (``report/html.py``) and ``skillit compare`` (``report/compare.py``) —
take their differences to the baseline, verdicts and "best" mark from here, so they agree:

* :func:`difference_to_baseline`: a method's paired difference to the baseline (``stratified`` by default)
  over the per-seed values of ``summary.json``;
* :func:`verdict`: ``better`` / ``worse`` when the interval lies wholly on one side of 0, ``tie`` when it
  contains 0, ``1 seed: no interval`` when there is no interval;
* :func:`clear_best`: the method with the lowest mean, marked only when its paired interval against every
  other method lies below 0 (a mark is never given inside the seed noise).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PairedDifference:
    """``mean`` of the per-seed differences (None when no seed is shared), the interval's ``half_width`` (None
    for fewer than 2 seeds), ``n`` seeds."""

    mean: float | None
    half_width: float | None
    n: int
    confidence: float

    @property
    def low(self) -> float | None:
        return None if self.half_width is None else self.mean - self.half_width

    @property
    def high(self) -> float | None:
        return None if self.half_width is None else self.mean + self.half_width

    @property
    def outcome(self) -> str | None:
        """For a loss difference: ``win`` (interval below 0), ``loss`` (above 0), ``tie`` (contains 0), or
        None without an interval (fewer than 2 paired seeds)."""
        if self.low is None or self.high is None:
            return None
        if self.high < 0:
            return "win"
        if self.low > 0:
            return "loss"
        return "tie"

    @property
    def excludes_zero(self) -> bool:
        """Whether the interval lies wholly on one side of 0 (the difference is larger than the seed noise)."""
        return self.half_width is not None and (self.low > 0 or self.high < 0)  # type: ignore[operator]


def paired_difference(
    values: Mapping[int, float | None], baseline: Mapping[int, float | None], confidence: float = 0.95
) -> PairedDifference | None:
    """The paired difference over the seeds present (and finite) in both; None when no seed is shared."""
    seeds = sorted(
        seed for seed in values
        if seed in baseline and values[seed] is not None and baseline[seed] is not None
        and math.isfinite(values[seed]) and math.isfinite(baseline[seed])  # type: ignore[arg-type]
    )
    if not seeds:
        return None
    diffs = [float(values[s]) - float(baseline[s]) for s in seeds]  # type: ignore[arg-type]
    n = len(diffs)
    mean = sum(diffs) / n
    if n < 2:
        return PairedDifference(mean, None, n, confidence)
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    from scipy import stats  # here, not at import: the run table imports this module, and --help needs no scipy

    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return PairedDifference(mean, half, n, confidence)


BASELINE = "stratified"
CONFIDENCE = 0.95
NO_INTERVAL = "1 seed: no interval"


def per_seed(summary: Mapping[str, Any], method: str, key: str = "mean_loss") -> dict[int, float | None]:
    """``{seed: value}`` of one method's ``per_seed`` entries in ``summary.json`` (``key``: ``mean_loss``, ...)."""
    return {int(s["seed"]): s.get(key) for s in summary["methods"][method].get("per_seed", [])}


def difference_to_baseline(
    summary: Mapping[str, Any], method: str, key: str = "mean_loss", *, baseline: str = BASELINE,
    confidence: float = CONFIDENCE,
) -> PairedDifference | None:
    """``method``'s paired difference to ``baseline`` in ``key`` over the seeds both ran; None for the baseline
    itself, when the summary has no such baseline, or when no seed is shared."""
    if baseline not in summary["methods"] or method == baseline:
        return None
    return paired_difference(per_seed(summary, method, key), per_seed(summary, baseline, key), confidence)


def verdict(diff: PairedDifference | None, *, lower_is_better: bool = True) -> str:
    """``better`` / ``worse`` (the interval lies wholly below / above 0, or above / below for a score where
    higher is better), ``tie`` (it contains 0), ``1 seed: no interval`` (fewer than 2 paired seeds), ``n/a``
    (no shared seed)."""
    if diff is None or diff.mean is None:
        return "n/a"
    if diff.half_width is None:
        return NO_INTERVAL
    if not diff.excludes_zero:
        return "tie"
    return "better" if (diff.mean < 0) == lower_is_better else "worse"


def clear_best(summary: Mapping[str, Any], key: str = "mean_loss", *, confidence: float = CONFIDENCE) -> str | None:
    """The method with the lowest mean ``key`` (``final`` of ``summary.json``) when its paired interval against
    every other method lies wholly below 0; None otherwise (one method, one seed, or a lead inside the noise)."""
    methods = summary["methods"]
    means = {name: r["final"].get(key) for name, r in methods.items()}
    finite = {name: v for name, v in means.items() if v is not None and math.isfinite(v)}
    if len(methods) < 2 or not finite:
        return None
    best = min(finite, key=finite.__getitem__)
    for other in methods:
        if other == best or other not in finite:  # a diverged method (no finite mean) is behind any finite one
            continue
        diff = paired_difference(per_seed(summary, best, key), per_seed(summary, other, key), confidence)
        if diff is None or diff.high is None or diff.high >= 0:
            return None
    return best


__all__ = ["BASELINE", "CONFIDENCE", "NO_INTERVAL", "PairedDifference", "clear_best", "difference_to_baseline",
           "paired_difference", "per_seed", "verdict"]
