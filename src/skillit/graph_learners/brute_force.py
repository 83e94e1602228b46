"""Brute force (paper §3.2, App. B.2 Algorithm 2): single-skill runs and pair runs.

From the shared base model f, for every evaluation skill j train on j alone for H = ``steps`` steps
(δ_j^j = L_j(f) − L_j(f_{H,j})), and for every pair {i, j} train on the balanced mixture of i and j
(δ_j^{i,j}). The edge i → j exists when the pair beats the single on j, with the weight the difference:

    A[i, j] = δ_j^{i,j} − δ_j^j   (i ≠ j; kept only when > 0, unless ``negative: keep``)
    A[j, j] = δ_j^j

With ``normalise`` every δ is first divided by L_j(f) (relative decreases). Needs S_eval ⊆ S_train (every
column needs its single run). One pair run serves both of its skills' columns, so the cost is
m singles + the number of pairs with at least one evaluated skill, each of H steps (+ the base).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skillit.errors import GraphError
from skillit.graph_learners.base import GraphLearner, pairs_of
from skillit.graph_learners.params import BruteForceParams
from skillit.graph_learners.runs import ProbeRun, RunOutcome
from skillit.skills.skillset import SkillSet


def single_id(j: str) -> str:
    return f"single__{j}"


def pair_id(a: str, b: str) -> str:
    return f"pair__{a}__{b}"


def check_square(skillset: SkillSet, method: str) -> None:
    """Alg. 2 and the threshold rule train on j itself, so every evaluation skill must be trainable."""
    missing = [j for j in skillset.eval_names if j not in skillset.train_names]
    if missing:
        raise GraphError(
            f"graph learner {method!r} needs every evaluation skill to be a training skill (S_eval ⊆ S_train), "
            f"but {missing} have no training data; use method 'linear' (or 'probe') for out-of-domain graphs"
        )


def single_and_pair_runs(skillset: SkillSet, steps: int, start: int, eval_every: int | None,
                         stop_below: float | None = None, stop_relative: bool = False) -> list[ProbeRun]:
    """Every evaluation skill alone, and every balanced pair with at least one evaluation skill."""
    evals = set(skillset.eval_names)
    runs = [ProbeRun(single_id(j), {j: 1.0}, steps, start, eval_every,
                     {j: stop_below} if stop_below is not None else None, stop_relative) for j in skillset.eval_names]
    for a, b in pairs_of(skillset.train_names):
        if a in evals or b in evals:
            stop = {s: stop_below for s in (a, b) if s in evals} if stop_below is not None else None
            runs.append(ProbeRun(pair_id(a, b), {a: 0.5, b: 0.5}, steps, start, eval_every, stop, stop_relative))
    return runs


def pair_outcome(outcomes: dict[str, RunOutcome], a: str, b: str) -> RunOutcome:
    key = pair_id(a, b) if pair_id(a, b) in outcomes else pair_id(b, a)
    return outcomes[key]


class BruteForce(GraphLearner):
    """Edge i → j when training on {i, j} lowers j's loss more than training on j alone (Alg. 2)."""

    name = "brute-force"
    Params = BruteForceParams
    description = "Alg. 2: single and pair runs of H steps; edge when the pair beats the single on the target"

    def check(self, skillset: SkillSet) -> None:
        check_square(skillset, self.name)

    def plan(self, skillset: SkillSet) -> list[ProbeRun]:
        p = self.params
        return single_and_pair_runs(skillset, p.steps, p.base_steps, p.eval_every)

    def estimate(self, skillset: SkillSet, outcomes: dict[str, RunOutcome]) -> tuple[np.ndarray, dict[str, Any]]:
        rows, evals = skillset.train_names, skillset.eval_names
        normalise = self.params.normalise

        def decrease(outcome: RunOutcome, j: str) -> float:
            start, end = outcome.loss_at_start(j), outcome.loss_at_end(j)
            return (start - end) / max(start, 1e-12) if normalise else start - end

        single = {j: decrease(outcomes[single_id(j)], j) for j in evals}
        matrix = np.zeros((len(rows), len(evals)))
        pair_delta = np.full((len(rows), len(evals)), np.nan)
        for r, i in enumerate(rows):
            for c, j in enumerate(evals):
                if i == j:
                    matrix[r, c] = single[j]
                    continue
                pair_delta[r, c] = decrease(pair_outcome(outcomes, i, j), j)
                matrix[r, c] = pair_delta[r, c] - single[j]
        if self.params.negative == "zero":
            off = np.array([[i != j for j in evals] for i in rows])
            matrix = np.where(off, np.maximum(matrix, 0.0), matrix)
        details = {"single": single, "pair": np.where(np.isnan(pair_delta), None, pair_delta).tolist()}
        return matrix, details
