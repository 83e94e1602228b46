"""Steps to a loss threshold: the rule the paper used for its LEGO and Addition graphs (App. C.2).

For every evaluation skill j, train on j alone; for every pair {i, j}, train on the balanced mixture of i
and j; both from the shared base, for at most H = ``steps`` steps, evaluating every ``eval_every`` steps.
s_j = the first evaluated step with L_j ≤ ``threshold`` on the single run, s_j^{i} the same on the pair run
(∞ when never reached). With ``relative`` the threshold is a fraction of L_j at the start of the run
(0.5: "halve the loss"), so every skill has a milestone it can reach whatever its scale.

``compare: steps`` (the paper): the edge i → j exists when mixing i in reaches the threshold sooner,

    s_j^{i} < s_j            — i's data must be worth *more* than j's own data (the pair has half as much of j)

``compare: target-examples``: count the j examples each run used instead, ½·s_j^{i} (the pair spends half
its batch on j) against s_j,

    ½ · s_j^{i} < s_j        — i's data must *add* to j's learning (no edge when it only dilutes or interferes)

``weight: paper`` gives every edge 0.5 and the diagonal 1 (the paper's LEGO/Addition graphs);
``weight: speedup`` gives the relative saving 1 − (compared pair count) / s_j, with s_j = H + eval_every
when the single never reaches the threshold, and the diagonal 1. A run stops as soon as its skills are
below the threshold, so cheap skills cost few steps. The paper used an absolute 0.01 and H = 6000.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skillit.graph_learners.base import GraphLearner
from skillit.graph_learners.brute_force import (
    check_square,
    pair_outcome,
    single_and_pair_runs,
    single_id,
)
from skillit.graph_learners.params import ThresholdParams
from skillit.graph_learners.runs import ProbeRun, RunOutcome
from skillit.skills.skillset import SkillSet


class StepsToThreshold(GraphLearner):
    """Edge i → j when the balanced (i, j) mixture reaches loss ``threshold`` on j in fewer steps than j alone."""

    name = "threshold"
    Params = ThresholdParams
    description = "paper's LEGO/Addition rule: fewer steps to a loss threshold on j with i mixed in"

    def check(self, skillset: SkillSet) -> None:
        check_square(skillset, self.name)

    def _eval_every(self) -> int:
        return self.params.eval_every or max(1, self.params.steps // 20)

    def plan(self, skillset: SkillSet) -> list[ProbeRun]:
        p = self.params
        return single_and_pair_runs(skillset, p.steps, p.base_steps, self._eval_every(), stop_below=p.threshold,
                                    stop_relative=p.relative)

    def estimate(self, skillset: SkillSet, outcomes: dict[str, RunOutcome]) -> tuple[np.ndarray, dict[str, Any]]:
        rows, evals = skillset.train_names, skillset.eval_names
        p = self.params
        never = p.steps + self._eval_every()  # "∞": one evaluation past the end of the run
        share = 0.5 if p.compare == "target-examples" else 1.0  # j's share of a pair run's examples
        single = {j: outcomes[single_id(j)].steps_to(j, p.threshold, relative=p.relative) for j in evals}
        matrix = np.zeros((len(rows), len(evals)))
        pair_steps: list[list[int | None]] = [[None] * len(evals) for _ in rows]
        for r, i in enumerate(rows):
            for c, j in enumerate(evals):
                if i == j:
                    matrix[r, c] = 1.0
                    continue
                s_pair = pair_outcome(outcomes, i, j).steps_to(j, p.threshold, relative=p.relative)
                pair_steps[r][c] = s_pair
                s_single = single[j] if single[j] is not None else never
                if s_pair is not None and share * s_pair < s_single:
                    matrix[r, c] = 0.5 if p.weight == "paper" else 1.0 - share * s_pair / s_single
        already = [] if p.relative else [j for j in evals if outcomes[single_id(j)].loss_at_start(j) <= p.threshold]
        details = {"single_steps": single, "pair_steps": pair_steps, "never": never, "already_below": already,
                   "target_share": share}
        return matrix, details
