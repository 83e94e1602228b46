"""Measure the skills graphs shipped for the Natural Instructions configs (builtin:ni-finetune, ni-out-of-domain).

The paper's "brute-force" estimate (Skill-It §2.1/§3): from a common starting model, train on one
training skill i alone for h steps and record how much each evaluation skill's validation loss fell:

    A[i, j] = max(0, (L_j(before) - L_j(after training on i)) / L_j(before))

The starting model is the config's model after ``--base-steps`` stratified steps on the training skills
(from scratch, every skill first teaches the shared format and common words, which says little about
transfer). Same data, tokenizer and model as ``skillit run CONFIG``.

    .venv/bin/python benchmarks/ni_graph.py [--base-steps 100] [--probe-steps 50] [--seed 0] [--write]

Without ``--write`` the graphs are printed; with it they are saved to src/skillit/graph/builtin/.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch

from skillit.experiment.build import build_model, build_skillset, build_tokenizer, context_length, task_skillset
from skillit.experiment.config import load_config, shipped_config_path
from skillit.graph.skills_graph import SkillsGraph
from skillit.policy import Stratified
from skillit.trainer import TrainConfig, train

BUILTIN = Path(__file__).resolve().parents[1] / "src" / "skillit" / "graph" / "builtin"


def measure(name: str, base_steps: int, probe_steps: int, seed: int) -> SkillsGraph:
    config = load_config(shipped_config_path(name))
    full = task_skillset(config, seed)
    skills = build_skillset(config, seed, full)
    # columns: every evaluation skill of the task (fine-tuning: all 4 categories, so the graph is square)
    columns = skills.eval_names if config.setting == "out-of-domain" else full.eval_names
    rows = skills.train_names
    tokenizer = build_tokenizer(config, full)
    model = build_model(config, tokenizer, context_length(config, full, tokenizer), seed)
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    settings = {k: v for k, v in config.training.model_dump().items() if k in known}
    settings.update(seed=seed, checkpoint_every=None)

    def run(model, train_skills, steps):
        probe = full.select(train=train_skills, eval=columns)
        cfg = TrainConfig(**{**settings, "steps": steps, "round_steps": steps, "eval_every": steps,
                             "warmup_steps": min(settings["warmup_steps"], steps // 10)})
        return train(model, tokenizer, probe, Stratified(), cfg)

    if base_steps:
        run(model, rows, base_steps)
    matrix = np.zeros((len(rows), len(columns)))
    before = None
    for i, skill in enumerate(rows):
        records = run(copy.deepcopy(model), [skill], probe_steps).records
        before = records[0]["losses"]
        after = records[-1]["losses"]
        for j, column in enumerate(columns):
            matrix[i, j] = max(0.0, (before[column] - after[column]) / before[column])
    provenance = {
        "source": f"measured by benchmarks/ni_graph.py on the {name} config's data and model",
        "method": "brute-force: relative validation-loss decrease after training on one skill alone",
        "command": f".venv/bin/python benchmarks/ni_graph.py --base-steps {base_steps} --probe-steps {probe_steps} "
                   f"--seed {seed} --write",
        "base_steps": base_steps,
        "probe_steps": probe_steps,
        "seed": seed,
        "losses_before": {c: round(float(before[c]), 4) for c in columns} if before else {},
    }
    return SkillsGraph(np.round(matrix, 4), rows, columns, provenance)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-steps", type=int, default=100)
    parser.add_argument("--probe-steps", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="save to src/skillit/graph/builtin/")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name in ("ni-finetune", "ni-out-of-domain"):
        started = time.perf_counter()
        graph = measure(name, args.base_steps, args.probe_steps, args.seed)
        print(f"{name}: {graph!r} ({time.perf_counter() - started:.0f} s)")
        for row, values in zip(graph.train_skills, graph.matrix):
            print(f"  {row:<22}" + " ".join(f"{v:7.4f}" for v in values))
        if args.write:
            print("  wrote", graph.save(BUILTIN / f"{name}.json"))


if __name__ == "__main__":
    main()
