"""Mean ± std over seeds of the objective skills' loss and accuracy at given evaluation steps of a run.

    python benchmarks/at_step.py runs/bench/lego-pretrain --steps 1500,3000
    python benchmarks/at_step.py runs/bench/lego-finetune --targets 0.1,0.2   # first step ≤ each loss, per seed

Reads the run directory's ``summary.json`` (objective skills, method order) and ``metrics.jsonl``; prints
one row per method and step, plus the per-seed accuracies. docs/results.md quotes its mid-training figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from skillit.errors import DataError
from skillit.records.layout import METRICS, SUMMARY, RunLayout
from skillit.records.summary import steps_to_target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--steps", default="", help="comma-separated evaluation steps (default: the last)")
    parser.add_argument("--targets", default="", help="comma-separated losses: first step each seed reaches them")
    args = parser.parse_args()
    try:
        summary = RunLayout(args.run_dir).read_summary()
    except DataError as exc:
        parser.error(str(exc))
    if not RunLayout(args.run_dir).metrics.is_file():
        parser.error(f"{args.run_dir}: not a finished run directory (needs {SUMMARY} and {METRICS})")
    skills = summary["objective_skills"]
    lines = RunLayout(args.run_dir).read_metrics()
    steps = [int(s) for s in args.steps.split(",") if s] or [summary["steps"]]
    print(f"{args.run_dir}: objective skills {', '.join(skills)}; mean ± std over seeds {summary['seeds']}")
    print(f"{'method':24} {'step':>6} {'loss':>13} {'acc %':>11}  per-seed acc %")
    for method in summary["methods"]:
        for step in steps:
            rows = sorted((r for r in lines if r["method"] == method and r["step"] == step), key=lambda r: r["seed"])
            if not rows:
                continue
            loss = np.array([np.mean([r["losses"][s] for s in skills]) for r in rows])
            acc = 100 * np.array([np.mean([r["accuracies"][s] for s in skills]) for r in rows])
            seeds = " ".join(f"{a:.1f}" for a in acc)
            print(f"{method:24} {step:>6} {loss.mean():6.3f}±{loss.std():.3f} {acc.mean():5.1f}±{acc.std():4.1f}  {seeds}")
    targets = [float(t) for t in args.targets.split(",") if t]
    if targets:
        print("\nfirst evaluation step at which the objective skills' mean loss is ≤ the target, per seed (— never)")
        for method in summary["methods"]:
            runs = {}
            for line in lines:
                if line["method"] == method:
                    runs.setdefault(line["seed"], []).append(line)
            for target in targets:
                reached = [steps_to_target(sorted(runs[seed], key=lambda r: r["step"]), skills, target) for seed in sorted(runs)]
                shown = " ".join("—" if r is None else str(r) for r in reached)
                mean = "" if None in reached else f"  mean {np.mean(reached):.0f}"
                print(f"{method:24} ≤ {target:<6} {shown}{mean}")


if __name__ == "__main__":
    main()
