"""Cost of the training-stack integrations, measured (figures go to docs/stacks.md with this command).

    python benchmarks/stacks.py [--steps 60]

1. Hugging Face Trainer on the Natural Instructions subset (tiny GPT-2 from scratch, BPE trained
   in-process, per-device batch 8): a stock Trainer over a map-style dataset of exactly the batches the
   mixing run draws, against the same Trainer with SkillMixingDataset + SkillMixingCallback (skill-it,
   evaluation only at steps 0 and N, its seconds reported apart). The difference is what the lazy
   mixing dataset and the callback cost per optimiser step.
2. skillit's own loop on LEGO (the lego-demo model) in 1 process against 2 torchrun ranks (gloo).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from skillit.records.layout import RunLayout

REPO = Path(__file__).resolve().parents[1]
NI = REPO.parent / "shared" / "data" / "natural_instructions"


def hf_overhead(steps: int) -> dict:
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

    from skillit.graph import builtin_graph
    from skillit.integrations.hf import SkillMixingCallback, SkillMixingDataset, hf_batch, train_hf_tokenizer
    from skillit.policy import SkillIt
    from skillit.skills.io import load_skills
    from skillit.trainer import encode_example

    skills = load_skills(NI / "train.jsonl", NI / "test.jsonl", prompt_field="prompt", answer_field="answer",
                         separator=" ", max_validation=8)
    examples = [skills[n].train.get(i) for n in skills.train_names for i in range(skills[n].train.size)]
    tokenizer = train_hf_tokenizer([e.text for e in examples], vocab_size=1000)
    longest = max(len(encode_example(tokenizer, e)[0]) for s in skills.skills for e in (s.validation or []) + examples
                  if e.skill == s.name)

    def model():
        torch.manual_seed(0)
        return GPT2LMHeadModel(GPT2Config(vocab_size=tokenizer.vocab_size, n_positions=longest, n_layer=1, n_head=2,
                                          n_embd=32, bos_token_id=1, eos_token_id=2, pad_token_id=0))

    def args(out: str) -> TrainingArguments:
        return TrainingArguments(output_dir=out, report_to=[], use_cpu=True, max_steps=steps, per_device_train_batch_size=8,
                                 learning_rate=3e-3, seed=0, ignore_data_skip=True, save_strategy="no",
                                 accelerator_config={"dispatch_batches": False}, logging_steps=10**6, disable_tqdm=True)

    with tempfile.TemporaryDirectory() as out:
        drawn: list[list[tuple[str, int]]] = []
        dataset = SkillMixingDataset(skills, tokenizer, max_length=longest, on_draw=lambda n, r, p: drawn.append(p))
        mixing = SkillMixingCallback(dataset, SkillIt(builtin_graph("ni-finetune"), eta=2.0), round_steps=max(1, steps // 4),
                                     eval_every=steps, setting="finetune", target_skills=["Stance Detection"],
                                     eval_batch_size=16)
        trainer = Trainer(model=model(), args=args(out), train_dataset=dataset, data_collator=dataset.collate,
                          callbacks=[mixing])
        started = time.perf_counter()
        trainer.train()
        mixed_wall = time.perf_counter() - started
        eval_seconds = mixing.records[-1]["eval_seconds"]

        by_name = {n: skills[n].train for n in skills.train_names}
        fixed = [[by_name[name].get(i) for name, i in pairs] for pairs in drawn]

        class Batches(torch.utils.data.Dataset):  # the same micro-batches, map-style, one batch per item
            def __len__(self):
                return len(fixed)

            def __getitem__(self, index):
                return fixed[index]

        plain_args = args(out)
        plain_args.per_device_train_batch_size = 1
        plain = Trainer(model=model(), args=plain_args, train_dataset=Batches(),
                        data_collator=lambda items: hf_batch(tokenizer, items[0], max_length=longest))
        started = time.perf_counter()
        plain.train()
        plain_wall = time.perf_counter() - started
    return {
        "steps": steps,
        "stock_trainer_s_per_step": plain_wall / steps,
        "mixing_trainer_s_per_step_excluding_eval": (mixed_wall - eval_seconds) / steps,
        "mixing_eval_seconds_total": eval_seconds,
        "evaluations": len(mixing.records),
        "overhead_s_per_step": (mixed_wall - eval_seconds - plain_wall) / steps,
    }


def ddp_wall(steps: int) -> dict:
    results = {}
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        for nproc in (1, 2):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
                 "-m", "skillit", "run", "lego-demo", "--out", f"{out}/n{nproc}",
                 "--steps", str(steps), "--seeds", "1", "--methods", "skill-it"],
                check=True, env=env, capture_output=True,
            )
            wall = time.perf_counter() - started
            layout = RunLayout(f"{out}/n{nproc}")
            summary = layout.read_summary()
            record = json.loads(layout.record("skill-it", 0).read_text())
            results[f"ranks_{nproc}"] = {"wall_s": wall, "train_seconds": record["train_seconds"],
                                         "eval_seconds": record["eval_seconds"], "world_size": summary["world_size"]}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--ddp-steps", type=int, default=150)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(json.dumps({"hf_trainer_ni": hf_overhead(args.steps), "skillit_loop_lego_demo": ddp_wall(args.ddp_steps),
                      "cpu_count": os.cpu_count(), "torch": torch.__version__}, indent=2))


if __name__ == "__main__":
    main()
