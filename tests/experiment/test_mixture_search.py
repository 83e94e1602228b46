"""The RegMix-style mixture search: sampling, the ridge fit (values by hand) and the proposal."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillit.errors import ConfigError
from skillit.experiment.mixture_search import LinearFit, fit_linear, propose, sample_mixtures


@settings(max_examples=30, deadline=None)
@given(k=st.integers(2, 12), n=st.integers(1, 20), seed=st.integers(0, 2**32 - 1),
       low=st.floats(0.01, 5.0), spread=st.floats(1.0, 100.0))
def test_every_sampled_mixture_lies_on_the_simplex(k, n, seed, low, spread):
    mixtures = sample_mixtures(k, n, np.random.default_rng(seed), concentration=(low, low * spread))
    assert mixtures.shape == (n, k)
    assert np.all(np.isfinite(mixtures)) and np.all(mixtures >= 0)
    np.testing.assert_allclose(mixtures.sum(axis=1), 1.0)


def test_sampling_is_seeded_and_a_large_concentration_stays_near_the_prior():
    a = sample_mixtures(4, 5, np.random.default_rng(7))
    np.testing.assert_array_equal(a, sample_mixtures(4, 5, np.random.default_rng(7)))
    prior = np.array([0.1, 0.2, 0.3, 0.4])
    near = sample_mixtures(4, 200, np.random.default_rng(0), concentration=(1e5, 1e5), prior=prior)
    assert np.abs(near - prior).max() < 0.01  # Dir(c·k·π) has mean π and variance O(1/(c·k))


@pytest.mark.parametrize("kwargs, message", [
    ({"k": 1, "n": 3}, "at least 2 skills"),
    ({"k": 3, "n": 0}, "at least 2 skills and 1 mixture"),
    ({"k": 3, "n": 2, "concentration": (2.0, 1.0)}, "c_min <= c_max"),
    ({"k": 3, "n": 2, "prior": np.array([0.5, 0.5])}, "3 positive weights"),
    ({"k": 2, "n": 2, "prior": np.array([1.0, 0.0])}, "positive weights"),
])
def test_sampling_refuses_bad_arguments_saying_which(kwargs, message):
    k, n = kwargs.pop("k"), kwargs.pop("n")
    with pytest.raises(ConfigError, match=message):
        sample_mixtures(k, n, np.random.default_rng(0), **kwargs)


# three trials over two skills on the exact line y = 1·x_a + 3·x_b
MIXTURES = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
LOSSES = np.array([1.0, 3.0, 2.0])


def test_the_ridge_fit_shrinks_towards_the_mean_by_the_hand_computed_amount():
    # centred: X̃ = [[.5, −.5], [−.5, .5], [0, 0]], y − ȳ = (−1, 1, 0); X̃ᵀX̃ = [[.5, −.5], [−.5, .5]] has
    # eigenvalue 1 on (−1, 1), and X̃ᵀ(y − ȳ) = (−1, 1), so β = (−1, 1)/(1 + λ) and a = ȳ − mean(X)·β = 2:
    # λ = 1 gives ŷ(x) = 2 − x_a/2 + x_b/2 (the line shrunk half-way to ȳ), λ → 0 the true line 1·x_a + 3·x_b
    half = fit_linear(MIXTURES, LOSSES, ridge=1.0)
    assert half.intercept == pytest.approx(2.0)
    np.testing.assert_allclose(half.coef, [-0.5, 0.5])
    np.testing.assert_allclose(half.predict(MIXTURES), [1.5, 2.5, 2.0])
    np.testing.assert_allclose(fit_linear(MIXTURES, LOSSES, ridge=1e-9).predict(MIXTURES), LOSSES, atol=1e-8)


def test_the_log_model_fits_a_loss_that_falls_with_the_log_of_a_share():
    # y = 2 − 0.5·log(x_a + ε) exactly (x_b has no effect): the fit recovers b_a = −0.5, b_b = 0, a = 2
    mixtures = np.array([[0.1, 0.9], [0.5, 0.5], [0.9, 0.1], [0.3, 0.7]])
    losses = 2.0 - 0.5 * np.log(mixtures[:, 0] + 0.01)
    fit = fit_linear(mixtures, losses, ridge=1e-10, kind="log")
    assert fit.intercept == pytest.approx(2.0, abs=1e-6)
    np.testing.assert_allclose(fit.coef, [-0.5, 0.0], atol=1e-6)
    with pytest.raises(ConfigError, match="unknown features 'quadratic'; choose from linear, log"):
        fit_linear(mixtures, losses, kind="quadratic")


def test_leave_one_out_errors_by_hand():
    fit = fit_linear(MIXTURES, LOSSES, ridge=1e-9)
    # any two of the three points fix the line, so each left-out point is predicted exactly
    assert fit.loo_rmse == pytest.approx(0.0, abs=1e-7)
    # the mean of the other two: 2.5 for y=1, 1.5 for y=3, 2 for y=2 → errors 1.5, −1.5, 0 → rmse √1.5
    assert fit.baseline_rmse == pytest.approx(np.sqrt(1.5))
    np.testing.assert_allclose(fit.predict(np.array([[0.25, 0.75]])), [2.5])


@pytest.mark.parametrize("mixtures, losses, ridge, message", [
    (MIXTURES[:2], LOSSES[:2], 1e-2, "at least 3 trials"),
    (MIXTURES, LOSSES[:2], 1e-2, "n losses"),
    (MIXTURES, LOSSES, 0.0, "ridge must be > 0"),
    (MIXTURES, np.array([1.0, np.nan, 2.0]), 1e-2, "not finite"),
])
def test_the_fit_refuses_what_it_cannot_fit(mixtures, losses, ridge, message):
    with pytest.raises(ConfigError, match=message):
        fit_linear(mixtures, losses, ridge=ridge)


def test_the_proposal_is_the_mean_of_the_best_predicted_simulations():
    fit = LinearFit(intercept=0.0, coef=np.array([1.0, 3.0, 3.0]), kind="linear", loo_rmse=0.0, baseline_rmse=1.0)
    best = propose(fit, 3, np.random.default_rng(1), simulations=1000, top_k=1)
    candidates = sample_mixtures(3, 1000, np.random.default_rng(1))  # the same draws: the same generator state
    np.testing.assert_allclose(best, candidates[np.argmin(candidates @ fit.coef)])
    averaged = propose(fit, 3, np.random.default_rng(1), simulations=1000, top_k=50)
    assert averaged.sum() == pytest.approx(1.0) and averaged[0] > 0.8  # the cheap skill takes most of the data
    with pytest.raises(ConfigError, match="top_k must be from 1 to simulations"):
        propose(fit, 3, np.random.default_rng(1), simulations=10, top_k=11)
