"""Hand-computed mixtures of the baselines: random, stratified, static, target-only, curricula, wrappers."""

import numpy as np
import pytest

from skillit.errors import PolicyError
from skillit.graph import SkillsGraph, builtin_graph
from skillit.policy import (
    AntiCurriculum,
    Curriculum,
    MinimumProbability,
    Observation,
    Random,
    SkillAntiCurriculum,
    SkillCurriculum,
    Smoothed,
    Static,
    Stratified,
    TargetOnly,
)

from .helpers import context, observe


def test_random_follows_the_natural_pool():
    ctx = context(train=("v1", "v2", "v3", "v4", "v5"), natural=(1, 1, 1, 3, 5))
    assert Random().weights(Random().init(ctx)) == pytest.approx(np.array([1, 1, 1, 3, 5]) / 11)
    override = Random({"v5": 1.0, "v1": 1.0})
    assert override.weights(override.init(ctx)) == pytest.approx([0.5, 0, 0, 0, 0.5])


def test_stratified_uniform_or_over_prerequisites():
    assert Stratified().weights(Stratified().init(context())) == pytest.approx([1 / 3] * 3)
    graph = builtin_graph("lego-finetune")
    ctx = context(train=("var1", "var2", "var3"), targets=("var3",), setting="finetune")
    policy = Stratified(graph)
    # target column var3 = [0, 0.5, 1] → S_prereq ∪ S_target = {var2, var3}
    assert policy.weights(policy.init(ctx)) == pytest.approx([0, 0.5, 0.5])


def test_static_and_target_only():
    policy = Static({"b": 3.0, "a": 1.0})
    assert policy.weights(policy.init(context())) == pytest.approx([0.25, 0.75, 0.0])
    assert Static([1, 1, 2]).weights(Static([1, 1, 2]).init(context())) == pytest.approx([0.25, 0.25, 0.5])
    with pytest.raises(PolicyError, match="unknown training skill 'd'"):
        Static({"d": 1.0}).init(context())
    with pytest.raises(PolicyError, match="all zero"):
        Static([0, 0, 0]).init(context())
    ctx = context(targets=("c",), setting="finetune")
    assert TargetOnly().weights(TargetOnly().init(ctx)) == pytest.approx([0, 0, 1])


SCORES = {"a": np.array([0.5, 0.1]), "b": np.array([0.3, 0.9, 0.2])}


def test_curriculum_admits_the_easiest_prefix_with_linear_pacing():
    ctx = context(train=("a", "b"), pools=(2, 3), rounds=2, scores=SCORES)
    policy = Curriculum()
    state = policy.init(ctx)
    # ranking easy-first: a1 (.1), b2 (.2), b0 (.3), a0 (.5), b1 (.9); g(0) = ceil(5 · 1/2) = 3
    assert policy.weights(state) == pytest.approx([1 / 3, 2 / 3])
    assert policy.scope(state) == {0: [1], 1: [0, 2]}
    state = policy.update(state, observe(0, {"a": 1.0, "b": 1.0}))
    assert policy.weights(state) == pytest.approx([2 / 5, 3 / 5])  # g(1) = 5: the whole pool
    assert policy.scope(state) == {0: [0, 1], 1: [0, 1, 2]}


def test_anti_curriculum_admits_the_hardest_first():
    policy = AntiCurriculum()
    state = policy.init(context(train=("a", "b"), pools=(2, 3), rounds=2, scores=SCORES))
    # hard-first: b1 (.9), a0 (.5), b0 (.3) | b2, a1
    assert policy.weights(state) == pytest.approx([1 / 3, 2 / 3])
    assert policy.scope(state) == {0: [0], 1: [0, 1]}


def test_curriculum_needs_finite_pools():
    with pytest.raises(PolicyError, match="finite pool"):
        Curriculum().init(context(train=("a", "b"), pools=(None, 3), scores=SCORES))


def test_skill_curriculum_stages():
    # initial losses a=2, b=1, c=3 → easy-first order b, a, c; T = 8 rounds, k + 1 = 4 stages of 2 rounds
    ctx = context(initial={"a": 2.0, "b": 1.0, "c": 3.0}, rounds=8, natural=(1, 1, 2))
    policy = SkillCurriculum(mixing_fraction=0.4)
    state = policy.init(ctx)
    expected = [[0, 1, 0], [0, 1, 0], [0.6, 0.4, 0], [0.6, 0.4, 0], [0.2, 0.2, 0.6], [0.2, 0.2, 0.6],
                [0.25, 0.25, 0.5], [0.25, 0.25, 0.5]]
    for t, row in enumerate(expected):
        assert policy.weights(state) == pytest.approx(row), f"round {t}"
        state = policy.update(state, observe(t, {"a": 1.0, "b": 1.0, "c": 1.0}))
    anti = SkillAntiCurriculum(mixing_fraction=0.0)
    assert anti.weights(anti.init(ctx)) == pytest.approx([0, 0, 1])  # hardest (c) first


def test_skill_curriculum_needs_enough_rounds():
    with pytest.raises(PolicyError, match="at least k \\+ 1 = 4 rounds"):
        SkillCurriculum().init(context(rounds=3))


def test_floor_and_smoothing_wrappers():
    floored = MinimumProbability(Static([1, 0, 0]), floor=0.1)
    assert floored.weights(floored.init(context())) == pytest.approx([0.8, 0.1, 0.1])
    with pytest.raises(PolicyError, match="too large"):
        MinimumProbability(Static([1, 0, 0]), floor=0.4).init(context())
    with pytest.raises(PolicyError, match="cannot be combined"):
        MinimumProbability(Curriculum(), 0.1).init(context(train=("a", "b"), pools=(2, 3), scores=SCORES))

    class Flip(Static):
        def update(self, state, observation):
            return {**state, "weights": state["weights"][::-1]}

    smoothed = Smoothed(Flip([1.0, 0.0, 0.0]), beta=0.5)
    state = smoothed.init(context())
    assert smoothed.weights(state) == pytest.approx([1, 0, 0])
    state = smoothed.update(state, observe(0, {}))
    assert smoothed.weights(state) == pytest.approx([0.5, 0, 0.5])  # 0.5·[1,0,0] + 0.5·[0,0,1]
    state = smoothed.update(state, observe(1, {}))
    assert smoothed.weights(state) == pytest.approx([0.75, 0, 0.25])
    # a probe sub-round (Aioli's LearnParams) updates the inner policy (it flips) but not the EMA
    probe = Observation(round=2, step=30, evals=(), kind="probe")
    state = smoothed.update(state, probe)
    assert smoothed.weights(state) == pytest.approx([0.75, 0, 0.25])
    assert state["inner"]["weights"] == pytest.approx([0, 0, 1])  # flipped twice, then once more by the probe
    state = smoothed.update(state, observe(3, {}))  # inner flips back to [1, 0, 0]
    assert smoothed.weights(state) == pytest.approx([0.875, 0, 0.125])


def test_static_graph_stratified_reports_missing_edges():
    graph = SkillsGraph([[1, 0], [0, 0]], ["a", "b"], ["x", "y"])
    with pytest.raises(PolicyError, match="no training skill has an edge"):
        Stratified(graph).init(context(train=("a", "b"), evals=("x", "y"), targets=("y",), setting="out-of-domain"))
