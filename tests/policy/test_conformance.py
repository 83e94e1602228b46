"""The contract every registered policy (and every wrapper of it) must keep, via ``skillit.testing.check_policy``.

For each entry of the registry × wrapper: weights are finite and on the simplex, the same observations
give the same weights, ``update`` never mutates its input, a JSON round trip of the state restores the
policy exactly, tagged states refuse another policy, and signals not in ``requires`` are ignored. New
policies get this suite by being registered. The last tests show that the checks can fail.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillit.errors import PolicyError
from skillit.graph import SkillsGraph
from skillit.policy import POLICIES, MixingPolicy, build_policy
from skillit.testing import PolicyCheckError, check_policy, example_context, example_observations

from .helpers import context, observe

SKILLS = ("a", "b", "c")
GRAPH = SkillsGraph([[1, 0, 0], [0.5, 1, 0.5], [0, 0, 1]], SKILLS)
PARAMS = {
    "staged": {"stages": [{"steps": 20, "policy": "stratified"},
                          {"steps": 40, "policy": "skill-it", "params": {"graph": "g"}, "skills": ["a", "b"]}]},
    "static": {"weights": {"a": 1.0, "c": 2.0}},
    "skill-it": {"graph": "g", "eta": 0.8, "window": 2},
    "skill-it-static": {"graph": "g"},
    "stratified": {"graph": "g"},
    "aioli": {"lp_rounds": 1, "lp_steps": 2},  # 1·3·2 = 6 probe steps < the contexts' 10-step rounds
    "aioli-train-loss": {"lp_rounds": 1, "lp_steps": 2, "ema": 0.1},
    "ado": {"start_rounds": 2, "refit_every": 3, "e_min": -5.0},  # few fits: each costs ~0.1 s
    "skill-it-plus": {"graph": "g", "graph_ridge": 1.0},
    "temperature": {"temperature": 3.0},
    "velocitune": {"target_losses": {"a": 0.5}},
    "dga": {"period": 5},
}
WRAPPERS = [[], [{"floor": 0.05}], [{"smoothed": 0.5}], [{"frozen": True}], [{"fresh": 2.0}]]
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


@pytest.mark.parametrize("name, wrappers", list(cases()))
def test_check_policy_passes(name, wrappers):
    check_policy(make(name, wrappers), example_context(SKILLS))


loss_rows = st.lists(
    st.fixed_dictionaries({s: st.floats(0.0, 50.0, allow_nan=False) for s in SKILLS}), min_size=1, max_size=3
)


@pytest.mark.parametrize("name, wrappers", list(cases()))
@settings(max_examples=10, deadline=None)
@given(rounds=st.lists(loss_rows, min_size=1, max_size=6))
def test_contract_holds_for_any_losses(name, wrappers, rounds):
    check_policy(make(name, wrappers), ctx(), with_signals([observe(t, *evals) for t, evals in enumerate(rounds)]))


def with_signals(observations):
    """The observations with every other signal filled: training losses = the round's last validation losses
    (so hypothesis explores them too), reference losses 1.0, the example gradient statistics and counts."""
    examples = example_observations(example_context(SKILLS), rounds=len(observations))
    return [replace(o, train_loss=dict(o.evals[-1].losses), ref_losses={s: 1.0 for s in SKILLS}, grad=e.grad, probe=e.probe,
                    round_examples=e.round_examples, examples_seen=e.examples_seen, train_tokens=e.train_tokens,
                    steps=e.steps)
            for o, e in zip(observations, examples)]


@pytest.mark.parametrize("name", list(POLICIES))
def test_describe_is_json(name):
    json.dumps(make(name).describe())


# ---- the checks can fail ---------------------------------------------------------------------------------
class _Counting(MixingPolicy):
    name = "counting"

    def init(self, context):
        return {"k": context.k, "seen": [1.0] * context.k}

    def update(self, state, observation):
        return {**state, "seen": [v + 1 for v in state["seen"]]}

    def weights(self, state):
        w = np.asarray(state["seen"], dtype=float)
        return w / w.sum()


class _Mutating(_Counting):
    name = "mutating"

    def update(self, state, observation):
        state["seen"][0] += 1.0  # mutates its input
        return {**state}


class _ReadsTrainLossUndeclared(_Counting):
    name = "sneaky"  # requires only val_loss, yet reads the training loss

    def update(self, state, observation):
        bonus = [observation.train_loss.get(s, 0.0) for s in ("a", "b", "c")]
        return {**state, "seen": [v + 1 + b for v, b in zip(state["seen"], bonus)]}


class _Drifting(_Counting):
    name = "drifting"
    calls = 0

    def weights(self, state):
        type(self).calls += 1
        w = np.asarray(state["seen"], dtype=float) + (type(self).calls % 2) * 1e-3
        return w / w.sum()


class _OffSimplex(_Counting):
    name = "off-simplex"

    def weights(self, state):
        return np.asarray(state["seen"], dtype=float)


def test_a_well_behaved_policy_passes():
    check_policy(_Counting())


@pytest.mark.parametrize("policy, message", [
    (_Mutating(), "mutated its input state"),
    (_ReadsTrainLossUndeclared(), "did not declare in requires"),
    (_Drifting(), "round trip|restored from JSON|not deterministic"),
    (_OffSimplex(), "sum to 1"),
])
def test_check_policy_catches(policy, message):
    with pytest.raises(PolicyCheckError, match=message):
        check_policy(policy)


def test_declaring_the_signal_makes_the_sneaky_policy_pass():
    policy = _ReadsTrainLossUndeclared()
    policy.requires = frozenset({"val_loss", "train_loss"})
    check_policy(policy)


def test_tagged_state_refuses_a_foreign_or_old_state():
    policy = make("skill-it")
    state = policy.init(example_context(SKILLS))
    packed = policy.pack_state(state)
    assert packed["policy"] == "skill-it" and packed["version"] == policy.version
    assert policy.unpack_state(json.loads(json.dumps(packed))) == state
    with pytest.raises(PolicyError, match="belongs to policy 'stratified'.*this run's policy is 'skill-it'"):
        policy.unpack_state({**packed, "policy": "stratified"})
    with pytest.raises(PolicyError, match="version 99"):
        policy.unpack_state({**packed, "version": 99})
    with pytest.raises(PolicyError, match="not a tagged policy state"):
        policy.unpack_state(state)


def test_example_observations_carry_every_signal():
    obs = example_observations(example_context(SKILLS), rounds=2)
    assert len(obs) == 2
    assert set(obs[0].train_loss) == set(SKILLS) and set(obs[0].ref_losses) == set(SKILLS)
    assert obs[0].grad is not None and obs[0].grad.gram.shape == (3, 3)
