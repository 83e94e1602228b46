"""Diagnostics for skills graphs: density, and how two graphs agree.

*Edges* are the off-diagonal entries above a threshold: ``A[i, j] > threshold`` with i ≠ j by name. The
diagonal (a skill helping itself) is left out everywhere here: every method puts something there, so it
says nothing about structure, and counting it would inflate precision and recall.

**Density** (paper §3.2, App. A): Skill-It needs a graph that is "neither complete nor empty". With no
edges, A is diagonal and Skill-It weighs each skill by its own loss only (the A = I ablation); with every
edge, every row sums alike and the mixture tends to uniform (stratified). :func:`density` warns near
either end.

**Comparison**: precision = |learned ∩ reference| / |learned|, recall = |learned ∩ reference| / |reference|
over the off-diagonal pairs both graphs name, plus the Pearson and Spearman correlations of the weights
over the same pairs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata

from skillit.errors import GraphError
from skillit.graph.skills_graph import SkillsGraph

NEARLY_EMPTY = 0.1
NEARLY_COMPLETE = 0.9


def off_diagonal_pairs(graph: SkillsGraph) -> list[tuple[str, str]]:
    """Every (training skill, evaluation skill) pair with different names, in matrix order."""
    return [(i, j) for i in graph.train_skills for j in graph.eval_skills if i != j]


def edges(graph: SkillsGraph, threshold: float = 0.0) -> set[tuple[str, str]]:
    """Off-diagonal pairs (i, j) with A[i, j] > ``threshold``."""
    return {(i, j) for i, j in off_diagonal_pairs(graph) if graph.weight(i, j) > threshold}


@dataclass(frozen=True)
class Density:
    edges: int
    possible: int
    density: float
    threshold: float
    warning: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def density(graph: SkillsGraph, threshold: float = 0.0) -> Density:
    """Fraction of possible off-diagonal edges present, with a warning near empty (< 0.1) or complete (> 0.9)."""
    possible = len(off_diagonal_pairs(graph))
    present = len(edges(graph, threshold))
    value = present / possible if possible else 0.0
    warning = None
    if possible and value < NEARLY_EMPTY:
        warning = (
            f"the graph is nearly empty ({present} of {possible} off-diagonal edges above {threshold}): Skill-It "
            "then weighs each skill by its own loss only, like the A = I ablation; the graph adds nothing "
            "(paper §3.2: a useful graph is neither complete nor empty)"
        )
    elif possible and value > NEARLY_COMPLETE:
        warning = (
            f"the graph is nearly complete ({present} of {possible} off-diagonal edges above {threshold}): every "
            "skill helps every other, so Skill-It's mixture tends to the stratified one; learn it relative to a "
            "stratified control probe, which keeps a skill's strongest helpers only: graph_learning: {params: {control: true}} "
            "for the default learner, probe (tracin has it on by default) (paper §3.2: a useful graph is neither "
            "complete nor empty)"
        )
    return Density(present, possible, value, threshold, warning)


@dataclass(frozen=True)
class GraphComparison:
    precision: float | None  # None when the learned graph has no edge
    recall: float | None  # None when the reference has no edge
    f1: float | None
    true_positive: list[tuple[str, str]]
    false_positive: list[tuple[str, str]]
    false_negative: list[tuple[str, str]]
    pearson: float | None  # None when either side's weights are constant
    spearman: float | None
    pairs: int
    threshold: float
    reference_threshold: float

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("true_positive", "false_positive", "false_negative"):
            data[key] = [list(pair) for pair in data[key]]
        return data


def compare_graphs(
    learned: SkillsGraph,
    reference: SkillsGraph,
    *,
    threshold: float = 0.0,
    reference_threshold: float = 0.0,
) -> GraphComparison:
    """Precision/recall of ``learned``'s off-diagonal edges against ``reference``'s, and weight correlations.

    Only pairs whose names are rows and columns of both graphs count; order does not matter.
    """
    rows = [name for name in learned.train_skills if name in reference.train_skills]
    cols = [name for name in learned.eval_skills if name in reference.eval_skills]
    pairs = [(i, j) for i in rows for j in cols if i != j]
    if not pairs:
        raise GraphError(
            "the two graphs share no off-diagonal (training skill, evaluation skill) pair to compare; "
            f"learned: rows {list(learned.train_skills)}, columns {list(learned.eval_skills)}; "
            f"reference: rows {list(reference.train_skills)}, columns {list(reference.eval_skills)}"
        )
    ours = np.array([learned.weight(i, j) for i, j in pairs])
    theirs = np.array([reference.weight(i, j) for i, j in pairs])
    predicted = ours > threshold
    actual = theirs > reference_threshold
    tp = [p for p, a, b in zip(pairs, predicted, actual) if a and b]
    fp = [p for p, a, b in zip(pairs, predicted, actual) if a and not b]
    fn = [p for p, a, b in zip(pairs, predicted, actual) if b and not a]
    precision = len(tp) / predicted.sum() if predicted.any() else None
    recall = len(tp) / actual.sum() if actual.any() else None
    f1 = (2 * precision * recall / (precision + recall) if precision and recall else
          (0.0 if precision is not None and recall is not None else None))
    return GraphComparison(
        precision=None if precision is None else float(precision),
        recall=None if recall is None else float(recall),
        f1=None if f1 is None else float(f1),
        true_positive=tp,
        false_positive=fp,
        false_negative=fn,
        pearson=_correlation(ours, theirs),
        spearman=_correlation(_ranks(ours), _ranks(theirs)),
        pairs=len(pairs),
        threshold=threshold,
        reference_threshold=reference_threshold,
    )


def _ranks(values: np.ndarray) -> np.ndarray:
    return rankdata(values)


def _correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


__all__ = ["Density", "GraphComparison", "compare_graphs", "density", "edges", "off_diagonal_pairs"]
