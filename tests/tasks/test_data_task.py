"""The `data` task: config params, relative paths, bad names, and exhaustion end to end on real data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from skillit.errors import ConfigError, DataError, GraphError, SkillError
from skillit.experiment.config import dump_config, load_config, parse_config, shipped_config_path
from skillit.experiment.runner import run_experiment, validate_experiment
from skillit.graph import builtin_graph
from skillit.tasks import build_task, parse_task_params
from skillit.tasks.data import resolve_paths
from tests.conftest import SHARED_DATA

NI = SHARED_DATA / "natural_instructions"
needs_data = pytest.mark.skipif(not NI.is_dir(), reason="../shared/data is not beside the repository")


def ni_config(**changes) -> str:
    """A tiny NI fine-tuning config (absolute data paths), with top-level keys changed by ``changes``."""
    data = {
        "name": "ni-tiny",
        "task": {"name": "data", "params": {
            "train": str(NI / "train.jsonl"), "validation": str(NI / "test.jsonl"),
            "prompt_field": "input", "separator": "\nOutput: ", "max_validation": 4,
        }},
        "setting": "finetune",
        "target_skills": ["Stance Detection"],
        "model": {"n_layer": 1, "n_head": 2, "n_embd": 16, "tokenizer": "word", "block_size": 144},
        "training": {"steps": 6, "batch_size": 8, "round_steps": 3, "eval_every": 6, "warmup_steps": 0,
                     "eval_batch_size": 16},
        "methods": {"static": {"params": {"weights": {"Stance Detection": 0.7, "Text Matching": 0.3}}}},
        "seeds": [0],
    }
    for key, value in changes.items():
        if key in ("task", "training"):  # merged; other keys are replaced
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return yaml.safe_dump(data, sort_keys=False)


# ---- params and paths --------------------------------------------------------------------------------
def test_params_are_validated():
    with pytest.raises(ConfigError, match="task 'data': invalid params: skill_colum: unknown key"):
        parse_task_params("data", {"train": "x.jsonl", "skill_colum": "skill"})
    with pytest.raises(ConfigError, match="either validation .* or holdout"):
        parse_task_params("data", {"train": "x.jsonl", "validation": "y.jsonl", "holdout": 0.1})
    with pytest.raises(ConfigError, match="holdout"):
        parse_task_params("data", {"train": "x.jsonl", "holdout": 1.5})


def test_relative_paths_resolve_against_the_config_folder_then_the_current_folder(tmp_path, monkeypatch):
    config_dir = tmp_path / "configs"
    (config_dir / "data").mkdir(parents=True)
    (config_dir / "data" / "train.jsonl").write_text("{}\n")
    (tmp_path / "val.jsonl").write_text("{}\n")
    monkeypatch.chdir(tmp_path)
    out = resolve_paths({"train": "data/train.jsonl", "validation": "val.jsonl", "cache_dir": "cache",
                         "skill_column": "data/x"}, config_dir)
    assert out["train"] == str(config_dir / "data" / "train.jsonl")  # beside the config
    assert out["validation"] == str(tmp_path / "val.jsonl")  # not beside the config, found in the current folder
    assert out["cache_dir"] == str(config_dir / "cache")
    assert out["skill_column"] == "data/x"  # not a path
    assert resolve_paths({"train": "/abs/t.jsonl"}, config_dir) == {"train": "/abs/t.jsonl"}


def test_loaded_config_holds_absolute_paths_so_a_run_directory_resumes_anywhere(tmp_path):
    folder = tmp_path / "exp"
    folder.mkdir()
    rows = [{"skill": s, "prompt": f"{s}{i}=", "answer": str(i % 10)} for i in range(40) for s in ("a", "b")]
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = folder / "c.yaml"
    config.write_text(
        "name: t\ntask: {name: data, params: {train: train.jsonl, holdout: 0.25}}\n"
        "training: {steps: 2}\nmethods: {stratified: {}}\n"
    )
    loaded = load_config(config)
    assert loaded.task.params["train"] == str(folder / "train.jsonl")
    assert yaml.safe_load(dump_config(loaded))["task"]["params"]["train"] == str(folder / "train.jsonl")
    skills = build_task("data", loaded.task.params)
    assert skills.names == ["a", "b"] and all(s.validation for s in skills.skills)


def test_a_missing_data_file_is_one_error_before_any_output(tmp_path):
    config = parse_config("name: t\ntask: {name: data, params: {train: /nonexistent/t.jsonl}}\n"
                          "training: {steps: 2}\nmethods: {stratified: {}}\n")
    with pytest.raises(DataError, match="task.params.train: data file '/nonexistent/t.jsonl' does not exist"):
        run_experiment(config, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_missing_data_file_names_the_config_file_and_the_line_of_its_key(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("name: t\ntask:\n  name: data\n  params:\n    holdout: 0.25\n    train: nothere.jsonl\n"
                      "training: {steps: 2}\nmethods: {stratified: {}}\n")
    with pytest.raises(DataError) as caught:
        validate_experiment(load_config(config), tmp_path)
    assert str(caught.value).startswith(f"{config}:6: task.params.train: data file '{tmp_path / 'nothere.jsonl'}' "
                                        "does not exist")
    with pytest.raises(DataError) as caught:  # a validation file: its own key's line
        validate_experiment(load_config(_write(config, config.read_text().replace(
            "holdout: 0.25", "validation: gone.jsonl").replace("nothere.jsonl", "c.yaml"))), tmp_path)
    assert str(caught.value).startswith(f"{config}:5: task.params.validation: data file")


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path

# ---- names the data lacks --------------------------------------------------------------------------------
@needs_data
@pytest.mark.parametrize(
    "changes, error, message",
    [
        ({"target_skills": ["Stance Detecton"]}, SkillError, r"'Stance Detecton'.*did you mean 'Stance Detection'"),
        ({"task": {"train_skills": ["Sentiment Analysis", "Text Matchng"]}}, SkillError,
         r"unknown training skill 'Text Matchng'.*did you mean 'Text Matching'"),
        ({"task": {"name": "data", "params": {"train": str(NI / "train.jsonl"), "skills": ["Question Generaton"]}}},
         SkillError, r"skill 'Question Generaton' named in task.params.skills has no examples in .*train.jsonl; "
                     r"did you mean 'Question Generation'"),
    ],
)
def test_a_skill_the_data_lacks_is_named_with_a_suggestion(tmp_path, changes, error, message):
    config = parse_config(ni_config(**changes))
    with pytest.raises(error, match=message):
        run_experiment(config, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@needs_data
def test_a_per_skill_cap_in_the_config_cuts_one_pool(tmp_path):
    """``max_examples_per_skill`` (a small target beside full candidate pools) reaches the loader from a config."""
    from skillit.experiment.build import build_skillset

    config = parse_config(ni_config(task={"name": "data", "params": {
        "train": str(NI / "train.jsonl"), "validation": str(NI / "test.jsonl"), "prompt_field": "input",
        "separator": "\nOutput: ", "max_validation": 4, "max_examples_per_skill": {"Stance Detection": 25}}}))
    sizes = {s.name: s.train.size for s in build_skillset(config, 0).skills}
    assert sizes == {"Stance Detection": 25, "Sentiment Analysis": 320, "Text Matching": 158,
                     "Question Generation": 105}
    bad = parse_config(ni_config(task={"name": "data", "params": {
        "train": str(NI / "train.jsonl"), "prompt_field": "input", "max_examples_per_skill": {"Stance": 25}}}))
    with pytest.raises(DataError, match=r"names skill 'Stance', which the data does not have"):
        run_experiment(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@needs_data
def test_a_graph_naming_a_skill_the_data_lacks(tmp_path):
    graph = builtin_graph("ni-out-of-domain").to_dict()
    graph["train_skills"] = ["Sentiment Analysis", "Text Matching", "Question Generaton"]
    (tmp_path / "graph.json").write_text(json.dumps(graph))
    config = parse_config(ni_config(
        task={"train_skills": ["Sentiment Analysis", "Text Matching", "Question Generation"],
              "eval_skills": ["Stance Detection"]},
        setting="out-of-domain", target_skills=None,
        methods={"skill-it": {"params": {"graph": str(tmp_path / "graph.json")}}},
    ))
    with pytest.raises(GraphError, match=r"'Question Generation' is not a row .*did you mean 'Question Generaton'"):
        run_experiment(config, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---- exhausted finite skills, end to end on the NI data ---------------------------------------------------
def run_seen(tmp_path, exhausted: str) -> dict:
    """2 rounds of 3 steps × 8 examples at 70% Stance Detection, 16 examples per skill: in round 0 Stance
    Detection's quota is round(0.7 · 24) = 17 > 16."""
    weights = {"Stance Detection": 0.7, "Sentiment Analysis": 0.1, "Text Matching": 0.1, "Question Generation": 0.1}
    config = parse_config(ni_config(
        task={"name": "data", "params": {
            "train": str(NI / "train.jsonl"), "validation": str(NI / "test.jsonl"), "prompt_field": "input",
            "separator": "\nOutput: ", "max_examples": 16, "max_validation": 4}},
        training={"exhausted": exhausted},
        methods={"static": {"params": {"weights": weights}}},
    ))
    run_experiment(config, tmp_path / exhausted, jobs=1)
    record = json.loads((tmp_path / exhausted / "runs" / "static__seed0.json").read_text())
    return record["records"][-1]["examples_seen"]


