"""Is a mixture healthy? Collapse and exponent-spread diagnostics for Skill-It-style policies.

Skill-It (Chen et al. 2023, §3.3.2, Algorithm 1) sets p ∝ exp(η · A · L̃). Nothing in the rule bounds the
exponent: L̃ is a *sum* of the last ``window`` evaluation losses in pre-training (the reference code's
semantics, skillit.md §1.5), so its size is the loss scale of the data times the window. The paper's η
values (0.1–0.8) were tuned on LEGO, Addition and Natural Instructions, where that sum is a few nats and
the mixture's log-weights span a few nats across skills. On a data set whose losses start near 5 nats the
same η makes the exponent span tens of nats, and the mixture puts ~100 % on one skill; skills it stops
training can then get worse. The rule is kept as the paper states it; these functions say when a run
went there, so the report can warn.

Both read only the recorded mixtures (``records[*]["weights"]``, plain dicts), not the policy's state:

* **collapse**: the largest weight of any recorded mixture (≥ ``COLLAPSE_MAX_WEIGHT``), or its entropy as a
  fraction of the uniform mixture's, H(p) / log k (≤ ``COLLAPSE_ENTROPY``);
* **exponent spread**: log(max p) − log(min p) = η · (max_i − min_i of (A·L̃)_i) for Skill-It without a
  prior (softmax is shift-invariant, so the log-ratio of two weights is the difference of their exponents;
  with a prior or a floor wrapper it is the spread of what the sampler was given). Above
  ``TUNED_SPREAD`` nats (a max/min weight ratio over e⁵ ≈ 150) the run is outside the regime η was tuned
  in; ``eta_for(spread)`` is the η that would have given ``TARGET_SPREAD`` nats at the same losses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

COLLAPSE_MAX_WEIGHT = 0.9  # one skill holds at least 90 % of the batch
COLLAPSE_ENTROPY = 0.25  # H(p) / log k at most a quarter of the uniform mixture's
TUNED_SPREAD = 5.0  # nats of log-weight spread across skills; the LEGO demo's Skill-It stays under 2 (docs/data.md)
TARGET_SPREAD = 2.0  # the spread the suggested η aims at
SPREAD_CAP = 700.0  # log-weights below exp(-700) are 0 in float64: the spread is at least this much


def normalised_entropy(weights: Sequence[float]) -> float:
    """H(p) / log k in [0, 1] (1: uniform, 0: one skill); 1.0 for k = 1."""
    total = float(sum(weights))
    if len(weights) < 2 or total <= 0:
        return 1.0
    h = -sum(w / total * math.log(w / total) for w in weights if w > 0)
    return h / math.log(len(weights))


def exponent_spread(weights: Sequence[float]) -> float:
    """log(max p) − log(min p) in nats (``SPREAD_CAP`` when a weight is 0 in float64); 0.0 for k = 1."""
    if len(weights) < 2:
        return 0.0
    low, high = min(weights), max(weights)
    if high <= 0:
        return 0.0
    if low <= 0:
        return SPREAD_CAP
    return min(SPREAD_CAP, math.log(high) - math.log(low))


@dataclass(frozen=True)
class MixtureHealth:
    """The most extreme recorded mixture of one run: its largest weight (which skill, at which step), its
    lowest normalised entropy and its largest exponent spread."""

    max_weight: float
    max_skill: str
    max_step: int
    min_entropy: float
    max_spread: float
    spread_step: int
    skills: int

    @property
    def collapsed(self) -> bool:
        return self.skills > 1 and (self.max_weight >= COLLAPSE_MAX_WEIGHT or self.min_entropy <= COLLAPSE_ENTROPY)

    @property
    def outside_tuned_range(self) -> bool:
        return self.max_spread > TUNED_SPREAD

    def to_dict(self) -> dict[str, Any]:
        return {"max_weight": self.max_weight, "max_skill": self.max_skill, "max_step": self.max_step,
                "min_entropy": self.min_entropy, "max_spread": self.max_spread, "spread_step": self.spread_step,
                "collapsed": self.collapsed, "outside_tuned_range": self.outside_tuned_range}


def mixture_health(records: Sequence[Mapping[str, Any]]) -> MixtureHealth | None:
    """:class:`MixtureHealth` over a run's evaluation records (``step`` and ``weights`` per record); None
    when no record has weights."""
    max_weight, max_skill, max_step = -1.0, "", 0
    min_entropy, max_spread, spread_step, k = 1.0, 0.0, 0, 0
    for record in records:
        weights = record.get("weights") or {}
        if not weights:
            continue
        names, values = list(weights), [float(v) for v in weights.values()]
        k = len(values)
        top = max(range(k), key=values.__getitem__)
        if values[top] > max_weight:
            max_weight, max_skill, max_step = values[top], names[top], int(record["step"])
        min_entropy = min(min_entropy, normalised_entropy(values))
        spread = exponent_spread(values)
        if spread > max_spread:
            max_spread, spread_step = spread, int(record["step"])
    if k == 0:
        return None
    return MixtureHealth(max_weight, max_skill, max_step, min_entropy, max_spread, spread_step, k)


def eta_for(eta: float, spread: float, target: float = TARGET_SPREAD) -> float:
    """The η that gives ``target`` nats of spread at the losses that gave ``spread`` with ``eta`` (the
    exponent is linear in η)."""
    return eta * target / spread if spread > 0 else eta


def find_eta(description: Mapping[str, Any]) -> float | None:
    """η of a policy description (``policy.describe()``), looking inside wrappers; None if it has none."""
    if "eta" in description:
        return float(description["eta"])
    inner = description.get("inner")
    return find_eta(inner) if isinstance(inner, Mapping) else None


def mixture_warnings(method: str, description: Mapping[str, Any], records: Sequence[Mapping[str, Any]],
                     seed: int | None = None) -> list[str]:
    """Warnings for one run of a Skill-It-style policy (one with an η): collapse, and an exponent spread far
    outside the range η was tuned in, with the η that would have kept it near ``TARGET_SPREAD`` nats."""
    eta = find_eta(description)
    health = mixture_health(records)
    if eta is None or health is None:
        return []
    run = f"{method}" + (f" (seed {seed})" if seed is not None else "")
    out = []
    if health.collapsed:
        out.append(
            f"{run}: the mixture collapsed: {health.max_weight:.0%} on {health.max_skill!r} at step {health.max_step} "
            f"(lowest entropy {health.min_entropy:.2f} of the uniform mixture's); skills it stops training can get worse"
        )
    if health.outside_tuned_range:
        spread = "over 700" if health.max_spread >= SPREAD_CAP else f"{health.max_spread:.1f}"
        out.append(
            f"{run}: the exponent η·A·L̃ spans {spread} nats across skills at step {health.spread_step} (η was tuned "
            f"where it spans under {TUNED_SPREAD:.0f}); for this data's loss scale try eta ≈ "
            f"{eta_for(eta, health.max_spread):.2g} (docs/data.md, choosing η)"
        )
    return out


__all__ = [
    "COLLAPSE_ENTROPY",
    "COLLAPSE_MAX_WEIGHT",
    "MixtureHealth",
    "TUNED_SPREAD",
    "eta_for",
    "exponent_spread",
    "find_eta",
    "mixture_health",
    "mixture_warnings",
    "normalised_entropy",
]
