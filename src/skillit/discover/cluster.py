"""k-means on example features (scikit-learn), and the silhouette sweep that picks k when it is not given.

Features are an (n_examples, n_features) matrix, dense or sparse. ``standardise`` scales every column to
zero mean and unit variance first (dense only), so that no checkpoint or run dominates the distances.
The sweep fits k-means for each k in a range and keeps the k with the highest mean silhouette

    s(i) = (b(i) − a(i)) / max(a(i), b(i)),

a(i) the mean distance of i to its own cluster, b(i) to the nearest other cluster (Rousseeuw 1987).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from skillit.errors import DataError


def _check_k(k: int, n: int) -> None:
    if k < 2:
        raise DataError(f"--k must be at least 2, got {k}")
    if k > n:
        raise DataError(f"cannot make {k} clusters of {n} example(s); lower --k")


def standardised(features: np.ndarray) -> np.ndarray:
    """Columns scaled to mean 0, std 1; constant columns become 0."""
    features = np.asarray(features, dtype=float)
    std = features.std(axis=0)
    return (features - features.mean(axis=0)) / np.where(std > 0, std, 1.0)


def kmeans(features, k: int, *, seed: int = 0, n_init: int = 10, standardise: bool = False) -> np.ndarray:
    """Cluster labels (n,) from k-means with ``n_init`` restarts (the paper: k-means, 10 runs)."""
    from sklearn.cluster import KMeans

    n = features.shape[0]
    _check_k(k, n)
    if standardise:
        features = standardised(features)
    model = KMeans(n_clusters=k, n_init=n_init, random_state=seed)
    return model.fit_predict(features).astype(np.int64)


@dataclass(frozen=True)
class Sweep:
    """Silhouette per candidate k and the chosen k (the highest silhouette; ties: the smaller k)."""

    silhouettes: dict[int, float]
    labels: dict[int, np.ndarray]

    @property
    def best_k(self) -> int:
        return max(sorted(self.silhouettes), key=lambda k: (self.silhouettes[k], -k))

    @property
    def best_labels(self) -> np.ndarray:
        return self.labels[self.best_k]


def silhouette_sweep(features, ks: Sequence[int], *, seed: int = 0, n_init: int = 10,
                     standardise: bool = False, sample_size: int | None = 2000) -> Sweep:
    """k-means at every k in ``ks``, scored by the mean silhouette (on ≤ ``sample_size`` examples)."""
    from sklearn.metrics import silhouette_score

    ks = sorted(set(int(k) for k in ks))
    if not ks:
        raise DataError("the silhouette sweep needs at least one candidate k")
    n = features.shape[0]
    for k in ks:
        _check_k(k, n)
    if standardise:
        features = standardised(features)
    scores: dict[int, float] = {}
    labels: dict[int, np.ndarray] = {}
    for k in ks:
        labels[k] = kmeans(features, k, seed=seed, n_init=n_init)
        if len(set(labels[k].tolist())) < 2:
            scores[k] = -1.0
            continue
        size = None if sample_size is None or sample_size >= n else sample_size
        scores[k] = float(silhouette_score(features, labels[k], sample_size=size, random_state=seed))
    return Sweep(scores, labels)
