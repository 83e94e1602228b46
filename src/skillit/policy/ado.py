"""ADO: fit a power law to each skill's training loss and sample where the fitted curve still falls fast.

ADO (Jiang et al., ICLR 2025; ``yidingjiang/ado``, ``src/data_selectors/ado.py``; frontier.md §5.3). For each
skill k, fit L̂_k(n) = exp(e_k) + exp(a_k)·n^(−α_k) to its (smoothed) training loss against the examples
trained so far n, in log space with a Huber loss:

    min_{a, e, α} Σ_t huber_δ( log y_t − logsumexp(a − α·log n_t, e) )     δ = 1e-3,  within the bounds below

Then, with μ the prior (token or example share, or uniform), h an EMA of the realised shares
(h ← 0.9·h + 0.1·counts/Σcounts, h_0 = μ) and p̄ the running mean of past ρ:

    slope_k = max(α_k, 0.05) · (L̂_k(n) − exp(e_k)) / n          (−dL̂_k/dn: how fast skill k still learns)
    ρ = clip_min( normalise(slope ⊙ μ ⊙ h^0.5), 0.01 )            (clip then renormalise)
    p = 0.9·p̄ + 0.1·ρ,        p̄ ← (1 − 1/(t+1))·p̄ + ρ/(t+1)        (t = updates since the first fit)

Before ``start_rounds`` rounds, or before a skill could be fitted, p = μ.

Choices, named (the code is step-level, this interface is round-level):

* A "step" of the original is a round here: each round appends the per-skill mean training loss and the
  cumulative example count; a skill not drawn in the round carries its last loss (the first round: the
  mean of the drawn skills). ``use_same_step_size`` as in the repository: n is the *total* examples trained
  (every skill's counter advances by the whole batch), so all skills share n.
* ``ignore_rounds`` (code: ignore the first 1000 steps) drops the first rounds from the fit; the code's
  stride of 10 over steps is 1 over rounds. The Savitzky–Golay smoother (code: window 101, order 3) uses
  ``smooth_window`` rounds (default 5), shrunk to the history; no smoothing when fewer than 5 points.
* Bounds. The code penalises α > 0.8, α < 0.001, a > 6.5 and e < 0.5 with soft hinge terms; here they are
  hard bounds of the search, all configurable (and e never above the smallest observed loss). **The code's e ≥ 0.5 forces an irreducible loss
  exp(0.5) ≈ 1.65 nats**, which biases every fit on skills whose loss falls below that (most CPU-scale
  tasks); set ``e_min`` lower (e.g. −5) there.
* The fit. The code runs jaxopt LBFGS from an 8×8×8 grid of starts; here a grid search over (α, e)
  (40 × 40 points within the bounds, narrowed 3 times around the best) with a in closed form (the median of log(y − e^e) + α·log n, the
  L1 solution that a Huber loss with δ = 1e-3 amounts to) minimises the same objective without an
  iterative solver: deterministic, vectorised, ~10 ms per skill (scipy's L-BFGS-B took ~1 s per skill on
  this flat valley). A fit that comes back non-finite is rejected (the skill keeps its last fit).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field

from skillit.errors import PolicyError
from skillit.policy._signals import train_losses_or
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

HUBER_DELTA = 1e-3


def _huber(r: np.ndarray) -> np.ndarray:
    absolute = np.abs(r)
    return np.where(absolute <= HUBER_DELTA, 0.5 * r**2, HUBER_DELTA * (absolute - 0.5 * HUBER_DELTA))


def fit_objective(params: np.ndarray, n: np.ndarray, y: np.ndarray) -> float:
    """Σ huber_δ(log y − logsumexp(a − α·log n, e)) for params (a, e, α)."""
    a, e, alpha = params
    pred = np.logaddexp(a - alpha * np.log(n), e)
    return float(np.sum(_huber(np.log(y) - pred)))


def _search(log_n: np.ndarray, log_y: np.ndarray, alphas: np.ndarray, es: np.ndarray,
            a_bounds: tuple[float, float]) -> tuple[float, np.ndarray]:
    """The best (a, e, α) over the (α, e) grid, a in closed form; returns (objective, params)."""
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: floors above every point
        above = np.log(np.exp(log_y)[None, :] - np.exp(es)[:, None])  # (Q, T), NaN where y ≤ e^e
        candidates = above[None, :, :] + alphas[:, None, None] * log_n[None, None, :]  # (P, Q, T)
        a = np.nanmedian(candidates, axis=2)  # (P, Q)
    a = np.clip(np.where(np.isfinite(a), a, a_bounds[0]), *a_bounds)
    pred = np.logaddexp(a[:, :, None] - alphas[:, None, None] * log_n[None, None, :], es[None, :, None])
    objective = _huber(log_y[None, None, :] - pred).sum(axis=2)  # (P, Q)
    if not np.isfinite(objective).any():
        return np.inf, np.full(3, np.nan)
    i, j = np.unravel_index(int(np.nanargmin(objective)), objective.shape)
    return float(objective[i, j]), np.array([a[i, j], es[j], alphas[i]])


def fit_power_law(n: np.ndarray, y: np.ndarray, bounds: Sequence[tuple[float, float]], *, points: int = 40,
                  refinements: int = 3) -> np.ndarray | None:
    """(a, e, α) of L̂(n) = exp(e) + exp(a)·n^(−α) fitted to (n, y) within ``bounds``; ``None`` if no finite fit.

    A grid search over (α, e), ``points`` × ``points``, with a in closed form for each pair:
    a = median_t(log(y_t − e^e) + α·log n_t) over the points above the floor e^e (the minimiser of
    Σ|log(y − e^e) − (a − α log n)|, which a Huber loss with δ = 1e-3 amounts to on residuals above 1e-3),
    clipped to its bounds; the pair with the least Huber objective wins, and the grid is then narrowed
    around it ``refinements`` times (to ±2 cells).
    """
    n, y = np.asarray(n, dtype=float), np.asarray(y, dtype=float)
    log_n, log_y = np.log(n), np.log(y)  # (T,)
    (a_low, a_high), (e_low, e_high), (alpha_low, alpha_high) = bounds
    top = min(e_high, float(log_y.min()))  # a floor above every loss fits nothing
    e_range = (max(e_low, top - 8.0), top) if top > e_low else (e_low, e_low)
    alpha_range = (alpha_low, alpha_high)
    best_value, best = np.inf, None
    for _ in range(refinements + 1):
        alphas = np.linspace(*alpha_range, points)
        es = np.linspace(*e_range, points)
        value, params = _search(log_n, log_y, alphas, es, (a_low, a_high))
        if value < best_value:
            best_value, best = value, params
        if best is None:
            return None
        step_alpha, step_e = 2 * (alphas[1] - alphas[0]), 2 * (es[1] - es[0])
        alpha_range = (max(alpha_low, best[2] - step_alpha), min(alpha_high, best[2] + step_alpha))
        e_range = (max(e_range[0], best[1] - step_e), min(e_range[1], best[1] + step_e))
    return best


def ado_slopes(params: np.ndarray, n: float) -> np.ndarray:
    """slope_k = max(α_k, 0.05)·(L̂_k(n) − exp(e_k))/n = max(α_k, 0.05)·exp(a_k)·n^(−α_k)/n; params (k, 3)."""
    a, _, alpha = params.T
    return np.maximum(alpha, 0.05) * np.exp(a) * n ** (-alpha) / n


def ado_mixture(slopes: np.ndarray, prior: np.ndarray, history: np.ndarray, min_prob: float) -> np.ndarray:
    """ρ = clip_min(normalise(slope ⊙ μ ⊙ h^0.5), min_prob), renormalised."""
    rho = slopes * prior * np.sqrt(history)
    rho = rho / rho.sum() if rho.sum() > 0 else np.full(rho.size, 1.0 / rho.size)
    rho = np.maximum(rho, min_prob)
    return rho / rho.sum()


@register_policy("ado")
class ADO(MixingPolicy):
    """Per-skill power-law fits of the training loss; sample in proportion to the fitted learning speed.
    Its parameters are :class:`ADO.Params`; in brackets the reference code's settings.
    """

    class Params(PolicyParams):
        prior: Literal["natural", "uniform"] | Weights = Field(
            "natural", description="μ: natural (pool share, the code's 'empirical'), uniform, or given weights")
        start_rounds: int = Field(3, ge=0, description="rounds of p = μ before the first fit (code: 500 steps)")
        ignore_rounds: int = Field(0, ge=0, description="first rounds left out of every fit (code: 1000 steps)")
        refit_every: int = Field(1, ge=1, description="rounds between refits (code: 1000 steps)")
        smooth_window: int = Field(5, ge=1, description="Savitzky–Golay window in rounds, order 3 (code: 101 steps)")
        history_decay: float = Field(0.9, ge=0, lt=1, description="γ of the realised-share EMA h")
        mix: float = Field(0.1, gt=0, le=1, description="weight of ρ in p = (1 − mix)·p̄ + mix·ρ")
        min_prob: float = Field(0.01, ge=0, lt=1, description="floor of ρ")
        a_max: float = Field(6.5, description="fit bound: a ≤ a_max (a ≥ −10 always)")
        e_min: float = Field(0.5, description="fit bound: log irreducible loss ≥ e_min (e ≤ 10 always); the "
                             "code's 0.5 forces ≥ 1.65 nats")
        alpha_min: float = Field(0.001, description="fit bound: α ≥ alpha_min")
        alpha_max: float = Field(0.8, description="fit bound: α ≤ alpha_max")

    description = "ADO: per-skill power-law fits of training loss, sample by learning speed"
    requires = frozenset({"train_loss"})

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        p = self.params
        if not p.alpha_min < p.alpha_max or not p.e_min < 10 or not p.a_max > -10:
            raise PolicyError(f"ado: empty fit bounds (alpha in [{p.alpha_min}, {p.alpha_max}], e >= {p.e_min}, "
                              f"a <= {p.a_max})")
        self.prior = p.prior
        self.start_rounds, self.ignore_rounds, self.refit_every = p.start_rounds, p.ignore_rounds, p.refit_every
        self.smooth_window, self.history_decay, self.mix = p.smooth_window, p.history_decay, p.mix
        self.min_prob = p.min_prob
        self.bounds = [(-10.0, p.a_max), (p.e_min, 10.0), (p.alpha_min, p.alpha_max)]

    def init(self, context: PolicyContext) -> PolicyState:
        if self.min_prob * context.k > 1.0:
            raise PolicyError(f"ado: min_prob {self.min_prob} is too large for {context.k} skills")
        if self.prior == "natural":
            mu = context.natural()
        elif self.prior == "uniform":
            mu = np.full(context.k, 1.0 / context.k)
        else:
            mu = weights_by_name(self.prior, context.train_skills, where="ado prior")  # type: ignore[arg-type]
        return {"train_skills": list(context.train_skills), "prior": mu.tolist(), "history": mu.tolist(),
                "average": mu.tolist(), "weights": mu.tolist(), "n": [], "losses": [], "params": None,
                "updates": 0, "round": 0}

    def _smoothed(self, y: np.ndarray) -> np.ndarray:
        window = min(self.smooth_window, y.size if y.size % 2 else y.size - 1)
        if window < 5:  # an order-3 filter needs at least 5 points to smooth anything
            return y
        from scipy.signal import savgol_filter  # here, not at the top: the policy registry loads without scipy

        return savgol_filter(y, window, 3)

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        skills = state["train_skills"]
        rounds = observation.round + 1
        raw = observation.train_loss_vector(skills)  # (k,), NaN where not drawn
        previous = state["losses"][-1] if state["losses"] else [float(np.nanmean(raw)) if np.isfinite(raw).any() else 1.0] * len(skills)
        losses, _ = train_losses_or(observation, skills, previous)
        total = float(sum(observation.examples_seen.get(s, 0) for s in skills))
        counts = np.array([float(observation.round_examples.get(s, 0)) for s in skills])
        history = np.asarray(state["history"], dtype=float)
        if counts.sum() > 0:
            history = self.history_decay * history + (1.0 - self.history_decay) * counts / counts.sum()
        state = {**state, "n": [*state["n"], total], "losses": [*state["losses"], losses.tolist()],
                 "history": history.tolist(), "round": rounds}
        if rounds < self.start_rounds or rounds % self.refit_every != 0 or total <= 0:
            return state
        params = self._fit(state)
        if params is None:
            return {**state, "params": None}
        return self._step({**state, "params": params.tolist()}, total)

    def _fit(self, state: PolicyState) -> np.ndarray | None:
        n = np.asarray(state["n"], dtype=float)[self.ignore_rounds:]
        y = np.asarray(state["losses"], dtype=float)[self.ignore_rounds:]  # (T, k)
        keep = (n > 0) & (y > 0).all(axis=1)
        n, y = n[keep], y[keep]
        if n.size < 2:
            return None
        old = np.asarray(state["params"], dtype=float) if state["params"] is not None else None
        fits = []
        for k in range(y.shape[1]):
            fit = fit_power_law(n, np.maximum(self._smoothed(y[:, k]), 1e-8), self.bounds)
            if fit is None:
                if old is None:
                    return None
                fit = old[k]
            fits.append(fit)
        return np.stack(fits)  # (k, 3): a, e, α

    def _step(self, state: PolicyState, n: float) -> PolicyState:
        rho = ado_mixture(ado_slopes(np.asarray(state["params"]), n), np.asarray(state["prior"]),
                          np.asarray(state["history"]), self.min_prob)
        average = np.asarray(state["average"], dtype=float)
        p = (1.0 - self.mix) * average + self.mix * rho
        t = state["updates"] + 1
        average = (1.0 - 1.0 / (t + 1)) * average + rho / (t + 1)
        return {**state, "weights": (p / p.sum()).tolist(), "average": average.tolist(), "updates": t}

    def weights(self, state: PolicyState) -> np.ndarray:
        return np.asarray(state["weights"], dtype=float)
