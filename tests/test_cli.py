"""End to end through the real `skillit` command: a tiny run writes the documented files; bad input exits 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

TINY = """\
name: tiny
task: {name: lego, params: {k: 3, validation_size: 6, train_pool_size: 300}}
target_loss: 5.0
model: {n_layer: 1, n_head: 2, n_embd: 16}
training: {steps: 12, batch_size: 8, round_steps: 4, eval_every: 4, warmup_steps: 2}
methods:
  skill-it: {params: {graph: prerequisites, eta: 0.5}}
  stratified: {}
  random: {}
  curriculum: {}
seeds: [0, 1]
"""


def skillit(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "skillit", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


@pytest.mark.slow
def test_run_writes_summary_metrics_and_plots(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    out = tmp_path / "out"
    result = skillit("run", str(config), "--out", str(out), "--jobs", "1")
    assert result.returncode == 0, result.stderr
    assert "skill-it" in result.stdout and "stratified" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["task"] == "lego" and summary["setting"] == "pretrain"
    assert summary["steps"] == 12 and summary["seeds"] == [0, 1]
    assert list(summary["methods"]) == ["skill-it", "stratified", "random", "curriculum"]
    for method in summary["methods"].values():
        final = method["final"]
        assert 0 <= final["mean_accuracy"] <= 1 and final["mean_loss"] > 0
        assert set(final["per_skill"]) == {"var1", "var2", "var3"}
        assert set(final["per_skill"]["var1"]) == {"loss", "accuracy"}
        assert len(method["per_seed"]) == 2
        assert method["steps_to_target"] == 0  # a loss threshold of 5.0 is met at the first evaluation
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 4 * 2 * 4  # methods × seeds × evaluations (steps 0, 4, 8, 12)
    first = lines[0]
    assert {"method", "seed", "step", "losses", "accuracies", "weights", "examples_seen"} <= set(first)
    assert (out / "config.yaml").is_file()
    for png in ("accuracy.png", "loss.png", "weights.png"):
        assert (out / png).stat().st_size > 1000


@pytest.mark.slow
def test_default_run_uses_the_shipped_demo(tmp_path):
    result = skillit("run", "--steps", "4", "--seeds", "1", "--methods", "stratified,random", "--out", str(tmp_path / "d"))
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "d" / "summary.json").read_text())
    assert summary["name"] == "lego-demo" and list(summary["methods"]) == ["stratified", "random"]


@pytest.mark.slow
def test_more_seeds_run_later_merge_into_the_board(tmp_path):
    # seeds 0-1 first, then --seeds 1-2 later: compare merges them, and the repeated seed 1 must match (seeded)
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    for out, seeds in (("a", "2"), ("b", "1-2")):
        result = skillit("run", str(config), "--seeds", seeds, "--methods", "stratified,random", "--jobs", "1",
                         "--out", str(tmp_path / out))
        assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "b" / "summary.json").read_text())["seeds"] == [1, 2]
    board = skillit("compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "board"))
    assert board.returncode == 0, board.stderr
    assert "### tiny (3 seed(s), 12 steps" in (tmp_path / "board" / "leaderboard.md").read_text()
    bad = skillit("run", str(config), "--seeds", "3-1", "--out", str(tmp_path / "c"))
    assert bad.returncode == 2 and "--seeds: the range '3-1' must go up" in bad.stderr
    assert not (tmp_path / "c").exists()


def test_configs_and_policies_list():
    listing = skillit("configs")
    assert listing.returncode == 0 and "lego-demo" in listing.stdout
    policies = skillit("policies")
    assert policies.returncode == 0 and "skill-it" in policies.stdout and "floor" in policies.stdout


@pytest.mark.parametrize(
    "args_or_config, message",
    [
        (["--methods", "skill-it,rnd"], "unknown method 'rnd'"),
        ("graph-unknown-skill", "'var3' is not a row"),
        ("graph-shape", "shape 3x2"),
        ("graph-nan", "is nan"),
        ("bad-key", "unknown key 'stepz'"),
        ("bad-target", "unknown training skill 'var9'"),
    ],
)
def test_bad_input_is_one_clear_error_exit_2_and_no_output(tmp_path, args_or_config, message):
    graphs = {
        "graph-unknown-skill": {"train_skills": ["var1", "var2", "varX"], "matrix": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]},
        "graph-shape": {"train_skills": ["var1", "var2", "var3"], "matrix": [[1, 0], [0, 1], [0, 0]]},
        "graph-nan": {"train_skills": ["var1", "var2", "var3"], "matrix": [[1, 0, 0], [0, None, 0], [0, 0, 1]]},
    }
    config = tmp_path / "c.yaml"
    text = TINY
    args: list[str] = []
    if isinstance(args_or_config, list):
        args = args_or_config
    elif args_or_config in graphs:
        (tmp_path / "g.json").write_text(json.dumps(graphs[args_or_config]))
        text = TINY.replace("graph: prerequisites", "graph: g.json")
    elif args_or_config == "bad-key":
        text = TINY.replace("steps: 12", "stepz: 12")
    elif args_or_config == "bad-target":
        text = TINY + "setting: finetune\ntarget_skills: [var9]\n"
    config.write_text(text)
    out = tmp_path / "out"
    result = skillit("run", str(config), "--out", str(out), *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.slow
def test_search_trains_at_a_held_out_seed_then_tests_the_proposal_and_resumes(tmp_path):
    out = tmp_path / "search"
    args = ["search", "math-finetune", "--trials", "3", "--steps", "4", "--seeds", "1", "--top-k", "8",
            "--model", "log", "--jobs", "1", "--out", str(out)]
    first = skillit(*args)
    assert first.returncode == 0, first.stderr
    record = json.loads((out / "search-log.json").read_text())
    assert [t["method"] for t in record["trials"]] == ["stratified", "mix-00", "mix-01", "mix-02"]
    assert record["trials"][0]["mixture"] == pytest.approx([1 / 6] * 6)  # stratified is the uniform sample
    assert sum(record["proposal"].values()) == pytest.approx(1.0) and len(record["proposal"]) == 6
    assert json.loads((out / "search" / "summary.json").read_text())["seeds"] == [100]  # never a test seed
    test = json.loads((out / "test-log" / "summary.json").read_text())
    assert list(test["methods"]) == ["stratified", "search-log"] and test["seeds"] == [0]  # --seeds 1: one seed
    # the search's 4 runs of 4 steps are the static method's cost, in the summary the runner wrote
    assert test["offline_cost"]["search-log"]["train_steps"] == 16
    assert "search-log: {policy: static, params: {weights: {" in first.stdout
    assert f"skillit compare {out / 'test-log'}" in first.stdout
    # again: both phases continue with every run finished, nothing retrained, the same proposal
    finished = {path: path.stat().st_mtime_ns for path in (out / "search" / "runs").glob("*.json")}
    second = skillit(*args)
    assert second.returncode == 0, second.stderr
    assert " ".join(second.stdout.split()).count("continuing the run of this configuration there") == 2
    assert finished and {path: path.stat().st_mtime_ns for path in finished} == finished  # no run rewritten
    assert json.loads((out / "search-log.json").read_text())["proposal"] == record["proposal"]
    assert json.loads((out / "test-log" / "summary.json").read_text())["offline_cost"] == test["offline_cost"]
    # more seeds later, into another test folder (the first test's folder refuses new seeds); compare merges them
    refused = skillit(*args[:7], "1-1", *args[8:])
    assert refused.returncode == 2 and "give --test-out DIR" in refused.stderr
    more = skillit(*args[:7], "1-1", *args[8:], "--test-out", str(out / "test-more"))
    assert more.returncode == 0, more.stderr
    assert json.loads((out / "test-more" / "summary.json").read_text())["seeds"] == [1]
    assert {path: path.stat().st_mtime_ns for path in finished} == finished  # the search was not retrained
    assert skillit("compare", str(out / "test-log"), str(out / "test-more"), "--out", str(out / "board")).returncode == 0
    assert "### math-finetune (2 seed(s), 4 steps" in (out / "board" / "leaderboard.md").read_text()
    # no fit: the best trial's own mixture, from the same search runs, and no test
    best_trial = skillit(*args[:-6], "--model", "best-trial", "--search-only", "--jobs", "1", "--out", str(out))
    assert best_trial.returncode == 0, best_trial.stderr
    best = json.loads((out / "search-best-trial.json").read_text())
    lowest = min(record["trials"], key=lambda trial: trial["loss"])
    assert best["best_trial"]["method"] == lowest["method"] and best["coef"] is None
    assert list(best["proposal"].values()) == pytest.approx(lowest["mixture"])
    assert not (out / "test-best-trial").exists()
    # a changed search into the same folder is refused by the run directory, not silently mixed in, unless --overwrite
    changed = skillit(*args[:3], "4", *args[4:])
    error = " ".join(changed.stderr.split())
    assert changed.returncode == 2 and "holds a run of another configuration" in error and "--overwrite" in error
    assert "Traceback" not in changed.stderr
    assert {path: path.stat().st_mtime_ns for path in finished} == finished


@pytest.mark.slow
def test_search_draws_around_the_token_share_with_prior_natural(tmp_path):
    out = tmp_path / "natural"
    result = skillit("search", "math-finetune", "--trials", "2", "--steps", "2", "--model", "best-trial",
                     "--prior", "natural", "--search-only", "--jobs", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "2 static mixtures (drawn around the natural prior) + stratified" in result.stdout
    assert "natural prior" in result.stdout  # the proposal table's column
    record = json.loads((out / "search-best-trial.json").read_text())
    prior = record["prior_mixture"]
    assert record["prior"] == "natural" and sum(prior.values()) == pytest.approx(1.0)
    # equal pools of 5000: the token share follows the lengths, and the composed target is the longest
    assert max(prior, key=prior.get) == "algebra__linear_1d_composed" and prior["algebra__linear_1d_composed"] > 0.25


@pytest.mark.parametrize("argv, message", [
    (["math-pretrain", "--trials", "1"], "--trials must be at least 2"),
    (["math-pretrin"], "no config file or shipped config named 'math-pretrin'"),
    (["math-pretrain", "--ridge", "0"], "ridge must be > 0"),
    (["math-pretrain", "--model", "gbm"], "unknown --model 'gbm'"),
    (["math-pretrain", "--seeds", "5-2"], "--seeds: the range '5-2' must go up"),
    (["math-pretrain", "--jobs", "0"], "--jobs must be >= 1"),
    (["math-pretrain", "--concentration", "1"], "--concentration takes C_MIN,C_MAX (two numbers), got '1'"),
    (["math-pretrain", "--concentration", "0,1"], "concentration range must satisfy 0 < c_min <= c_max"),
    (["math-pretrain", "--prior", "tokens"], "unknown --prior 'tokens'; choose from stratified, random, natural"),
    (["composition-pretrain", "--prior", "random"], "--prior random weighs skills by their pools, but skill"),
])
def test_search_refuses_bad_arguments_before_anything_is_written(tmp_path, argv, message):
    result = skillit("search", *argv, "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", [["search", "math-finetune"], ["graph", "lego-graph"], ["bench", "math-finetune"]])
def test_only_run_takes_torchrun_the_other_training_commands_refuse(tmp_path, monkeypatch, command):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    result = skillit(*command, "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and f"skillit {command[0]} does not run under torchrun" in result.stderr
    assert not (tmp_path / "o").exists()
