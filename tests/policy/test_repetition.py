"""The ``fresh`` wrapper: repeated data discounted after Muennighoff et al. 2023, checked by hand.

v = exp(−max(0, E − 1) / R*), E = examples drawn / pool size; p' ∝ p · v.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from skillit.errors import PolicyError
from skillit.graph import SkillsGraph
from skillit.policy import Observation, build_policy
from skillit.policy.repetition import R_STAR_D, RepetitionAware, repetition_value
from skillit.testing import check_policy, example_context

from .helpers import context, observe


def seen(round_index, examples):
    return Observation(round=round_index, step=10 * (round_index + 1), evals=observe(round_index, {}).evals,
                       examples_seen=examples)


def test_value_of_another_epoch_by_hand():
    # E = 0, 1: no repetition yet; E = 2: R = 1; E = 16.4: R = 15.4 = R*, v = 1/e
    np.testing.assert_allclose(repetition_value(np.array([0.0, 1.0, 2.0, 16.4])),
                               [1.0, 1.0, math.exp(-1 / 15.4), math.exp(-1.0)])
    assert R_STAR_D == 15.4
    np.testing.assert_allclose(repetition_value(np.array([3.0]), r_star=1.0), [math.exp(-2.0)])


def test_stratified_with_one_small_pool_repeated_by_hand():
    policy = build_policy("stratified", wrappers=[{"fresh": 15.4}])
    assert isinstance(policy, RepetitionAware) and policy.name == "fresh(stratified)"
    state = policy.init(context(pools=(100, 400, None)))
    np.testing.assert_allclose(policy.weights(state), [1 / 3, 1 / 3, 1 / 3])  # nothing drawn yet
    # a: 500 of 100 (E = 5, R = 4), b: 200 of 400 (E = 0.5), c: a stream (never discounted)
    state = policy.update(state, seen(0, {"a": 500, "b": 200, "c": 10_000}))
    v_a = math.exp(-4 / 15.4)  # 0.77124
    np.testing.assert_allclose(policy.weights(state), [v_a / (2 + v_a), 1 / (2 + v_a), 1 / (2 + v_a)])
    np.testing.assert_allclose(policy.weights(state), [0.27830, 0.36085, 0.36085], atol=1e-5)
    state = policy.update(state, seen(1, {"b": 1200}))  # a skill the observation omits keeps its count
    v_b = math.exp(-2 / 15.4)  # E_b = 3
    np.testing.assert_allclose(policy.weights(state), np.array([v_a, v_b, 1.0]) / (v_a + v_b + 1.0))


def test_static_inner_mixture_with_a_small_r_star():
    policy = build_policy("static", {"weights": {"a": 0.5, "b": 0.5}}, wrappers=[{"fresh": 1.0}])
    state = policy.update(policy.init(context(pools=(10, 10, 10))), seen(0, {"a": 30, "b": 10, "c": 0}))
    e2 = math.exp(-2.0)  # a: E = 3, R = 2; b: E = 1; c: weight 0 stays 0
    np.testing.assert_allclose(policy.weights(state), [e2 / (1 + e2), 1 / (1 + e2), 0.0])


def test_many_epochs_do_not_underflow():
    policy = build_policy("stratified", wrappers=[{"fresh": 15.4}])
    state = policy.update(policy.init(context(pools=(1, 1, 1))), seen(0, {"a": 10**6, "b": 10**6, "c": 10**6}))
    np.testing.assert_allclose(policy.weights(state), [1 / 3, 1 / 3, 1 / 3])  # exp(-65000) each: alike


def test_check_policy_passes_and_bad_values_are_refused():
    for name, params in (("stratified", {}), ("skill-it", {"graph": "identity"}), ("odm", {})):
        check_policy(build_policy(name, params, resolve_graph=lambda spec: SkillsGraph.identity(["a", "b", "c"]),
                                  wrappers=[{"fresh": 2.0}]),
                     example_context(("a", "b", "c")))
    with pytest.raises(PolicyError, match="wrapper 'fresh' takes a number, got True"):
        build_policy("stratified", wrappers=[{"fresh": True}], where="method 'm'")
    with pytest.raises(PolicyError, match=r"wrapper 'fresh' takes a number, got 0 \(r_star: Input should be greater than 0\)"):
        build_policy("stratified", wrappers=[{"fresh": 0}])
    described = build_policy("stratified", wrappers=[{"fresh": 4}]).describe()
    assert described["name"] == "fresh" and described["r_star"] == 4.0 and described["inner"]["name"] == "stratified"
