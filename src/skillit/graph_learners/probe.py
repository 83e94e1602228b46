"""Trajectory probes: a cheap estimator of the skills graph (our design; Aioli-style, peers.md §2.3).

The paper's learners train k (or k²) separate runs as long as a training run; Aioli estimates A online
with short probes during the real run. This learner does the latter, offline and in parallel:

1. one shared **base** trajectory: stratified training for ``base_steps`` (the start of an ordinary run),
   with snapshots at P = ``points`` evenly spaced steps t_1 < … < t_P = base_steps;
2. at every snapshot t, for every training skill i, a short **probe** of h = ``steps`` steps on the
   mixture m_i = f·e_i + (1 − f)/(k − 1)·(1 − e_i) (f = ``mix``, default 0.5: a tilt that keeps every
   skill in the batch; f = 1 is "skill i alone"; with k = 2 skills the default is 0.75, because f = 1/k makes
   every m_i the uniform mixture and M singular, and an explicit ``mix`` of 1/k is refused before any run),
   and, with ``control``, one probe on the uniform mixture u;
3. the loss decreases Δ_t[i, j] = L_j(t) − L_j(probe i) (divided by L_j(t) with ``normalise``) are
   *de-mixed* — under the linear dynamic law of Aioli/LMO, ΔL_j ≈ Σ_i p_i A_ij, so Δ_t = M Â_t with M the
   matrix of probe mixtures and Â_t = M⁻¹ Δ_t — and averaged over the points:

       A = mean_t ( Â_t [ − 1 · δ_t^uᵀ with control ] )

So A[i, j] > 0 means "a batch of i, inside a mixture near the one a real run uses, lowers L_j" (the
linearised effect of training on i alone, without the collapse that training on one skill alone causes in
small models: they learn that skill's answer rule and confidently apply it to every query). With the
control, A is relative to the stratified mixture's own effect (each column then sums to about 0, so a
column with many true helpers keeps few edges).

What it trades: cost is base_steps + P·k·h (+ P·h with the control) instead of k·H (linear) or
(k + k²/2)·H (brute force), and the base is the start of an ordinary stratified run. But a short h and a
fresh optimiser per probe make each estimate noisy (de-mixing multiplies the noise by about ‖M⁻¹‖, ≈ 3.5
for k = 3, f = 0.5); averaging over P points only partly repairs it; and the graph describes the early
part of training (up to ``base_steps``), where the effect of a skill changes with what is being learned.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skillit.errors import GraphError
from skillit.graph_learners.base import GraphLearner
from skillit.graph_learners.params import ProbeParams
from skillit.graph_learners.runs import ProbeRun, RunOutcome
from skillit.skills.skillset import SkillSet


class TrajectoryProbe(GraphLearner):
    """Short probes on each skill at a few points of one stratified trajectory, de-mixed and control-relative."""

    name = "probe"
    Params = ProbeParams
    description = "cheap: short tilted-mixture probes at a few points of one stratified run, de-mixed (Aioli-style)"

    def base_points(self) -> list[int]:
        p = self.params
        if p.base_steps == 0:
            return [0]
        return sorted({max(1, round(p.base_steps * (n + 1) / p.points)) for n in range(p.points)})

    def share(self, k: int) -> float:
        """f for k training skills: ``mix`` when set, else 0.5 (0.75 when k = 2, where 0.5 is the uniform share)."""
        if self.params.mix is not None:
            return self.params.mix
        return 0.75 if k == 2 else 0.5

    def check(self, skillset: SkillSet) -> None:
        k = len(skillset.train_names)
        if k > 1 and abs(self.share(k) - 1.0 / k) < 1e-9:
            raise GraphError(
                f"graph learner 'probe': mix {self.share(k):g} is the uniform share 1/k for k = {k} training skills, so "
                "every probe would train on the same (uniform) mixture and the graph could not be de-mixed; set "
                "graph_learning.params.mix to another value (e.g. 0.75), or leave it out"
            )

    def _mixture(self, skillset: SkillSet, skill: str) -> dict[str, float]:
        names = skillset.train_names
        f = self.share(len(names))
        if f == 1.0 or len(names) == 1:
            return {skill: 1.0}
        rest = (1.0 - f) / (len(names) - 1)
        return {name: (f if name == skill else rest) for name in names}

    def plan(self, skillset: SkillSet) -> list[ProbeRun]:
        p = self.params
        runs = []
        for t in self.base_points():
            for i in skillset.train_names:
                runs.append(ProbeRun(f"t{t}__{i}", self._mixture(skillset, i), p.steps, t, p.eval_every))
            if p.control:
                uniform = {name: 1.0 for name in skillset.train_names}
                runs.append(ProbeRun(f"t{t}__control", uniform, p.steps, t, p.eval_every))
        return runs

    def mixing_matrix(self, skillset: SkillSet) -> np.ndarray:
        """M[r, i] = share of skill i in probe r (rows: probes in ``train_names`` order)."""
        names = skillset.train_names
        return np.array([[self._mixture(skillset, r).get(i, 0.0) for i in names] for r in names])

    def estimate(self, skillset: SkillSet, outcomes: dict[str, RunOutcome]) -> tuple[np.ndarray, dict[str, Any]]:
        rows, evals = skillset.train_names, skillset.eval_names
        p = self.params
        mixing = self.mixing_matrix(skillset)
        per_point = []
        for t in self.base_points():

            def decrease(outcome: RunOutcome) -> np.ndarray:
                start = np.array([outcome.loss_at_start(j) for j in evals])
                end = np.array([outcome.loss_at_end(j) for j in evals])
                return (start - end) / np.maximum(start, 1e-12) if p.normalise else start - end

            delta = np.stack([decrease(outcomes[f"t{t}__{i}"]) for i in rows])  # (k, m): one row per probe
            pure = np.linalg.solve(mixing, delta)  # de-mix: delta = M @ pure
            if p.control:
                pure = pure - decrease(outcomes[f"t{t}__control"])[None, :]
            per_point.append(pure)
        matrix = np.mean(per_point, axis=0)
        if p.negative == "zero":
            matrix = np.maximum(matrix, 0.0)
        details = {"points": self.base_points(), "per_point": [a.tolist() for a in per_point]}
        return matrix, details
