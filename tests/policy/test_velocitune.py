"""Velocitune's update w ← normalise(w ⊙ exp(V)), against hand-computed values."""

import math

import pytest

from skillit.errors import PolicyError
from skillit.policy.velocitune import Velocitune

from .helpers import context, observe


def two_way(x):
    """normalise([e^x, 1])"""
    return [math.exp(x) / (1 + math.exp(x)), 1 / (1 + math.exp(x))]


def test_remaining_fraction_of_the_way_to_the_target():
    policy = Velocitune(target_losses={"a": 0.0, "b": 1.0}, prior="uniform")
    state = policy.init(context(train=("a", "b"), initial={"a": 4.0, "b": 2.0}))
    assert policy.weights(state) == pytest.approx([0.5, 0.5])
    # V_a = (3 − 0)/(4 − 0) = 0.75, V_b = (1.5 − 1)/(2 − 1) = 0.5 → w ∝ [e^0.75, e^0.5]
    state = policy.update(state, observe(0, {"a": 3.0, "b": 1.5}))
    assert policy.weights(state) == pytest.approx(two_way(0.25))
    # V_a = 1/4 = 0.25, V_b = clip(−0.5) = 0 → w ∝ [e^0.75·e^0.25, e^0.5·e^0] = [e^1, e^0.5]
    state = policy.update(state, observe(1, {"a": 1.0, "b": 0.5}))
    assert policy.weights(state) == pytest.approx(two_way(0.5))


def test_natural_prior_update_interval_and_a_skill_without_validation():
    policy = Velocitune(update_every=2)
    ctx = context(train=("a", "b"), evals=("a",), natural=(3, 1), initial={"a": 2.0})
    state = policy.init(ctx)
    assert policy.weights(state) == pytest.approx([0.75, 0.25])
    state = policy.update(state, observe(0, {"a": 1.0}))  # round 1 of 2: no update
    assert policy.weights(state) == pytest.approx([0.75, 0.25])
    # V_a = 1/2 (target 0), b has no validation set: V_b = 0 → w ∝ [0.75·e^0.5, 0.25]
    state = policy.update(state, observe(1, {"a": 1.0}))
    e = 0.75 * math.exp(0.5)
    assert policy.weights(state) == pytest.approx([e / (e + 0.25), 0.25 / (e + 0.25)])


def test_unknown_skill_in_targets():
    with pytest.raises(PolicyError, match="unknown training skill 'z'"):
        Velocitune(target_losses={"z": 1.0}).init(context(train=("a", "b")))
