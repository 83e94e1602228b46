"""Data parallelism with real processes: 2 torchrun ranks (gloo, CPU) against a 1-process run on the same data.

Weights and losses are compared with a tight tolerance, not bit for bit: a 2-rank run sums the per-skill
validation losses and the gradients in a different order (two shards, then an all-reduce), so the
floating-point results differ in the last bits (measured: losses ~1e-7, weights ~1e-15 apart). The drawn
examples are compared exactly: both runs plan the same global batches, and each rank takes its slots.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from skillit.errors import ConfigError
from skillit.experiment.config import parse_config
from skillit.experiment.runner import run_experiment
from skillit.trainer.distributed import ProcessGroup, init_process_group, torchrun_env
from skillit.trainer.draw_log import read_draw_log
from tests.processes import run_tree

CONFIG = """\
name: ddp-test
task: {name: lego, params: {k: 3, validation_size: 9, train_pool_size: 3000}}
model: {n_layer: 1, n_head: 2, n_embd: 16}
training: {steps: 24, batch_size: 8, round_steps: 6, eval_every: 3, lr: 0.003, warmup_steps: 2, log_draws: true}
methods:
  skill-it: {params: {graph: prerequisites, eta: 0.3}}
seeds: [0]
"""


def torchrun(nproc: int, *args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """``torchrun --standalone`` (a free local port); the whole process tree is killed at the end."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
               "-m", "skillit", "run", *args]
    return run_tree(command, cwd=cwd, env=env, timeout=timeout)


