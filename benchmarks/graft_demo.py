"""Skill localization by grafting on CPU: how few parameters carry a skill learned by fine-tuning?

    PYTHONPATH=src nice -n 10 python benchmarks/graft_demo.py --seeds 3 [--json out.json]

Per seed (skillit.llm.oracles' digit-operations task):
 1. pre-train a tiny GPT (skillit's trainer, AdamW) on addition and subtraction, with multiplication and
    maxmin rare (weight ``--undersample`` against 1): the base knows a little of A and B, as a pre-trained
    model knows a little of a downstream task;
 2. fine-tune two copies with plain SGD (the paper's setting for localization), one on multiplication
    (skill A), one on maxmin (skill B);
 3. graft A at each sparsity: the top-movement start alone (0 steps) and after ``--graft-steps`` mask steps
    (skillit.llm.grafting.graft; every parameter may be grafted, embeddings and head included, since the
    15-token vocabulary makes them 3 % of the model; ``--exclude-embeddings`` follows the paper); report accuracy on A's 100 facts
    (which the mask is also fitted on: the skill is the table), the share of the fine-tuning gain kept, and
    the grafted model's accuracy on the base skills against the fine-tuned model's (forgetting);
 4. graft B at ``--overlap-sparsity`` and compare the two masks' overlap |A ∩ B| / |B| with the overlap two
    random masks of those sizes would have (|A| / d).
"""

from __future__ import annotations

import argparse
import copy
import json
import time

import numpy as np
import torch

from skillit import GPT, CharTokenizer, GPTConfig, TrainConfig, train
from skillit.llm.grafting import (
    DEFAULT_EXCLUDE,
    answer_accuracy,
    answer_loss,
    apply_graft,
    graft,
    mask_overlap,
    overlap_graph,
)
from skillit.llm.oracles import ALPHABET, digit_ops_task
from skillit.policies import Static

BASE_SKILLS = ("addition", "subtraction")


def sgd_finetune(model, tokenizer, skillset, skill, args, seed):
    """Plain SGD with momentum on one skill's answer loss."""
    model = copy.deepcopy(model)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.sgd_lr, momentum=0.9)
    source = skillset[skill].train
    offset = 10_000 * (seed + 1)  # training draws apart from the pre-training stream
    for step in range(args.finetune_steps):
        batch = [source.get(offset + step * args.batch + i) for i in range(args.batch)]
        loss = answer_loss(tokenizer, batch)(model)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    model.eval()
    return model


def run_seed(seed: int, args) -> dict:
    torch.manual_seed(seed)
    skills = digit_ops_task(seed=seed)
    tokenizer = CharTokenizer(ALPHABET)
    base = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=16, n_layer=2, n_head=4, n_embd=64, init_std=0.2))
    weights = {name: (1.0 if name in BASE_SKILLS else args.undersample) for name in skills.names}
    train(base, tokenizer, skills, Static(weights),
          TrainConfig(steps=args.pretrain_steps, batch_size=64, round_steps=args.pretrain_steps,
                      eval_every=args.pretrain_steps, lr=3e-3, warmup_steps=20, train_loss="text", seed=seed))
    base.eval()
    acc = {name: answer_accuracy(tokenizer, skills[name].validation) for name in skills.names}
    base_examples = [e for name in BASE_SKILLS for e in skills[name].validation]
    acc_base_skills = answer_accuracy(tokenizer, base_examples)

    exclude = DEFAULT_EXCLUDE if args.exclude_embeddings else ()
    out = {"seed": seed, "parameters": sum(p.numel() for p in base.parameters())}
    masks = {}
    for label, skill in (("A", args.skill_a), ("B", args.skill_b)):
        finetuned = sgd_finetune(base, tokenizer, skills, skill, args, seed)
        loss_fn = answer_loss(tokenizer, skills[skill].validation)
        evaluate = acc[skill]
        info = {"skill": skill, "base": evaluate(base), "finetuned": evaluate(finetuned),
                "finetuned_base_skills": acc_base_skills(finetuned), "base_base_skills": acc_base_skills(base)}
        levels = args.sparsities if label == "A" else [args.overlap_sparsity]
        curve = []
        for sparsity in levels:
            start = graft(base, finetuned, loss_fn, sparsity=sparsity, steps=0, evaluate=evaluate, seed=seed,
                          exclude=exclude)
            learned = graft(base, finetuned, loss_fn, sparsity=sparsity, steps=args.graft_steps, evaluate=evaluate,
                            step_size=args.step_size, seed=seed, exclude=exclude)
            gain = info["finetuned"] - info["base"]
            curve.append({
                "sparsity": sparsity, "count": learned.count, "fraction": learned.fraction,
                "top_movement": start.score, "grafted": learned.score,
                "recovered": (learned.score - info["base"]) / gain if gain else float("nan"),
                "grafted_base_skills": acc_base_skills(apply_graft(base, finetuned, learned.mask)),
            })
            if sparsity == args.overlap_sparsity:
                masks[skill] = learned.mask
        info["curve"] = curve
        out[label] = info
    graph = overlap_graph(masks)
    a, b = args.skill_a, args.skill_b
    out["overlap"] = {"a_in_b": mask_overlap(masks[a], masks[b]), "b_in_a": mask_overlap(masks[b], masks[a]),
                      "random_a_in_b": float(sum(int(m.sum()) for m in masks[a].values())
                                             / sum(m.numel() for m in masks[a].values())),
                      "graph": graph.matrix.tolist()}
    return out


