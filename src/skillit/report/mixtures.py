"""The mixture each method of a finished run trained on: the export that turns an online policy into a static one.

For method m, seed s and the mixtures p_{m,s}(t_k) recorded at the run's evaluation steps t_0 = 0 < t_1 < … < t_K
(each one the mixture in force for the steps since the previous record), the seed's mixture is the step-weighted
mean, and the method's is the mean over its seeds S:

    p̄_{m,s} = Σ_k (t_k − t_{k−1}) · p_{m,s}(t_k) / t_K,        p̄_m = (1/|S|) · Σ_{s∈S} p̄_{m,s}

This is DoReMi's output (Xie et al. 2023, §2, step 3: the final model trains on the average ᾱ = (1/T)·Σ_t α_t
of the proxy run's online weights), taken from the records so it works for every policy. It is the mixture
of the examples the run drew, probe sub-rounds included (Aioli's probes train on the data they draw). Given
back as ``{policy: static, params: {weights: …}}`` it asks whether a policy's gain came from *which* mixture it
found or from *when* it used it (docs/arena.md, ``real-text-finetune``: the learned graph's static export ties
the online policy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skillit.errors import DataError, PolicyError
from skillit.policy.doremi import average_mixture
from skillit.records.layout import RunLayout


@dataclass(frozen=True)
class MethodMixture:
    """One method's mean training mixture: per seed and over seeds (skills in the run's order)."""

    method: str
    skills: tuple[str, ...]
    per_seed: dict[int, dict[str, float]]
    mean: dict[str, float]

    @property
    def seed_spread(self) -> float:
        """max over seeds s and skills k of |p̄_{m,s,k} − p̄_{m,k}|: how far one seed's mixture is from the mean."""
        return max(abs(mix[name] - self.mean[name]) for mix in self.per_seed.values() for name in self.skills)

    def as_static(self, decimals: int = 4) -> dict:
        """The ``methods:`` entry that replays the mean as a static mixture (skills rounding to 0 left out)."""
        weights = {name: round(value, decimals) for name, value in self.mean.items() if round(value, decimals) > 0}
        return {"policy": "static", "params": {"weights": weights}}


def run_mixtures(run_dir: str | Path, methods: Sequence[str] | None = None) -> dict[str, MethodMixture]:
    """{method: its mean training mixture} for a finished run directory (``summary.json`` + ``metrics.jsonl``).

    ``methods``: which ones (default: every method of the summary, in its order); an unknown name is refused
    with the run's methods listed. A method whose records carry no mixture (a run that stopped before its
    first evaluation) is refused too, naming the seed.
    """
    folder = Path(run_dir)
    layout = RunLayout(folder)
    summary = layout.read_summary()
    known = list(summary["methods"])
    chosen = list(methods) if methods else known
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise DataError(f"{str(folder)!r} has no method {unknown[0]!r}: its methods are {', '.join(known)}")
    path = layout.metrics
    if not path.is_file():
        raise DataError(f"{str(path)!r} is missing: the run directory's records are needed for its mixtures")
    runs: dict[tuple[str, int], list[dict]] = {}
    for line in layout.read_metrics():
        if line.get("method") in chosen:
            runs.setdefault((line["method"], int(line["seed"])), []).append(line)
    out = {}
    for method in chosen:
        seeds = sorted(seed for (name, seed) in runs if name == method)
        if not seeds:
            raise DataError(f"{str(path)!r} has no records of method {method!r}")
        per_seed = {}
        for seed in seeds:
            try:
                per_seed[seed] = average_mixture(runs[(method, seed)])
            except PolicyError as exc:
                raise DataError(f"{str(path)!r}, method {method!r}, seed {seed}: {exc}") from None
        skills = tuple(per_seed[seeds[0]])
        stacked = np.array([[per_seed[seed][name] for name in skills] for seed in seeds])  # (seeds, skills)
        mean = stacked.mean(axis=0)
        out[method] = MethodMixture(method, skills, per_seed, {name: float(v) for name, v in zip(skills, mean)})
    return out
