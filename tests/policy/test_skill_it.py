"""Skill-It's update, against values computed by hand from p ∝ exp(η · A · L̃)."""

import math

import numpy as np
import pytest

from skillit.errors import GraphError, PolicyError
from skillit.graph import SkillsGraph
from skillit.policy import Frozen, SkillIt

from .helpers import context, observe


def two_way(x: float) -> list[float]:
    """softmax([0, x]) written out: [1/(1+e^x), e^x/(1+e^x)]."""
    return [1 / (1 + math.exp(x)), math.exp(x) / (1 + math.exp(x))]


def test_pretraining_sums_the_window_of_evaluations():
    # A = [[1, 0], [0.5, 1]], η = 0.5, window w = 2 evaluations, sum (continual pre-training)
    graph = SkillsGraph([[1, 0], [0.5, 1]], ["a", "b"])
    policy = SkillIt(graph, eta=0.5, window=2)
    state = policy.init(context(train=("a", "b"), initial={"a": 2.0, "b": 1.0}))
    # first mixture from L̃ = 1: A·1 = [1, 1.5], η·A·1 = [0.5, 0.75]
    assert policy.weights(state) == pytest.approx(two_way(0.75 - 0.5))
    # round 0 evaluation (a=1.5, b=0.8): window = step 0 and step 10 → L̃ = [3.5, 1.8]
    # A·L̃ = [3.5, 0.5·3.5 + 1.8] = [3.5, 3.55]; η·A·L̃ = [1.75, 1.775]
    state = policy.update(state, observe(0, {"a": 1.5, "b": 0.8}))
    assert policy.weights(state) == pytest.approx(two_way(1.775 - 1.75))
    # round 1 makes two evaluations; the window keeps only the last two: L̃ = [1.0+0.5, 0.2+0.1] = [1.5, 0.3]
    # A·L̃ = [1.5, 0.75 + 0.3] = [1.5, 1.05]; η·A·L̃ = [0.75, 0.525]
    state = policy.update(state, observe(1, {"a": 1.0, "b": 0.2}, {"a": 0.5, "b": 0.1}))
    assert policy.weights(state) == pytest.approx(two_way(0.525 - 0.75))
    assert state["history"] == [[1.0, 0.2], [0.5, 0.1]]


def test_finetuning_uses_the_target_column_and_the_window_mean():
    # LEGO-style fine-tuning: train a, b, c; target c; A[:, c] = [0, 0.5, 1]; η = 1; window 3; mean
    graph = SkillsGraph([[1, 0, 0], [0.5, 1, 0.5], [0, 0, 1]], ["a", "b", "c"])
    policy = SkillIt(graph, eta=1.0, window=3)
    ctx = context(targets=("c",), setting="finetune", initial={"a": 9.0, "b": 9.0, "c": 3.0})
    state = policy.init(ctx)
    assert state["aggregate"] == "mean" and state["columns"] == ["c"]
    e = [1.0, math.exp(0.5), math.exp(1.0)]
    assert policy.weights(state) == pytest.approx([v / sum(e) for v in e])
    # losses of a and b do not matter; L̃_c = mean(3.0, 2.0) = 2.5 → logits [0, 1.25, 2.5]
    state = policy.update(state, observe(0, {"a": 0.1, "b": 7.0, "c": 2.0}))
    e = [1.0, math.exp(1.25), math.exp(2.5)]
    assert policy.weights(state) == pytest.approx([v / sum(e) for v in e])
    # three more evaluations: window = (1.0, 0.5, 0.3) → mean 0.6 → logits [0, 0.3, 0.6]
    state = policy.update(state, observe(1, {"c": 1.0}, {"c": 0.5}, {"c": 0.3}))
    e = [1.0, math.exp(0.3), math.exp(0.6)]
    assert policy.weights(state) == pytest.approx([v / sum(e) for v in e])


def test_out_of_domain_rectangular_graph():
    # train a, b; evaluation skills x, y only; A = [[1, 0], [0.2, 2]]; η = 0.1; sum over window 1
    graph = SkillsGraph([[1, 0], [0.2, 2]], ["a", "b"], ["x", "y"])
    policy = SkillIt(graph, eta=0.1, window=1)
    ctx = context(train=("a", "b"), evals=("x", "y"), setting="out-of-domain", initial={"x": 4.0, "y": 1.0})
    state = policy.init(ctx)
    assert policy.weights(state) == pytest.approx(two_way(0.1 * (2.2 - 1.0)))
    state = policy.update(state, observe(0, {"x": 3.0, "y": 5.0}))
    # A·L = [3, 0.6 + 10] → η·A·L = [0.3, 1.06]
    assert policy.weights(state) == pytest.approx(two_way(1.06 - 0.3))


def test_prior_observed_initial_loss_and_explicit_targets():
    graph = SkillsGraph(np.eye(2), ["a", "b"])
    policy = SkillIt(graph, eta=1.0, window=1, initial_loss="observed", prior={"a": 3.0, "b": 1.0})
    state = policy.init(context(train=("a", "b"), initial={"a": 1.0, "b": 2.0}))
    # p ∝ prior · exp(L) = [3e, e²]
    expected = np.array([3 * math.e, math.e**2])
    assert policy.weights(state) == pytest.approx(expected / expected.sum())
    only_b = SkillIt(SkillsGraph([[1, 0], [1, 1]], ["a", "b"]), eta=1.0, targets=["b"])
    state = only_b.init(context(train=("a", "b")))
    assert policy.weights(state).shape == (2,) and only_b.weights(state) == pytest.approx(two_way(1.0))


def test_static_variant_and_identity_ablation():
    graph = SkillsGraph([[1, 0], [0.5, 1]], ["a", "b"])
    frozen = Frozen(SkillIt(graph, eta=0.5))
    state = frozen.init(context(train=("a", "b")))
    first = frozen.weights(state)
    state = frozen.update(state, observe(0, {"a": 9.0, "b": 0.0}))
    assert np.array_equal(frozen.weights(state), first)
    assert first == pytest.approx(two_way(0.25))
    identity = SkillIt(SkillsGraph.identity(["a", "b"]), eta=1.0, window=1)
    state = identity.update(identity.init(context(train=("a", "b"))), observe(0, {"a": 0.0, "b": 1.0}))
    assert identity.weights(state) == pytest.approx(two_way(1.0))


def test_huge_signals_stay_finite():
    policy = SkillIt(SkillsGraph(np.eye(3), ["a", "b", "c"]), eta=100.0, window=3)
    state = policy.update(policy.init(context()), observe(0, {"a": 1e6, "b": 1e6 - 1, "c": 0.0}))
    w = policy.weights(state)
    assert np.isfinite(w).all() and w.sum() == pytest.approx(1.0) and w[0] == pytest.approx(1.0)


def test_bad_set_up_is_reported_clearly():
    graph = SkillsGraph(np.eye(2), ["a", "b"])
    with pytest.raises(GraphError, match="'c' is not a row"):
        SkillIt(graph).init(context(train=("a", "b", "c"), evals=("a", "b")))
    with pytest.raises(PolicyError, match="eta"):
        SkillIt(graph, eta=-1)
    with pytest.raises(PolicyError, match="window"):
        SkillIt(graph, window=0)
    policy = SkillIt(graph)
    state = policy.init(context(train=("a", "b")))
    with pytest.raises(PolicyError, match="validation loss of skill 'b'"):
        policy.update(state, observe(0, {"a": 1.0}))
