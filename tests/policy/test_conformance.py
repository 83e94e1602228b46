"""The contract every registered policy (and every wrapper of it) must keep.

For each entry of the registry: weights are finite and on the simplex, the same observations give the
same weights, ``update`` never mutates its input, and a JSON round trip of the state restores the policy
exactly (same weights now and after further updates). New policies get this suite by being registered.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillit.graph import SkillsGraph
from skillit.policy import POLICIES, build_policy

from .helpers import context, observe

SKILLS = ("a", "b", "c")
GRAPH = SkillsGraph([[1, 0, 0], [0.5, 1, 0.5], [0, 0, 1]], SKILLS)
PARAMS = {
    "static": {"weights": {"a": 1.0, "c": 2.0}},
    "skill-it": {"graph": "g", "eta": 0.8, "window": 2},
    "skill-it-static": {"graph": "g"},
    "stratified": {"graph": "g"},
}
WRAPPERS = [[], [{"floor": 0.05}], [{"smoothed": 0.5}], [{"frozen": True}]]
SCORES = {"a": np.array([0.3, 0.1, 0.7]), "b": np.array([0.2, 0.9]), "c": np.array([0.5, 0.4, 0.6, 0.8])}


def make(name, wrappers=()):
    return build_policy(name, PARAMS.get(name, {}), resolve_graph=lambda spec: GRAPH, wrappers=list(wrappers))


def ctx():
    return context(
        train=SKILLS, natural=(1, 1, 2), pools=(3, 2, 4), rounds=8, initial={"a": 2.0, "b": 1.5, "c": 3.0},
        scores=SCORES,
    )


def cases():
    for name in POLICIES:
        for wrappers in WRAPPERS:
            if name in ("curriculum", "anti-curriculum") and wrappers and "frozen" not in wrappers[0]:
                continue  # floors and smoothing refuse example-restricting policies (tested in test_baselines)
            yield pytest.param(name, wrappers, id=f"{name}{''.join('+' + next(iter(w)) for w in wrappers)}")


def assert_simplex(w, k=3):
    assert w.shape == (k,)
    assert np.isfinite(w).all()
    assert (w >= 0).all()
    assert w.sum() == pytest.approx(1.0, abs=1e-9)


loss_rows = st.lists(
    st.fixed_dictionaries({s: st.floats(0.0, 50.0, allow_nan=False) for s in SKILLS}), min_size=1, max_size=3
)


@pytest.mark.parametrize("name, wrappers", list(cases()))
@settings(max_examples=15, deadline=None)
@given(rounds=st.lists(loss_rows, min_size=1, max_size=6))
def test_weights_stay_on_the_simplex_and_state_round_trips(name, wrappers, rounds):
    policy = make(name, wrappers)
    state = policy.init(ctx())
    assert_simplex(policy.weights(state))
    for t, evals in enumerate(rounds):
        restored = json.loads(json.dumps(state))
        assert np.array_equal(policy.weights(restored), policy.weights(state))
        before = copy.deepcopy(state)
        state = policy.update(state, observe(t, *evals))
        assert before == json.loads(json.dumps(before))  # plain JSON, unchanged by update
        assert_simplex(policy.weights(state))
        # a restored state evolves exactly like the original
        assert np.array_equal(policy.weights(policy.update(restored, observe(t, *evals))), policy.weights(state))
        scope = policy.scope(state)
        if scope is not None:
            w = policy.weights(state)
            assert all(w[s] == 0 for s in range(3) if s not in scope)


@pytest.mark.parametrize("name, wrappers", list(cases()))
def test_determinism_and_no_mutation(name, wrappers):
    sequence = [({"a": 1.0, "b": 2.0, "c": 0.5},), ({"a": 0.5, "b": 0.1, "c": 0.2}, {"a": 0.4, "b": 0.1, "c": 0.1})]

    def trajectory():
        policy = make(name, wrappers)
        state = policy.init(ctx())
        out = [policy.weights(state)]
        for t, evals in enumerate(sequence):
            frozen = copy.deepcopy(state)
            state = policy.update(state, observe(t, *evals))
            assert frozen == copy.deepcopy(frozen)
            out.append(policy.weights(state))
        return np.array(out)

    assert np.array_equal(trajectory(), trajectory())


@pytest.mark.parametrize("name", list(POLICIES))
def test_describe_is_json(name):
    json.dumps(make(name).describe())
