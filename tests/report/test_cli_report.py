"""End to end through the real `skillit` command with output redirected (not a terminal), as in a log."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.report.rundirs import make_run_dir
from tests.report.test_browser import console_messages, find_chromium, run_chromium

TINY = """\
name: tiny
task: {name: lego, params: {k: 3, validation_size: 6, train_pool_size: 300}}
model: {n_layer: 1, n_head: 2, n_embd: 16}
training: {steps: 8, batch_size: 8, round_steps: 4, eval_every: 4, warmup_steps: 2}
methods:
  skill-it: {params: {graph: prerequisites, eta: 0.5}}
  stratified: {}
seeds: [0]
"""


def skillit(*args, env=None):
    return subprocess.run([sys.executable, "-m", "skillit", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_redirected_run_prints_progress_lines_a_table_within_columns_and_the_report_path(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    out = tmp_path / "out"
    result = skillit("run", str(config), "--out", str(out), "--jobs", "1",
                     env={"SKILLIT_PROGRESS_SECONDS": "0", "COLUMNS": "72"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("progress: ") and "ETA" in line for line in lines)
    assert any(line.startswith("  skill-it seed 0: step ") for line in lines)
    assert "done skill-it seed 0: 8 steps" in result.stdout and "done stratified seed 0: 8 steps" in result.stdout
    assert max(len(line) for line in lines if line[:1] in "┏┃┡│└") <= 72  # COLUMNS honoured by the table
    assert lines[-1] == f"report: {out / 'report.html'}"
    assert "mixture weights over time" in (out / "report.html").read_text()
    if find_chromium() is not None:  # the report a run writes opens in the browser without console messages
        dom = run_chromium(out / "report.html", tmp_path / "profile", "--dump-dom")
        assert console_messages(dom.stderr) == [] and '<table class="methods' in dom.stdout


def test_report_and_tensorboard_commands(tmp_path):
    from typer.testing import CliRunner

    from skillit.cli import app

    runner = CliRunner()
    run = make_run_dir(tmp_path / "run")
    result = runner.invoke(app, ["report", str(run), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"report: {tmp_path / 'r.html'}" and (tmp_path / "r.html").is_file()
    missing = runner.invoke(app, ["report", str(tmp_path / "nothing")])
    assert missing.exit_code == 2 and "no summary.json" in missing.output and not (tmp_path / "nothing").exists()
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    result = runner.invoke(app, ["tensorboard", str(run)])
    assert result.exit_code == 0, result.output
    assert "6 run(s) written" in result.output and len(list((run / "tensorboard").iterdir())) == 6
    # several run directories into one --logdir: one folder each, by the run directory's name
    other = make_run_dir(tmp_path / "other")
    result = runner.invoke(app, ["tensorboard", str(run), str(other), "--logdir", str(tmp_path / "tb")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "tb").iterdir()) == ["other", "run"]
    assert len(list((tmp_path / "tb" / "other").iterdir())) == 6
    same = runner.invoke(app, ["tensorboard", str(run), str(tmp_path / "x" / "run"), "--logdir", str(tmp_path / "tb2")])
    assert same.exit_code == 2 and "['run'] name more than one" in same.output and not (tmp_path / "tb2").exists()
    # the second way, `report --tensorboard`, still writes the events and says what to run instead
    result = runner.invoke(app, ["report", str(other), "--out", str(tmp_path / "r2.html"), "--tensorboard"])
    assert result.exit_code == 0, result.output
    assert "`skillit report --tensorboard` is deprecated" in result.output
    assert f"run: skillit tensorboard {other}" in " ".join(result.output.split())
    assert len(list((other / "tensorboard").iterdir())) == 6
    assert "--tensorboard" not in runner.invoke(app, ["report", "--help"]).output


def test_graph_command_writes_a_graph_report(tmp_path):
    from typer.testing import CliRunner

    from skillit.cli import app
    from tests.graph.test_learn_experiment import TINY as GRAPH_CONFIG

    config = tmp_path / "tiny.yaml"
    config.write_text(GRAPH_CONFIG)
    result = CliRunner().invoke(app, ["graph", str(config), "--out", str(tmp_path / "g"), "--jobs", "1"],
                                env={"SKILLIT_PROGRESS_SECONDS": "0"})
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"report: {tmp_path / 'g' / 'report.html'}"
    assert "progress: " in result.output  # plain progress lines while the graph is learned
    text = (tmp_path / "g" / "report.html").read_text()
    assert 'alt="skills graph heatmap"' in text and "train steps" in text and "<th>var3</th>" in text
