"""DoReMi, online form: a mixture pushed towards skills whose loss exceeds a reference's (frontier.md §5.4).

Xie et al. (NeurIPS 2023) run Group DRO on a proxy model: after each step, with λ_i the excess loss of
skill i over a reference model,

    λ_i = max(L_i − L_i^ref, 0)
    log α ← log α + η·λ,   α ← softmax(log α),   α ← (1 − ε)·α + ε/k          (α_0 = 1/k)

and the *average* ᾱ of α over the run is the output, used as static weights for a second, main run
(``sangmichaelxie/doremi``, ``doremi/trainer.py::update_domain_weights``; η = 1, ε = 1e-3).

Choices made here (named ``doremi-online`` because they are a variant, not the paper's pipeline):

* **Sampling, not loss weighting.** The original uses α as a weight on the proxy's *loss* with the batch
  composition fixed; here α is the *sampling* mixture of the next round (as Aioli's port and every
  online-mixing comparison treat it).
* **Round-level, validation-loss excess** (a proposal in frontier.md §5.4, not from the papers). L_i is the
  validation loss of skill i at the round's last evaluation, L_i^ref the reference model's validation loss
  (``Observation.ref_losses``: by default the final losses of a recorded stratified reference run, i.e. the
  trained reference model, or a reference model evaluated on the same validation sets). The paper compares per-token losses on the same training batch,
  which doubles the forward cost.
* A training skill without a validation set, or not evaluated in the round, keeps its last excess.
* The reference must be *ahead* of the proxy: the Mixer's recorded reference gives the trained reference's
  final losses by default; read step by step (``at="same_step"``), a same-seed stratified run that starts
  from the same uniform mixture gives zero excess everywhere and α stays uniform (docs/policies.md).

The static export: :func:`average_weights` returns ᾱ = Σ α / n from a finished run's final state (exact, as
the original's ``avg_domain_weights``); :func:`average_mixture` returns the step-weighted mean of the mixtures
a run trained on, from its records (any policy), which differs from ᾱ by one round: it contains α_0 and not
the last α, which no round trained on. Either gives ``static`` policy weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import Field

from skillit.errors import PolicyError
from skillit.policy.base import MixingPolicy, Observation, PolicyContext, PolicyParams, PolicyState, stable_softmax
from skillit.policy.registry import register_policy


@register_policy("doremi-online")
class DoReMiOnline(MixingPolicy):
    """α ← (1 − ε)·softmax(log α + η·max(L − L^ref, 0)) + ε/k, every round; parameters
    :class:`DoReMiOnline.Params`."""

    class Params(PolicyParams):
        eta: float = Field(1.0, ge=0, description="η (reweight_eta), the step size on the excess loss")
        smoothing: float = Field(1e-3, ge=0, le=1, description="ε (reweight_eps), the share mixed with uniform "
                                 "after every update")

    description = "DoReMi as an online sampler: α ∝ α·exp(η·excess loss over a reference)"
    requires = frozenset({"val_loss", "ref_loss"})

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        self.eta, self.smoothing = self.params.eta, self.params.smoothing

    def init(self, context: PolicyContext) -> PolicyState:
        k = context.k
        evaluated = [s for s in context.train_skills if s in context.eval_skills]
        if not evaluated:
            raise PolicyError(
                "doremi-online: no training skill has a validation set, so no excess loss can be measured; "
                "give training skills validation sets"
            )
        return {"train_skills": list(context.train_skills), "alpha": [1.0 / k] * k, "alpha_sum": [0.0] * k,
                "updates": 0, "excess": [0.0] * k, "round": 0}

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        skills = state["train_skills"]
        excess = np.asarray(state["excess"], dtype=float)  # (k,) last known λ
        if observation.evals:
            last = observation.evals[-1]
            for i, name in enumerate(skills):
                if name in last.losses and name in observation.ref_losses:
                    excess[i] = max(float(last.losses[name]) - float(observation.ref_losses[name]), 0.0)
        alpha = doremi_step(np.asarray(state["alpha"], dtype=float), excess, self.eta, self.smoothing)
        return {**state, "alpha": alpha.tolist(), "alpha_sum": (np.asarray(state["alpha_sum"]) + alpha).tolist(),
                "updates": state["updates"] + 1, "excess": excess.tolist(), "round": observation.round + 1}

    def weights(self, state: PolicyState) -> np.ndarray:
        return np.asarray(state["alpha"], dtype=float)



def doremi_step(alpha: np.ndarray, excess: np.ndarray, eta: float, smoothing: float) -> np.ndarray:
    """(1 − ε)·softmax(log α + η·λ) + ε/k."""
    fresh = stable_softmax(np.log(np.maximum(alpha, 1e-300)) + eta * excess)
    return (1.0 - smoothing) * fresh + smoothing / alpha.size


def average_weights(state: PolicyState) -> dict[str, float]:
    """ᾱ = (1/n) Σ_t α_t over the n updates of a finished ``doremi-online`` run: the static export."""
    if not state.get("updates"):
        raise PolicyError("doremi-online: the state has no update yet, so there is no average to export")
    mean = np.asarray(state["alpha_sum"], dtype=float) / state["updates"]
    return {name: float(v) for name, v in zip(state["train_skills"], mean / mean.sum())}


def average_mixture(records: Sequence[Mapping[str, Any]], train_skills: Sequence[str] | None = None) -> dict[str, float]:
    """The step-weighted mean of the mixtures a run trained on, from its records (``metrics.jsonl`` lines).

    Each record's ``weights`` is the mixture in force up to its ``step``; it counts for the steps since the
    previous record. Usable as ``static`` weights: ``{policy: static, params: {weights: <this>}}``.
    """
    rows = sorted((r for r in records if r.get("weights")), key=lambda r: int(r["step"]))
    if not rows:
        raise PolicyError("average_mixture: no record carries mixture weights (is this a run's metrics.jsonl?)")
    names = list(train_skills) if train_skills is not None else list(rows[0]["weights"])
    total = np.zeros(len(names))
    previous = 0
    for row in rows:
        span = int(row["step"]) - previous
        previous = int(row["step"])
        if span <= 0:
            continue
        missing = [n for n in names if n not in row["weights"]]
        if missing:
            raise PolicyError(f"average_mixture: the record at step {row['step']} has no weight for skill {missing[0]!r}")
        total += span * np.array([float(row["weights"][n]) for n in names])
    if total.sum() <= 0:
        raise PolicyError("average_mixture: the records cover no training step")
    return {name: float(v) for name, v in zip(names, total / total.sum())}
