"""R&B-Balance: mix towards skills whose training gradients align with the evaluation mixture (frontier.md §5.5).

R&B (Regroup & Balance), paper §3.4, Algorithm 1/3. With G the round's Gram matrix of per-skill mean
output-layer gradients, G_ij = ⟨ḡ_i, ḡ_j⟩ (``Observation.grad.gram``, :class:`~skillit.policy.base.GradStats`)
and p′ the evaluation proportions over training skills,

    v = G · p′,      p ← softmax(λ · v / ‖v‖₂)                         (overwritten every round; no memory)

v_i is the alignment of skill i's gradient with the gradient of the evaluation mixture: a step on skill i
lowers the evaluation loss by about lr·v_i. The normalisation makes λ (``temperature``) scale-free.

Choices:

* p′ = uniform over the objective skills that are training skills (the target mask; every skill in
  pre-training); uniform over all training skills in out-of-domain, where no evaluation skill is trained.
  With a weighted objective (``PolicyContext.objective_weights``), p′ is the objective's weights over those
  skills (renormalised over them), so G·p′ is the gradient of Σ_j w_j·L_j (the evaluation mixture the user
  asked for); out-of-domain has no trained objective skill to weigh and stays uniform.
  ``eval_proportions`` overrides it.
* A skill not drawn in the round (NaN row/column of G) keeps its entries from the last round that drew it
  (0 before that), as the spec allows; ‖v‖ = 0 gives the uniform mixture.
* The first round is uniform (stratified), having no gradient yet.
* The paper's λ is a tuned temperature; the default λ = 1 is ours (tune it: v/‖v‖ lies in [−1, 1]).
No validation loss is read: the policy's selling point and its risk (no feedback from held-out skills).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from skillit.errors import PolicyError
from skillit.policy._signals import grad_order, objective_mask
from skillit.policy.base import (
    MixingPolicy,
    Observation,
    PolicyContext,
    PolicyParams,
    PolicyState,
    Weights,
    stable_softmax,
    weights_by_name,
)
from skillit.policy.registry import register_policy


@register_policy("rb-balance")
class RBBalance(MixingPolicy):
    """p = softmax(λ · G·p′ / ‖G·p′‖₂) from the round's output-layer gradient Gram matrix; parameters
    :class:`RBBalance.Params`."""

    class Params(PolicyParams):
        temperature: float = Field(1.0, ge=0, description="λ")
        eval_proportions: Weights | None = Field(None, description="p′ over training skills; default the target "
                                                 "mask, uniform")

    description = "R&B-Balance: softmax of output-layer gradient alignment with the objective"
    requires = frozenset({"grad_stats"})

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        self.temperature, self.eval_proportions = self.params.temperature, self.params.eval_proportions

    def init(self, context: PolicyContext) -> PolicyState:
        if self.eval_proportions is not None:
            target = weights_by_name(self.eval_proportions, context.train_skills, where="rb-balance eval_proportions")
        else:
            objective = context.target_skills or context.eval_skills
            mask = objective_mask(context.train_skills, objective)
            trained = [name for name in objective if name in context.train_skills]
            weights = context.objective_weights_of(trained, where="rb-balance") if trained else None
            if weights is None:
                target = mask / mask.sum()
            else:  # p′ = the objective's weights over the trained objective skills
                by_name = dict(zip(trained, weights.tolist()))
                target = np.array([by_name.get(name, 0.0) for name in context.train_skills])
        k = context.k
        return {"train_skills": list(context.train_skills), "eval_proportions": target.tolist(),
                "gram": [[0.0] * k for _ in range(k)], "weights": [1.0 / k] * k, "round": 0}

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        grad = observation.grad
        if grad is None:
            raise PolicyError("rb-balance needs gradient statistics (requires 'grad_stats'); the trainer gave none")
        skills = state["train_skills"]
        order = grad_order(grad, skills, policy=self.name)
        fresh = np.asarray(grad.gram, dtype=float)[np.ix_(order, order)]  # (k, k), NaN where a skill was not drawn
        gram = np.where(np.isfinite(fresh), fresh, np.asarray(state["gram"], dtype=float))
        p = balance(gram, np.asarray(state["eval_proportions"]), self.temperature)
        return {**state, "gram": gram.tolist(), "weights": p.tolist(), "round": observation.round + 1}

    def weights(self, state: PolicyState) -> np.ndarray:
        return np.asarray(state["weights"], dtype=float)



def balance(gram: np.ndarray, eval_proportions: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(λ · v / ‖v‖₂) with v = G·p′; uniform when v = 0."""
    v = gram @ eval_proportions  # (k,)
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        return np.full(v.size, 1.0 / v.size)
    return stable_softmax(temperature * v / norm)
