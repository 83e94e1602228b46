"""Skill-It+ (ours): normalised losses, dead rows dropped, the online ridge re-fit of A, by hand."""

import math

import numpy as np
import pytest

from skillit.errors import PolicyError
from skillit.graph import SkillsGraph
from skillit.policy import Observation, SkillIt
from skillit.policy.base import EvalResult
from skillit.policy.skill_it_plus import SkillItPlus, refit_columns

from .helpers import context, observe

LEGO = SkillsGraph([[1, 0, 0], [0.5, 1, 0.5], [0, 0, 1]], ["a", "b", "c"])


def test_finetuning_drops_skills_with_no_edge_and_normalises_by_the_initial_loss():
    policy = SkillItPlus(LEGO, eta=2.0, window=2)
    state = policy.init(context(targets=("c",), setting="finetune", initial={"a": 9.0, "b": 9.0, "c": 4.0}))
    # A[:, c] = [0, 0.5, 1]: a has no edge → 0; L̂ = 1 → logits 2·[0.5, 1] = [1, 2] over b, c
    assert policy.weights(state) == pytest.approx([0.0, 1 / (1 + math.e), math.e / (1 + math.e)])
    # window [4, 2] → mean 3 → L̂ = 3/4 → logits [0.75, 1.5]
    state = policy.update(state, observe(0, {"a": 0.1, "b": 0.1, "c": 2.0}))
    assert policy.weights(state) == pytest.approx([0.0, 1 / (1 + math.exp(0.75)), math.exp(0.75) / (1 + math.exp(0.75))])
    # the paper's rule on the same input keeps a at exp(0) = 1 (unchanged policy, for contrast)
    paper = SkillIt(LEGO, eta=2.0, window=2)
    assert paper.weights(paper.init(context(targets=("c",), setting="finetune")))[0] > 0


def test_keep_zero_rows_and_mean_normalisation():
    keep = SkillItPlus(LEGO, eta=2.0, zero_rows="keep")
    state = keep.init(context(targets=("c",), setting="finetune", initial={"a": 9.0, "b": 9.0, "c": 4.0}))
    e = [1.0, math.e, math.e**2]
    assert keep.weights(state) == pytest.approx([v / sum(e) for v in e])
    # mean: identity graph, window 1; losses [1, 0.5] / mean 0.75 → L̂ = [4/3, 2/3]
    mean = SkillItPlus(SkillsGraph.identity(["a", "b"]), eta=1.0, window=1, normalise="mean")
    state = mean.update(mean.init(context(train=("a", "b"), initial={"a": 2.0, "b": 1.0})), observe(0, {"a": 1.0, "b": 0.5}))
    gap = 4 / 3 - 2 / 3
    assert mean.weights(state) == pytest.approx([1 / (1 + math.exp(-gap)), 1 / (1 + math.exp(gap))])


def test_ridge_refit_by_hand():
    prior = np.eye(2)
    shares = np.array([[1.0, 0.0], [0.0, 1.0]])
    drops = [[0.2, 0.0], [0.0, 0.1]]
    # c = (0.2·1 + 0.1·1)/(1 + 1) = 0.15; column 0: ((I + I)⁻¹([0.2, 0] + 0.15·[1, 0]))/0.15 = [0.175, 0]/0.15
    # column 1: ([0, 0.1] + [0, 0.15])/2/0.15 = [0, 0.125/0.15]
    assert refit_columns(prior, shares, drops, 1.0) == pytest.approx(np.array([[0.175 / 0.15, 0.0], [0.0, 0.125 / 0.15]]))
    # losses that rise (c ≤ 0) keep the prior; a column without a training loss keeps its prior column
    assert refit_columns(prior, shares, [[-0.2, None], [0.0, None]], 1.0) == pytest.approx(prior)


def test_online_refit_moves_the_graph_from_training_losses():
    policy = SkillItPlus(SkillsGraph.identity(["a", "b"]), eta=1.0, graph_ridge=1.0)
    assert policy.requires == frozenset({"val_loss", "train_loss"})
    state = policy.init(context(train=("a", "b"), initial={"a": 2.0, "b": 2.0}))

    def round_(t, train_losses, drawn):
        return Observation(round=t, step=10 * (t + 1), evals=(EvalResult(10 * (t + 1), {"a": 2.0, "b": 2.0}),),
                           train_loss=train_losses, round_examples=drawn)

    state = policy.update(state, round_(0, {"a": 1.0, "b": 1.0}, {"a": 1, "b": 0}))  # first losses: no drop yet
    assert state["matrix"] == [[1.0, 0.0], [0.0, 1.0]]
    # round 1 trains only a; a's loss drops 20 %, b's (not drawn: keeps 1.0) 0 % → X = [[1, 0]], y = [[0.2, 0]]
    state = policy.update(state, round_(1, {"a": 0.8, "b": float("nan")}, {"a": 1, "b": 0}))
    # c = 0.2/1 = 0.2; column 0: (XᵀX + I)⁻¹(Xᵀy + 0.2·[1, 0]) = diag(½, 1)·[0.4, 0] = [0.2, 0] → /0.2 = [1, 0]
    # column 1: (XᵀX + I)⁻¹(0 + 0.2·[0, 1]) = [0, 0.2] → /0.2 = [0, 1]: the data agree with the prior
    assert np.asarray(state["matrix"]) == pytest.approx(np.eye(2))


def test_a_target_with_an_empty_column_trains_itself():
    # a learned graph whose probes measured nothing for b: column b is all zeros → A_bb = 1, so b (the
    # target) is the one live skill; a has no edge to b and is dropped
    graph = SkillsGraph([[1, 0], [0, 0]], ["a", "b"])
    policy = SkillItPlus(graph, targets=["b"])
    state = policy.init(context(train=("a", "b")))
    assert state["matrix"] == [[0.0], [1.0]]
    assert policy.weights(state) == pytest.approx([0.0, 1.0])
    # a column with a positive entry is kept as it is, even without its diagonal: A[:, a] = [0, 0.5]
    kept = SkillItPlus(SkillsGraph([[0, 0], [0.5, 0]], ["a", "b"]), targets=["a"]).init(context(train=("a", "b")))
    assert kept["matrix"] == [[0.0], [0.5]]


def test_an_out_of_domain_objective_with_no_edge_is_refused():
    # the evaluation skill c is not a training skill, so there is no self-edge to fall back on
    graph = SkillsGraph([[1.0, 0.0], [0.0, 0.0]], ["a", "b"], ["a", "c"])
    with pytest.raises(PolicyError, match="no training skill has an edge"):
        SkillItPlus(graph, targets=["c"]).init(context(train=("a", "b"), evals=("a", "c")))
