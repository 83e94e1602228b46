"""`skillit discover`, `regroup` and `profile` in-process (typer's CliRunner): outputs, and bad input →
one message, exit 2, nothing written."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from skillit.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def topics(tmp_path):
    rows = [{"prompt": f"apple banana fruit {i} =", "answer": "x", "skill": "fruit"} for i in range(8)]
    rows += [{"prompt": f"python code compile {i} =", "answer": "y", "skill": "code"} for i in range(8)]
    path = tmp_path / "topics.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_regroup_writes_a_skill_column(topics, tmp_path):
    out = tmp_path / "regrouped"
    result = invoke("regroup", topics, "--k-max", 4, "--column", "group", "--out", out)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "data.jsonl").read_text().splitlines()]
    assert len(rows) == 16 and rows[0]["skill"] == "fruit"  # the input row is kept
    assert len({r["group"] for r in rows[:8]}) == 1 and rows[0]["group"] != rows[8]["group"]
    report = json.loads((out / "regroup.json").read_text())
    assert report["k"] == 2 and report["scores"] == {"ari": 1.0, "accuracy": 1.0}


def test_discover_writes_data_and_report(topics, tmp_path):
    out = tmp_path / "found"
    result = invoke("discover", topics, "--k", 2, "--runs", 1, "--steps", 2, "--checkpoint-every", 1,
                    "--features", "trajectory,tfidf", "--out", out, "--analyzer", "word")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "data.jsonl").read_text().splitlines()]
    assert {r["skill"] for r in rows} <= {"skill0", "skill1"}
    report = json.loads((out / "report.json").read_text())
    assert report["cost"] == {"train_steps": 4, "eval_examples": 2 * 8 * 2}
    assert report["scores"]["tfidf"]["accuracy"] == 1.0 and report["labels_from"] == "trajectory"
    assert "cost: 4 training steps" in result.output


@pytest.mark.parametrize("args, message", [
    (["--k", "1"], "--k must be between 2"),
    (["--k", "2", "--features", "trajectory,nope"], "unknown"),
    (["--k", "2", "--mix", "random"], "--mix must be"),
    (["--k", "2", "--steps", "5", "--checkpoint-every", "10"], "checkpoint_every"),
])
def test_discover_bad_input_exits_2_and_writes_nothing(topics, tmp_path, args, message):
    out = tmp_path / "never"
    result = invoke("discover", topics, *args, "--out", out)
    assert result.exit_code == 2 and message in result.output
    assert not out.exists()


def test_bad_data_file_exits_2(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a", "answer": "b"}\n{not json\n')
    for command in ("discover", "regroup"):
        result = invoke(command, bad, "--k", 2, "--out", tmp_path / command)
        assert result.exit_code == 2 and "bad.jsonl:2" in result.output
        assert not (tmp_path / command).exists()
    result = invoke("regroup", tmp_path / "missing.jsonl")
    assert result.exit_code == 2 and "does not exist" in result.output


def test_profile_of_a_results_file(tmp_path):
    results = tmp_path / "results.jsonl"
    rows = [("A", True), ("A", False), ("B", True), ("B", True), ("AB", False), ("AB", False)]
    results.write_text("".join(json.dumps({"skill": s, "correct": c, "needs": ["A", "B"] if s == "AB" else []}) + "\n"
                               for s, c in rows))
    out = tmp_path / "profile"
    result = invoke("profile", results, "--out", out, "--coverage", 0.5)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "profile.json").read_text())
    assert report["ranking"] == ["A", "AB", "B"] and report["targets"] == ["A"]
    assert report["mixture"]["A"] == pytest.approx(5 / 9)  # the hand-computed case of test_profile.py
    assert "most missing: A" in result.output


@pytest.mark.parametrize("content, args, message", [
    ('{"skill": "A"}\n', [], "'correct' must be"),
    ('{"skill": "A", "correct": true}\n', ["--signal", "loss"], "'loss' must be a number"),
    ('{"skill": "A", "correct": true}\n', ["--coverage", "0"], "--coverage"),
    ('{"skill": "A", "correct": true}\n', ["--steps", "5"], "apply to a config"),
])
def test_profile_bad_input(tmp_path, content, args, message):
    results = tmp_path / "r.jsonl"
    results.write_text(content)
    result = invoke("profile", results, "--out", tmp_path / "p", *args)
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "p").exists()


def test_profile_unknown_config_or_method(tmp_path):
    result = invoke("profile", "no-such-config", "--out", tmp_path / "p")
    assert result.exit_code == 2 and "no-such-config" in result.output
    result = invoke("profile", "composition-deficit", "--method", "nope", "--out", tmp_path / "p")
    assert result.exit_code == 2 and "unknown method 'nope'" in result.output
    assert not (tmp_path / "p").exists()
