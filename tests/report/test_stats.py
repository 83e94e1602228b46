"""Paired differences over seeds and their Student-t interval, against hand-computed values."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillit.report.stats import paired_difference


def test_three_seeds_mean_and_t_interval_by_hand():
    # differences 0.5, 1.0, 0.5: mean 2/3, s_d = sqrt(1/12), t_{0.975, 2} = 4.302653
    diff = paired_difference({0: 1.0, 1: 2.0, 2: 3.0}, {0: 0.5, 1: 1.0, 2: 2.5})
    assert diff.n == 3 and diff.mean == pytest.approx(2 / 3)
    assert diff.half_width == pytest.approx(4.302653 * math.sqrt(1 / 12) / math.sqrt(3), rel=1e-6)
    assert diff.low == pytest.approx(2 / 3 - 0.717109, abs=1e-6) and diff.excludes_zero is False


def test_only_shared_finite_seeds_count_and_one_seed_has_no_interval():
    diff = paired_difference({0: 1.0, 1: 5.0, 7: None}, {0: 0.25, 2: 9.0, 7: 1.0})
    assert (diff.n, diff.mean, diff.half_width, diff.low) == (1, 0.75, None, None)
    assert diff.excludes_zero is False
    assert paired_difference({0: 1.0}, {1: 1.0}) is None


def test_a_consistent_difference_excludes_zero():
    diff = paired_difference({0: 1.1, 1: 1.2, 2: 1.3}, {0: 1.0, 1: 1.1, 2: 1.2})  # all +0.1: s_d = 0
    assert diff.mean == pytest.approx(0.1) and diff.half_width == pytest.approx(0.0, abs=1e-12)
    assert diff.excludes_zero


finite = st.floats(-100, 100, allow_nan=False)


@given(st.lists(st.tuples(finite, finite), min_size=2, max_size=8))
def test_swapping_the_sides_negates_the_difference_and_keeps_the_width(pairs):
    a = {i: x for i, (x, _) in enumerate(pairs)}
    b = {i: y for i, (_, y) in enumerate(pairs)}
    forward, backward = paired_difference(a, b), paired_difference(b, a)
    assert forward.mean == pytest.approx(-backward.mean, abs=1e-9)
    assert forward.half_width == pytest.approx(backward.half_width, abs=1e-9)
    assert forward.low <= forward.mean <= forward.high
