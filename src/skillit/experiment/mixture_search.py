"""An offline mixture search in the manner of RegMix (Liu et al., ICLR 2025, §3): how good can a *static*
mixture be on a benchmark, chosen with hindsight from many short runs?

The arena's question is whether an online rule beats stratified sampling. When none does, two explanations
compete: the rules are weak, or at this scale no mixture is much better than stratified. This search
measures the second. The steps, as in RegMix:

1. draw n mixtures x_1..x_n from Dirichlet distributions around a prior mixture π (here stratified, π = 1/k):
   x ~ Dir(c·k·π) with the concentration c drawn log-uniformly from [c_min, c_max] per trial, so the trials
   range from near-uniform (large c) to a few skills dominating (small c);
2. train one run per mixture, all at the same held-out seed (common random numbers: same initial model,
   so the differences are the mixture's), and read the objective y_t (final mean loss over the objective);
3. fit ŷ = a + φ(x)·β by ridge regression on centred features (the intercept a is not shrunk, so a large
   λ gives the constant prediction ȳ): β = (Φ̃ᵀΦ̃ + λI)⁻¹ Φ̃ᵀ (y − ȳ), a = ȳ − mean(Φ)·β, Φ̃ = Φ − mean(Φ).
   Features: ``linear``, φ(x) = x (RegMix's linear model), or ``log``, φ(x) = log(x + ε), ε = 0.01: a loss
   that falls like a power of the data a skill gets, L ≈ E + B·(x·N)^(−α) ≈ a + b·log x near the run's
   budget, so the model is convex in x and has an interior minimum, where a linear model's is a vertex;
4. draw ``simulations`` further mixtures from the same distribution, predict ŷ = a + φ(x)·β, return the mean of
   the ``top_k`` mixtures with the lowest prediction (RegMix averages its top 128; averaging keeps the result
   away from the vertex a linear model's minimum sits on).

Where we differ from RegMix, and why: linear models only (RegMix's preferred LightGBM needs more runs than
2 CPU cores allow and is not a dependency), with a log-share variant of ours; a stratified prior (the
arena's pools are equal or deliberately balanced; RegMix centres on token counts); no epoch cap (RegMix caps
at 15 epochs; a proposal that repeats a small pool shows in the leaderboard's epochs column). The returned
mixture is meant to be run as a ``static`` method and compared against stratified on the board's seeds,
which the search never saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skillit.errors import ConfigError

FEATURES = ("linear", "log")
LOG_OFFSET = 0.01  # ε in log(x + ε): a share near 0 stays a finite feature


def features(mixtures: np.ndarray, kind: str) -> np.ndarray:
    """φ(x): the shares themselves (``linear``, RegMix) or log(x + ε) (``log``); shape (n, k)."""
    if kind not in FEATURES:
        raise ConfigError(f"unknown features {kind!r}; choose from {', '.join(FEATURES)}")
    mixtures = np.asarray(mixtures, dtype=float)
    return mixtures if kind == "linear" else np.log(mixtures + LOG_OFFSET)


@dataclass(frozen=True)
class LinearFit:
    """ŷ = intercept + φ(x)·coef over mixtures x; ``loo_rmse`` is the leave-one-out error of the fit,
    ``baseline_rmse`` that of predicting the mean of the other trials (the fit explains something only if its
    error is the lower)."""

    intercept: float
    coef: np.ndarray  # (k,)
    kind: str
    loo_rmse: float
    baseline_rmse: float

    def predict(self, mixtures: np.ndarray) -> np.ndarray:
        return self.intercept + features(mixtures, self.kind) @ self.coef


def sample_mixtures(k: int, n: int, rng: np.random.Generator, *, concentration: tuple[float, float] = (0.3, 10.0),
                    prior: np.ndarray | None = None) -> np.ndarray:
    """n mixtures over k skills, each x ~ Dir(c·k·π) with log c ~ U[log c_min, log c_max]; shape (n, k)."""
    low, high = concentration
    if k < 2 or n < 1:
        raise ConfigError(f"a mixture search needs at least 2 skills and 1 mixture (got k={k}, n={n})")
    if not 0 < low <= high:
        raise ConfigError(f"concentration range must satisfy 0 < c_min <= c_max, got ({low}, {high})")
    prior = np.full(k, 1.0 / k) if prior is None else np.asarray(prior, dtype=float)
    if prior.shape != (k,) or np.any(prior <= 0):
        raise ConfigError(f"the prior must be {k} positive weights, got {prior.tolist()}")
    prior = prior / prior.sum()
    scale = np.exp(rng.uniform(np.log(low), np.log(high), size=n))  # (n,)
    alphas = scale[:, None] * k * prior[None, :]  # (n, k)
    draws = rng.gamma(alphas)  # Dirichlet via normalised gammas, one concentration vector per row
    draws = np.maximum(draws, 1e-300)  # a row of underflowed gammas (tiny alphas) stays a valid mixture
    return draws / draws.sum(axis=1, keepdims=True)


def check_ridge(ridge: float) -> None:
    """λ must be > 0: it keeps the fit defined with fewer trials than skills."""
    if not ridge > 0:
        raise ConfigError(f"ridge must be > 0 (it keeps the fit defined with fewer trials than skills), got {ridge}")


def check_top_k(top_k: int, simulations: int) -> None:
    """The proposal averages 1..simulations of the simulated mixtures."""
    if not 1 <= top_k <= simulations:
        raise ConfigError(f"top_k must be from 1 to simulations ({simulations}), got {top_k}")


def _ridge(phi: np.ndarray, losses: np.ndarray, ridge: float) -> tuple[float, np.ndarray]:
    """(intercept, coef) of the ridge fit on centred features; the intercept is not shrunk."""
    phi_mean, centre = phi.mean(axis=0), float(losses.mean())
    centred = phi - phi_mean  # (n, k)
    coef = np.linalg.solve(centred.T @ centred + ridge * np.eye(phi.shape[1]), centred.T @ (losses - centre))
    return centre - float(phi_mean @ coef), coef


def fit_linear(mixtures: np.ndarray, losses: np.ndarray, *, ridge: float = 1e-2, kind: str = "linear") -> LinearFit:
    """Ridge fit of losses (n,) on φ(mixtures) (n, k), shrunk towards the constant ȳ; with leave-one-out errors."""
    mixtures = np.asarray(mixtures, dtype=float)
    losses = np.asarray(losses, dtype=float)
    if mixtures.ndim != 2 or losses.shape != (mixtures.shape[0],):
        raise ConfigError(f"need mixtures (n, k) and n losses, got {mixtures.shape} and {losses.shape}")
    if mixtures.shape[0] < 3:
        raise ConfigError(f"a fit with leave-one-out errors needs at least 3 trials, got {mixtures.shape[0]}")
    check_ridge(ridge)
    if not np.all(np.isfinite(losses)):
        raise ConfigError("a trial's loss is not finite; rerun it or leave it out of the fit")
    phi = features(mixtures, kind)
    errors, baseline = [], []
    for held in range(len(losses)):
        keep = np.arange(len(losses)) != held
        intercept, coef = _ridge(phi[keep], losses[keep], ridge)
        errors.append(intercept + float(phi[held] @ coef) - float(losses[held]))
        baseline.append(float(losses[keep].mean() - losses[held]))
    intercept, coef = _ridge(phi, losses, ridge)
    return LinearFit(intercept=intercept, coef=coef, kind=kind, loo_rmse=float(np.sqrt(np.mean(np.square(errors)))),
                     baseline_rmse=float(np.sqrt(np.mean(np.square(baseline)))))


def propose(fit: LinearFit, k: int, rng: np.random.Generator, *, simulations: int = 100_000, top_k: int = 128,
            concentration: tuple[float, float] = (0.3, 10.0), prior: np.ndarray | None = None) -> np.ndarray:
    """The mean of the ``top_k`` simulated mixtures with the lowest predicted loss; shape (k,), on the simplex."""
    check_top_k(top_k, simulations)
    candidates = sample_mixtures(k, simulations, rng, concentration=concentration, prior=prior)  # (S, k)
    best = np.argsort(fit.predict(candidates), kind="stable")[:top_k]
    mixture = candidates[best].mean(axis=0)
    return mixture / mixture.sum()
