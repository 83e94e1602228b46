"""Loss trajectories: shapes, cost and the held-out pairing, on tiny runs."""

import numpy as np
import pytest

from skillit.discover import TrajectoryConfig, discover, loss_trajectories
from skillit.discover.discovery import mixing_groups, trajectory_features
from skillit.errors import DataError
from skillit.skills import Example

EXAMPLES = [Example("a" * (i + 1) + "=", "x", "A") for i in range(6)] + [Example("b" * (i + 1) + "=", "yy", "B") for i in range(6)]
TINY = TrajectoryConfig(runs=2, steps=4, checkpoint_every=2, batch_size=4, n_layer=1, n_head=2, n_embd=16)


def test_held_out_pairs_fill_every_example_once_per_checkpoint():
    result = loss_trajectories(EXAMPLES, TINY)
    assert result.features.shape == (12, 2 * 2)  # R = 2 runs × C = 2 checkpoints
    assert np.all(result.features > 0)  # every example scored (by the run that did not train on it)
    assert result.train_steps == 2 * 2 * 4  # R pairs × 2 trainings × 4 steps
    assert result.eval_examples == 2 * 2 * 6 * 2  # R × 2 trainings × 6 scored × C
    assert result.steps == [2, 4] and len(result.mixtures) == 2


def test_pool_runs_score_every_example():
    from skillit.skills import SkillSet

    pool = SkillSet.from_examples(EXAMPLES, EXAMPLES)
    result = loss_trajectories(EXAMPLES, TINY, pool=pool)
    assert result.train_steps == 2 * 4 and result.eval_examples == 2 * 2 * 12
    assert len(result.mixtures[0]) == 2 and sum(result.mixtures[0]) == pytest.approx(1.0)


def test_same_seed_same_features():
    a = loss_trajectories(EXAMPLES, TINY).features
    b = loss_trajectories(EXAMPLES, TINY).features
    assert np.array_equal(a, b)


def test_discover_scores_every_feature_set():
    result = discover(EXAMPLES, 2, config=TINY, mix="skills", truth=[e.skill for e in EXAMPLES])
    assert set(result.labels) == {"trajectory", "tfidf", "hidden-last", "hidden-mean"}
    assert result.scores["tfidf"]["accuracy"] == 1.0  # "aa…=" and "bb…=" prompts share only "="
    assert result.cost == {"train_steps": 16, "eval_examples": 48}
    report = result.cluster_report(EXAMPLES, "tfidf")
    assert sorted(r["size"] for r in report) == [6, 6] and len(report[0]["examples"]) == 3


def test_trajectory_features_are_log_losses():
    assert trajectory_features(np.array([[0.0, np.e - 1e-3]])) == pytest.approx(np.array([[np.log(1e-3), 1.0]]))


def test_mixing_groups_and_errors():
    assert mixing_groups(EXAMPLES, 2, "skills", 0).tolist() == [0] * 6 + [1] * 6
    assert mixing_groups(EXAMPLES, 2, "uniform", 0).tolist() == [0] * 12
    with pytest.raises(DataError, match="skill label"):
        mixing_groups([Example("a", "b", "")] * 3, 2, "skills", 0)
    with pytest.raises(DataError, match="--k must be between 2"):
        discover(EXAMPLES, 20, config=TINY)
    with pytest.raises(DataError, match="checkpoint_every"):
        TrajectoryConfig(steps=10, checkpoint_every=20)
