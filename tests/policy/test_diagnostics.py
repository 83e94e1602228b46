"""Mixture collapse and exponent-spread warnings for Skill-It (issue 14, item 9), hand-computed."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillit.policy.base import stable_softmax
from skillit.policy.diagnostics import (
    SPREAD_CAP,
    eta_for,
    exponent_spread,
    find_eta,
    mixture_health,
    mixture_warnings,
    normalised_entropy,
)


def test_entropy_and_spread_by_hand():
    assert normalised_entropy([0.25] * 4) == pytest.approx(1.0)
    assert normalised_entropy([1.0, 0.0, 0.0]) == 0.0
    # p = (0.5, 0.5, 0): H = log 2, log 3 for uniform -> 0.6309
    assert normalised_entropy([0.5, 0.5, 0.0]) == pytest.approx(math.log(2) / math.log(3))
    assert exponent_spread([0.8, 0.2]) == pytest.approx(math.log(4))
    assert exponent_spread([1.0, 0.0]) == SPREAD_CAP and exponent_spread([1.0]) == 0.0
    assert eta_for(0.5, 20.0) == pytest.approx(0.05)  # the exponent is linear in eta: 0.5 · 2 / 20


@given(st.lists(st.floats(-30, 30), min_size=2, max_size=6), st.floats(0.01, 2.0))
def test_the_spread_of_a_softmax_is_the_spread_of_its_exponent(exponent, eta):
    """log p_i − log p_j = η (x_i − x_j): the spread read back from the weights is η · (max x − min x)."""
    x = np.asarray(exponent)
    p = stable_softmax(eta * x)
    if p.min() > 1e-300:
        assert exponent_spread(p.tolist()) == pytest.approx(eta * (x.max() - x.min()), rel=1e-6, abs=1e-6)


def records(*mixtures):
    return [{"step": 100 * i, "weights": dict(zip("abc", m))} for i, m in enumerate(mixtures)]


def test_a_collapsed_skill_it_run_is_warned_with_a_smaller_eta():
    # exponent spreads: round 1 log(0.4/0.3), round 2 log(0.995/0.0025) = 5.99 nats
    run = records((1 / 3, 1 / 3, 1 / 3), (0.4, 0.3, 0.3), (0.995, 0.0025, 0.0025))
    health = mixture_health(run)
    assert (health.max_weight, health.max_skill, health.max_step) == (0.995, "a", 200)
    assert health.collapsed and health.outside_tuned_range
    assert health.max_spread == pytest.approx(math.log(0.995 / 0.0025))
    lines = mixture_warnings("skill-it", {"name": "skill-it", "eta": 0.5}, run, seed=0)
    assert "skill-it (seed 0): the mixture collapsed: 100% on 'a' at step 200" in lines[0]
    assert "spans 6.0 nats" in lines[1] and f"eta ≈ {0.5 * 2 / math.log(0.995 / 0.0025):.2g}" in lines[1]


def test_healthy_runs_and_policies_without_eta_are_not_warned():
    calm = records((1 / 3, 1 / 3, 1 / 3), (0.5, 0.3, 0.2))
    assert mixture_warnings("skill-it", {"name": "skill-it", "eta": 0.5}, calm) == []
    one_hot = records((1.0, 0.0, 0.0))  # target-only is one skill by design
    assert mixture_warnings("target-only", {"name": "target-only"}, one_hot) == []
    wrapped = {"name": "floor", "inner": {"name": "skill-it", "eta": 0.8}, "floor": 0.02}
    assert find_eta(wrapped) == 0.8 and mixture_warnings("f", wrapped, one_hot)  # wrappers are looked into
