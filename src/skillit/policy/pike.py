"""PiKE: mix towards skills with large gradients and small gradient noise (frontier.md §5.6).

PiKE (paper §3.2, Algorithm 1), every ``update_every`` rounds:

    w_k ← w_k · exp( ζ1 · ‖∇L_k‖²  −  ζ2 · σ_k² / (2b) ),      w ← w / ‖w‖₁

with ‖∇L_k‖² the squared norm of skill k's expected gradient, σ_k² its per-example gradient variance and b
the global batch size. A skill whose gradient is large helps every step; one whose examples disagree adds
noise, which costs more at small batches.

**The estimators are ours** (the paper does not spell them out; frontier.md marks its half-batch proposal
"to verify"). From the round's output-layer statistics (:class:`~skillit.policy.base.GradStats`: ḡ_k the
mean of the n_k per-example gradients of skill k, sqnorm_k = ‖ḡ_k‖², var_k = (1/n_k) Σ‖g_e − ḡ_k‖²):

    σ̂_k² = var_k · n_k / (n_k − 1)                      (unbiased per-example variance; var_k when n_k = 1)
    ‖∇L_k‖²^ = max(sqnorm_k − σ̂_k² / n_k, 0)            (E‖ḡ_k‖² = ‖∇L_k‖² + σ_k²/n_k, so this is unbiased
                                                           before the clip at 0)

Both are on the output layer only (the same hook as R&B), not the full model. A skill not drawn in the round
(NaN or n_k = 0) is left unchanged. ζ1, ζ2 are tuned constants in the paper; the defaults here (1, 1) are
ours and the right scale depends on the model. Balanced-PiKE (loss-tempered) is not implemented.
The first mixture is uniform (``prior`` overrides).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from skillit.errors import PolicyError
from skillit.policy._signals import grad_order
from skillit.policy.base import (
    MixingPolicy,
    Observation,
    PolicyContext,
    PolicyParams,
    PolicyState,
    Weights,
    weights_by_name,
)
from skillit.policy.registry import register_policy


@register_policy("pike")
class PiKE(MixingPolicy):
    """w ← normalise(w ⊙ exp(ζ1·‖∇L‖² − ζ2·σ²/(2b))) from output-layer gradient statistics; parameters
    :class:`PiKE.Params`."""

    class Params(PolicyParams):
        zeta1: float = Field(1.0, ge=0, description="ζ1, the gradient-norm gain")
        zeta2: float = Field(1.0, ge=0, description="ζ2, the variance penalty")
        update_every: int = Field(1, ge=1, description="T0, rounds between updates")
        prior: Weights | None = Field(None, description="initial weights; default uniform")

    description = "PiKE: w ∝ w·exp(ζ1·‖∇L‖² − ζ2·σ²/2b) from output-layer gradients"
    requires = frozenset({"grad_stats"})

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        p = self.params
        self.zeta1, self.zeta2, self.update_every, self.prior = p.zeta1, p.zeta2, p.update_every, p.prior

    def init(self, context: PolicyContext) -> PolicyState:
        w = (np.full(context.k, 1.0 / context.k) if self.prior is None
             else weights_by_name(self.prior, context.train_skills, where="pike prior"))
        return {"train_skills": list(context.train_skills), "log_weights": np.log(np.maximum(w, 1e-300)).tolist(),
                "batch_size": int(context.batch_size), "round": 0}

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        rounds = observation.round + 1
        if rounds % self.update_every != 0:
            return {**state, "round": rounds}
        grad = observation.grad
        if grad is None:
            raise PolicyError("pike needs gradient statistics (requires 'grad_stats'); the trainer gave none")
        order = grad_order(grad, state["train_skills"], policy=self.name)
        sqnorm, var, counts = (np.asarray(a, dtype=float)[order] for a in (grad.sqnorm, grad.var, grad.counts))
        batch = state["batch_size"] or max(1.0, float(np.nansum(counts)) / max(observation.steps, 1))
        norm2, sigma2 = pike_estimates(sqnorm, var, counts)
        gain = self.zeta1 * norm2 - self.zeta2 * sigma2 / (2.0 * batch)
        gain = np.where(np.isfinite(gain), gain, 0.0)
        log_w = np.asarray(state["log_weights"], dtype=float) + gain
        return {**state, "log_weights": (log_w - log_w.max()).tolist(), "round": rounds}

    def weights(self, state: PolicyState) -> np.ndarray:
        w = np.exp(np.asarray(state["log_weights"], dtype=float) - max(state["log_weights"]))
        return w / w.sum()



def pike_estimates(sqnorm: np.ndarray, var: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(‖∇L_k‖², σ_k²) estimates (ours): NaN where a skill had no example. See the module docstring."""
    n = np.asarray(counts, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma2 = np.where(n > 1, var * n / (n - 1), var)
        norm2 = np.maximum(sqnorm - sigma2 / n, 0.0)
    drawn = (n > 0) & np.isfinite(sqnorm) & np.isfinite(var)
    return np.where(drawn, norm2, np.nan), np.where(drawn, sigma2, np.nan)
