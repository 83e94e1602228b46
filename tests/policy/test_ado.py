"""ADO: the power-law fit, the learning-speed mixture and the p̄ averaging, by hand."""

import math

import numpy as np
import pytest

from skillit.policy import Observation
from skillit.policy.ado import ADO, ado_mixture, ado_slopes, fit_objective, fit_power_law

from .helpers import context

BOUNDS = [(-10.0, 6.5), (-5.0, 10.0), (0.001, 0.8)]


def test_fit_recovers_a_known_power_law():
    n = np.arange(1, 21) * 80.0
    y = math.exp(0.1) + math.exp(1.0) * n**-0.3  # a = 1, e = 0.1, α = 0.3
    a, e, alpha = fit_power_law(n, y, BOUNDS)
    assert (a, e, alpha) == pytest.approx((1.0, 0.1, 0.3), abs=2e-3)
    assert fit_objective(np.array([a, e, alpha]), n, y) < 1e-8


def test_the_codes_bound_e_at_least_half_forces_the_irreducible_loss_up():
    n = np.arange(1, 21) * 50.0
    y = 0.2 + n**-0.5  # irreducible 0.2 nats, below e^0.5 ≈ 1.65
    assert fit_power_law(n, y, [(-10, 6.5), (0.5, 10), (0.001, 0.8)])[1] == 0.5  # pinned at the bound
    assert fit_power_law(n, y, BOUNDS)[1] == pytest.approx(math.log(0.2), abs=0.02)


def test_slopes_by_hand():
    # slope = max(α, 0.05)·e^a·n^(−α)/n at n = 100: 0.5·1·0.1/100 = 5e-4 and 0.5·2·0.1/100 = 1e-3;
    # α = 0.01 is floored at 0.05: 0.05·1·100^(−0.01)/100
    params = np.array([[0.0, -1.0, 0.5], [math.log(2), -1.0, 0.5], [0.0, -1.0, 0.01]])
    assert ado_slopes(params, 100.0) == pytest.approx([5e-4, 1e-3, 0.05 * 100**-0.01 / 100])


def test_mixture_by_hand():
    # slope·μ·√h = [5e-4·½·0.8, 1e-3·½·0.4] = [2e-4, 2e-4] → ρ = [½, ½]
    assert ado_mixture(np.array([5e-4, 1e-3]), np.array([0.5, 0.5]), np.array([0.64, 0.16]), 0.01) == pytest.approx([0.5, 0.5])
    # ρ = [1, 0] → floor 0.01 → [1, 0.01]/1.01
    assert ado_mixture(np.array([1.0, 0.0]), np.array([0.5, 0.5]), np.array([0.5, 0.5]), 0.01) == pytest.approx(
        [1 / 1.01, 0.01 / 1.01])


def test_time_average_and_mixing_of_rho():
    policy = ADO(prior="uniform")
    state = policy.init(context(train=("a", "b")))
    # slopes 4:1 with h = μ = uniform → ρ = [0.8, 0.2]
    state = {**state, "params": [[math.log(4), -1.0, 0.5], [0.0, -1.0, 0.5]]}
    state = policy._step(state, 100.0)
    # p = 0.9·[½, ½] + 0.1·[0.8, 0.2] = [0.53, 0.47]; p̄ = ½·[½, ½] + ½·[0.8, 0.2] = [0.65, 0.35]
    assert policy.weights(state) == pytest.approx([0.53, 0.47]) and state["average"] == pytest.approx([0.65, 0.35])
    state = policy._step(state, 100.0)
    # p = 0.9·[0.65, 0.35] + 0.1·[0.8, 0.2] = [0.665, 0.335]; p̄ = ⅔·[0.65, 0.35] + ⅓·[0.8, 0.2] = [0.7, 0.3]
    assert policy.weights(state) == pytest.approx([0.665, 0.335]) and state["average"] == pytest.approx([0.7, 0.3])


def test_prior_until_start_then_fits_from_training_losses():
    policy = ADO(prior="natural", start_rounds=4, e_min=-5.0)
    state = policy.init(context(train=("a", "b"), natural=(3, 1)))
    seen = np.zeros(2)
    for t in range(6):
        drawn = np.array([30, 10])
        seen = seen + drawn
        n = seen.sum()
        # a still learns fast (α 0.5, a 2), b has flattened (α 0.5, a 0)
        losses = {"a": 0.1 + math.exp(2.0) * n**-0.5, "b": 0.1 + 1.0 * n**-0.5}
        obs = Observation(round=t, step=10 * (t + 1), evals=(), train_loss=losses,
                          examples_seen={"a": int(seen[0]), "b": int(seen[1])},
                          round_examples={"a": int(drawn[0]), "b": int(drawn[1])})
        state = policy.update(state, obs)
        if t + 1 < 4:
            assert policy.weights(state) == pytest.approx([0.75, 0.25])  # μ before the first fit
    # h stays μ (draws 3:1), slopes e²:1 → ρ ∝ [e²·0.75·√0.75, 1·0.25·√0.25]; a gains share over μ
    assert policy.weights(state)[0] > 0.75
    assert np.asarray(state["params"])[:, 2] == pytest.approx([0.5, 0.5], abs=0.02)


def test_below_the_codes_floor_every_fit_collapses_and_ado_stays_at_its_prior():
    # losses 0.1 + c·n^-0.5 lie below e^0.5 ≈ 1.65 nats: with the code's e ≥ 0.5 no power law fits under them,
    # the best fit drives a to its bound −10 (the falling term vanishes) for both skills, every slope is ~0
    # and p stays μ — the arena's `ado` on LEGO, Composition and lego-finetune. With e ≥ −5 (`ado-low-floor`)
    # the fits find the curves and the skill that still learns fast (c = e²) gains share.
    weights, params = {}, {}
    for e_min in (0.5, -5.0):
        policy = ADO(prior="uniform", e_min=e_min)
        state = policy.init(context(train=("a", "b")))
        seen = np.zeros(2)
        for t in range(6):
            seen = seen + 20
            n = seen.sum()
            obs = Observation(round=t, step=10 * (t + 1), evals=(),
                              train_loss={"a": 0.1 + math.exp(2.0) * n**-0.5, "b": 0.1 + 1.0 * n**-0.5},
                              examples_seen={"a": int(seen[0]), "b": int(seen[1])}, round_examples={"a": 20, "b": 20})
            state = policy.update(state, obs)
        weights[e_min], params[e_min] = policy.weights(state), np.asarray(state["params"])
    assert weights[0.5] == pytest.approx([0.5, 0.5]) and params[0.5][:, 0] == pytest.approx([-10.0, -10.0])
    assert weights[-5.0][0] > 0.75  # measured 0.795
    assert params[-5.0][:, 0] == pytest.approx([2.0, 0.0], abs=0.05)  # a = log c recovered
