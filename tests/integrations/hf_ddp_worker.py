"""A torchrun worker for test_hf_ddp.py: a stock Trainer with SkillMixingCallback on every rank (gloo, CPU).

    python -m torch.distributed.run --standalone --nproc_per_node 2 hf_ddp_worker.py OUT_DIR PER_DEVICE_BATCH

Each rank writes OUT_DIR/draws.rankR.json; rank 0 writes OUT_DIR/records.json. Without torchrun it runs as
one process (the reference run).
"""

from __future__ import annotations

import json
import os
import sys

import torch

torch.set_num_threads(1)


def main(out: str, per_device: int) -> None:
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

    from skillit.integrations.hf import SkillMixingCallback, SkillMixingDataset, train_hf_tokenizer
    from skillit.policy import build_policy
    from skillit.tasks import build_task
    from skillit.tasks.lego import prerequisite_graph

    skills = build_task("lego", {"k": 3, "validation_size": 9, "train_pool_size": 3000}, seed=0)
    texts = [e.text for s in skills.skills for e in s.validation]
    texts += [skills[n].train.get(i).text for n in skills.train_names for i in range(200)]
    tokenizer = train_hf_tokenizer(texts, vocab_size=300)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(
        vocab_size=tokenizer.vocab_size, n_positions=64, n_layer=1, n_head=2, n_embd=32, resid_pdrop=0.0,
        embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=tokenizer.bos_id, eos_token_id=tokenizer.eos_id,
        pad_token_id=tokenizer.pad_id,
    ))
    draws = []
    dataset = SkillMixingDataset(skills, tokenizer, seed=0, max_length=64,
                                 on_draw=lambda n, r, pairs: draws.append([n, r, [list(p) for p in pairs]]))
    policy = build_policy("skill-it", {"graph": "prerequisites", "eta": 0.3, "window": 2},
                          resolve_graph=lambda s: prerequisite_graph(3))
    mixing = SkillMixingCallback(dataset, policy, round_steps=4, eval_every=2)
    args = TrainingArguments(
        output_dir=os.path.join(out, "hf"), report_to=[], use_cpu=True, max_steps=12,
        per_device_train_batch_size=per_device, learning_rate=3e-3, warmup_steps=1, seed=0,
        ignore_data_skip=True, accelerator_config={"dispatch_batches": False}, save_strategy="no",
        logging_steps=100, disable_tqdm=True, ddp_backend="gloo" if "WORLD_SIZE" in os.environ else None,
    )
    trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=dataset.collate, callbacks=[mixing])
    trainer.train()
    rank = args.process_index
    with open(os.path.join(out, f"draws.rank{rank}.json"), "w") as handle:
        json.dump(draws, handle)
    if rank == 0:
        with open(os.path.join(out, "records.json"), "w") as handle:
            json.dump(mixing.records, handle)
    # free the DDP-wrapped model (the Trainer and accelerate hold it) while the process group lives, then
    # leave it at a barrier: a Reducer freed after the group is gone can deadlock gloo (docs/stacks.md)
    trainer.accelerator.free_memory()
    del trainer, model
    from skillit.trainer.distributed import destroy_process_group

    destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
