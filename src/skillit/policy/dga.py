"""DGA: raise the weight of skills whose gradient aligns with the target's gradient (Dynamic Gradient Alignment).

DGA (Fan, Grangier, Ablin 2024, arXiv 2410.02498; frontier.md §5.8) is built for fine-tuning towards a target
whose own data is small: generic skills (domains) D_1…D_k with weights α ∈ Δᵏ, a small specialised set, and
the weights moved online so that the gradient of the α-mixture points where the specialised loss falls. One
step θ⁺ = θ − lr·Σ_i α_i g_i changes the target loss by ≈ −lr·Σ_i α_i ⟨g_i, g_tgt⟩, so every update period

    a_i = ⟨g_i, g_tgt⟩ / s,         α ← softmax(log α + η·a)                                    (KL mirror step)

with g_i the gradient of skill i's mean loss, g_tgt the target's, and s a scale (below). What the sources
confirm, and what is ours:

* **Verified** (abstract, arXiv 2410.02498; the ICLR 2025 reviews, e.g. at tomesphere.com/paper/2410.02498):
  the setting above; the weights move during the one training run (no proxy model, no retraining); the update
  is a gradient-alignment step on the simplex repeated every T_r steps; three hyper-parameters — the domain
  weights' step size, the reweighting period T_r and an EMA factor that stabilises the weights and limits
  over-fitting when domains have few tokens; cost: one gradient per domain plus one for the target per update.
* **Not verified** (we could not read the paper's Algorithm 1 or appendix): the exact form of the step (the
  softmax-of-log-weights form above is the one the same first author's DoGE and GRAPE code use), raw versus
  Adam-preconditioned gradients (we use raw gradients), whether the EMA smooths weights or scores, and the
  default values of η, T_r and β. The defaults below are ours.
* **Ours**: the EMA and a floor are the ``smoothed: β`` and ``floor: ε`` wrappers (EMA of the output mixture;
  whether DGA's next mirror step starts from the smoothed weights is unverified); the first mixture is uniform
  (``prior`` overrides); a round whose alignment is missing for a skill (not drawn, NaN) gives that skill a
  zero step (its log-weight is unchanged), because re-applying a stale alignment would compound it.
* **The target**: the objective skills (the fine-tuning targets). With several, g_tgt is the mean of their
  mean gradients, so a_i is the mean of the target columns ⟨ḡ_i, ḡ_j⟩ (equal weight per target skill).
  With a weighted objective (the config's ``objective_weights``, ``PolicyContext.objective_weights``) the
  target is the objective's own gradient, g_tgt = Σ_j w_j·g_j (w renormalised over the objective skills that
  are training skills, the only ones with data to take a gradient on), so a_i = Σ_j w_j·⟨g_i, g_j⟩: the
  first-order decrease of Σ_j w_j·L_j, which is what the weights ask to minimise. Uniform or absent weights
  are the mean above, unchanged.
  In fine-tuning the targets are training skills too, so each target competes with its own alignment
  a_t = ‖ḡ_t‖² (DGA's specialised set is not a generic domain; ours is, so target-only is a mixture it can reach).

Two estimators of the alignment:

:class:`DGALastLayer` (``dga-lastlayer``, cheap): the round's output-layer gradient statistics the Mixer
already computes (``grad_stats``, :class:`~skillit.policy.base.GradStats`): a_i = Σ_j w_j·gram[i, j] with w
uniform over the target skills (the objective's weights when given), ḡ the round-mean per-example output-layer gradients of the skills *trained*
in the round. No extra forward or backward pass; the period is the round (``training.round_steps``).
The diagonal is de-biased: ḡ_t is the mean of n_t noisy per-example gradients, so E‖ḡ_t‖² = ‖∇L_t‖² + σ_t²/n_t
and a target's alignment with itself would be inflated by its own batch noise — a pull towards target-only,
the over-fitting DGA exists to avoid. With var_t = (1/n_t)Σ‖g_e − ḡ_t‖² (``GradStats.var``), the unbiased
σ̂² = var·n/(n − 1) gives G_tt ← ‖ḡ_t‖² − var_t/(n_t − 1) (n_t = 1: left as it is); off-diagonal entries
pair different examples and are unbiased already. (The full-model probe gets the same by drawing the target
batch apart from the skill's own batch.)
``normalise: sqnorm`` (default) divides by s = the mean of ‖ḡ_i‖² over the skills drawn in the round, so a/s
is dimensionless and η does not depend on the loss scale (DoGE's code divides by the mean gradient norm,
which leaves a/s with the units of a gradient); ``none`` uses the raw inner product.

:class:`DGA` (``dga``, published form): every ``period`` optimiser steps (T_r) the Mixer draws a fresh probe
batch of ``probe_examples`` examples per training skill and of the target skills' *training* data (the
validation sets are what we score, so they stay unseen), and computes full-model gradients of each batch's
mean loss (``grad_probe``, :class:`~skillit.policy.base.GradProbe`): a_i = ⟨g_i, g_tgt⟩ over every parameter.
With weights, the Mixer's probe takes g_tgt = ∇ Σ_j w_j·L_j on the same target batch (one pass,
:mod:`skillit.trainer.probe`); the policy reads the alignment as it comes.
Cost: k + 1 forward/backward passes of ``probe_examples`` examples per period, counted in the records
(``probe_grad_passes``, ``probe_grad_examples``, ``signal_seconds.grad_probe``). ``normalise: none`` is the
default (the reconstructed rule); ``sqnorm`` divides by the mean ‖g_i‖².

The DoGE-style static export (the mean of α over the run as fixed weights) needs no code:
``skillit mixture RUN_DIR --methods dga`` prints each method's mean training mixture as a ``static`` method.
"""