@needs_data
def test_exhausted_stop_names_the_skill_and_the_choices(tmp_path):
    with pytest.raises(DataError, match=r"skill 'Stance Detection' is exhausted: its pool has 16 examples, 0 are "
                                        r"drawn and round 0 asks for 17 more.*set exhausted to 'cycle' \(reuse the "
                                        r"pool\) or 'drop'"):
        run_seen(tmp_path, "stop")
    assert not (tmp_path / "stop" / "runs" / "static__seed0.json").exists()


@needs_data
def test_exhausted_drop_and_cycle_on_real_data(tmp_path):
    dropped = run_seen(tmp_path, "drop")
    assert dropped["Stance Detection"] == 16  # its pool, once: the rest of its share went to the other skills
    assert sum(dropped.values()) == 48 and all(dropped[s] <= 16 for s in dropped)
    cycled = run_seen(tmp_path, "cycle")
    assert cycled["Stance Detection"] == 34  # 17 per round: the pool is reused, the weights are kept
    assert sum(cycled.values()) == 48


# ---- the shipped configs, end to end (a few steps) --------------------------------------------------------
@needs_data
def test_shipped_ni_out_of_domain_runs_with_its_rectangular_graph(tmp_path):
    from skillit.experiment.runner import apply_overrides

    path = shipped_config_path("ni-out-of-domain")
    config = apply_overrides(load_config(path), steps=2, methods=["skill-it"])
    summary = run_experiment(config, tmp_path / "ood", config_dir=path.parent, jobs=1)
    assert summary["setting"] == "out-of-domain"
    record = json.loads((tmp_path / "ood" / "runs" / "skill-it__seed0.json").read_text())
    graph = builtin_graph("ni-out-of-domain")
    assert graph.shape == (3, 1)
    eta = config.methods["skill-it"].params["eta"]
    logits = eta * graph.submatrix(graph.train_skills, ["Stance Detection"]) @ np.ones(1)  # first round: L̃ = 1
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    first = record["records"][0]["weights"]
    assert list(first) == ["Sentiment Analysis", "Text Matching", "Question Generation"]
    assert np.allclose(list(first.values()), expected)
    assert set(record["records"][-1]["losses"]) == {"Stance Detection"}  # evaluated only on the held-out skill


@needs_data
@pytest.mark.parametrize("name", ["ni-finetune", "ni-out-of-domain"])
def test_shipped_ni_configs_validate(name):
    path = shipped_config_path(name)
    config = load_config(path)
    assert Path(config.task.params["train"]).is_file()
    validate_experiment(config, path.parent)
