"""Aioli: estimate the mixing law's A online with short probe sub-rounds, then take an EGD step (frontier.md §5.1).

Aioli (Chen, Hu et al., ICLR 2025; ``HazyResearch/aioli``, ``trainer/aioli_trainer.py``; peers.md §2.3) reads
data mixing as the linear dynamic law L_i^{t+1} = L_i^t − Σ_j A_ij p_j^t and estimates A^t in every round:

1. **LearnParams** (probe sub-rounds, :meth:`Aioli.plan`): for each of ``lp_rounds`` random permutations of
   the k training skills, for each skill j in it, train ``lp_steps`` steps at the smoothed one-hot mixture
   q_j (q_j[j] = δ, q_j[l≠j] = (1 − δ)/(k − 1); δ = ``one_hot_factor``), evaluate, and add the loss drop:
   Â[:, j] += L^prev − L^new; L^prev ← L^new. Then Â ← Â / lp_rounds.
2. **De-mix** (δ < 1): with W[j, :] = q_j, solve W·A[i, :]ᵀ = Â[i, :]ᵀ for every row i, since the probe for j
   trained on q_j, not on j alone. ``diagonal=True`` instead keeps A_ii = Â_ii / δ and zeroes the rest.
3. **Normalise** (``normalise``; ``normalize`` before, still accepted; the README says always): if min A < 0, A ← A − min A; then A ← A / Σ A.
4. **Step**: with EMA γ (``ema``): Ā = A in the first round, else (1 − γ)·A + γ·Ā, and
   p = normalise(p0 ⊙ exp(η · wᵀĀ)); without EMA, p ← normalise(p ⊙ exp(η · wᵀA)).
5. **Train** the rest of the round at p: round_steps − lp_rounds·k·lp_steps steps.

Rows of A are the evaluation skills, columns the training skills; w is the objective mask (1 on target
skills; all ones in pre-training, where wᵀA is the original's column sum Σ_i A_ij). A rectangular A with a
target mask is our extension (the original is square, all skills); in pre-training it is the original rule.
With a weighted objective (``PolicyContext.objective_weights``, summing to 1 over the n objective rows) the
mask becomes w_i = n·ŵ_i on those rows (ŵ: the weights renormalised over the objective skills among the rows),
so wᵀA is the decrease of Σ_i ŵ_i·L_i scaled as in the uniform case (n·ŵ_i = 1 gives the mask); η keeps its
meaning. ``aioli-train-loss`` has training skills as rows: the weights apply to the objective skills among
them, and where none is (out-of-domain) the mask stays all ones, unweighted.

Choices where the original and the spec differ, named: p is renormalised in the non-EMA branch (the original
does not); the probe permutations come from ``numpy.random.default_rng([seed, round])`` with the context's
seed, kept in the state, so a run is deterministic and resumes exactly. The probe steps count against the
step budget; their lp_rounds·k evaluations are overhead (the Mixer records them as probe evaluations).
If a trainer ignores :meth:`plan` and reports a training round while probes are pending, that round's
partial estimate is discarded and the mixture is unchanged; the next round starts a new LearnParams phase.

:class:`AioliTrainLoss` (``aioli-train-loss``) is the cheap variant of Mixtera's port (``eth-easl/mixtera`` PR
#158): the same probe windows, but L is each training skill's mean *training* loss over the window, so no
evaluation is made (rows of A are the training skills). Its first window of a round compares against the
previous training sub-round's mean loss, an earlier point of the curve, which inflates that column's drop;
the random permutations spread this bias over the skills. A skill not drawn in a window keeps its last loss
(a zero drop).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field

from skillit.errors import PolicyError
from skillit.policy._signals import latest_eval_losses, objective_mask, train_losses_or
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


def probe_mixture(k: int, j: int, one_hot_factor: float) -> np.ndarray:
    """q_j: δ on skill j, (1 − δ)/(k − 1) on every other skill; shape (k,)."""
    if k == 1:
        return np.ones(1)
    q = np.full(k, (1.0 - one_hot_factor) / (k - 1))
    q[j] = one_hot_factor
    return q


def estimate_mixing_matrix(accumulated: np.ndarray, lp_rounds: int, one_hot_factor: float, *, diagonal: bool = False,
                           diagonal_of: np.ndarray | None = None, normalise: bool = True,
                           normalize: bool | None = None) -> np.ndarray:
    """A from the summed probe responses Â (rows: measured skills, columns: probed training skills).

    ``diagonal_of`` (rows × k, 0/1) marks the entries where the measured skill is the probed skill.
    ``normalize`` is the old, deprecated spelling of ``normalise`` (a FutureWarning).
    """
    if normalize is not None:
        warnings.warn("estimate_mixing_matrix: 'normalize' is the old, deprecated spelling; write 'normalise'",
                      FutureWarning, stacklevel=2)
        normalise = normalize
    a = np.asarray(accumulated, dtype=float) / lp_rounds  # (m, k)
    k = a.shape[1]
    if diagonal:
        mark = diagonal_of if diagonal_of is not None else np.eye(a.shape[0], k)
        a = a * mark / one_hot_factor
    elif one_hot_factor < 1.0 and k > 1:
        w = np.stack([probe_mixture(k, j, one_hot_factor) for j in range(k)])  # (k, k), row j = q_j
        a = np.linalg.solve(w, a.T).T  # row i: solve W·x = Â[i, :]
    if normalise:
        low = a.min()
        if low < 0:
            a = a - low
        total = a.sum()
        if total > 0:
            a = a / total
    return a


@register_policy("aioli")
class Aioli(MixingPolicy):
    """Online A^t from LearnParams probes, then p ∝ p ⊙ exp(η·wᵀA) (or p0 ⊙ exp(η·wᵀĀ) with EMA); its
    parameters are :class:`Aioli.Params` (the reference README's m = 2 settings; in brackets the full
    SlimPajama run's)."""

    class Params(PolicyParams):
        eta: float = Field(0.2, ge=0, description="η of the exponentiated-gradient step (full: 1)")
        lp_rounds: int = Field(4, ge=1, description="sweeps of probes over the skills per round (full: 2)")
        lp_steps: int = Field(4, ge=1, description="optimiser steps per probe (full: 10)")
        one_hot_factor: float = Field(0.625, gt=0, le=1, description="δ: probe mixture weight on the probed "
                                      "skill, in (1/k, 1] (full: 0.75)")
        ema: float | None = Field(None, ge=0, lt=1, description="γ of the EMA over A; null: multiplicative on "
                                  "the previous p")
        normalise: bool = Field(True, description="shift A to min 0 and divide by its sum (the README: always); "
                                "`normalize` is its old, deprecated spelling")
        diagonal: bool = Field(False, description="keep only A_ii (--aioli_diagonal)")
        prior: Weights | None = Field(None, description="p0; default uniform")

        renamed = {"normalize": "normalise"}  # accepted with a FutureWarning; old descriptions resume

    description = "Aioli: A learned online by probe sub-rounds, p ∝ p·exp(η·colsum A)"
    requires = frozenset({"val_loss"})
    uses_evaluations = True

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        p = self.params
        self.eta, self.lp_rounds, self.lp_steps = p.eta, p.lp_rounds, p.lp_steps
        self.one_hot_factor, self.ema = p.one_hot_factor, p.ema
        self.normalise, self.diagonal, self.prior = p.normalise, p.diagonal, p.prior

    # ---- what the variants measure -------------------------------------------------------------------
    def _rows(self, context: PolicyContext) -> tuple[str, ...]:
        rows = tuple(context.eval_skills)
        if not rows:
            raise PolicyError("aioli: no evaluation skills; it measures every skill's validation loss after each probe")
        return rows

    def _initial_losses(self, context: PolicyContext, rows: Sequence[str]) -> list[float | None]:
        if context.initial_eval is None:
            raise PolicyError("aioli: needs the validation losses before training (an evaluation at step 0)")
        return context.initial_eval.loss_vector(rows).tolist()

    def _losses(self, observation: Observation, rows: Sequence[str], previous: np.ndarray) -> np.ndarray:
        return latest_eval_losses(observation, rows, previous)

    # ---- protocol -------------------------------------------------------------------------------------
    def probe_steps(self, k: int) -> int:
        """Optimiser steps spent probing per round: lp_rounds · k · lp_steps."""
        return self.lp_rounds * k * self.lp_steps

    def init(self, context: PolicyContext) -> PolicyState:
        k = context.k
        if k > 1 and self.one_hot_factor <= 1.0 / k and not self.diagonal:
            raise PolicyError(f"{self.name}: one_hot_factor {self.one_hot_factor} must exceed 1/k = {1.0 / k:.4g} "
                              "(at 1/k every probe is the uniform mixture and A cannot be de-mixed)")
        if context.round_steps <= self.probe_steps(k):
            raise PolicyError(
                f"{self.name}: a round of {context.round_steps} steps leaves no training after its probes "
                f"(lp_rounds·k·lp_steps = {self.lp_rounds}·{k}·{self.lp_steps} = {self.probe_steps(k)}); "
                "lengthen round_steps or lower lp_rounds / lp_steps"
            )
        rows = self._rows(context)
        p0 = (np.full(k, 1.0 / k) if self.prior is None
              else weights_by_name(self.prior, context.train_skills, where=f"{self.name} prior"))
        objective = objective_mask(list(rows), context.target_skills or rows)  # (m,) w over rows
        weighted = [name for name in (context.target_skills or rows) if name in rows]  # objective skills among rows
        weights = context.objective_weights_of(weighted, where=self.name) if weighted else None
        if weights is not None:  # n·ŵ on the objective rows: 1 each for uniform weights
            by_name = dict(zip(weighted, (len(weighted) * weights).tolist()))
            objective = np.array([by_name.get(name, 0.0) for name in rows])
        diagonal_of = (np.array(rows)[:, None] == np.array(context.train_skills)[None, :]).astype(float)  # (m, k)
        state = {"train_skills": list(context.train_skills), "rows": list(rows), "objective": objective.tolist(),
                 "diagonal_of": diagonal_of.tolist(), "prior": p0.tolist(), "weights": p0.tolist(),
                 "ema_matrix": None, "last": self._initial_losses(context, rows), "seed": int(context.seed),
                 "round": 0, "estimates": 0}
        return self._start_round(state, 0)

    def _start_round(self, state: PolicyState, round_index: int) -> PolicyState:
        k, m = len(state["train_skills"]), len(state["rows"])
        rng = np.random.default_rng([state["seed"], round_index])
        queue = [int(j) for _ in range(self.lp_rounds) for j in rng.permutation(k)]
        return {**state, "round": round_index, "queue": queue, "accumulated": [[0.0] * k for _ in range(m)]}

    def plan(self, state: PolicyState, round_steps: int) -> RoundPlan:
        k = len(state["train_skills"])
        if state["queue"]:
            q = probe_mixture(k, state["queue"][0], self.one_hot_factor)
            return RoundPlan(steps=self.lp_steps, weights=q, kind="probe", evaluate=self.uses_evaluations)
        # the evaluation at the end of the training sub-round is the next round's starting loss L^prev
        return RoundPlan(steps=max(1, round_steps - self.probe_steps(k)), kind="train",
                         evaluate=self.uses_evaluations)

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        previous = np.array([np.nan if v is None else v for v in state["last"]], dtype=float)
        losses = self._losses(observation, state["rows"], previous)  # (m,)
        last = [None if np.isnan(v) else float(v) for v in losses]
        if observation.kind == "probe" and state["queue"]:
            j = state["queue"][0]
            accumulated = np.asarray(state["accumulated"], dtype=float)
            accumulated[:, j] += np.nan_to_num(previous - losses)  # unknown baseline: no drop
            state = {**state, "queue": state["queue"][1:], "accumulated": accumulated.tolist(), "last": last}
            return self._step(state) if not state["queue"] else state
        # a training sub-round ended: the next round begins with a fresh LearnParams phase
        return self._start_round({**state, "last": last}, state["round"] + 1)

    def _step(self, state: PolicyState) -> PolicyState:
        a = estimate_mixing_matrix(np.asarray(state["accumulated"]), self.lp_rounds, self.one_hot_factor,
                                   diagonal=self.diagonal, diagonal_of=np.asarray(state["diagonal_of"]),
                                   normalise=self.normalise)  # (m, k)
        w = np.asarray(state["objective"], dtype=float)  # (m,)
        if self.ema is not None:
            ema = a if state["ema_matrix"] is None else (1.0 - self.ema) * a + self.ema * np.asarray(state["ema_matrix"])
            base, matrix, ema_out = np.asarray(state["prior"]), ema, ema.tolist()
        else:
            base, matrix, ema_out = np.asarray(state["weights"]), a, None
        p = stable_softmax(np.log(np.maximum(base, 1e-300)) + self.eta * (w @ matrix))
        return {**state, "weights": p.tolist(), "ema_matrix": ema_out, "estimates": state["estimates"] + 1,
                "matrix": a.tolist()}

    def weights(self, state: PolicyState) -> np.ndarray:
        return np.asarray(state["weights"], dtype=float)



@register_policy("aioli-train-loss")
class AioliTrainLoss(Aioli):
    """Aioli's cheap variant: the probe responses are training-loss drops per training skill; no evaluation."""

    description = "Aioli's cheap variant: probes measured on training loss, no evaluation"
    requires = frozenset({"train_loss"})
    uses_evaluations = False

    def _rows(self, context: PolicyContext) -> tuple[str, ...]:
        return tuple(context.train_skills)

    def _initial_losses(self, context: PolicyContext, rows: Sequence[str]) -> list[float | None]:
        return [None] * len(rows)  # no training loss before the first step

    def _losses(self, observation: Observation, rows: Sequence[str], previous: np.ndarray) -> np.ndarray:
        return train_losses_or(observation, rows, previous)[0]