def metrics(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_two_ranks_follow_the_one_process_trajectory_and_split_every_batch(tmp_path):
    (tmp_path / "cfg.yaml").write_text(CONFIG)
    done = torchrun(2, "cfg.yaml", "--out", "ddp", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_experiment(parse_config(CONFIG), tmp_path / "single", jobs=1)

    two, one = metrics(tmp_path / "ddp" / "metrics.jsonl"), metrics(tmp_path / "single" / "metrics.jsonl")
    assert [r["step"] for r in two] == [r["step"] for r in one] == list(range(0, 25, 3))
    weights_two = np.array([list(r["weights"].values()) for r in two])
    weights_one = np.array([list(r["weights"].values()) for r in one])
    assert np.ptp(weights_one[:, 0]) > 0.05  # the policy really moves the weights between rounds
    np.testing.assert_allclose(weights_two, weights_one, rtol=0, atol=1e-6)
    for a, b in zip(two, one):
        assert a["examples_seen"] == b["examples_seen"]
        assert a["round"] == b["round"]
        np.testing.assert_allclose(list(a["losses"].values()), list(b["losses"].values()), rtol=1e-5)
        if b["train_loss"] is not None:
            assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
    summary = json.loads((tmp_path / "ddp" / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["backend"] == "gloo"

    ranks = [read_draw_log(tmp_path / "ddp" / "draws" / f"skill-it__seed0.rank{r}.jsonl") for r in (0, 1)]
    single = read_draw_log(tmp_path / "single" / "draws" / "skill-it__seed0.jsonl")
    assert [e["step"] for e in single] == [e["step"] for e in ranks[0]] == [e["step"] for e in ranks[1]] == list(range(1, 25))
    per_round: dict[int, list[tuple[str, int]]] = {}
    for whole, r0, r1 in zip(single, *ranks):
        assert len(r0["draws"]) == len(r1["draws"]) == 4  # global batch 8 over 2 ranks
        assert r0["draws"] == whole["draws"][0::2] and r1["draws"] == whole["draws"][1::2]  # slots rank, rank + W
        assert r0["round"] == r1["round"] == whole["round"]
        per_round.setdefault(whole["round"], []).extend(map(tuple, r0["draws"] + r1["draws"]))
    for round_index, draws in per_round.items():
        assert len(draws) == 6 * 8
        assert len(set(draws)) == len(draws), f"an example was drawn twice in round {round_index}"


@pytest.mark.slow
def test_a_bad_global_batch_fails_on_every_rank_with_one_message(tmp_path):
    (tmp_path / "cfg.yaml").write_text(CONFIG.replace("batch_size: 8", "batch_size: 7"))
    done = torchrun(2, "cfg.yaml", "--out", "bad", cwd=tmp_path)
    assert done.returncode != 0
    assert "training.batch_size 7 must split evenly over 2 rank(s)" in done.stderr
    assert done.stderr.count("error:") == 1  # rank 0 prints, rank 1 stays quiet
    assert not (tmp_path / "bad").exists()  # checked before anything is written


@pytest.mark.slow
def test_every_rank_follows_rank_0s_claim_of_the_run_folder(tmp_path):
    """The same config again continues on every rank (nothing retrained); another config is refused on every
    rank with one message and every file unchanged (RunDirectory.claim, decided by rank 0)."""
    (tmp_path / "cfg.yaml").write_text(CONFIG.replace("steps: 24", "steps: 6").replace("log_draws: true", "log_draws: false"))
    first = torchrun(2, "cfg.yaml", "--out", "ddp", cwd=tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    files = {path: path.read_bytes() for path in (tmp_path / "ddp").rglob("*") if path.is_file() and path.parent.name == "runs"}
    again = torchrun(2, "cfg.yaml", "--out", "ddp", cwd=tmp_path)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert files and {path: path.read_bytes() for path in files} == files
    before = {path: path.read_bytes() for path in (tmp_path / "ddp").rglob("*") if path.is_file()}
    other = torchrun(2, "cfg.yaml", "--out", "ddp", "--steps", "3", cwd=tmp_path)
    assert other.returncode != 0
    assert other.stderr.count("error:") == 1 and "holds a run of another configuration" in other.stderr
    assert {path: path.read_bytes() for path in (tmp_path / "ddp").rglob("*") if path.is_file()} == before


def test_outside_torchrun_is_a_single_process(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert torchrun_env() == (0, 1, 0)
    group = init_process_group()
    assert group == ProcessGroup() and group.distributed.all_reduce is None and group.is_main


def test_torchrun_env_is_checked(monkeypatch):
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match="RANK=3 is outside WORLD_SIZE=2"):
        torchrun_env()


@pytest.mark.slow
def test_skillit_run_under_torchrun_prints_the_header_and_progress_once_from_rank_0(tmp_path):
    """``torchrun ... -m skillit run``: rank 0 prints what a plain (redirected) run prints, the other rank nothing."""
    (tmp_path / "cfg.yaml").write_text(CONFIG.replace("steps: 24", "steps: 6").replace("log_draws: true", "log_draws: false")
                                       .replace("  skill-it:", "  stratified: {}\n  skill-it:"))
    # COLUMNS: wide enough that the header stays one line whatever the calling terminal's width
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", "SKILLIT_PROGRESS_SECONDS": "0",
           "COLUMNS": "200"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "skillit", "run", "cfg.yaml", "--out", "ddp"]
    done = run_tree(command, cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    header = ("ddp-test: 2 method(s) × 1 seed(s) = 2 run(s) of 6 steps on lego (pretrain), data-parallel over 2 "
              "torchrun rank(s) → ddp")
    assert done.stdout.count(header) == 1, done.stdout
    assert any(line.startswith("progress: ") for line in done.stdout.splitlines())
    assert done.stdout.count("done stratified seed 0: 6 steps") == done.stdout.count("done skill-it seed 0: 6 steps") == 1
    assert done.stdout.index(header) < done.stdout.index("done skill-it seed 0") < done.stdout.index("report: ")


def test_the_former_torchrun_entry_point_warns_and_becomes_skillit_run(monkeypatch):
    """``-m skillit.experiment.distributed_run ARGS`` (deprecated, issue 27) is replaced by ``-m skillit run ARGS``."""
    from skillit.experiment import distributed_run

    replaced = []
    monkeypatch.setattr(distributed_run.os, "execv", lambda path, argv: replaced.append((path, argv)))
    monkeypatch.delenv("RANK", raising=False)
    with pytest.warns(DeprecationWarning, match=r"distributed_run` is deprecated.*run: torchrun \.\.\. -m skillit run "
                                                r"cfg\.yaml --out 'my dir' --backend gloo"):
        distributed_run.main(["cfg.yaml", "--out", "my dir", "--backend", "gloo"])
    assert replaced == [(sys.executable, [sys.executable, "-m", "skillit", "run", "cfg.yaml", "--out", "my dir",
                                          "--backend", "gloo"])]


def test_backend_is_refused_outside_torchrun(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from skillit.cli import app

    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "cfg.yaml").write_text(CONFIG)
    result = CliRunner().invoke(app, ["run", str(tmp_path / "cfg.yaml"), "--out", str(tmp_path / "out"),
                                      "--backend", "gloo"])
    assert result.exit_code == 2 and "it applies under torchrun only" in result.output
    assert not (tmp_path / "out").exists()
