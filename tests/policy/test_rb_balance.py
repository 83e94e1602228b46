"""R&B-Balance: p = softmax(λ · G·p′ / ‖G·p′‖), by hand."""

import math

import numpy as np
import pytest

from skillit.policy import Observation
from skillit.policy.base import GradStats
from skillit.policy.rb_balance import RBBalance

from .helpers import context

SKILLS = ("a", "b", "c")


def with_gram(round_index, gram, skills=SKILLS):
    gram = np.asarray(gram, dtype=float)
    stats = GradStats(tuple(skills), gram, np.diag(gram).copy(), np.zeros(len(skills)), np.ones(len(skills)))
    return Observation(round=round_index, step=10, evals=(), grad=stats)


def softmax(values):
    e = [math.exp(v) for v in values]
    return [v / sum(e) for v in e]


def test_alignment_with_the_uniform_evaluation_mixture():
    policy = RBBalance(temperature=2.0)
    state = policy.init(context())
    assert policy.weights(state) == pytest.approx([1 / 3] * 3)  # no gradient yet
    # G = [[4,1,0],[1,2,0],[0,0,1]], p′ = ⅓ each → v = [5/3, 1, 1/3], ‖v‖ = √(35/9)
    state = policy.update(state, with_gram(0, [[4, 1, 0], [1, 2, 0], [0, 0, 1]]))
    norm = math.sqrt(35 / 9)
    assert policy.weights(state) == pytest.approx(softmax([2 * (5 / 3) / norm, 2 * 1 / norm, 2 * (1 / 3) / norm]))


def test_target_mask_and_undrawn_skills_keep_their_entries():
    policy = RBBalance(temperature=2.0)
    state = policy.init(context(targets=("c",), setting="finetune"))
    assert state["eval_proportions"] == [0.0, 0.0, 1.0]
    # v = G·[0,0,1] = column c = [0, 0, 1] → softmax(2·[0, 0, 1])
    state = policy.update(state, with_gram(0, [[4, 1, 0], [1, 2, 0], [0, 0, 1]]))
    assert policy.weights(state) == pytest.approx(softmax([0, 0, 2]))
    # a round where c was not drawn: its row/column are NaN and keep the last values; a–c edge appears
    nan = float("nan")
    state = policy.update(state, with_gram(1, [[4, 1, nan], [1, 2, nan], [nan, nan, nan]]))
    assert policy.weights(state) == pytest.approx(softmax([0, 0, 2]))


def test_zero_alignment_is_uniform():
    policy = RBBalance()
    state = policy.update(policy.init(context()), with_gram(0, np.zeros((3, 3))))
    assert policy.weights(state) == pytest.approx([1 / 3] * 3)


def test_statistics_missing_a_training_skill_are_refused():
    from skillit.errors import PolicyError

    policy = RBBalance()
    with pytest.raises(PolicyError, match="no entry for training skill 'c'"):
        policy.update(policy.init(context()), with_gram(0, np.eye(2), skills=("a", "b")))
