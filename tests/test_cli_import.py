"""`skillit run --import MODULE`: imported before the config is checked, in every --jobs worker, kept for --resume."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from tests.plugin_helpers import DOCS, code_blocks, section

MODULE = code_blocks(section(DOCS / "policies.md", "Your own policy"), "python")[0]  # registers `lagging`

TINY = """\
name: tiny-own
task: {name: lego, params: {k: 3, validation_size: 6, train_pool_size: 300}}
model: {n_layer: 1, n_head: 2, n_embd: 16}
training: {steps: 4, batch_size: 8, round_steps: 2, eval_every: 2, warmup_steps: 1}
methods:
  lagging: {params: {eta: 5.0}}
  stratified: {}
seeds: [0]
"""


def skillit(*args, cwd):
    return subprocess.run([sys.executable, "-m", "skillit", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@pytest.mark.parametrize("imports, extra, message", [
    ("", ["--import", "my_policies,nope_xyz"], "error: --import (with config configs/tiny.yaml): cannot import module "
     "'nope_xyz': no module named 'nope_xyz'"),
    ("imports: [my_polices]\n", [], "error: configs/tiny.yaml:9: imports.0: cannot import module 'my_polices': no "
     "module named 'my_polices'"),
    ("", [], "unknown policy 'lagging'; choices: ado, aioli"),  # every registered name, in registration order
])
def test_a_module_that_cannot_be_imported_stops_the_run_before_anything_is_written(tmp_path, imports, extra, message):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "tiny.yaml").write_text(TINY + imports)
    (tmp_path / "my_policies.py").write_text(MODULE)
    result = skillit("run", "configs/tiny.yaml", "--out", "out", *extra, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_import_option_trains_the_policy_in_workers_and_resume_imports_it_again(tmp_path):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "tiny.yaml").write_text(TINY)
    (tmp_path / "my_policies.py").write_text(MODULE)  # in the current folder, not the config's
    result = skillit("run", "configs/tiny.yaml", "--import", "my_policies", "--jobs", "2", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert list(summary["methods"]) == ["lagging", "stratified"] and summary["jobs"] == 2
    assert yaml.safe_load((tmp_path / "out" / "config.yaml").read_text())["imports"] == ["my_policies"]
    again = skillit("run", "--resume", "out", cwd=tmp_path)  # imports: of out/config.yaml, found in the cwd
    assert again.returncode == 0, again.stderr
    assert "2 of 2 run(s) finished earlier, kept" in again.stdout
