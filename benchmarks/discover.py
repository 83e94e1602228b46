"""Skill recovery by loss-trajectory clustering against embedding baselines (Skill-It §2.3, Table 3).

    nice -n 10 python benchmarks/discover.py --data lego,addition,math_skills --seeds 3 --out runs/discover.json

For each data set and seed: the scored points are the task's validation examples (LEGO k=5 and
Addition k=3: 100 per skill, the paper's 500 LEGO points; math_skills: ``--math-per-skill`` per skill of
its validation file), and the runs train on the task's training pool with Dirichlet(1) mixtures over its
skills (the paper's protocol; the labels never enter the clustering). Prints ARI and accuracy per feature
set (mean ± std over seeds), the cost in training steps, and the wall time; writes every figure as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from skillit import build_task, load_skills
from skillit.discover import TrajectoryConfig, discover

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def data_set(name: str, seed: int, math_per_skill: int):
    """(scored examples, training pool) of a data set at a seed."""
    if name in ("lego", "addition"):
        k = 5 if name == "lego" else 3
        params = {"k": k, "validation_size": 100, "pool_proportions": [1.0] * k}
        if name == "lego":
            params["names"] = "fixed"  # the lego-demo's variables (learns within a CPU budget)
        pool = build_task(name, params, seed=seed)
        return [e for s in pool.skills for e in s.validation], pool
    folder = SHARED / "math_skills"
    pool = load_skills(folder / "train.jsonl", folder / "validation.jsonl", max_examples=2000,
                       max_validation=300)
    rng = np.random.default_rng(seed)
    scored = []
    for skill in pool.skills:
        picked = rng.choice(len(skill.validation), size=min(math_per_skill, len(skill.validation)), replace=False)
        scored += [skill.validation[i] for i in sorted(picked)]
    return scored, pool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="lego,addition,math_skills")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--checkpoint-every", type=int, default=25)
    parser.add_argument("--math-per-skill", type=int, default=40)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = []
    for name in args.data.split(","):
        for seed in range(args.seeds):
            started = time.perf_counter()
            scored, pool = data_set(name, seed, args.math_per_skill)
            truth = [e.skill for e in scored]
            k = len(set(truth))
            config = TrajectoryConfig(runs=args.runs, steps=args.steps, checkpoint_every=args.checkpoint_every,
                                      seed=seed, init_std=0.1)
            result = discover(scored, k, config=config, pool=pool, truth=truth,
                              analyzer="word" if name == "math_skills" else "char")
            wall = time.perf_counter() - started
            row = {"data": name, "seed": seed, "k": k, "n": len(scored), "scores": result.scores,
                   "cost": result.cost, "wall_seconds": wall}
            results.append(row)
            print(json.dumps(row), flush=True)
            if args.out is not None:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps(results, indent=1))
    print()
    print("| data | features | ARI | accuracy |")
    print("|---|---|---|---|")
    for name in args.data.split(","):
        rows = [r for r in results if r["data"] == name]
        for feature in rows[0]["scores"]:
            ari = [r["scores"][feature]["ari"] for r in rows]
            acc = [100 * r["scores"][feature]["accuracy"] for r in rows]
            print(f"| {name} | {feature} | {np.mean(ari):.3f} ± {np.std(ari):.3f} | {np.mean(acc):.1f} ± {np.std(acc):.1f} |")
        print(f"| {name} | cost | {rows[0]['cost']['train_steps']} train steps, {rows[0]['cost']['eval_examples']} "
              f"evaluated examples per seed; wall {np.mean([r['wall_seconds'] for r in rows]):.0f} s per seed | |")


if __name__ == "__main__":
    main()
