"""ARI and the paper's matching accuracy on hand-checked labelings."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillit.discover.metrics import adjusted_rand, cluster_accuracy, cluster_to_skill, contingency, recovery
from skillit.errors import DataError


def test_accuracy_uses_the_best_one_to_one_matching():
    clusters = [0, 0, 1, 1, 2, 2]
    skills = ["a", "a", "a", "b", "b", "c"]
    table, rows, cols = contingency(clusters, skills)
    assert table.tolist() == [[2, 0, 0], [1, 1, 0], [0, 1, 1]] and cols == ["a", "b", "c"]
    # c0→a (2) + c1→b (1) + c2→c (1) = 4 of 6; c1→a would leave c0 with nothing
    assert cluster_accuracy(clusters, skills) == pytest.approx(4 / 6)
    assert cluster_to_skill(clusters, skills) == {0: "a", 1: "b", 2: "c"}


def test_more_clusters_than_skills_leaves_a_cluster_unmatched():
    assert cluster_accuracy([0, 1, 2, 3], ["a", "a", "b", "b"]) == pytest.approx(2 / 4)


def test_adjusted_rand_by_hand():
    # pairs together in both: 1; row pairs 2, column pairs 1, all pairs 6 → (1 − 1/3) / (1.5 − 1/3) = 4/7
    assert adjusted_rand([0, 0, 1, 2], [0, 0, 1, 1]) == pytest.approx(4 / 7)
    assert recovery([5, 5, 7, 7], ["x", "x", "y", "y"]) == {"ari": 1.0, "accuracy": 1.0}


def test_length_mismatch_is_an_error():
    with pytest.raises(DataError, match="3 cluster labels for 2"):
        cluster_accuracy([0, 1, 1], ["a", "b"])


@settings(deadline=None, max_examples=30)  # no deadline: the first call imports scikit-learn
@given(st.lists(st.integers(0, 3), min_size=2, max_size=30), st.permutations(range(4)))
def test_renaming_clusters_changes_nothing(labels, perm):
    renamed = [perm[c] for c in labels]
    assert cluster_accuracy(renamed, labels) == 1.0
    assert adjusted_rand(renamed, labels) == pytest.approx(1.0) or len(set(labels)) == 1
