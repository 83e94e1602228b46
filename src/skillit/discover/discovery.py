"""Skill discovery: cluster examples by their loss trajectories, beside embedding baselines (paper §2.3).

    result = discover(examples, k=5)                  # label-free: mixtures over TF-IDF pre-groups
    result.labels["trajectory"]                        # (n,) cluster per example
    result.scores                                      # ARI / accuracy per feature set, when skills are known

Feature sets (each clustered with k-means, 10 restarts, columns standardised):
  * ``trajectory``: per-example answer losses over R short runs × C checkpoints (:mod:`.trajectories`);
  * ``tfidf``: TF-IDF of the prompt (character 1–3-grams, or words);
  * ``hidden-last`` / ``hidden-mean``: the last run's trained model's final hidden state of the prompt.

Mixing groups for the runs' random mixtures (``mix``): ``tfidf`` (k TF-IDF clusters; needs no labels),
``uniform`` (one group: runs differ only in seed), or ``skills`` (the known skills: the paper's protocol,
which uses the labels to build the mixtures but never in the clustering).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from skillit.discover.cluster import kmeans
from skillit.discover.features import hidden_state_features, tfidf_features
from skillit.discover.metrics import recovery
from skillit.discover.trajectories import TrajectoryConfig, config_dict, loss_trajectories
from skillit.errors import DataError
from skillit.skills.example import Example
from skillit.skills.skillset import SkillSet

FEATURE_SETS = ("trajectory", "tfidf", "hidden-last", "hidden-mean")
MixGroups = Literal["tfidf", "uniform", "skills"]


@dataclass
class Discovery:
    """Cluster labels per feature set, their recovery scores (if the skills are known) and the cost."""

    k: int
    labels: dict[str, np.ndarray]
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    cost: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def cluster_report(self, examples: Sequence[Example], feature_set: str = "trajectory", members: int = 3
                       ) -> list[dict[str, Any]]:
        """Per cluster: its size and the first ``members`` example texts, largest cluster first."""
        labels = self.labels[feature_set]
        report = []
        for c in sorted(set(labels.tolist()), key=lambda c: (-int((labels == c).sum()), c)):
            index = np.flatnonzero(labels == c)
            report.append({"cluster": int(c), "size": int(index.size),
                           "examples": [examples[i].text for i in index[:members]]})
        return report

    def to_dict(self, examples: Sequence[Example] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"k": self.k, "scores": self.scores, "cost": self.cost, "settings": self.settings}
        if examples is not None:
            out["clusters"] = {name: self.cluster_report(examples, name) for name in self.labels}
        return out


def trajectory_features(losses: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """log(loss + floor): late checkpoints, where losses differ by orders of magnitude near 0, count as much
    as early ones (on LEGO this raised the accuracy from 37 % to 43 %, docs/discover.md)."""
    return np.log(np.asarray(losses, dtype=float) + floor)


def skill_labels(examples: Sequence[Example]) -> list[str] | None:
    """The examples' known skills, or ``None`` when any is missing (an unlabelled data set)."""
    skills = [e.skill for e in examples]
    return None if any(not s for s in skills) else skills


def mixing_groups(examples: Sequence[Example], k: int, mix: MixGroups, seed: int, analyzer: str = "char") -> np.ndarray:
    """The group of each example that the runs' random mixtures are drawn over."""
    if mix == "uniform":
        return np.zeros(len(examples), dtype=np.int64)
    if mix == "skills":
        skills = skill_labels(examples)
        if skills is None:
            raise DataError("mix 'skills' needs every example to have a skill label; use mix 'tfidf' or 'uniform'")
        names = {name: i for i, name in enumerate(dict.fromkeys(skills))}
        return np.asarray([names[s] for s in skills], dtype=np.int64)
    if mix == "tfidf":
        return kmeans(tfidf_features([e.prompt or e.answer for e in examples], analyzer=analyzer), k, seed=seed)
    raise DataError(f"mix must be tfidf, uniform or skills, got {mix!r}")


def discover(
    examples: Sequence[Example],
    k: int,
    *,
    config: TrajectoryConfig = TrajectoryConfig(),
    mix: MixGroups = "tfidf",
    feature_sets: Sequence[str] = FEATURE_SETS,
    analyzer: Literal["char", "word"] = "char",
    truth: Sequence[str] | None = None,
    pool: SkillSet | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Discovery:
    """Cluster ``examples`` into ``k`` skills with each feature set; score against ``truth`` if given.

    ``pool``: a SkillSet the runs train on instead of the examples (its training skills are the mixing
    groups and ``mix`` is not used); see :func:`~skillit.discover.trajectories.loss_trajectories`.
    """
    unknown = [f for f in feature_sets if f not in FEATURE_SETS]
    if unknown:
        raise DataError(f"unknown feature set(s) {unknown}; choose from {', '.join(FEATURE_SETS)}")
    if not 2 <= k <= len(examples):
        raise DataError(f"--k must be between 2 and the number of examples ({len(examples)}), got {k}")
    labels: dict[str, np.ndarray] = {}
    cost: dict[str, Any] = {"train_steps": 0, "eval_examples": 0}
    needs_runs = any(f == "trajectory" or f.startswith("hidden") for f in feature_sets)
    trajectories = None
    if needs_runs:
        groups = None if pool is not None else mixing_groups(examples, k, mix, config.seed, analyzer)
        trajectories = loss_trajectories(examples, config, groups, pool=pool, progress=progress)
        cost = trajectories.cost()
    for name in feature_sets:
        if name == "trajectory":
            labels[name] = kmeans(trajectory_features(trajectories.features), k, seed=config.seed, standardise=True)  # type: ignore[union-attr]
        elif name == "tfidf":
            labels[name] = kmeans(tfidf_features([e.prompt or e.answer for e in examples], analyzer=analyzer), k,
                                  seed=config.seed)
        else:
            pool = "last" if name == "hidden-last" else "mean"
            hidden = hidden_state_features(trajectories.model, trajectories.tokenizer, examples, pool=pool)  # type: ignore[union-attr]
            labels[name] = kmeans(hidden, k, seed=config.seed, standardise=True)
    scores = {name: recovery(lab.tolist(), list(truth)) for name, lab in labels.items()} if truth is not None else {}
    settings = {"mix": "pool" if pool is not None else mix, "analyzer": analyzer, "trajectory": config_dict(config),
                "feature_sets": list(feature_sets)}
    if trajectories is not None:
        settings["run_mixtures"] = trajectories.mixtures
    return Discovery(k=k, labels=labels, scores=scores, cost=cost, settings=settings)
