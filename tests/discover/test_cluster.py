"""k-means and the silhouette sweep on points whose clusters are obvious."""

import numpy as np
import pytest

from skillit.discover.cluster import kmeans, silhouette_sweep, standardised
from skillit.discover.metrics import adjusted_rand
from skillit.errors import DataError


def blobs(k=3, per=10, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]])[:k]
    points = np.concatenate([c + rng.normal(0, 0.3, size=(per, 2)) for c in centres])
    return points, np.repeat(np.arange(k), per)


def test_kmeans_finds_separated_blobs():
    points, truth = blobs()
    assert adjusted_rand(kmeans(points, 3).tolist(), truth.tolist()) == 1.0


def test_sweep_picks_the_true_k():
    points, truth = blobs(k=4)
    sweep = silhouette_sweep(points, [2, 3, 4, 5, 6])
    assert sweep.best_k == 4
    assert adjusted_rand(sweep.best_labels.tolist(), truth.tolist()) == 1.0
    assert sweep.silhouettes[4] > 0.9


def test_standardised_columns_by_hand():
    x = np.array([[1.0, 5.0], [3.0, 5.0]])
    assert standardised(x).tolist() == [[-1.0, 0.0], [1.0, 0.0]]  # mean 2, std 1; the constant column → 0


@pytest.mark.parametrize("k, message", [(1, "at least 2"), (9, "cannot make 9 clusters of 4")])
def test_bad_k(k, message):
    with pytest.raises(DataError, match=message):
        kmeans(np.zeros((4, 2)), k)
