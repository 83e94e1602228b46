"""docs/policies.md "Your own policy": its code runs as written, and its config trains the policy with --jobs 2."""

from __future__ import annotations

import json
import math
import shlex
import subprocess
import sys

import numpy as np
import pytest

from skillit.experiment.config import load_config
from skillit.policy import EvalResult, Observation, build_policy
from skillit.testing import example_context
from tests.plugin_helpers import DOCS, code_blocks, isolated_plugins, section

PAGE = section(DOCS / "policies.md", "Your own policy")
MODULE, CHECK = code_blocks(PAGE, "python")
(CONFIG,) = code_blocks(PAGE, "yaml")
(COMMAND,) = code_blocks(PAGE, "bash")


def write_page(folder):
    (folder / "my_policies.py").write_text(MODULE)
    (folder / "my-experiment.yaml").write_text(CONFIG)


def test_the_page_names_its_files_and_command():
    assert "imports: [my_policies]" in CONFIG and "lagging:" in CONFIG
    assert shlex.split(COMMAND) == ["skillit", "run", "my-experiment.yaml", "--jobs", "2"]


def test_the_pages_policy_passes_check_policy_and_follows_its_rule(tmp_path, monkeypatch):
    write_page(tmp_path)
    monkeypatch.chdir(tmp_path)
    with isolated_plugins(tmp_path):
        sys.path.insert(0, str(tmp_path))
        exec(compile(CHECK, "docs/policies.md", "exec"), {})  # check_policy(Lagging(eta=10.0)) passes
        config = load_config(tmp_path / "my-experiment.yaml")  # imports: registers `lagging` before the checks
        assert config.policy_of("lagging") == "lagging"
        policy = build_policy("lagging", {"eta": 4.0})
        context = example_context(("a", "b", "c"))
        state = policy.init(context)
        assert policy.weights(state).tolist() == pytest.approx([1 / 3] * 3)
        before = dict(context.initial_eval.losses)
        after = {"a": before["a"] / 2, "b": before["b"] * 0.75, "c": before["c"]}  # falls 0.5, 0.25, 0
        state = policy.update(state, Observation(round=0, step=10, evals=(EvalResult(10, after),)))
        # by hand: exp(-4·0.5), exp(-4·0.25), exp(0) = 0.135335, 0.367879, 1 → / 1.503214
        assert policy.weights(state) == pytest.approx([0.090031, 0.244728, 0.665241], abs=1e-6)
        assert policy.update(state, Observation(round=1, step=20, evals=())) == state  # no evaluation: kept
        assert policy.describe() == {"name": "lagging", "eta": 4.0}


@pytest.mark.slow
def test_the_pages_config_trains_its_policy_in_two_worker_processes(tmp_path):
    write_page(tmp_path)
    out = tmp_path / "out"
    command = shlex.split(COMMAND)[1:] + ["--steps", "4", "--seeds", "1", "--out", str(out)]
    result = subprocess.run([sys.executable, "-m", "skillit", *command], cwd=tmp_path, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["methods"]) == ["lagging", "stratified"] and summary["jobs"] == 2
    assert math.isfinite(summary["methods"]["lagging"]["final"]["mean_loss"])
    record = json.loads((out / "runs" / "lagging__seed0.json").read_text())
    assert record["policy"] == {"name": "floor", "inner": {"name": "lagging", "eta": 10.0}, "floor": 0.02}
    # --steps 4 makes rounds of one step with an evaluation after each: the weights of the round that ends at
    # step s follow the losses at steps s-2 and s-1 (the rule, then the 0.02 floor)
    assert (out / "config.yaml").read_text().count("round_steps: 1") == 1
    rows = {row["step"]: row for row in map(json.loads, (out / "metrics.jsonl").read_text().splitlines())
            if row["method"] == "lagging"}
    assert sorted(rows) == [0, 1, 2, 3, 4]
    skills = list(rows[0]["losses"])
    assert [rows[s]["weights"][n] for s in (0, 1) for n in skills] == pytest.approx([0.2] * 10)
    for step in (2, 3, 4):
        before = np.array([rows[step - 2]["losses"][n] for n in skills])
        after = np.array([rows[step - 1]["losses"][n] for n in skills])
        p = np.exp(-10.0 * (before - after) / before)
        expected = (1 - 5 * 0.02) * p / p.sum() + 0.02
        assert [rows[step]["weights"][n] for n in skills] == pytest.approx(expected.tolist(), abs=1e-9)
    assert not np.allclose([rows[4]["weights"][n] for n in skills], 0.2)  # the custom weights, not uniform
