"""A weighted objective (``PolicyContext.objective_weights``) reaches the policies: each rule by hand.

Skill-It and Skill-It+ scale column j by m·w_j, DGA's target is Σ_j w_j·g_j, R&B's p′, Aioli's mask and
target-only's mixture follow the weights; uniform weights are stored as ``None`` and give exactly the old
rule (states and weights equal to the unweighted ones, bit for bit).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from skillit.errors import PolicyError
from skillit.graph import SkillsGraph
from skillit.policy import POLICIES, build_policy
from skillit.policy.aioli import Aioli
from skillit.policy.dga import DGA, DGALastLayer
from skillit.policy.rb_balance import RBBalance
from skillit.policy.skill_it import SkillIt
from skillit.policy.skill_it_plus import SkillItPlus
from skillit.policy.static import TargetOnly
from skillit.testing import check_policy, example_context

from .helpers import context, observe
from .test_conformance import GRAPH, PARAMS
from .test_dga import with_gram

AB = ("a", "b")
A2 = SkillsGraph([[1.0, 0.5], [0.0, 1.0]], AB, AB)  # a helps a (1) and b (0.5); b helps b only


def weighted(ctx, weights):
    return replace(ctx, objective_weights=weights)


def two_skills(weights=None):
    """Pre-training on a, b (both the objective), step-0 losses a: 2, b: 1."""
    return weighted(context(train=AB, initial={"a": 2.0, "b": 1.0}), weights)


# ---- the context -------------------------------------------------------------------------------------------
def test_the_context_normalises_the_weights_and_stores_equal_ones_as_none():
    assert context(train=AB).objective_weights is None
    assert two_skills((3.0, 1.0)).objective_weights == (0.75, 0.25)
    assert two_skills((2.0, 2.0)).objective_weights is None  # equal: the plain mean
    assert weighted(context(), (1 / 3, 1 / 3, 1 / 3)).objective_weights is None
    ctx = weighted(context(), (0.5, 0.3, 0.2))
    np.testing.assert_allclose(ctx.objective_weights_of(["b", "c"]), [0.6, 0.4])  # renormalised over the subset
    assert context().objective_weights_of(["a"]) is None


@pytest.mark.parametrize(("weights", "message"), [
    ((1.0, 2.0), "2 weights given for 3 target skills"),
    ((1.0, -1.0, 1.0), "finite, non-negative and not all 0"),
    ((0.0, 0.0, 0.0), "finite, non-negative and not all 0"),
    ((1.0, float("nan"), 1.0), "finite, non-negative and not all 0"),
])
def test_the_context_refuses_weights_that_do_not_fit(weights, message):
    with pytest.raises(PolicyError, match=message):
        weighted(context(), weights)


def test_a_subset_outside_the_objective_or_without_weight_is_refused():
    ctx = weighted(context(targets=("a", "b")), (1.0, 0.0))
    with pytest.raises(PolicyError, match=r"skill-it: 'c' is not an objective skill, .* objective skills are \['a', 'b'\]"):
        ctx.objective_weights_of(["a", "c"], where="skill-it")
    with pytest.raises(PolicyError, match=r"dga: the objective_weights put no weight on \['b'\]"):
        ctx.objective_weights_of(["b"], where="dga")


# ---- Skill-It ----------------------------------------------------------------------------------------------
def test_skill_it_scales_column_j_by_m_w_j_by_hand():
    policy = SkillIt(A2, eta=0.5, window=3)
    state = policy.init(two_skills((0.75, 0.25)))
    assert state["column_scale"] == [1.5, 0.5]  # m·w = 2·(0.75, 0.25)
    # first mixture, L̃ = 1: logits η·A·(m·w) = 0.5·(1·1.5 + 0.5·0.5, 0·1.5 + 1·0.5) = (0.875, 0.25)
    # p_a = 1 / (1 + e^(0.25 − 0.875)) = 1 / (1 + e^−0.625) = 0.651354...
    p = policy.weights(state)
    assert p[0] == pytest.approx(1 / (1 + math.exp(-0.625)), rel=1e-12) == pytest.approx(0.6513549, abs=1e-7)
    # a round: L̃ = sum of the window (step 0: (2, 1), now (1, 0.5)) = (3, 1.5); (m·w)⊙L̃ = (4.5, 0.75)
    # logits 0.5·(4.5 + 0.5·0.75, 0.75) = (2.4375, 0.375): p_a = 1 / (1 + e^−2.0625) = 0.887204...
    state = policy.update(state, observe(0, {"a": 1.0, "b": 0.5}))
    p = policy.weights(state)
    assert p[0] == pytest.approx(1 / (1 + math.exp(-2.0625)), rel=1e-12) == pytest.approx(0.8872046, abs=1e-7)
    # the same round unweighted: logits 0.5·(3 + 0.75, 1.5) = (1.875, 0.75), p_a = 1 / (1 + e^−1.125)
    plain = SkillIt(A2, eta=0.5, window=3)
    plain_state = plain.update(plain.init(two_skills()), observe(0, {"a": 1.0, "b": 0.5}))
    assert plain.weights(plain_state)[0] == pytest.approx(1 / (1 + math.exp(-1.125)), rel=1e-12)


def test_uniform_weights_are_skill_it_s_old_rule_bit_for_bit():
    rounds = [observe(0, {"a": 1.3, "b": 0.7}), observe(1, {"a": 0.9, "b": 0.6}, {"a": 0.8, "b": 0.55})]
    runs = []
    for weights in (None, (0.5, 0.5), (7.0, 7.0)):
        policy = SkillIt(A2, eta=0.5, window=2)
        state = policy.init(two_skills(weights))
        trace = [policy.weights(state)]
        for observation in rounds:
            state = policy.update(state, observation)
            trace.append(policy.weights(state))
        runs.append((state, trace))
    (state, trace), *others = runs
    assert "column_scale" not in state
    for other_state, other_trace in others:
        assert other_state == state
        assert all(np.array_equal(a, b) for a, b in zip(trace, other_trace))  # exact, not approx


def test_skill_it_with_its_own_targets_renormalises_their_weights():
    policy = SkillIt(A2, eta=0.5, targets=["b"])
    state = policy.init(two_skills((0.75, 0.25)))
    assert state["column_scale"] == [1.0]  # one column, all of the weight: m·w = 1·1
    graph = SkillsGraph([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], AB, ("a", "b", "z"))
    ctx = weighted(context(train=AB, evals=("a", "b", "z"), targets=AB, initial={"a": 2, "b": 1, "z": 1}), (3.0, 1.0))
    with pytest.raises(PolicyError, match="skill-it: 'z' is not an objective skill"):
        SkillIt(graph, targets=["a", "z"]).init(ctx)


# ---- Skill-It+ ---------------------------------------------------------------------------------------------
def test_skill_it_plus_scales_columns_and_drops_rows_feeding_only_zero_weight_columns():
    policy = SkillItPlus(A2, eta=4.0)
    state = policy.init(two_skills((0.75, 0.25)))
    # L̂ = 1 at step 0: logits 4·(1·1.5 + 0.5·0.5, 1·0.5) = (7, 2); p_a = 1 / (1 + e^−5) = 0.993307...
    assert policy.weights(state)[0] == pytest.approx(1 / (1 + math.exp(-5.0)), rel=1e-12)
    identity = SkillsGraph(np.eye(2), AB, AB)
    only_a = SkillItPlus(identity, eta=4.0)
    np.testing.assert_array_equal(only_a.weights(only_a.init(two_skills((1.0, 0.0)))), [1.0, 0.0])  # b: w = 0
    keep = SkillItPlus(identity, eta=4.0, zero_rows="keep")  # logits 4·(2, 0): p_a = 1 / (1 + e^−8)
    assert keep.weights(keep.init(two_skills((1.0, 0.0))))[0] == pytest.approx(1 / (1 + math.exp(-8.0)), rel=1e-12)


def test_uniform_weights_are_skill_it_plus_old_rule_bit_for_bit():
    outs = []
    for weights in (None, (1.0, 1.0)):
        policy = SkillItPlus(A2, eta=4.0, normalise="mean")
        state = policy.update(policy.init(two_skills(weights)), observe(0, {"a": 1.2, "b": 0.9}))
        outs.append((state, policy.weights(state)))
    assert outs[0][0] == outs[1][0] and "column_scale" not in outs[0][0]
    assert np.array_equal(outs[0][1], outs[1][1])


# ---- DGA ---------------------------------------------------------------------------------------------------
def test_dga_lastlayer_target_is_the_weighted_sum_of_the_targets_gradients_by_hand():
    gram = [[4.0, 1.0, 0.0], [1.0, 2.0, -1.0], [0.0, -1.0, 3.0]]
    policy = DGALastLayer(eta=1.0, normalise="none")
    ctx = weighted(context(targets=("a", "b"), setting="finetune"), (0.75, 0.25))
    state = policy.init(ctx)
    assert state["target"] == [0.75, 0.25, 0.0]
    state = policy.update(state, with_gram(0, gram))
    # a_i = 0.75·G_ia + 0.25·G_ib = (0.75·4 + 0.25·1, 0.75·1 + 0.25·2, 0.75·0 + 0.25·(−1)) = (3.25, 1.25, −0.25)
    assert state["alignment"] == [3.25, 1.25, -0.25]
    e = [math.exp(3.25), math.exp(1.25), math.exp(-0.25)]  # α ∝ (1/3)·exp(a)
    np.testing.assert_allclose(policy.weights(state), [v / sum(e) for v in e], rtol=1e-12)
    np.testing.assert_allclose(policy.weights(state), [0.8579768, 0.1161145, 0.0259087], atol=1e-7)
    plain = DGALastLayer(eta=1.0, normalise="none")  # unweighted: w = (1/2, 1/2, 0), a = (2.5, 1.5, −0.5)
    assert plain.update(plain.init(context(targets=("a", "b"), setting="finetune")), with_gram(0, gram))[
        "alignment"] == [2.5, 1.5, -0.5]


def test_dga_weights_only_the_objective_skills_it_can_take_a_gradient_on():
    # pre-training over a, b, c plus an evaluation-only z: the target is renormalised over the trained a, b, c
    ctx = weighted(context(evals=("a", "b", "c", "z"), initial={s: 2.0 for s in "abcz"}), (0.2, 0.2, 0.1, 0.5))
    assert DGA().init(ctx)["target"] == pytest.approx([0.4, 0.4, 0.2])
    only_z = weighted(context(evals=("a", "b", "c", "z"), initial={s: 2.0 for s in "abcz"}), (0.0, 0.0, 0.0, 1.0))
    with pytest.raises(PolicyError, match=r"dga: the objective_weights put no weight on \['a', 'b', 'c'\]"):
        DGA().init(only_z)


# ---- the others that read the objective ---------------------------------------------------------------------
def test_rb_balance_aioli_and_target_only_follow_the_weights():
    ctx = weighted(context(), (0.5, 0.25, 0.25))
    assert RBBalance().init(ctx)["eval_proportions"] == [0.5, 0.25, 0.25]  # p′ = w
    assert Aioli(lp_rounds=1, lp_steps=1).init(ctx)["objective"] == [1.5, 0.75, 0.75]  # n·w, n = 3
    finetune = weighted(context(targets=("a", "b"), setting="finetune"), (3.0, 1.0))
    assert RBBalance().init(finetune)["eval_proportions"] == [0.75, 0.25, 0.0]
    assert Aioli(lp_rounds=1, lp_steps=1).init(finetune)["objective"] == [1.5, 0.5, 0.0]  # n = 2 target rows
    np.testing.assert_array_equal(TargetOnly().weights(TargetOnly().init(finetune)), [0.75, 0.25, 0.0])
    np.testing.assert_array_equal(TargetOnly().weights(TargetOnly().init(context(targets=("a", "b"), setting="finetune"))),
                                  [0.5, 0.5, 0.0])


def test_staged_hands_the_weights_to_its_stages():
    policy = build_policy("staged", PARAMS["staged"], resolve_graph=lambda spec: GRAPH)
    state = policy.init(weighted(context(), (0.5, 0.25, 0.25)))
    later = policy.init(weighted(context(), (0.5, 0.25, 0.25)))
    for t in range(2):  # past stage 1's 20 steps: stage 2 (skill-it on a, b) starts
        later = policy.update(later, observe(t, {"a": 1.0, "b": 1.0, "c": 1.0}))
    assert state["context"]["objective_weights"] == [0.5, 0.25, 0.25]
    assert later["stage"] == 1 and later["inner"]["column_scale"] == [1.5, 0.75, 0.75]  # m·w over a, b, c


# ---- the contract with a weighted objective -------------------------------------------------------------------
@pytest.mark.parametrize("name", list(POLICIES))
def test_check_policy_passes_with_a_weighted_objective(name):
    policy = build_policy(name, PARAMS.get(name, {}), resolve_graph=lambda spec: GRAPH)
    check_policy(policy, weighted(example_context(("a", "b", "c")), (0.6, 0.3, 0.1)))
