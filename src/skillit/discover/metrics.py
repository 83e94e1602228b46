"""How well a clustering recovers known skills: the adjusted Rand index and the paper's accuracy.

Accuracy (Skill-It §2.3, Table 3) is the share of examples whose cluster maps to their true skill under
the best one-to-one matching of clusters to skills,

    acc = max_σ (1/n) · Σ_c C[c, σ(c)],     C[c, s] = #{examples in cluster c with skill s},

found with the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``). With more clusters than
skills, unmatched clusters count as wrong; chance level is about 1/k for k balanced skills. The adjusted
Rand index (Hubert & Arabie 1985) is 0 in expectation for a random clustering and 1 for a perfect one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from skillit.errors import DataError


def contingency(clusters: Sequence[Any], skills: Sequence[Any]) -> tuple[np.ndarray, list[Any], list[Any]]:
    """C[c, s] = examples in cluster c with skill s, shape (n_clusters, n_skills), and the two label lists."""
    if len(clusters) != len(skills):
        raise DataError(f"{len(clusters)} cluster labels for {len(skills)} skill labels")
    cluster_ids = sorted(set(clusters), key=str)
    skill_ids = sorted(set(skills), key=str)
    row = {c: i for i, c in enumerate(cluster_ids)}
    col = {s: j for j, s in enumerate(skill_ids)}
    table = np.zeros((len(cluster_ids), len(skill_ids)), dtype=np.int64)
    for c, s in zip(clusters, skills):
        table[row[c], col[s]] += 1
    return table, cluster_ids, skill_ids


def cluster_accuracy(clusters: Sequence[Any], skills: Sequence[Any]) -> float:
    """The paper's accuracy: share of examples on the best one-to-one cluster→skill matching."""
    table, _, _ = contingency(clusters, skills)
    if table.sum() == 0:
        return 0.0
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / table.sum())


def cluster_to_skill(clusters: Sequence[Any], skills: Sequence[Any]) -> dict[Any, Any]:
    """The matching behind :func:`cluster_accuracy`: cluster → the skill it is matched to (unmatched: absent)."""
    table, cluster_ids, skill_ids = contingency(clusters, skills)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return {cluster_ids[r]: skill_ids[c] for r, c in zip(rows, cols)}


def adjusted_rand(clusters: Sequence[Any], skills: Sequence[Any]) -> float:
    """Adjusted Rand index of two labelings (scikit-learn's ``adjusted_rand_score``)."""
    from sklearn.metrics import adjusted_rand_score

    if len(clusters) != len(skills):
        raise DataError(f"{len(clusters)} cluster labels for {len(skills)} skill labels")
    return float(adjusted_rand_score([str(s) for s in skills], [str(c) for c in clusters]))


def recovery(clusters: Sequence[Any], skills: Sequence[Any]) -> dict[str, float]:
    """``{"ari": ..., "accuracy": ...}`` of a clustering against the known skills."""
    return {"ari": adjusted_rand(clusters, skills), "accuracy": cluster_accuracy(clusters, skills)}
