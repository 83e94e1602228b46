"""DoReMi online: α ← (1 − ε)·softmax(log α + η·max(L − L^ref, 0)) + ε/k, and its static exports."""

import math

import pytest

from skillit.errors import PolicyError
from skillit.policy import EvalResult, Observation
from skillit.policy.doremi import DoReMiOnline, average_mixture, average_weights

from .helpers import context


def observed(round_index, losses, ref):
    return Observation(round=round_index, step=10 * (round_index + 1),
                       evals=(EvalResult(10 * (round_index + 1), losses),), ref_losses=ref)


def test_excess_loss_update_and_average():
    policy = DoReMiOnline(eta=1.0, smoothing=0.1)
    state = policy.init(context(train=("a", "b")))
    assert policy.weights(state) == pytest.approx([0.5, 0.5])
    # λ = [max(3 − 2, 0), max(2 − 2.5, 0)] = [1, 0]; softmax(log ½ + [1, 0]) = [e/(1+e), 1/(1+e)]
    # then 0.9·α + 0.1/2
    state = policy.update(state, observed(0, {"a": 3.0, "b": 2.0}, {"a": 2.0, "b": 2.5}))
    first = 0.9 * math.e / (1 + math.e) + 0.05
    assert policy.weights(state) == pytest.approx([first, 1 - first])  # [0.707953, 0.292047]
    # only b evaluated: λ_b = 3 − 2 = 1, a keeps λ_a = 1 → softmax(log α + [1, 1]) = α; then 0.9·α + 0.05
    state = policy.update(state, observed(1, {"b": 3.0}, {"b": 2.0}))
    second = 0.9 * first + 0.05
    assert policy.weights(state) == pytest.approx([second, 1 - second])
    # ᾱ = mean of the two α
    mean = (first + second) / 2
    assert average_weights(state) == pytest.approx({"a": mean, "b": 1 - mean})


def test_average_mixture_from_records():
    records = [{"step": 0, "weights": {}}, {"step": 10, "weights": {"a": 0.5, "b": 0.5}},
               {"step": 30, "weights": {"a": 0.8, "b": 0.2}}]
    # (10·0.5 + 20·0.8)/30 = 0.7
    assert average_mixture(records) == pytest.approx({"a": 0.7, "b": 0.3})
    with pytest.raises(PolicyError, match="no record carries"):
        average_mixture([{"step": 0, "weights": {}}])
    with pytest.raises(PolicyError, match="no update yet"):
        average_weights(DoReMiOnline().init(context(train=("a", "b"))))


def test_needs_a_validation_set_on_a_training_skill():
    with pytest.raises(PolicyError, match="no training skill has a validation set"):
        DoReMiOnline().init(context(train=("a", "b"), evals=("x",)))
