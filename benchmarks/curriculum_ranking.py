"""What the example-level curricula see first: the answer and skill mix of the initial model's easiest/hardest 20 %.

    python benchmarks/curriculum_ranking.py [CONFIG] [--seed 0] [--fraction 0.2]

Scores every example of the config's finite training pool with the seed's *initial* model (the ranking
``curriculum`` and ``anti-curriculum`` use, skillit.policy.curriculum) and prints the share of each answer
and each skill in the whole pool, in the easiest ``fraction`` (curriculum's first round with T = 1/fraction
rounds) and in the hardest (anti-curriculum's first round), ranked and paced by the policies themselves.
docs/results.md quotes it for addition-pretrain and lego-pretrain.
"""

from __future__ import annotations

import argparse
from collections import Counter

import torch

from skillit.experiment.build import build_model, build_tokenizer, context_length, task_skillset
from skillit.experiment.config import load_config
from skillit.policy import AntiCurriculum, Curriculum
from skillit.policy.base import PolicyContext
from skillit.trainer.evaluation import pool_answer_losses


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
    pools = {}
    for skill in skills.skills:
        if skill.train is None or skill.train.size is None:
            parser.error(f"{args.config}: skill {skill.name!r} has no finite pool (set task.params.train_pool_size)")
        pools[skill.name] = skill.train
    scores = pool_answer_losses(model, tokenizer, pools, batch_size=1024, max_length=length)
    context = PolicyContext(train_skills=tuple(pools), pool_sizes=tuple(p.size for p in pools.values()),
                            n_rounds=round(1 / args.fraction), score_pool=lambda: scores)
    print(f"{args.config}, seed {args.seed}: {sum(p.size for p in pools.values())} pool examples scored by the initial model")
    every = [(name, i) for name, pool in pools.items() for i in range(pool.size)]
    print(f"whole pool:\n  answers  {shares([pools[n].get(i).answer for n, i in every])}"
          f"\n  skills   {shares([n for n, _ in every])}")
    for title, policy in ((f"curriculum, first round (easiest {args.fraction:.0%})", Curriculum()),
                          (f"anti-curriculum, first round (hardest {args.fraction:.0%})", AntiCurriculum())):
        state = policy.init(context)  # the policy's own ranking and pacing
        names = list(pools)
        first = [(names[s], i) for s, i in zip(state["ranked_skill"], state["ranked_example"])][: policy.admitted(state)]
        print(f"{title}:\n  answers  {shares([pools[n].get(i).answer for n, i in first])}"
              f"\n  skills   {shares([n for n, _ in first])}")


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()
