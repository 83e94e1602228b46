"""Paired differences over seeds and their Student-t interval, against hand-computed values."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillit.report.stats import clear_best, difference_to_baseline, paired_difference, verdict


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


def _summary(losses):
    """summary.json's shape, as far as the differences read it: per-seed mean_loss and the final mean."""
    return {"methods": {m: {"final": {"mean_loss": sum(v) / len(v)},
                            "per_seed": [{"seed": s, "mean_loss": x} for s, x in enumerate(v)]}
                        for m, v in losses.items()}}


def test_verdicts_against_the_baseline_by_hand():
    summary = _summary({"stratified": [1.0, 1.2, 1.1], "m1": [0.8, 1.1, 0.9], "m2": [1.1, 1.1, 1.2],
                        "m3": [1.2, 1.4, 1.3]})
    m1 = difference_to_baseline(summary, "m1")  # d = -0.2, -0.1, -0.2
    assert (m1.mean, m1.low, m1.high) == pytest.approx((-1 / 6, -0.310089, -0.023245), abs=1e-6)
    assert verdict(m1) == "better" and verdict(m1, lower_is_better=False) == "worse"
    assert verdict(difference_to_baseline(summary, "m2")) == "tie"  # d = +0.1, -0.1, +0.1: [-0.254, +0.320]
    assert verdict(difference_to_baseline(summary, "m3")) == "worse"  # d = +0.2 on every seed: [0.2, 0.2]
    assert difference_to_baseline(summary, "stratified") is None
    assert difference_to_baseline(summary, "m1", baseline="none") is None
    one = _summary({"stratified": [1.0], "m1": [0.8]})
    assert verdict(difference_to_baseline(one, "m1")) == "1 seed: no interval" and verdict(None) == "n/a"


def test_the_best_is_marked_only_beyond_the_noise_against_every_method():
    # m1 is lowest; against m2 (d = -0.3, 0, -0.3) the interval contains 0: no mark
    assert clear_best(_summary({"stratified": [1.0, 1.2, 1.1], "m1": [0.8, 1.1, 0.9], "m2": [1.1, 1.1, 1.2]})) is None
    assert clear_best(_summary({"stratified": [1.0, 1.2, 1.1], "m1": [0.8, 1.1, 0.9]})) == "m1"
    assert clear_best(_summary({"stratified": [1.0], "m1": [0.8]})) is None  # one seed: no interval, no mark
    assert clear_best(_summary({"m1": [0.8, 1.1, 0.9]})) is None  # one method
    diverged = _summary({"stratified": [1.0, 1.2, 1.1], "m1": [0.8, 1.1, 0.9], "m9": [float("nan")] * 3})
    diverged["methods"]["m9"]["final"]["mean_loss"] = None
    assert clear_best(diverged) == "m1"  # a diverged method is behind any finite one
