"""objective_weights: the summary's objective as a weighted mean over the objective skills, by hand."""

import numpy as np
import pytest

from skillit.errors import ConfigError
from skillit.experiment.config import parse_config
from skillit.experiment.runner import validate_experiment
from skillit.records.summary import objective_weight_vector, steps_to_target, summarize
from tests.records.test_records import record, run
from tests.tasks.test_data_task import NI, ni_config


def test_weight_vector_is_normalised_and_unnamed_skills_weigh_zero():
    assert objective_weight_vector(["a", "b", "c"], None) is None
    np.testing.assert_allclose(objective_weight_vector(["a", "b", "c"], {"a": 2.0, "b": 2.0}), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(objective_weight_vector(["a", "b"], {"a": 0.5, "b": 0.25}), [2 / 3, 1 / 3])


def test_weight_vector_refuses_other_skills_and_bad_numbers():
    with pytest.raises(ConfigError, match=r"objective_weights: 'z' is not an objective skill; the objective skills "
                                          r"are \['a', 'b'\]"):
        objective_weight_vector(["a", "b"], {"z": 1.0})
    with pytest.raises(ConfigError, match="finite, non-negative and not all 0"):
        objective_weight_vector(["a", "b"], {"a": -1.0, "b": 2.0})
    with pytest.raises(ConfigError, match="finite, non-negative and not all 0"):
        objective_weight_vector(["a", "b"], {"a": 0.0})


def test_summary_objective_is_the_weighted_mean():
    seed0 = run("m", 0, [record(0, {"a": 1.0, "b": 1.0}, {"a": 0.0, "b": 0.0}),
                         record(10, {"a": 0.2, "b": 0.4}, {"a": 1.0, "b": 0.5})])
    seed1 = run("m", 1, [record(0, {"a": 1.0, "b": 1.0}, {"a": 0.0, "b": 0.0}),
                         record(10, {"a": 0.4, "b": 0.6}, {"a": 0.5, "b": 0.0})])
    summary = summarize([seed0, seed1], task="t", setting="pretrain", steps=10, objective_skills=["a", "b"],
                        target_loss=0.4, objective_weights={"a": 3.0, "b": 1.0})
    assert summary["objective_weights"] == {"a": 0.75, "b": 0.25}
    seeds = summary["methods"]["m"]["per_seed"]
    assert seeds[0]["mean_loss"] == pytest.approx(0.75 * 0.2 + 0.25 * 0.4)  # 0.25 (the plain mean: 0.3)
    assert seeds[1]["mean_loss"] == pytest.approx(0.75 * 0.4 + 0.25 * 0.6)  # 0.45
    assert seeds[0]["mean_accuracy"] == pytest.approx(0.75 * 1.0 + 0.25 * 0.5)  # 0.875
    final = summary["methods"]["m"]["final"]
    assert final["mean_loss"] == pytest.approx(0.35) and final["mean_loss_std"] == pytest.approx(0.1)
    assert seeds[0]["steps_to_target"] == 10 and seeds[1]["steps_to_target"] is None  # 0.45 > 0.4
    plain = summarize([seed0], task="t", setting="pretrain", steps=10, objective_skills=["a", "b"], target_loss=None)
    assert "objective_weights" not in plain and plain["methods"]["m"]["final"]["mean_loss"] == pytest.approx(0.3)


def test_steps_to_target_with_weights():
    records = [record(0, {"a": 1.0, "b": 0.0}, {}), record(5, {"a": 0.2, "b": 1.0}, {})]
    weights = np.array([0.9, 0.1])
    assert steps_to_target(records, ["a", "b"], 0.5, weights) == 5  # step 0: 0.9; step 5: 0.18 + 0.1 = 0.28
    assert steps_to_target(records, ["a", "b"], 0.5) == 0  # the plain mean at step 0 is 0.5


def test_a_config_with_weights_on_a_skill_outside_the_objective_is_refused_before_any_run():
    if not NI.is_dir():
        pytest.skip("../shared/data is not beside the repository")
    config = parse_config(ni_config(objective_weights={"Text Matching": 1.0}))  # the objective: Stance Detection
    with pytest.raises(ConfigError, match="objective_weights: 'Text Matching' is not an objective skill"):
        validate_experiment(config)
    validate_experiment(parse_config(ni_config(objective_weights={"Stance Detection": 1.0})))
