"""ODM: the paper's EXP3 (odm) and the repository's smoothed mean (odm-smoothed-mean), by hand."""

import math

import numpy as np
import pytest

from skillit.policy import EvalResult, Observation
from skillit.policy.odm import ODM, ODMSmoothedMean, exploration

from .helpers import context


def trained(round_index, losses, step=None):
    step = step or 10 * (round_index + 1)
    return Observation(round=round_index, step=step, evals=(EvalResult(step, dict(losses)),), train_loss=losses,
                       round_examples={s: 1 for s in losses})


EPS_10 = math.sqrt(math.log(2) / (2 * 10))  # ε_10 = min(1/2, √(ln 2 / 20)) = 0.186165
EPS_9 = math.sqrt(math.log(2) / (2 * 9))  # ε_9 = 0.196235


def test_exploration_schedule():
    assert exploration(2, 0) == 0.5
    assert exploration(2, 1) == 0.5  # √(ln 2 / 2) = 0.589 > 1/2
    assert exploration(2, 10) == pytest.approx(EPS_10)
    assert exploration(1, 5) == 0.0


def test_paper_exp3_importance_weighted():
    policy = ODM(smoothing=0.9)
    state = policy.init(context(train=("a", "b")))
    assert policy.weights(state) == pytest.approx([0.5, 0.5])
    # π = ½ each; R̂ = 0.1·[2/0.5, 1/0.5] = [0.4, 0.2]
    state = policy.update(state, trained(0, {"a": 2.0, "b": 1.0}))
    assert state["estimate"] == pytest.approx([0.4, 0.2])
    # π_a = (1 − 2ε_10)·softmax(ε_9·[0.4, 0.2])_a + ε_10
    soft = 1 / (1 + math.exp(-EPS_9 * 0.2))
    expected = (1 - 2 * EPS_10) * soft + EPS_10  # 0.506158
    assert policy.weights(state) == pytest.approx([expected, 1 - expected])


def test_repository_smoothed_mean():
    policy = ODMSmoothedMean(smoothing=0.9)
    state = policy.init(context(train=("a", "b")))
    # R̂ = 0.1·[e², e¹]; π_a = (1 − 2ε_10)·e²/(e² + e) + ε_10 = 0.62767·0.731059 + 0.186165
    state = policy.update(state, trained(0, {"a": 2.0, "b": 1.0}))
    assert state["estimate"] == pytest.approx([0.1 * math.e**2, 0.1 * math.e])
    expected = (1 - 2 * EPS_10) * math.e / (1 + math.e) + EPS_10  # 0.645028
    assert policy.weights(state) == pytest.approx([expected, 1 - expected])


def test_undrawn_skill_keeps_its_estimate_and_warmup_is_uniform():
    policy = ODM(smoothing=0.5, warmup_steps=20)
    state = policy.init(context(train=("a", "b")))
    state = policy.update(state, trained(0, {"a": 1.0, "b": float("nan")}))
    assert state["estimate"] == pytest.approx([0.5 * 1.0 / 0.5, 0.0])  # b not drawn
    assert policy.weights(state) == pytest.approx([0.5, 0.5])  # step 10 < warm-up 20
    state = policy.update(state, trained(1, {"a": 1.0, "b": 1.0}))
    assert not np.allclose(policy.weights(state), [0.5, 0.5])


def test_validation_reward_reads_only_validation_losses():
    policy = ODM(reward="val_loss")
    assert policy.requires == frozenset({"val_loss"})
    state = policy.init(context(train=("a", "b")))
    obs = Observation(round=0, step=10, evals=(EvalResult(10, {"a": 2.0, "b": 1.0}),))
    state = policy.update(state, obs)
    assert state["estimate"] == pytest.approx([0.4, 0.2])
