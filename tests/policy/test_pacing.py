"""Pacing wrappers: g(t) and the weights they give, computed by hand; errors; JSON round trip."""

import json

import numpy as np
import pytest

from skillit.errors import PolicyError
from skillit.policy import build_policy
from skillit.policy.curriculum import Curriculum
from skillit.policy.pacing import Paced

from .helpers import context, observe

SCORES = {"a": np.array([0.3, 0.1, 0.7]), "b": np.array([0.2, 0.9]), "c": np.array([0.5, 0.4, 0.6, 0.8])}
# easiest first: a1 .1, b0 .2, a0 .3, c1 .4, c0 .5, c2 .6, a2 .7, c3 .8, b1 .9   (N = 9)


def ctx(rounds=4):
    return context(train=("a", "b", "c"), pools=(3, 2, 4), rounds=rounds, scores=SCORES)


def admitted_per_round(policy, rounds=4):
    state = policy.init(ctx(rounds))
    out = []
    for t in range(rounds):
        out.append(policy.admitted(state))
        state = policy.update(state, observe(t, {"a": 1.0, "b": 1.0, "c": 1.0}))
    return out


@pytest.mark.parametrize("pacing, expected", [
    ("linear", [3, 5, 7, 9]),     # ceil(9·(t+1)/4)
    ("quadratic", [1, 3, 6, 9]),  # ceil(9·((t+1)/4)²): 0.5625, 2.25, 5.06, 9
    ("root", [5, 7, 8, 9]),       # ceil(9·√((t+1)/4)): 4.5, 6.36, 7.79, 9
])
def test_admitted_examples_per_round(pacing, expected):
    assert admitted_per_round(Paced(Curriculum(), pacing)) == expected


def test_linear_pacing_is_the_plain_curriculum():
    assert admitted_per_round(Paced(Curriculum(), "linear")) == admitted_per_round(Curriculum())


def test_weights_and_scope_follow_the_paced_prefix():
    quadratic = Paced(Curriculum(), "quadratic")
    state = quadratic.init(ctx())
    assert quadratic.weights(state).tolist() == [1.0, 0.0, 0.0]  # g = 1: a1 only
    assert quadratic.scope(state) == {0: [1]}
    state = quadratic.update(state, observe(0, {"a": 1.0, "b": 1.0, "c": 1.0}))
    assert quadratic.weights(state) == pytest.approx([2 / 3, 1 / 3, 0.0])  # g = 3: a1, b0, a0
    root = Paced(Curriculum(), "root")
    assert root.weights(root.init(ctx())) == pytest.approx([2 / 5, 1 / 5, 2 / 5])  # g = 5: a1 b0 a0 c1 c0


def test_registered_wrapper_round_trips_through_json():
    policy = build_policy("anti-curriculum", {}, wrappers=[{"pacing": "root"}])
    assert policy.name == "pacing-root(anti-curriculum)"
    state = policy.init(ctx())
    restored = json.loads(json.dumps(state))
    assert np.array_equal(policy.weights(state), policy.weights(restored))
    assert policy.describe()["pacing"] == "root"
    # hardest first, g = 5: b1 .9, c3 .8, a2 .7, c2 .6, c0 .5
    assert policy.weights(state) == pytest.approx([1 / 5, 1 / 5, 3 / 5])


def test_errors():
    with pytest.raises(PolicyError, match="unknown pacing"):
        Paced(Curriculum(), "cubic")
    with pytest.raises(PolicyError, match="example-level curricula"):
        build_policy("stratified", {}, wrappers=[{"pacing": "root"}])
