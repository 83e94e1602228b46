"""The mean training mixture of a finished run, per method (skillit.report.mixtures), and `skillit mixture`.

A run directory written by hand, skills a and b, each record the mixture in force since the previous one:

    online, seed 0: steps 0, 4, 10 with a = 0.5, 0.5, 0.2  →  (4·0.5 + 6·0.2)/10 = 0.32
    online, seed 1: steps 0, 5, 10 with a = 0.5, 0.6, 1.0  →  (5·0.6 + 5·1.0)/10 = 0.80
    mean over seeds: a = 0.56, b = 0.44; seed spread max |0.32 − 0.56| = 0.24
    target, seed 0: a = 1 at every step                      →  a = 1, b = 0 (b left out of the static export)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from skillit.errors import DataError
from skillit.policy.registry import build_policy
from skillit.report.mixtures import run_mixtures
from skillit.utils.io import atomic_write_json
from tests.policy.helpers import context

WEIGHTS_OF_A = {("online", 0): [(0, 0.5), (4, 0.5), (10, 0.2)],
                ("online", 1): [(0, 0.5), (5, 0.6), (10, 1.0)],
                ("target", 0): [(0, 1.0), (10, 1.0)]}


def make_run(path, weights_of_a=WEIGHTS_OF_A):
    path.mkdir(parents=True, exist_ok=True)
    methods = sorted({method for method, _ in weights_of_a})
    atomic_write_json(path / "summary.json", {"name": "hand", "methods": {m: {} for m in methods}})
    lines = [{"method": method, "seed": seed, "step": step, "weights": {"a": a, "b": 1.0 - a}}
             for (method, seed), steps in weights_of_a.items() for step, a in steps]
    (path / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_per_seed_step_weighted_means_and_their_mean(tmp_path):
    found = run_mixtures(make_run(tmp_path / "run"))
    assert list(found) == ["online", "target"]  # the summary's order
    online = found["online"]
    assert online.skills == ("a", "b")
    assert online.per_seed[0] == pytest.approx({"a": 0.32, "b": 0.68})
    assert online.per_seed[1] == pytest.approx({"a": 0.80, "b": 0.20})
    assert online.mean == pytest.approx({"a": 0.56, "b": 0.44})
    assert online.seed_spread == pytest.approx(0.24)
    assert found["target"].seed_spread == 0.0
    assert found["target"].mean == pytest.approx({"a": 1.0, "b": 0.0})


def test_static_export_rounds_drops_zero_skills_and_builds_the_same_mixture(tmp_path):
    found = run_mixtures(make_run(tmp_path / "run"))
    assert found["online"].as_static(2) == {"policy": "static", "params": {"weights": {"a": 0.56, "b": 0.44}}}
    assert found["target"].as_static() == {"policy": "static", "params": {"weights": {"a": 1.0}}}
    entry = found["online"].as_static(4)
    policy = build_policy(entry["policy"], entry["params"])
    assert policy.weights(policy.init(context(train=("a", "b")))) == pytest.approx([0.56, 0.44])


def test_choosing_methods_and_refusals(tmp_path):
    run = make_run(tmp_path / "run")
    assert list(run_mixtures(run, ["target"])) == ["target"]
    with pytest.raises(DataError, match=r"no method 'nope': its methods are online, target"):
        run_mixtures(run, ["nope"])
    (run / "metrics.jsonl").unlink()
    with pytest.raises(DataError, match="metrics.jsonl' is missing"):
        run_mixtures(run)
    with pytest.raises(DataError, match="not a finished run directory"):
        run_mixtures(tmp_path / "nowhere")


def test_a_run_whose_records_cover_no_step_is_refused_with_method_and_seed(tmp_path):
    run = make_run(tmp_path / "run", {("online", 3): [(0, 0.5)]})
    with pytest.raises(DataError, match=r"method 'online', seed 3: average_mixture: the records cover no training step"):
        run_mixtures(run)


def test_cli_prints_the_shares_and_static_methods_that_load(tmp_path):
    run = make_run(tmp_path / "run")
    result = subprocess.run([sys.executable, "-m", "skillit", "mixture", str(run), "--decimals", "3"],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "120"})
    assert result.returncode == 0, result.stderr
    assert "a 0.560, b 0.440" in result.stdout and "0.240" in result.stdout  # the shares and the seed spread
    pasted = [line for line in result.stdout.splitlines() if line.startswith("  ") and "-average:" in line]
    assert yaml.safe_load("\n".join(line[2:] for line in pasted)) == {
        "online-average": {"policy": "static", "params": {"weights": {"a": 0.56, "b": 0.44}}},
        "target-average": {"policy": "static", "params": {"weights": {"a": 1.0}}},
    }
    refused = subprocess.run([sys.executable, "-m", "skillit", "mixture", str(run), "--methods", "nope"],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "no method 'nope'" in refused.stderr
