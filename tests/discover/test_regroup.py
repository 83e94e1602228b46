"""Regrouping separates two obvious topics and picks k = 2 by silhouette."""

import pytest

from skillit.discover.metrics import adjusted_rand
from skillit.discover.regroup import regroup
from skillit.errors import DataError

TEXTS = [f"apple banana fruit {i}" for i in range(6)] + [f"python code compile {i}" for i in range(6)]
TRUTH = [0] * 6 + [1] * 6


def test_sweep_finds_two_topics():
    result = regroup(TEXTS, ks=range(2, 6))
    assert result.k == 2
    assert adjusted_rand(result.labels.tolist(), TRUTH) == 1.0
    assert result.names()[0].startswith("group") and result.to_dict()["sizes"] == [6, 6]


def test_fixed_k_and_svd():
    result = regroup(TEXTS, k=2, svd=2)
    assert adjusted_rand(result.labels.tolist(), TRUTH) == 1.0
    assert list(result.sweep.silhouettes) == [2]


def test_bad_input():
    with pytest.raises(DataError, match="at least 2"):
        regroup(["one"])
    with pytest.raises(DataError, match="--svd"):
        regroup(TEXTS, k=2, svd=1000)
