"""Regrouping: cluster a data set's examples into k skills and write a skill column (R&B, Ge et al. 2025).

R&B's finding is that how data is grouped matters as much as how the groups are mixed. ``regroup``
embeds every example's text with TF-IDF (words or character 1–3-grams), optionally reduced to ``svd``
dimensions (latent semantic analysis, scikit-learn's ``TruncatedSVD``, rows re-normalised), and clusters
it with k-means. Without a fixed k, a silhouette sweep over ``ks`` picks the k with the highest mean
silhouette (:func:`skillit.discover.cluster.silhouette_sweep`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from skillit.discover.cluster import Sweep, silhouette_sweep
from skillit.discover.features import tfidf_features
from skillit.errors import DataError


@dataclass
class Regrouping:
    labels: np.ndarray  # (n,) cluster per example, 0..k-1
    k: int
    sweep: Sweep
    settings: dict[str, Any]

    def names(self, prefix: str = "group") -> list[str]:
        return [f"{prefix}{int(c)}" for c in self.labels]

    def to_dict(self) -> dict[str, Any]:
        sizes = np.bincount(self.labels, minlength=self.k).tolist()
        return {"k": self.k, "silhouette": {str(k): v for k, v in self.sweep.silhouettes.items()},
                "sizes": sizes, "settings": self.settings}


def embed(texts: Sequence[str], *, analyzer: Literal["char", "word"] = "word", svd: int | None = None, seed: int = 0):
    """TF-IDF rows (sparse), or their ``svd``-dimensional LSA embedding, L2-normalised (dense)."""
    features = tfidf_features(texts, analyzer=analyzer)
    if svd is None:
        return features
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    if not 1 <= svd < features.shape[1]:
        raise DataError(f"--svd must be between 1 and the vocabulary size - 1 ({features.shape[1] - 1}), got {svd}")
    return normalize(TruncatedSVD(n_components=svd, random_state=seed).fit_transform(features))


def regroup(texts: Sequence[str], *, k: int | None = None, ks: Sequence[int] = range(2, 11),
            analyzer: Literal["char", "word"] = "word", svd: int | None = None, seed: int = 0) -> Regrouping:
    """k-means clusters of the texts: at ``k``, or at the silhouette-best k of ``ks``."""
    if len(texts) < 2:
        raise DataError(f"regrouping needs at least 2 examples, got {len(texts)}")
    candidates = [k] if k is not None else [c for c in ks if c <= len(texts)]
    if not candidates:
        raise DataError(f"no candidate k fits {len(texts)} examples")
    features = embed(texts, analyzer=analyzer, svd=svd, seed=seed)
    sweep = silhouette_sweep(features, candidates, seed=seed)
    return Regrouping(sweep.best_labels, sweep.best_k, sweep,
                      {"analyzer": analyzer, "svd": svd, "seed": seed, "candidates": list(candidates)})
