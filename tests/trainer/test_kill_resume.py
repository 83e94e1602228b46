"""`skillit run` killed with SIGKILL mid-round, resumed, killed again, resumed again: nothing lost or repeated.

Real subprocesses (``skillit run --jobs 1``, one process). To kill at a known point rather than a lucky one,
the test pauses the run with SIGSTOP once it is past a target step, reads the latest checkpoint and the
draw log, and kills only when the checkpoint lies inside a round and the process has drawn steps beyond it
(work that the kill throws away and the resume must redo identically); otherwise it lets the run go on
with SIGCONT and looks again. The finished directory is compared with an uninterrupted run: every
evaluation record (seconds aside) bit for bit, and the draw log (every example drawn, per step).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from skillit.trainer.draw_log import read_draw_log

STEPS, ROUND, CHECKPOINT_EVERY = 160, 8, 5
CONFIG = f"""\
name: kill-resume
task: {{name: lego, params: {{k: 3, validation_size: 6, train_pool_size: 6000}}}}
model: {{n_layer: 1, n_head: 2, n_embd: 16}}
training: {{steps: {STEPS}, batch_size: 8, round_steps: {ROUND}, eval_every: 4, lr: 0.003, warmup_steps: 4,
           checkpoint_every: {CHECKPOINT_EVERY}, log_draws: true}}
methods:
  skill-it: {{params: {{graph: prerequisites, eta: 0.3, window: 2}}}}
  random: {{}}
seeds: [0]
"""
FIRST = "skill-it__seed0"  # the run that gets killed (twice); `random` runs after it
# pools of ~2000 per skill: no skill wraps into a second epoch, so any repeated (skill, index) is a bug


def skillit(*args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "skillit", *args, "--jobs", "1"], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def finish(process: subprocess.Popen, timeout: float = 300) -> str:
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(f"skillit did not finish in {timeout} s:\n{output[-3000:]}") from None
    assert process.returncode == 0, output[-3000:]
    return output


def kill_mid_round(process: subprocess.Popen, out: Path, after_step: int, timeout: float = 120) -> tuple[int, int]:
    """SIGKILL the run once it is past ``after_step`` with a mid-round checkpoint behind it.

    Returns (checkpoint step, last step drawn) at the moment of the kill.
    """
    draws = out / "draws" / f"{FIRST}.jsonl"
    checkpoint = out / "checkpoints" / FIRST / "checkpoint.pt"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be killed:\n" + process.stdout.read()[-3000:]
        if draws.is_file() and checkpoint.is_file():
            os.killpg(process.pid, signal.SIGSTOP)  # freeze it, then look
            drawn = read_draw_log(draws, drop_partial_tail=True)
            last = drawn[-1]["step"] if drawn else 0
            saved = torch.load(checkpoint, map_location="cpu", weights_only=False)["step"]
            if last >= after_step and saved % ROUND and last > saved and last % ROUND and last < STEPS:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                return saved, last
            os.killpg(process.pid, signal.SIGCONT)
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError(f"no mid-round moment past step {after_step} within {timeout} s")


def strip_seconds(line: dict) -> dict:
    return {k: v for k, v in line.items() if not k.endswith("seconds")}


@pytest.mark.slow
def test_killed_twice_and_resumed_equals_an_uninterrupted_run(tmp_path):
    (tmp_path / "cfg.yaml").write_text(CONFIG)
    baseline = skillit("run", "cfg.yaml", "--out", "straight", cwd=tmp_path)
    finish(baseline)

    first = skillit("run", "cfg.yaml", "--out", "killed", cwd=tmp_path)
    out = tmp_path / "killed"
    saved_1, drawn_1 = kill_mid_round(first, out, after_step=30)
    assert not (out / "runs" / f"{FIRST}.json").exists() and not (out / "metrics.jsonl").exists()

    second = skillit("run", "--resume", "killed", cwd=tmp_path)
    saved_2, drawn_2 = kill_mid_round(second, out, after_step=max(90, drawn_1 + ROUND))
    assert saved_2 > drawn_1  # the resumed process got well past the first kill before the second

    finish(skillit("run", "--resume", "killed", cwd=tmp_path))

    # every evaluation exactly once, identical to the uninterrupted run (timings aside)
    straight = [json.loads(line) for line in (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()]
    resumed = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [strip_seconds(r) for r in resumed] == [strip_seconds(r) for r in straight]
    steps = [r["step"] for r in resumed if r["method"] == "skill-it"]
    assert steps == list(range(0, STEPS + 1, 4))
    weights = [tuple(r["weights"].values()) for r in resumed if r["method"] == "skill-it"]
    assert len(set(weights)) > 3  # the trajectory really moves, so "identical" means something

    # the sequence of examples drawn: identical, each step once, nothing lost or repeated
    for run in (FIRST, "random__seed0"):
        log = read_draw_log(out / "draws" / f"{run}.jsonl")
        assert log == read_draw_log(tmp_path / "straight" / "draws" / f"{run}.jsonl")
        assert [e["step"] for e in log] == list(range(1, STEPS + 1))
        per_round: dict[int, list] = {}
        for entry in log:
            per_round.setdefault(entry["round"], []).extend(map(tuple, entry["draws"]))
        for round_index, draws in per_round.items():
            assert len(draws) == len(set(draws)) == ROUND * 8, f"round {round_index} lost or repeated an example"
        final = next(r for r in reversed(resumed) if r["method"] == run.split("__")[0])
        counts: dict[str, int] = {}
        for entry in log:
            for skill, _ in entry["draws"]:
                counts[skill] = counts.get(skill, 0) + 1
        assert counts == {k: v for k, v in final["examples_seen"].items() if v}
    print(f"killed at draws {drawn_1} (checkpoint {saved_1}) and {drawn_2} (checkpoint {saved_2})")
