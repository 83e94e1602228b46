"""STAT end to end on CPU with an oracle teacher: does the profile name the missing skill, and does STAT-Sel
fix it better than uniform resampling at an equal budget?

    PYTHONPATH=src nice -n 10 python benchmarks/stat_demo.py --seeds 5 [--json out.json]

Per seed (skillit.llm.oracles' digit-operations task, four skills of 100 facts each):
 1. pre-train a tiny GPT with one skill under-sampled (``--missing``, weight ``--undersample`` against 1);
 2. the student answers every validation question (greedy); its wrong answers are the difficult questions
    (exact match stands in for the paper's reward filter: the task has labels);
 3. the oracle teacher (through CallableBackend and the real STAT prompt/parser, ``--noise`` of its
    diagnoses also name a wrong skill) gives the missing-skill profile;
 4. three continuations of the same pre-trained model, each for ``--finetune-steps`` × ``--batch`` draws:
    uniform (``--budget`` examples, equal share per skill), STAT-Sel (``--budget`` examples chosen by
    ``stat_sel``, 5 per (question, skill) pair, subsampled) and the profile as a mixture prior (the
    ``Static`` policy from ``profile.as_policy()`` over the full training streams).
Prints per-seed rows and the mean ± SE over seeds of the missing skill's accuracy and of the others' mean.
"""

from __future__ import annotations

import argparse
import copy
import json
import time

import numpy as np
import torch

from skillit import GPT, CharTokenizer, GPTConfig, SkillSet, TrainConfig, train
from skillit.llm.backends import CallableBackend
from skillit.llm.oracles import ALPHABET, digit_ops_task, greedy_answers, oracle_teacher
from skillit.llm.stat import MissingSkillProfile, diagnose, stat_sel
from skillit.policies import Random, Static


def accuracies(result) -> dict[str, float]:
    return dict(result.final["accuracies"])


def continue_training(model, tokenizer, skillset, policy, args, seed):
    model = copy.deepcopy(model)
    config = TrainConfig(steps=args.finetune_steps, batch_size=args.batch, round_steps=args.finetune_steps,
                         eval_every=args.finetune_steps, lr=args.lr_finetune, warmup_steps=5, train_loss="text",
                         seed=seed)
    return accuracies(train(model, tokenizer, skillset, policy, config))


def run_seed(seed: int, args) -> dict:
    torch.manual_seed(seed)
    skills = digit_ops_task(seed=seed)
    names = skills.names
    tokenizer = CharTokenizer(ALPHABET)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=16, n_layer=2, n_head=4, n_embd=64, init_std=0.2))
    weights = {name: (args.undersample if name == args.missing else 1.0) for name in names}
    pre = train(model, tokenizer, skills, Static(weights),
                TrainConfig(steps=args.pretrain_steps, batch_size=64, round_steps=args.pretrain_steps,
                            eval_every=args.pretrain_steps, lr=3e-3, warmup_steps=20, train_loss="text", seed=seed))
    before = accuracies(pre)

    validation = [example for name in names for example in skills[name].validation]
    answers = greedy_answers(model, tokenizer, [e.prompt for e in validation])
    failures = [{"id": f"q{i}", "question": e.prompt, "response": a}
                for i, (e, a) in enumerate(zip(validation, answers)) if a != e.answer]
    teacher = CallableBackend(oracle_teacher(args.noise), name="oracle")
    records = [diagnose(teacher, item, names) for item in failures]
    profile = MissingSkillProfile.from_records(records, names)
    counts = profile.counts()

    pool = [skills[name].train.get(i) for name in names for i in range(args.pool_per_skill)]  # fixed training pool
    skill_map: dict[str, list[int]] = {}
    for index, example in enumerate(pool):
        skill_map.setdefault(example.skill, []).append(index)
    rng = np.random.default_rng(seed)
    per_skill = args.budget // len(names)
    uniform_ids = [int(i) for name in names for i in rng.choice(skill_map[name], size=per_skill, replace=False)]
    selected_ids = stat_sel(profile, skill_map, per_pair=5, budget=len(uniform_ids), seed=seed)

    def on_selection(ids):
        return SkillSet.from_examples([pool[i] for i in ids], validation, order=names)

    after = {
        "uniform": continue_training(model, tokenizer, on_selection(uniform_ids), Random(), args, seed),
        "stat-sel": continue_training(model, tokenizer, on_selection(selected_ids), Random(), args, seed),
        "profile-prior": continue_training(model, tokenizer, skills, profile.as_policy(), args, seed),
    }
    selected_share = sum(pool[i].skill == args.missing for i in selected_ids) / len(selected_ids)
    return {"seed": seed, "before": before, "failures": len(failures), "profile_counts": counts,
            "profile_top": max(counts, key=counts.get), "selected_share_missing": selected_share,
            "unmatched": sum(len(r["unmatched"]) for r in records), "after": after}


def mean_se(values) -> str:
    v = np.asarray(values, dtype=float)
    se = v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else 0.0
    return f"{v.mean():.3f} ± {se:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--missing", default="multiplication")
    parser.add_argument("--undersample", type=float, default=0.03)
    parser.add_argument("--noise", type=float, default=0.2)
    parser.add_argument("--pretrain-steps", type=int, default=300)
    parser.add_argument("--budget", type=int, default=512)
    parser.add_argument("--pool-per-skill", type=int, default=1000)
    parser.add_argument("--finetune-steps", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr-finetune", type=float, default=1e-3)
    parser.add_argument("--json", default=None, help="also write every seed's figures here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    rows = [run_seed(seed, args) for seed in range(args.seeds)]
    others = lambda acc: np.mean([v for k, v in acc.items() if k != args.missing])  # noqa: E731
    print(f"missing skill: {args.missing} (pre-training weight {args.undersample} vs 1), teacher noise {args.noise}, "
          f"budget {args.budget} examples, {args.finetune_steps} steps x {args.batch}")
    print("seed  failures  profile top (count of missing / all)  selected share  "
          f"{args.missing} acc: before  uniform  stat-sel  profile-prior")
    for r in rows:
        c = r["profile_counts"]
        print(f"{r['seed']:>4}  {r['failures']:>8}  {r['profile_top']:>14} ({c[args.missing]}/{sum(c.values())})"
              f"{'':>12}{r['selected_share_missing']:>6.2f}          {r['before'][args.missing]:.2f}    "
              f"{r['after']['uniform'][args.missing]:.2f}     {r['after']['stat-sel'][args.missing]:.2f}      "
              f"{r['after']['profile-prior'][args.missing]:.2f}")
    print(f"profile names {args.missing} first in {sum(r['profile_top'] == args.missing for r in rows)}/{len(rows)} seeds")
    for label, key in (("before", None), ("uniform", "uniform"), ("stat-sel", "stat-sel"), ("profile-prior", "profile-prior")):
        accs = [r["before"] if key is None else r["after"][key] for r in rows]
        print(f"{label:>14}: {args.missing} {mean_se([a[args.missing] for a in accs])}   "
              f"other skills {mean_se([others(a) for a in accs])}")
    gain = [r["after"]["stat-sel"][args.missing] - r["after"]["uniform"][args.missing] for r in rows]
    print(f"stat-sel − uniform on {args.missing}: {mean_se(gain)} (positive in {sum(g > 0 for g in gain)}/{len(gain)} seeds)")
    print(f"wall time {time.perf_counter() - started:.0f} s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "seeds": rows}, handle, indent=2)


if __name__ == "__main__":
    main()
