"""The two measurement scripts docs/llm-skills.md quotes, run as the docs run them at a toy size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(script, *args, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    out = tmp_path / "out.json"
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *map(str, args), "--json", str(out)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, json.loads(out.read_text())


@pytest.mark.slow
def test_stat_demo_prints_its_table(tmp_path):
    stdout, data = run("stat_demo.py", "--seeds", 1, "--pretrain-steps", 5, "--finetune-steps", 2, "--budget", 16,
                       "--pool-per-skill", 10, tmp_path=tmp_path)
    assert "stat-sel − uniform on multiplication" in stdout and "profile names multiplication first" in stdout
    row = data["seeds"][0]
    assert set(row["after"]) == {"uniform", "stat-sel", "profile-prior"} and row["failures"] > 0


@pytest.mark.slow
def test_graft_demo_prints_its_curve(tmp_path):
    stdout, data = run("graft_demo.py", "--seeds", 1, "--pretrain-steps", 5, "--finetune-steps", 2,
                       "--sparsities", 0.01, "--graft-steps", 1, tmp_path=tmp_path)
    assert "mask overlap at sparsity 0.01" in stdout
    assert [c["sparsity"] for c in data["seeds"][0]["A"]["curve"]] == [0.01]