from __future__ import annotations

from typing import Any, Literal

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
    RoundPlan,
    Weights,
    stable_softmax,
    weights_by_name,
)
from skillit.policy.registry import register_policy

Normalise = Literal["sqnorm", "none"]


def mirror_step(weights: np.ndarray, alignment: np.ndarray, eta: float) -> np.ndarray:
    """softmax(log α + η·a) over the skills with a finite a_i; a skill with NaN a_i gets a zero step.

    Shapes: weights (k,), alignment (k,). Zero weights stay zero (log 0 = −inf).
    """
    step = np.where(np.isfinite(alignment), eta * alignment, 0.0)
    with np.errstate(divide="ignore"):
        logits = np.log(np.asarray(weights, dtype=float)) + step
    return stable_softmax(logits)


def scaled(alignment: np.ndarray, sqnorm: np.ndarray, normalise: Normalise) -> np.ndarray:
    """a / s with s = mean ‖g_i‖² over the skills whose a_i and ‖g_i‖² are finite (``sqnorm``), or a (``none``).

    s = 0 (or no finite entry) gives NaN everywhere: no step.
    """
    a = np.asarray(alignment, dtype=float)
    if normalise == "none":
        return a
    fresh = np.isfinite(a) & np.isfinite(sqnorm)
    scale = float(np.mean(sqnorm[fresh])) if fresh.any() else 0.0
    if scale <= 0.0:
        return np.full(a.shape, np.nan)
    return a / scale