def mean_se(values) -> str:
    v = np.asarray(values, dtype=float)
    se = v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else 0.0
    return f"{v.mean():.3f} ± {se:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--skill-a", default="multiplication")
    parser.add_argument("--skill-b", default="maxmin")
    parser.add_argument("--pretrain-steps", type=int, default=300)
    parser.add_argument("--undersample", type=float, default=0.03, help="pre-training weight of skills A and B (vs 1)")
    parser.add_argument("--finetune-steps", type=int, default=100)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--sgd-lr", type=float, default=0.05)
    parser.add_argument("--sparsities", type=float, nargs="+", default=[0.001, 0.01, 0.03, 0.05])
    parser.add_argument("--graft-steps", type=int, default=50)
    parser.add_argument("--step-size", type=float, default=30.0)
    parser.add_argument("--exclude-embeddings", action="store_true",
                        help="leave token/position embeddings and the output head out of the mask (the paper's runs)")
    parser.add_argument("--overlap-sparsity", type=float, default=0.01)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.overlap_sparsity not in args.sparsities:
        args.sparsities = sorted([*args.sparsities, args.overlap_sparsity])
    torch.set_num_threads(1)
    started = time.perf_counter()
    rows = [run_seed(seed, args) for seed in range(args.seeds)]
    A = [r["A"] for r in rows]
    print(f"model: {rows[0]['parameters']} parameters; base skills {', '.join(BASE_SKILLS)}; SGD fine-tune "
          f"{args.finetune_steps} steps x {args.batch} at lr {args.sgd_lr}; {args.graft_steps} graft steps of "
          f"{args.step_size:g}; embeddings and head {'excluded' if args.exclude_embeddings else 'graftable'}")
    print(f"skill A = {args.skill_a}: base {mean_se([a['base'] for a in A])}, fine-tuned {mean_se([a['finetuned'] for a in A])}; "
          f"base skills: base model {mean_se([a['base_base_skills'] for a in A])}, fine-tuned "
          f"{mean_se([a['finetuned_base_skills'] for a in A])}")
    print("sparsity  params  top-movement acc  grafted acc  gain kept  base skills (grafted)")
    for i, sparsity in enumerate(args.sparsities):
        cells = [a["curve"][i] for a in A]
        print(f"{sparsity:>8g}  {int(np.mean([c['count'] for c in cells])):>6}  {mean_se([c['top_movement'] for c in cells]):>16}  "
              f"{mean_se([c['grafted'] for c in cells]):>11}  {mean_se([c['recovered'] for c in cells]):>9}  "
              f"{mean_se([c['grafted_base_skills'] for c in cells])}")
    B = [r["B"] for r in rows]
    print(f"skill B = {args.skill_b}: base {mean_se([b['base'] for b in B])}, fine-tuned {mean_se([b['finetuned'] for b in B])}, "
          f"grafted at {args.overlap_sparsity:g} {mean_se([b['curve'][0]['grafted'] for b in B])}")
    overlap = [r["overlap"] for r in rows]
    print(f"mask overlap at sparsity {args.overlap_sparsity:g}: |A∩B|/|B| {mean_se([o['a_in_b'] for o in overlap])}, "
          f"|A∩B|/|A| {mean_se([o['b_in_a'] for o in overlap])}; two random masks of these sizes: "
          f"{mean_se([o['random_a_in_b'] for o in overlap])}")
    print(f"wall time {time.perf_counter() - started:.0f} s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "seeds": rows}, handle, indent=2)


if __name__ == "__main__":
    main()
