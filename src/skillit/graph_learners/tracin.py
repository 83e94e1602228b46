"""First-order transfer along the base run: a skills graph from gradient inner products (TracIn-style).

TracInCP (Pruthi et al., NeurIPS 2020, §3) scores how much training example z lowered the loss of z′ as
Σ_c η_c ⟨∇ℓ(z; θ_c), ∇ℓ(z′; θ_c)⟩ over saved checkpoints θ_c, η_c the lr of the interval c stands for.
Averaged over a skill's examples (the inner product is bilinear) this is a skills graph (frontier.md §5.8,
"Option A"; DoGE's train × target alignment is the same matrix, one step at a time):

1. the shared **base** run: stratified training for ``base_steps``, snapshots at C = ``points`` evenly
   spaced steps t_1 < … < t_C = ``base_steps`` (the same trajectory the other learners start from);
2. at each checkpoint, without training (a *gradient run*, ``skillit.graph_learners.gradients``):
   g_i = the mean full-model gradient of the training loss over ``steps`` fresh batches of skill i, and
   h_j = the gradient of skill j's validation loss L_j (``eval_examples`` of its validation examples, all
   by default), optionally both projected by a seeded Gaussian R (r = ``projection`` rows, LESS/TRAK);
3. the estimate

       S_c[i, j] = ⟨g_i − ḡ·[control], h_j⟩ (/ ‖g_i − ḡ·[control]‖ ‖h_j‖ with ``similarity: cosine``)
                   (/ L_j(t_c) with ``normalise``)
       A[i, j]   = Σ_c w_c · S_c[i, j],   w_c = Σ_{s = t_{c−1}+1}^{t_c} η_s  (the base's lr, t_0 = 0)

   with ḡ = (1/k) Σ_i g_i, the gradient of a stratified batch (``control``: A measures what a batch of i
   does *beyond* what an average batch does; without it the shared "answer format" direction that every
   skill's data teaches makes nearly every entry positive). Negative entries are set to 0 unless
   ``negative: keep`` (they mean interference).

Reading: with ``similarity: dot`` and ``normalise``, A[i, j] is the first-order relative decrease of L_j
that SGD steps on i alone would have made along the base run (minus a stratified batch's); AdamW's
preconditioning is not modelled (LESS §3.1 does; not here). Cost: ``base_steps`` + C · (k · ``steps`` +
Σ_j ⌈n_j / batch⌉) forward + backward passes, each counted as one step (a step without the update); no
training beyond the base. Memory: (k + m) gradient vectors of P entries (r entries with a projection).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from skillit.graph_learners.base import GraphLearner
from skillit.graph_learners.params import TracInParams
from skillit.graph_learners.runs import ProbeRun, RunOutcome
from skillit.skills.skillset import SkillSet


class TracIn(GraphLearner):
    """Gradient inner products of each training skill with each evaluation skill at checkpoints of the base run."""

    name = "tracin"
    Params = TracInParams
    description = "first-order transfer: lr-weighted ⟨g_i, h_j⟩ at checkpoints of one stratified run (TracIn)"
    ESTIMATE_ONLY: ClassVar[frozenset[str]] = GraphLearner.ESTIMATE_ONLY | {"similarity", "control"}

    def base_points(self) -> list[int]:
        p = self.params
        return sorted({max(1, round(p.base_steps * (n + 1) / p.points)) for n in range(p.points)})

    def plan(self, skillset: SkillSet) -> list[ProbeRun]:
        p = self.params
        points = self.base_points()
        k = len(skillset.train_names)
        return [
            ProbeRun(f"t{t}__gradients", {}, k * p.steps, t, gradients={
                "batches": p.steps, "previous": previous, "eval_examples": p.eval_examples, "index": c,
                "projection": p.projection, "seed": 0,
            })
            for c, (previous, t) in enumerate(zip([0, *points[:-1]], points))
        ]

    def point_matrix(self, measured: dict[str, Any]) -> np.ndarray:
        """S_c (k × m) of one checkpoint from its measured inner products (module docstring, step 3)."""
        p = self.params
        inner = np.asarray(measured["inner"], dtype=float)  # (k, m): ⟨g_i, h_j⟩
        gram = np.asarray(measured["train_gram"], dtype=float)  # (k, k): ⟨g_i, g_i'⟩
        if p.control:  # ⟨g_i − ḡ, h_j⟩ and ⟨g_i − ḡ, g_i' − ḡ⟩, ḡ = (1/k) Σ_i g_i
            inner = inner - inner.mean(axis=0, keepdims=True)
            gram = gram - gram.mean(axis=0, keepdims=True) - gram.mean(axis=1, keepdims=True) + gram.mean()
        if p.similarity == "cosine":
            g_norm = np.sqrt(np.maximum(np.diag(gram), 0.0))  # (k,)
            h_norm = np.sqrt(np.maximum(np.asarray(measured["eval_sqnorm"], dtype=float), 0.0))  # (m,)
            inner = inner / np.maximum(np.outer(g_norm, h_norm), 1e-30)
        if p.normalise:
            inner = inner / np.maximum(np.asarray(measured["eval_loss"], dtype=float), 1e-12)[None, :]
        return inner

    def estimate(self, skillset: SkillSet, outcomes: dict[str, RunOutcome]) -> tuple[np.ndarray, dict[str, Any]]:
        runs = self.plan(skillset)
        measured = [outcomes[run.run_id].measured or {} for run in runs]
        per_point = [self.point_matrix(m) for m in measured]
        weights = [float(m["lr_weight"]) for m in measured]
        matrix = np.sum([w * s for w, s in zip(weights, per_point)], axis=0)  # (k, m)
        raw = matrix.copy()
        if self.params.negative == "zero":
            matrix = np.maximum(matrix, 0.0)
        details = {
            "points": self.base_points(),
            "lr_weights": weights,
            "per_point": [s.tolist() for s in per_point],
            "raw": raw.tolist(),
            "eval_losses": [m["eval_loss"] for m in measured],
            "gradient_dim": measured[0]["dim"] if measured else None,
            "gradient_steps": sum(outcomes[run.run_id].steps for run in runs),
            "gradient_examples": sum(int(m["examples"]) for m in measured),
        }
        return matrix, details