def debiased(gram: np.ndarray, var: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """G with G_ii − var_i/(n_i − 1) on the diagonal where n_i > 1: E‖ḡ_i‖² − σ_i²/n_i = ‖∇L_i‖² (shapes (k, k), (k,))."""
    out = np.array(gram, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        correction = np.where(counts > 1, var / (counts - 1.0), 0.0)  # (k,)
    idx = np.arange(out.shape[0])
    out[idx, idx] = out[idx, idx] - np.where(np.isfinite(correction), correction, 0.0)
    return out


class _DGABase(MixingPolicy):
    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        self.eta: float = self.params.eta
        self.normalise: Normalise = self.params.normalise
        self.prior = self.params.prior

    def init(self, context: PolicyContext) -> PolicyState:
        objective = context.target_skills or context.eval_skills
        targets = [name for name in objective if name in context.train_skills]
        if not targets:
            raise PolicyError(
                f"{self.name}: none of the objective skills {list(objective)} is a training skill, so there is no "
                "target data to take a gradient on; use setting: finetune with target_skills among the training skills"
            )
        mask = objective_mask(context.train_skills, targets)  # (k,) 1 on the target skills
        weights = context.objective_weights_of(targets, where=self.name)  # over the targets, summing to 1, or None
        if weights is None:
            target = mask / mask.sum()  # uniform over the targets
        else:  # g_tgt = Σ_j w_j g_j: the objective's weights, in training-skill order
            by_name = dict(zip(targets, weights.tolist()))
            target = np.array([by_name.get(name, 0.0) for name in context.train_skills])
        alpha = (np.full(context.k, 1.0 / context.k) if self.prior is None
                 else weights_by_name(self.prior, context.train_skills, where=f"{self.name} prior"))
        return {"train_skills": list(context.train_skills), "target": target.tolist(),
                "weights": alpha.tolist(), "alignment": [None] * context.k, "round": 0}

    def weights(self, state: PolicyState) -> np.ndarray:
        return np.asarray(state["weights"], dtype=float)

    def _step(self, state: PolicyState, alignment: np.ndarray, sqnorm: np.ndarray, round_index: int) -> PolicyState:
        a = scaled(alignment, sqnorm, self.normalise)  # (k,), NaN: no fresh alignment
        alpha = mirror_step(np.asarray(state["weights"], dtype=float), a, self.eta)
        last = [float(v) if np.isfinite(v) else old for v, old in zip(a, state["alignment"])]
        return {**state, "weights": alpha.tolist(), "alignment": last, "round": round_index + 1}



@register_policy("dga-lastlayer")
class DGALastLayer(_DGABase):
    """α ← softmax(log α + η·Gw/s) from the round's output-layer Gram matrix G (w: uniform on the targets);
    parameters :class:`DGALastLayer.Params`."""

    class Params(PolicyParams):
        eta: float = Field(1.0, ge=0, description="η, the weights' step size (on a/s, dimensionless with sqnorm)")
        normalise: Normalise = Field("sqnorm", description="sqnorm: s = the mean ‖ḡ_i‖² over drawn skills; none: "
                                     "s = 1")
        prior: Weights | None = Field(None, description="the first mixture; default uniform")

    description = "DGA, cheap: α ← softmax(log α + η·⟨ḡ_i, ḡ_target⟩) from output-layer gradients"
    requires = frozenset({"grad_stats"})

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        grad = observation.grad
        if grad is None:
            raise PolicyError(f"{self.name} needs gradient statistics (requires 'grad_stats'); the trainer gave none")
        order = grad_order(grad, state["train_skills"], policy=self.name)
        gram = np.asarray(grad.gram, dtype=float)[np.ix_(order, order)]  # (k, k), NaN rows/columns: not drawn
        gram = debiased(gram, np.asarray(grad.var, dtype=float)[order], np.asarray(grad.counts, dtype=float)[order])
        target = np.asarray(state["target"], dtype=float)  # (k,) w, sums to 1
        columns = gram[:, target > 0]  # (k, n_targets)
        alignment = columns @ target[target > 0]  # (k,) Σ_j w_j G_ij; NaN if any target column is NaN
        sqnorm = np.asarray(grad.sqnorm, dtype=float)[order]  # (k,)
        return self._step(state, alignment, sqnorm, observation.round)


@register_policy("dga")
class DGA(_DGABase):
    """α ← softmax(log α + η·a/s) every ``period`` steps, a_i = ⟨g_i, g_tgt⟩ on full-model probe gradients;
    parameters :class:`DGA.Params`."""

    class Params(PolicyParams):
        eta: float = Field(1.0, ge=0, description="η, the weights' step size")
        period: int | None = Field(None, ge=1, description="T_r: optimiser steps between updates (null: round_steps)")
        probe_examples: int = Field(8, ge=1, description="examples per skill (and for the target) in each probe")
        normalise: Normalise = Field("none", description="none: raw inner products; sqnorm: divided by the mean "
                                     "‖g_i‖²")
        prior: Weights | None = Field(None, description="the first mixture; default uniform")

    description = "DGA: α ← softmax(log α + η·⟨g_i, g_target⟩) on full-model probe gradients every T_r steps"
    requires = frozenset({"grad_probe"})

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        self.period, self.probe_examples = self.params.period, self.params.probe_examples

    def plan(self, state: PolicyState, round_steps: int) -> RoundPlan:
        return RoundPlan(steps=self.period or round_steps)

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        probe = observation.probe
        if probe is None:
            raise PolicyError(f"{self.name} needs probe gradients (requires 'grad_probe'); the trainer gave none")
        skills = list(probe.skills)
        missing = [name for name in state["train_skills"] if name not in skills]
        if missing:
            raise PolicyError(f"{self.name}: the probe has no entry for training skill {missing[0]!r} (it covers "
                              f"{skills}); the Mixer must probe every training skill")
        order = [skills.index(name) for name in state["train_skills"]]
        alignment = np.asarray(probe.alignment, dtype=float)[order]  # (k,)
        sqnorm = np.asarray(probe.sqnorm, dtype=float)[order]  # (k,)
        return self._step(state, alignment, sqnorm, observation.round)
