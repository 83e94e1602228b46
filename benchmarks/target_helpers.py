"""Which helpers a graph learner gives a target skill, seed by seed (the `real-text-finetune` question).

For each learner seed, learn the config's graph with ``skillit.experiment.graph_learning.learn_graph`` (the
code ``skillit graph`` runs) with the given ``graph_learning`` section, and print the target's column: the
training skills with a positive entry (its helpers), each scaled by the column's largest |entry|, and the
cost as a multiple of one training run. With ``--readouts`` (tracin only) the cached gradients are also
read with every control × similarity choice, at no extra cost.

    .venv/bin/python benchmarks/target_helpers.py [--config real-text-finetune] [--target scripture]
        [--seeds 0,1,2,3,4] [--section '{"method": "tracin", "params": {"eval_examples": 24}}'] [--readouts] [--out DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="real-text-finetune")
    parser.add_argument("--target", default="scripture")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--section", default='{"method": "tracin", "params": {"eval_examples": 24}}',
                        help="the graph_learning section (JSON, {method, params}; the old flat form still loads, "
                        "with a warning); unset params take the run-scaled defaults")
    parser.add_argument("--readouts", action="store_true", help="tracin: also every control × similarity read-out")
    parser.add_argument("--out", default="runs/target-helpers")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)

    from skillit.experiment.build import build_skillset
    from skillit.experiment.config import ExperimentConfig, load_config, upgrade_graph_learning
    from skillit.experiment.graph_learning import learn_graph, learner_for
    from skillit.graph_learners.runs import RunOutcome

    base = load_config(args.config)
    section = upgrade_graph_learning(json.loads(args.section), where="--section")  # the flat form: moved, warned
    for seed in (int(s) for s in args.seeds.split(",")):
        data = base.model_dump()
        data["graph_learning"] = {**section, "jobs": args.jobs, "seed": seed}
        config = ExperimentConfig.model_validate(data)
        out = Path(args.out) / f"{args.config}-{section['method']}" / f"seed{seed}"
        started = time.perf_counter()
        graph = learn_graph(config, out, jobs=args.jobs, plots=False)
        cost = graph.provenance["cost"]
        print(f"seed {seed}: {cost['train_steps']} steps = {cost['ratio_to_training_run']:.2f}x one run, "
              f"{time.perf_counter() - started:.0f} s; helpers of {args.target}: "
              f"{_helpers(graph.matrix, graph.train_skills, graph.eval_skills, args.target)}", flush=True)
        if args.readouts and section["method"] == "tracin":
            skillset = build_skillset(config, seed)
            outcomes = {p.stem: RunOutcome.from_dict(json.loads(p.read_text())) for p in (out / "work" / "runs").glob("*.json")}
            learner = learner_for(config)
            for control, similarity in itertools.product([True, False], ["cosine", "dot"]):
                variant = type(learner)({**learner.params.model_dump(), "control": control, "similarity": similarity})
                matrix, _ = variant.estimate(skillset, outcomes)
                print(f"    control {control!s:5} similarity {similarity:6}: "
                      f"{_helpers(matrix, skillset.train_names, skillset.eval_names, args.target)}", flush=True)


def _helpers(matrix, rows, columns, target: str) -> list[tuple[str, float]]:
    column = np.asarray(matrix, dtype=float)[:, list(columns).index(target)]
    top = np.abs(column).max() or 1.0
    return [(name, round(float(v / top), 3)) for name, v in zip(rows, column) if v > 0 and name != target]


if __name__ == "__main__":
    main()
