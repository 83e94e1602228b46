"""The missing-skill profile on a hand-computed case."""

import pytest

from skillit.discover.profile import Outcome, missing_skill_profile, prerequisites_from_graph
from skillit.errors import DataError
from skillit.graph import SkillsGraph

# A: 1 of 2 fail (f = 0.5); B: none fail (f = 0); AB needs A and B: both fail (f = 1)
OUTCOMES = [Outcome("A", True, 0.1), Outcome("A", False, 2.0), Outcome("B", True, 0.2), Outcome("B", True, 0.0),
            Outcome("AB", False, 1.0), Outcome("AB", False, 3.0)]
NEEDS = {"AB": ["A", "B"]}


def test_blame_is_shared_by_own_failure_rate():
    profile = missing_skill_profile(OUTCOMES, NEEDS)
    assert profile.failure_rate == {"A": 0.5, "B": 0.0, "AB": 1.0}
    # an AB failure: rates (AB, A, B) = (1, .5, 0) → blame 2/3 to AB, 1/3 to A, 0 to B
    assert profile.count == pytest.approx({"A": 1 + 2 / 3, "B": 0.0, "AB": 4 / 3})
    assert profile.need == pytest.approx({"A": 4 / 6, "B": 4 / 6, "AB": 2 / 6})
    assert profile.share == pytest.approx({"A": 5 / 9, "B": 0.0, "AB": 4 / 9})
    assert profile.ranking() == ["A", "AB", "B"]


def test_mixture_prior_and_target_set():
    profile = missing_skill_profile(OUTCOMES, NEEDS)
    assert profile.mixture() == pytest.approx({"A": 5 / 9, "B": 0.0, "AB": 4 / 9})
    # floor 0.1: (1 − 3·0.1)·p + 0.1
    assert profile.mixture(floor=0.1) == pytest.approx({"A": 0.7 * 5 / 9 + 0.1, "B": 0.1, "AB": 0.7 * 4 / 9 + 0.1})
    assert profile.mixture(["A", "B"]) == pytest.approx({"A": 1.0, "B": 0.0})
    assert profile.targets(0.5) == ["A"] and profile.targets(0.8) == ["A", "AB"]


def test_loss_signal_weights_failures_by_loss():
    profile = missing_skill_profile(OUTCOMES, NEEDS, signal="loss")
    # own rates: A 1.05, B 0.1, AB 2.0; AB's 4 nats shared as (2, 1.05, 0.1)/3.15
    assert profile.failure_rate == pytest.approx({"A": 1.05, "B": 0.1, "AB": 2.0})
    assert profile.count["B"] == pytest.approx(0.2 + 4 * 0.1 / 3.15)
    assert profile.count["A"] == pytest.approx(2.1 + 4 * 1.05 / 3.15)


def test_no_failures_gives_uniform_mixture_and_no_targets():
    profile = missing_skill_profile([Outcome("A", True), Outcome("B", True)])
    assert profile.mixture() == {"A": 0.5, "B": 0.5} and profile.targets() == []


def test_errors():
    with pytest.raises(DataError, match="at least one"):
        missing_skill_profile([])
    with pytest.raises(DataError, match="finite loss"):
        missing_skill_profile([Outcome("A", False, None)], signal="loss")
    with pytest.raises(DataError, match="floor"):
        missing_skill_profile(OUTCOMES).mixture(floor=0.5)


def test_prerequisites_from_a_graph():
    graph = SkillsGraph([[1, 0, 1], [0, 1, 1], [0, 0, 1]], ["f", "g", "f.g"])
    assert prerequisites_from_graph(graph) == {"f": [], "g": [], "f.g": ["f", "g"]}
