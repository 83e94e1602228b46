"""Paired comparisons over seeds: a method against a baseline run at the same seeds.

Runs at the same seed share the model's initialisation and the evaluation data, so the per-seed difference
``d_s = x_s(method) − x_s(baseline)`` removes what the seed alone explains. Over the n seeds both ran,

    d̄ = (1/n) Σ_s d_s,   s_d = sqrt(Σ_s (d_s − d̄)² / (n − 1)),
    CI_c = d̄ ± t_{(1+c)/2, n−1} · s_d / √n         (Student's t interval, confidence c, default 0.95)

It treats the seeds as independent draws; with n = 1 there is no interval (``half_width`` is None).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from scipy import stats


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
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return PairedDifference(mean, half, n, confidence)


__all__ = ["PairedDifference", "paired_difference"]
