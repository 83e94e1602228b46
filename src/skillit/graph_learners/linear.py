"""Linear approximation (paper §3.2, App. B.2 Algorithm 3): one run per training skill.

From the shared base model f (the initial model, or the model after ``base_steps`` of stratified
training), train on training skill i alone for h = ``steps`` steps, giving f_{h,i}, and record for every
evaluation skill j

    δ_j^i = L_eval,j(f) − L_eval,j(f_{h,i})           (raw loss decrease)
    ρ_j^i = δ_j^i / L_eval,j(f)                        (relative decrease, Aioli's normalisation)

A[i, j] = ρ_j^i with ``normalise`` (default), δ_j^i without. An edge i → j exists when A[i, j] > 0; with
``negative: zero`` (default, the paper's rule "if δ > 0 draw the edge") negative entries become 0, with
``keep`` they stay (the reference's NI graph files keep them). Cost: k runs of h steps (+ the base).
The evaluation skills need not be training skills, so the graph may be rectangular (k × m, out-of-domain).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skillit.graph_learners.base import GraphLearner
from skillit.graph_learners.params import LinearParams
from skillit.graph_learners.runs import ProbeRun, RunOutcome
from skillit.skills.skillset import SkillSet


class LinearApproximation(GraphLearner):
    """Train on each skill alone for h steps from a shared base; A[i, j] = loss decrease on j (Alg. 3)."""

    name = "linear"
    Params = LinearParams
    description = "Alg. 3: k single-skill runs of h steps from a shared base; A_ij = loss decrease on j"

    def plan(self, skillset: SkillSet) -> list[ProbeRun]:
        p = self.params
        return [ProbeRun(f"single__{i}", {i: 1.0}, p.steps, p.base_steps, p.eval_every) for i in skillset.train_names]

    def estimate(self, skillset: SkillSet, outcomes: dict[str, RunOutcome]) -> tuple[np.ndarray, dict[str, Any]]:
        rows, evals = skillset.train_names, skillset.eval_names
        base = np.array([[outcomes[f"single__{i}"].loss_at_start(j) for j in evals] for i in rows])  # (k, m)
        after = np.array([[outcomes[f"single__{i}"].loss_at_end(j) for j in evals] for i in rows])  # (k, m)
        raw = base - after
        relative = raw / np.maximum(base, 1e-12)
        matrix = relative if self.params.normalise else raw
        if self.params.negative == "zero":
            matrix = np.maximum(matrix, 0.0)
        return matrix, {"raw": raw.tolist(), "relative": relative.tolist(), "base_losses": base[0].tolist()}
