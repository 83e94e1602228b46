"""One ``DataSpec`` for the data task, the loader, the inspector and ``skillit data inspect``: a field and its
default are declared once, and each reader reads the same data from it."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

from skillit.skills.io import DataSpec, inspect_data, inspect_spec, load_skills, load_spec
from skillit.skills.io.spec import default
from skillit.tasks import build_task, parse_task_params
from skillit.tasks.data import DataParams

ROWS = [{"skill": "a", "prompt": f"p{i} ", "answer": f"a{i}"} for i in range(3)] + [
    {"skill": "b", "prompt": f"q{i} ", "answer": f"b{i}"} for i in range(2)]


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_the_data_task_adds_only_its_own_keys_to_the_spec():
    assert issubclass(DataParams, DataSpec)
    assert [name for name in DataParams.model_fields if name not in DataSpec.model_fields] == ["prerequisites", "junk"]
    for name, spec_field in DataSpec.model_fields.items():  # inherited, not declared again
        assert DataParams.model_fields[name].default == spec_field.default
        assert DataParams.model_fields[name].description == spec_field.description


def test_load_skills_and_inspect_data_take_their_defaults_from_the_spec():
    spelled = {"skill": "skill_column"}  # the Python functions' name for the column
    # not the spec's: streaming (None: by the source's kind) and length_unit ("word": no model to default to)
    for function in (load_skills, inspect_data):
        for name, parameter in inspect.signature(function).parameters.items():
            field = spelled.get(name, name)
            if field in DataSpec.model_fields and field not in ("train", "validation", "streaming", "length_unit"):
                assert parameter.default == default(field), (function.__name__, name)
    assert default("skill_column") == "skill" and default("prompt_field") == "prompt" and default("separator") == ""


def test_a_spec_loads_what_load_skills_loads_with_the_same_options(tmp_path):
    train = _write(tmp_path / "t.jsonl", ROWS)
    spec = DataSpec(train=str(train), separator="", max_examples=2, max_examples_per_skill={"b": 1})
    skills = load_spec(spec)
    direct = load_skills(str(train), max_examples=2, max_examples_per_skill={"b": 1})
    # a: its first 2 of 3 (max_examples); b: its first 1 of 2 (its own cap)
    for loaded in (skills, direct):
        assert [(s.name, len(s.train)) for s in loaded.skills] == [("a", 2), ("b", 1)]
        assert [loaded.skills[0].train.get(i).answer for i in range(2)] == ["a0", "a1"]
    # the task builds the same skills from the same keys (its params are a DataSpec)
    params = parse_task_params("data", {"train": str(train), "max_examples": 2, "max_examples_per_skill": {"b": 1}})
    task = build_task("data", params)
    assert [(s.name, len(s.train), s.train.get(0)) for s in task.skills] == [
        (s.name, len(s.train), s.train.get(0)) for s in skills.skills]


def test_inspect_spec_reports_the_whole_source_with_the_specs_fields(tmp_path):
    train = _write(tmp_path / "t.jsonl", [{"group": "a", "q": "Is it? ", "r": "yes."}, {"group": "b", "q": "x ", "r": "y"}])
    spec = DataSpec(train=str(train), skill_column="group", prompt_field="q", answer_field="r", max_examples=1,
                    max_length=6, length_unit="char")
    report = inspect_spec(spec)
    # chars: 'Is it? ' (7) + 'yes.' (4) = 11 > 6; 'x ' + 'y' = 3
    assert [(s.name, s.train, s.tokens_max, s.too_long) for s in report.skills] == [("a", 1, 11, 1), ("b", 1, 3, 0)]
    assert report.tokenizer == "char" and inspect_spec(spec, tokenizer="word").tokenizer == "word"


def test_the_specs_checks_hold_for_every_reader():
    with pytest.raises(ValueError, match="give either validation"):
        DataSpec(train="t.jsonl", validation="v.jsonl", holdout=0.2)
    with pytest.raises(ValueError, match="set answer_field"):
        DataSpec(train="t.jsonl", answer_field=None)
    with pytest.raises(ValueError, match="length_unit needs max_length"):
        DataSpec(train="t.jsonl", length_unit="char")


def test_data_inspect_options_are_the_specs_fields():
    from skillit.cli import data_inspect

    checked = 0
    for name, parameter in inspect.signature(data_inspect).parameters.items():
        if name in DataSpec.model_fields and name not in ("max_length", "skills"):  # --skills: comma-separated
            option = parameter.default
            assert option.default == default(name), name
            assert f"--{name.replace('_', '-')}" in option.param_decls
            if name not in ("holdout", "prompt_field"):  # these two word their help for the command line
                assert option.help == DataSpec.model_fields[name].description, name
            checked += 1
    assert checked == 8  # skill_column, validation, holdout, holdout_seed, prompt/answer/text fields, separator


def test_data_inspect_flags_are_checked_by_the_spec_and_name_the_flag(tmp_path):
    train = _write(tmp_path / "t.jsonl", ROWS)

    def run(*args):
        return subprocess.run([sys.executable, "-m", "skillit", "data", "inspect", str(train), *args],
                              capture_output=True, text=True, timeout=120)

    both = run("--validation", str(train), "--holdout", "0.2")
    assert both.returncode == 2 and "give either validation (a file) or holdout" in " ".join(both.stderr.split())
    big = run("--holdout", "1.5")
    assert big.returncode == 2 and "--holdout: Input should be less than 1" in " ".join(big.stderr.split())
    assert "Traceback" not in big.stderr


def test_data_inspect_with_a_config_counts_the_tasks_length_unit(tmp_path):
    _write(tmp_path / "train.jsonl", [{"skill": "a", "prompt": "Is it? ", "answer": "yes."}])
    config = tmp_path / "cfg.yaml"
    config.write_text("name: c\ntask: {name: data, params: {train: train.jsonl, max_length: 8, length_unit: char}}\n"
                      "model: {tokenizer: word}\ntraining: {steps: 10}\nmethods: {stratified: {}}\n")
    result = subprocess.run([sys.executable, "-m", "skillit", "data", "inspect", "--config", str(config), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # what the run's max_length counts: characters (11 > 8), not the model's words (6)
    assert report["tokenizer"] == "char" and report["skills"][0]["tokens"]["max"] == 11
    assert report["skills"][0]["too_long"] == 1
