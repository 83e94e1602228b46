"""EvalResult.loss_vector's two paths and stable_softmax, against the straightforward computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillit.errors import PolicyError
from skillit.policy.base import EvalResult, stable_softmax


def looked_up(losses: dict, skills: list[str]) -> np.ndarray:
    """The straightforward loss vector: one lookup per name."""
    return np.array([losses[name] for name in skills], dtype=float)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=30), st.integers(0, 10_000))
def test_loss_vector_equals_the_lookups_in_every_key_order(values, seed):
    rng = np.random.default_rng(seed)
    names = [f"s{i}" for i in range(len(values))]
    in_order = EvalResult(1, dict(zip(names, values)))  # the fast path: the keys are the skills, in order
    shuffled = EvalResult(1, dict(zip(rng.permutation(names).tolist(), values)))
    subset = rng.permutation(names)[: max(1, len(names) // 2)].tolist()
    for evaluation, skills in ((in_order, names), (in_order, tuple(names)), (shuffled, names), (in_order, subset),
                               (in_order, names[:1])):
        got = evaluation.loss_vector(skills)
        assert got.shape == (len(skills),)
        assert got.tobytes() == looked_up(evaluation.losses, list(skills)).tobytes()


def test_loss_vector_reads_other_value_types_as_numpy_does():
    names = ["a", "b", "c"]
    odd = {"a": 1, "b": np.float32(0.1), "c": True}  # int, float32 and bool: read as float64
    assert EvalResult(0, odd).loss_vector(names).tolist() == [1.0, float(np.float32(0.1)), 1.0]
    assert math.isnan(EvalResult(0, {"a": None, "b": 1.0, "c": 2.0}).loss_vector(names)[0])  # None: NaN
    nested = {"a": [1.0], "b": [2.0], "c": [3.0]}  # np.array reads these as a column, as before the fast path
    assert EvalResult(0, nested).loss_vector(names).shape == (3, 1)
    with pytest.raises(PolicyError, match="validation loss of skill 'c', which was not evaluated at step 4"):
        EvalResult(4, {"a": 1.0, "b": 2.0}).loss_vector(names)
    with pytest.raises(PolicyError, match="skill 'x'"):
        EvalResult(4, {"a": 1.0}).loss_vector(["x"])


def test_stable_softmax_is_hand_computed_and_leaves_its_input_alone():
    logits = np.array([0.0, math.log(3.0), 1000.0, 1000.0 + math.log(2.0)])
    before = logits.copy()
    p = stable_softmax(logits)
    # the two large logits differ by log 2, so they share the mass 1:2; exp(-1000) underflows to 0
    assert p == pytest.approx([0.0, 0.0, 1 / 3, 2 / 3])
    assert np.array_equal(logits, before)
    assert stable_softmax([1, 1]).tolist() == [0.5, 0.5]  # integer input: a float result


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-700, 700), min_size=1, max_size=40))
def test_stable_softmax_equals_the_written_out_formula_bit_for_bit(values):
    z = np.array(values) - max(values)
    e = np.exp(z)
    assert stable_softmax(np.array(values)).tobytes() == (e / e.sum()).tobytes()
