"""Edge uncertainty of a skills graph learned at several seeds, and the *stable* graph policies use.

A learner run at seeds s = 1..n gives matrices A^(s) (k, m). Per edge (i, j), treating the seeds as
independent draws (the seed sets the model's initialisation, the base run and the data order):

    Ā_ij = (1/n) Σ_s A^(s)_ij,      s_ij = sqrt(Σ_s (A^(s)_ij − Ā_ij)² / (n − 1))
    CI_ij = Ā_ij ± t_{(1+c)/2, n−1} · s_ij / √n          (Student's t interval, confidence c, default 0.95)

An edge is **stable** when CI_ij excludes 0 (``low > 0`` or ``high < 0``): its sign is larger than what
another seed would change. An edge every seed puts at the same non-zero value has s = 0 and is stable; an
edge every seed leaves at 0 is not. With n = 2 the factor t_{0.975, 1} is 12.7 (n = 3: 4.30, n = 5:
2.78), so two seeds call stable only edges that barely move. The paper (§3.2, App. B.2) learns its graph
once; the seeds here measure how much of a learned graph is the probes' noise (docs/graphs.md).

The **stable graph** is Ā with every unstable off-diagonal entry set to 0. **Self-edges** (row and
column the same skill) keep Ā whether or not they are stable: every learner puts something there, it is
what keeps a skill in Skill-It's mixture, and zeroing it could let ``skill-it-plus`` (``zero_rows: drop``)
drop a target that has no stable helper. Their stability is still recorded.

A target's **stable helpers** are the training skills i ≠ j with a stable edge and Ā_ij > 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from skillit.errors import GraphError
from skillit.graph.skills_graph import SkillsGraph

DEFAULT_LEVEL = 0.95


@dataclass(frozen=True)
class EdgeUncertainty:
    """Per-edge mean, sample std (ddof 1), t-interval [low, high] and stable mask over ``seeds``; arrays (k, m)."""

    train_skills: tuple[str, ...]
    eval_skills: tuple[str, ...]
    seeds: tuple[int, ...]
    level: float
    per_seed: np.ndarray  # (n, k, m): each seed's matrix
    mean: np.ndarray
    std: np.ndarray
    low: np.ndarray
    high: np.ndarray
    stable: np.ndarray  # bool: the interval excludes 0

    @property
    def n(self) -> int:
        """Seeds behind every edge (each seed measures every edge)."""
        return len(self.seeds)

    def self_edges(self) -> np.ndarray:
        """Bool (k, m): True where the row and the column are the same skill."""
        return np.array([[i == j for j in self.eval_skills] for i in self.train_skills], dtype=bool).reshape(
            len(self.train_skills), len(self.eval_skills))

    def stable_matrix(self) -> np.ndarray:
        """Ā with unstable off-diagonal entries set to 0; self-edges keep Ā (module docstring)."""
        keep = self.stable | self.self_edges()
        return np.where(keep, self.mean, 0.0)

    def helpers(self, target: str) -> list[tuple[str, float, float, float, bool]]:
        """Rows i ≠ ``target`` with Ā > 0 in the target's column, by mean (largest first):
        ``(skill, mean, low, high, stable)``."""
        if target not in self.eval_skills:
            raise GraphError(f"{target!r} is not a column (evaluation skill) of the graph; columns: "
                             f"{list(self.eval_skills)}")
        j = self.eval_skills.index(target)
        rows = [(name, float(self.mean[i, j]), float(self.low[i, j]), float(self.high[i, j]), bool(self.stable[i, j]))
                for i, name in enumerate(self.train_skills) if name != target and self.mean[i, j] > 0]
        return sorted(rows, key=lambda row: -row[1])

    def stable_helpers(self, target: str) -> list[str]:
        return [name for name, _, _, _, stable in self.helpers(target) if stable]

    def to_dict(self) -> dict[str, Any]:
        return {
            "seeds": list(self.seeds), "n": self.n, "level": self.level, "interval": "student-t",
            "mean": self.mean.tolist(), "std": self.std.tolist(), "low": self.low.tolist(),
            "high": self.high.tolist(), "stable": self.stable.tolist(), "per_seed": self.per_seed.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], train_skills: Sequence[str], eval_skills: Sequence[str],
                  *, where: str = "graph uncertainty") -> EdgeUncertainty:
        shape = (len(train_skills), len(eval_skills))
        try:
            arrays = {key: np.asarray(data[key], dtype=bool if key == "stable" else float)
                      for key in ("mean", "std", "low", "high", "stable", "per_seed")}
            seeds = tuple(int(s) for s in data["seeds"])
            level = float(data["level"])
        except (KeyError, TypeError, ValueError) as exc:
            raise GraphError(f"{where}: the uncertainty block needs seeds, level, mean, std, low, high, stable and "
                             f"per_seed ({exc}); re-learn the graph with `skillit graph CONFIG --seeds ...`") from None
        bad = [key for key, value in arrays.items() if value.shape != (shape if key != "per_seed" else (len(seeds), *shape))]
        if bad:
            raise GraphError(f"{where}: uncertainty {bad} do not match the {shape[0]}x{shape[1]} matrix and "
                             f"{len(seeds)} seed(s)")
        return cls(tuple(train_skills), tuple(eval_skills), seeds, level, **arrays)


def edge_uncertainty(graphs: Sequence[SkillsGraph], seeds: Sequence[int], level: float = DEFAULT_LEVEL) -> EdgeUncertainty:
    """The per-edge statistics of graphs learned at ``seeds`` (same names, same order; at least 2)."""
    if len(graphs) != len(seeds) or len(graphs) < 2:
        raise GraphError(f"edge uncertainty needs one graph per seed and at least 2 seeds; got {len(graphs)} "
                         f"graph(s) for seeds {list(seeds)}")
    if not 0 < level < 1:
        raise GraphError(f"the interval's confidence level must lie in (0, 1), got {level}")
    first = graphs[0]
    for seed, graph in zip(seeds, graphs):
        if (graph.train_skills, graph.eval_skills) != (first.train_skills, first.eval_skills):
            raise GraphError(f"the graph of seed {seed} names other skills than the graph of seed {seeds[0]}: "
                             f"rows {list(graph.train_skills)}, columns {list(graph.eval_skills)}")
    per_seed = np.stack([np.asarray(graph.matrix, dtype=float) for graph in graphs])  # (n, k, m)
    n = per_seed.shape[0]
    mean = per_seed.mean(axis=0)  # (k, m)
    std = per_seed.std(axis=0, ddof=1)  # (k, m)
    half = stats.t.ppf((1 + level) / 2, n - 1) * std / math.sqrt(n)  # (k, m)
    low, high = mean - half, mean + half
    stable = (low > 0) | (high < 0)
    return EdgeUncertainty(first.train_skills, first.eval_skills, tuple(int(s) for s in seeds), float(level),
                           per_seed, mean, std, low, high, stable)


def uncertainty_of(graph: SkillsGraph) -> EdgeUncertainty | None:
    """The uncertainty a multi-seed ``graph.json`` records; None for a graph learned at one seed (or made by hand)."""
    data = graph.provenance.get("uncertainty")
    if not isinstance(data, dict):
        return None
    return EdgeUncertainty.from_dict(data, graph.train_skills, graph.eval_skills)


__all__ = ["DEFAULT_LEVEL", "EdgeUncertainty", "edge_uncertainty", "uncertainty_of"]
