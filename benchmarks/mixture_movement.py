"""How far each method's training mixture moved during its runs: did an online policy actually mix?

    python benchmarks/mixture_movement.py runs/arena/lego-finetune runs/arena-peers/lego-finetune

For every run directory (one benchmark each, as `skillit run` writes it) and every method in it, prints
the movement M = mean over seeds of max_t max_k |p_k(t) − p_k(0)|: the largest change of any skill's weight
from the run's first mixture, read from the mixtures in force at the regular evaluations (steps that are
multiples of ``training.eval_every``, and the last step). Probe sub-rounds (Aioli's one-hot-ish probe
mixtures, recorded at their own evaluation steps) are left out: they are measurements, not the mixture the
run trains on. M = 0 for a static mixture; an online policy with M ≈ 0 trained on (almost) its initial
mixture, so its result against stratified cannot come from its update rule.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import yaml

from skillit.errors import SkillitError
from skillit.records.layout import RunLayout, read_summary


def movement(run_dir: Path, summary: dict | None = None) -> dict[str, float]:
    """{method: mean over seeds of the largest |p_k(t) − p_k(0)| over the regular evaluations}.

    ``summary``: the run's summary.json when the caller has read it already.
    """
    summary = summary if summary is not None else read_summary(run_dir)
    training = yaml.safe_load(RunLayout(run_dir).config.read_text())["training"]
    every, last = int(training["eval_every"]), int(summary["steps"])
    per_run: dict[tuple[str, int], list[dict[str, float]]] = {}
    for line in RunLayout(run_dir).read_metrics():
        if line["step"] % every == 0 or line["step"] == last:
            per_run.setdefault((line["method"], int(line["seed"])), []).append(line["weights"])
    out = {}
    for method in summary["methods"]:
        seeds = [weights for (m, _), weights in per_run.items() if m == method]
        moved = [max(abs(w[k] - run[0][k]) for w in run for k in run[0]) for run in seeds]
        out[method] = float(np.mean(moved)) if moved else float("nan")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for run_dir in args.run_dirs:
        try:
            summary = read_summary(run_dir)
            moved = movement(run_dir, summary)
        except (SkillitError, OSError, KeyError) as exc:
            print(f"error: {run_dir}: {exc}", file=sys.stderr)
            return 2
        print(f"{summary.get('name') or run_dir.name} ({run_dir})")
        for method, value in moved.items():
            print(f"  {method:28} {value:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
