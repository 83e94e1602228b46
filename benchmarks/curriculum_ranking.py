"""What the example-level curricula see first: the answer and skill mix of the initial model's easiest/hardest 20 %.

    python benchmarks/curriculum_ranking.py [CONFIG] [--seed 0] [--fraction 0.2]

Scores every example of the config's finite training pool with the seed's *initial* model (the ranking
``curriculum`` and ``anti-curriculum`` use, skillit.policy.curriculum) and prints the share of each answer
and each skill in the whole pool, in the easiest ``fraction`` (curriculum's first round with T = 1/fraction
rounds) and in the hardest (anti-curriculum's first round). docs/results.md quotes it for addition-pretrain.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
import torch

from skillit.experiment.config import load_config
from skillit.experiment.runner import build_model, build_tokenizer, context_length, task_skillset
from skillit.trainer.evaluation import answer_metrics


def shares(values: list[str]) -> str:
    counts = Counter(values)
    return ", ".join(f"{key}: {counts[key] / len(values):.3f}" for key in sorted(counts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default="addition-pretrain")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fraction", type=float, default=0.2)
    args = parser.parse_args()
    config = load_config(args.config)
    skills = task_skillset(config, args.seed)
    tokenizer = build_tokenizer(config, skills)
    length = context_length(config, skills, tokenizer)
    model = build_model(config, tokenizer, length, args.seed)
    examples, losses = [], []
    for skill in skills.skills:
        if skill.train.size is None:
            parser.error(f"{args.config}: skill {skill.name!r} has no finite pool (set task.params.train_pool_size)")
        pool = [skill.train.get(i) for i in range(skill.train.size)]
        losses.append(answer_metrics(model, tokenizer, pool, batch_size=1024, max_length=length)[0])
        examples += pool
    order = np.argsort(np.concatenate(losses), kind="stable")  # the curricula's ranking, easiest first
    cut = int(len(order) * args.fraction)
    print(f"{args.config}, seed {args.seed}: {len(order)} pool examples scored by the initial model")
    for title, index in (("whole pool", order), (f"easiest {args.fraction:.0%}", order[:cut]),
                         (f"hardest {args.fraction:.0%}", order[-cut:])):
        print(f"{title}:\n  answers  {shares([examples[i].answer for i in index])}"
              f"\n  skills   {shares([examples[i].skill for i in index])}")


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()
