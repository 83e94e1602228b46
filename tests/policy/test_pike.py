"""PiKE: w ← normalise(w ⊙ exp(ζ1·‖∇L‖² − ζ2·σ²/(2b))) with our estimators, by hand."""

import math
from dataclasses import replace

import numpy as np
import pytest

from skillit.policy import Observation
from skillit.policy.base import GradStats
from skillit.policy.pike import PiKE, pike_estimates

from .helpers import context


def with_stats(round_index, sqnorm, var, counts):
    k = len(sqnorm)
    stats = GradStats(("a", "b"), np.zeros((k, k)), np.asarray(sqnorm, float), np.asarray(var, float),
                      np.asarray(counts, float))
    return Observation(round=round_index, step=10 * (round_index + 1), evals=(), grad=stats, steps=10)


def test_estimators():
    # σ̂² = var·n/(n−1) = [0.2·5/4, 0.4·2/1] = [0.25, 0.8]; ‖∇L‖² = sqnorm − σ̂²/n = [1 − 0.05, 0.5 − 0.4]
    norm2, sigma2 = pike_estimates(np.array([1.0, 0.5]), np.array([0.2, 0.4]), np.array([5, 2]))
    assert sigma2 == pytest.approx([0.25, 0.8])
    assert norm2 == pytest.approx([0.95, 0.1])
    norm2, sigma2 = pike_estimates(np.array([0.1, 1.0]), np.array([5.0, 0.0]), np.array([2, 0]))
    assert norm2[0] == 0.0 and sigma2[0] == pytest.approx(10.0)  # clipped at 0
    assert np.isnan(norm2[1]) and np.isnan(sigma2[1])  # not drawn


def test_update_rule():
    policy = PiKE(zeta1=1.0, zeta2=2.0)
    state = policy.init(replace(context(train=("a", "b")), batch_size=8))
    assert policy.weights(state) == pytest.approx([0.5, 0.5])
    # gain = ζ1·[0.95, 0.1] − ζ2·[0.25, 0.8]/(2·8) = [0.95 − 0.03125, 0.1 − 0.1] = [0.91875, 0]
    state = policy.update(state, with_stats(0, [1.0, 0.5], [0.2, 0.4], [5, 2]))
    e = math.exp(0.91875)
    assert policy.weights(state) == pytest.approx([e / (1 + e), 1 / (1 + e)])
    # an undrawn skill (count 0) is unchanged; the other gains again: [0.91875·2, 0]
    state = policy.update(state, with_stats(1, [1.0, float("nan")], [0.2, float("nan")], [5, 0]))
    e = math.exp(2 * 0.91875)
    assert policy.weights(state) == pytest.approx([e / (1 + e), 1 / (1 + e)])


def test_batch_size_from_the_round_when_the_context_has_none():
    policy = PiKE(zeta1=0.0, zeta2=1.0)
    state = policy.init(context(train=("a", "b")))  # batch_size 0
    # b = (5 + 2 examples)/10 steps → max(1, 0.7) = 1; gain = −[0.25, 0.8]/2 = [−0.125, −0.4]
    state = policy.update(state, with_stats(0, [1.0, 0.5], [0.2, 0.4], [5, 2]))
    e = math.exp(-0.125 + 0.4)
    assert policy.weights(state) == pytest.approx([e / (1 + e), 1 / (1 + e)])
