"""The analysis script docs/results.md quotes (benchmarks/at_step.py), run as the docs run it, on a run
directory whose figures are known by hand."""

import subprocess
import sys
from pathlib import Path

from skillit.records.metrics import RunRecord, write_metrics
from skillit.records.summary import summarize
from skillit.utils.io import atomic_write_json

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "at_step.py"


def run_dir(tmp_path: Path) -> Path:
    runs = []
    for seed, (loss, acc) in enumerate([(0.2, 1.0), (0.4, 0.5)]):
        records = [{"step": 0, "losses": {"a": 1.0}, "accuracies": {"a": 0.0}, "weights": {"a": 1.0}},
                   {"step": 10, "losses": {"a": loss}, "accuracies": {"a": acc}, "weights": {"a": 1.0}}]
        runs.append(RunRecord("m", seed, {}, records, 10, 1.0, 0.1, 4))
    out = tmp_path / "run"
    write_metrics(out / "metrics.jsonl", runs)
    atomic_write_json(out / "summary.json", summarize(runs, task="t", setting="pretrain", steps=10,
                                                     objective_skills=["a"], target_loss=None))
    return out


def test_at_step_prints_means_stds_and_per_seed_steps_to_a_loss(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), str(run_dir(tmp_path)), "--steps", "0,10",
                             "--targets", "0.3"], capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    assert lines[2].split() == ["m", "0", "1.000±0.000", "0.0±", "0.0", "0.0", "0.0"]
    assert lines[3].split() == ["m", "10", "0.300±0.100", "75.0±25.0", "100.0", "50.0"]
    assert lines[-1].split() == ["m", "≤", "0.3", "10", "—"]  # seed 1 (0.4) never reaches 0.3: no mean


def test_at_step_refuses_a_folder_that_is_not_a_run(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2 and "not a finished run directory" in result.stderr
