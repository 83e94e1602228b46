"""Run records, metrics.jsonl and the summary across seeds, checked against values computed by hand."""

import json
import math

import pytest

from skillit.errors import DataError
from skillit.records.layout import read_summary
from skillit.records.metrics import RunRecord, finite_or_none, read_metrics, write_metrics
from skillit.records.summary import divergence_warnings, steps_to_target, summarize


def record(step, losses, accuracies, weights=None):
    return {"step": step, "losses": losses, "accuracies": accuracies, "weights": weights or {}}


def run(method, seed, records, train_seconds=10.0, eval_seconds=1.0):
    return RunRecord(method=method, seed=seed, policy={}, records=records, steps=records[-1]["step"],
                     train_seconds=train_seconds, eval_seconds=eval_seconds, eval_examples=100)


def test_steps_to_target_is_the_first_step_whose_mean_loss_reaches_the_target():
    records = [record(0, {"a": 1.0, "b": 0.6}, {}), record(100, {"a": 0.3, "b": 0.2}, {}),
               record(200, {"a": 0.1, "b": 0.1}, {})]
    assert steps_to_target(records, ["a", "b"], 0.25) == 100  # mean 0.25 ≤ 0.25
    assert steps_to_target(records, ["a"], 0.2) == 200
    assert steps_to_target(records, ["a", "b"], 0.05) is None
    assert steps_to_target(records, ["a", "b"], None) is None


def test_summary_means_stds_and_steps_to_target_by_hand():
    seed0 = run("m", 0, [record(0, {"a": 1.0, "b": 1.0}, {"a": 0.0, "b": 0.0}),
                         record(10, {"a": 0.2, "b": 0.4}, {"a": 1.0, "b": 0.5})], train_seconds=4.0)
    seed1 = run("m", 1, [record(0, {"a": 1.0, "b": 1.0}, {"a": 0.0, "b": 0.0}),
                         record(10, {"a": 0.4, "b": 0.6}, {"a": 0.5, "b": 0.0})], train_seconds=6.0)
    summary = summarize([seed1, seed0], task="t", setting="finetune", steps=10, objective_skills=["a"],
                        target_loss=0.3)
    result = summary["methods"]["m"]
    assert summary["seeds"] == [0, 1]
    # objective skill a only: final losses 0.2 and 0.4 → mean 0.3, population std 0.1
    assert result["final"]["mean_loss"] == pytest.approx(0.3)
    assert result["final"]["mean_loss_std"] == pytest.approx(0.1)
    assert result["final"]["mean_accuracy"] == pytest.approx(0.75)
    assert result["final"]["per_skill"]["b"] == {"loss": pytest.approx(0.5), "accuracy": pytest.approx(0.25)}
    assert [s["seed"] for s in result["per_seed"]] == [0, 1]
    # seed 1 never reaches 0.3 on a → the method's steps_to_target is null, seed 0's is 10
    assert [s["steps_to_target"] for s in result["per_seed"]] == [10, None]
    assert result["steps_to_target"] is None
    assert result["train_seconds"] == pytest.approx(5.0)
    reached = summarize([seed0, seed1], task="t", setting="finetune", steps=10, objective_skills=["a"],
                        target_loss=0.4)
    assert reached["methods"]["m"]["steps_to_target"] == pytest.approx(10.0)


def test_summary_keeps_the_given_method_order_and_skips_methods_without_runs():
    runs = [run(name, 0, [record(0, {"a": 1.0}, {"a": 0.0})]) for name in ("z", "a")]
    summary = summarize(runs, task="t", setting="pretrain", steps=0, objective_skills=["a"], target_loss=None,
                        methods=["a", "missing", "z"])
    assert list(summary["methods"]) == ["a", "z"]


def test_a_diverged_run_is_written_as_standard_json(tmp_path):
    diverged = run("m", 0, [record(0, {"a": float("nan")}, {"a": 0.0}), record(5, {"a": float("inf")}, {"a": 0.0})])
    assert finite_or_none({"x": [1.0, float("-inf")]}) == {"x": [1.0, None]}
    path = write_metrics(tmp_path / "metrics.jsonl", [diverged])
    lines = path.read_text().splitlines()
    assert [json.loads(line)["losses"]["a"] for line in lines] == [None, None]
    assert read_metrics(path)[1] == {"method": "m", "seed": 0, **record(5, {"a": None}, {"a": 0.0})}
    diverged.save(tmp_path / "run.json")
    loaded = RunRecord.load(tmp_path / "run.json")
    assert loaded.records[0]["losses"]["a"] is None and not math.isnan(loaded.train_seconds)


def test_corrupt_metrics_and_run_files_name_the_file_and_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 0}\n{"step": \n')
    with pytest.raises(DataError, match=r"metrics.jsonl:2: corrupt metrics line"):
        read_metrics(path)
    (tmp_path / "run.json").write_text('{"method": "m"}')
    with pytest.raises(DataError, match="run.json: not a run record"):
        RunRecord.load(tmp_path / "run.json")


def test_read_summary_names_the_directory_and_what_is_wrong(tmp_path):
    with pytest.raises(DataError, match=r"'.*nothing' is not a finished run directory: it has no summary.json"):
        read_summary(tmp_path / "nothing")
    (tmp_path / "summary.json").write_text("{not json")
    with pytest.raises(DataError, match=r"summary.json: not a skillit summary \(not JSON: .*line 1\)"):
        read_summary(tmp_path)
    (tmp_path / "summary.json").write_text(json.dumps([1, 2]))
    with pytest.raises(DataError, match="no 'methods' map"):
        read_summary(tmp_path)
    (tmp_path / "summary.json").write_text(json.dumps({"methods": {"stratified": {}}, "steps": 3}))
    assert read_summary(tmp_path) == {"methods": {"stratified": {}}, "steps": 3}


def test_a_run_whose_objective_ends_non_finite_is_named_with_the_step_it_diverged():
    nan, inf = float("nan"), float("inf")
    runs = [
        run("m", 0, [record(0, {"a": 2.0, "b": 2.0}, {}), record(5, {"a": nan, "b": 1.0}, {}),
                     record(10, {"a": 1.0, "b": 1.0}, {}), record(15, {"a": inf, "b": 1.0}, {}),
                     record(20, {"a": nan, "b": 1.0}, {})]),
        run("ok", 1, [record(0, {"a": 2.0, "b": nan}, {}), record(20, {"a": 1.0, "b": nan}, {})]),  # b: not objective
        RunRecord(method="empty", seed=2, policy={}, records=[], steps=0, train_seconds=0.0, eval_seconds=0.0,
                  eval_examples=0),
    ]
    (line,) = divergence_warnings(runs, ["a"])
    assert line.startswith("m (seed 0): the objective's validation loss is NaN or infinite from step 15 on")
    assert "lower training.lr" in line
    assert len(divergence_warnings(runs, ["a", "b"])) == 2
