"""`skillit data inspect` and the Natural Instructions configs through the real `skillit` command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, SHARED_DATA

NI = SHARED_DATA / "natural_instructions"
needs_data = pytest.mark.skipif(not NI.is_dir(), reason="../shared/data is not beside the repository")


def skillit(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "skillit", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600
    )


@needs_data
def test_inspect_prints_skills_counts_and_token_lengths():
    result = skillit("data", "inspect", NI / "train.jsonl", "--skill-column", "skill", "--validation", NI / "test.jsonl",
                     "--prompt-field", "input", "--separator", "\\nOutput: ")
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    for skill, train, validation in [("Stance Detection", 217, 53), ("Sentiment Analysis", 320, 78),
                                     ("Text Matching", 158, 38), ("Question Generation", 105, 26)]:
        assert f"{skill} │ {train} │ {validation} │" in out
    # words and punctuation marks, prompt and answer apart (was 133: every space counted as a token)
    assert "4 skill(s), 995 example(s); the longest has 83 word tokens" in out
    assert "no problems found" in out


def test_inspect_some_skills_and_count_the_examples_over_a_length(tmp_path):
    train = tmp_path / "train.jsonl"
    rows = [{"skill": "a", "prompt": "Is it a bathroom? ", "answer": "yes."}, {"skill": "b", "prompt": "x ", "answer": "y"},
            {"skill": "c", "prompt": "p ", "answer": "q"}]
    train.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = skillit("data", "inspect", train, "--skills", "c,a", "--max-length", "6", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # 'Is', ' it', ' a', ' bathroom', '?', ' ' | 'yes', '.': 8 word tokens
    assert [(s["skill"], s["tokens"]["max"], s["too_long"]) for s in report["skills"]] == [("c", 3, 0), ("a", 8, 1)]
    table = skillit("data", "inspect", train, "--skills", "a", "--max-length", "6")
    out = " ".join(table.stdout.split())
    assert "│ a │ 1 │ 0 │ 8 / 8.0 / 8 │ 1 │ no validation │" in out  # problems in a few words; details below
    assert "1 example(s) longer than 6 word tokens" in out and "- 'a': no validation data" in out
    wrong = skillit("data", "inspect", train, "--skills", "a,bb")
    assert wrong.returncode == 2 and "skill 'bb' (--skills) has no examples" in " ".join(wrong.stderr.split())


def test_inspect_with_a_config_reads_its_data_and_counts_with_its_tokenizer(tmp_path):
    rows = [{"skill": "a", "question": "Is it? ", "reply": "yes."}, {"skill": "b", "question": "x ", "reply": "y"}]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = tmp_path / "cfg.yaml"
    config.write_text("name: c\ntask: {name: data, params: {train: train.jsonl, prompt_field: question, "
                      "answer_field: reply}}\nmodel: {tokenizer: char}\ntraining: {steps: 10}\n"
                      "methods: {stratified: {}}\n")
    result = skillit("data", "inspect", "--config", config, "--json", cwd=tmp_path.parent)  # train.jsonl beside it
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # characters: 'Is it? ' (7) + 'yes.' (4) = 11; 'x ' + 'y' = 3 (as words the first would be 6)
    assert report["tokenizer"] == "char"
    assert [(s["skill"], s["train"], s["tokens"]["max"]) for s in report["skills"]] == [("a", 1, 11), ("b", 1, 3)]
    words = json.loads(skillit("data", "inspect", "--config", config, "--tokenizer", "word", "--json").stdout)
    assert [s["tokens"]["max"] for s in words["skills"]] == [6, 3]  # 'Is', ' it', '?', ' ' | 'yes', '.'; 'x', ' ' | 'y'
    both = skillit("data", "inspect", tmp_path / "train.jsonl", "--config", config)
    assert both.returncode == 2 and "give SOURCE or --config, not both" in both.stderr
    lego = skillit("data", "inspect", "--config", "lego-demo")
    assert lego.returncode == 2 and "its task is 'lego', which skillit generates" in " ".join(lego.stderr.split())
    neither = skillit("data", "inspect")
    assert neither.returncode == 2 and "give SOURCE (a data file) or --config CONFIG" in " ".join(neither.stderr.split())


@needs_data
def test_inspect_json_on_gsm8k_and_math():
    gsm = skillit("data", "inspect", SHARED_DATA / "gsm8k" / "train.jsonl", "--skill-column", "skill", "--json")
    assert gsm.returncode == 0, gsm.stderr
    report = json.loads(gsm.stdout)
    assert {s["skill"]: s["train"] for s in report["skills"]}["steps_8plus"] == 103
    assert report["examples"] == 7473
    assert all("no validation data" in " ".join(s["problems"]) for s in report["skills"])  # none given
    math = skillit("data", "inspect", SHARED_DATA / "math_competition" / "train.jsonl", "--holdout", "0.2",
                   "--text-field", "text", "--tokenizer", "char", "--json")
    report = json.loads(math.stdout)
    assert len(report["skills"]) == 7 and report["problems"] == [] and report["tokenizer"] == "char"
    assert sum(s["train"] + s["validation"] for s in report["skills"]) == 4016


def test_inspect_flags_empty_duplicated_and_leaked_examples(tmp_path):
    train = tmp_path / "train.jsonl"
    rows = [
        {"skill": "a", "prompt": "1+1=", "answer": "2"},
        {"skill": "a", "prompt": "1+1=", "answer": "2"},
        {"skill": "a", "prompt": "2+2=", "answer": ""},
        {"skill": "b", "prompt": "x", "answer": "y"},
    ]
    train.write_text("".join(json.dumps(r) + "\n" for r in rows))
    val = tmp_path / "val.jsonl"
    val.write_text(json.dumps({"skill": "a", "prompt": "1+1=", "answer": "2"}) + "\n")
    result = skillit("data", "inspect", train, "--validation", val, "--json")
    assert result.returncode == 0, result.stderr
    report = {s["skill"]: s for s in json.loads(result.stdout)["skills"]}
    assert (report["a"]["train"], report["a"]["validation"]) == (3, 1)
    assert report["a"]["empty"] == 1 and report["a"]["duplicates"] == 1 and report["a"]["overlap"] == 1
    problems = " ".join(report["a"]["problems"])
    assert f"{train}:3" in problems and f"{train}:2 (= {train}:1)" in problems and f"{val}:1 (= {train}:1)" in problems
    assert report["b"]["problems"] == ["no validation data (cannot be an evaluation or target skill)"]
    strict = skillit("data", "inspect", train, "--validation", val, "--strict")
    assert strict.returncode == 1 and "problem(s)" in strict.stdout


def test_inspect_bad_input_is_one_error_exit_2(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"category": "a", "prompt": "p", "answer": "1"}\n')
    result = skillit("data", "inspect", path, "--skill-column", "skill")
    assert result.returncode == 2
    assert "no skill column 'skill'; the columns are: category, prompt, answer" in " ".join(result.stderr.split())
    path.write_text('{"skill": "a", "prompt": "p", "answer": "1"}\n\n{"skill": "a", "prompt": \n')
    result = skillit("data", "inspect", path)
    assert result.returncode == 2 and f"{path}:3: invalid JSON" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


@needs_data
@pytest.mark.slow
def test_ni_finetune_runs_end_to_end_through_the_cli(tmp_path):
    out = tmp_path / "ft"
    result = skillit("run", "ni-finetune", "--steps", "2", "--seeds", "1", "--methods", "skill-it,target-only",
                     "--jobs", "1", "--out", out)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["task"] == "data" and summary["setting"] == "finetune"
    assert summary["objective_skills"] == ["Stance Detection"]
    assert set(summary["methods"]) == {"skill-it", "target-only"}
    shipped = REPO / "src" / "skillit" / "corpora" / "natural_instructions" / "train.jsonl.xz"  # the shipped copy
    assert str(shipped.resolve()) in (out / "config.yaml").read_text()  # absolute: resumable anywhere
