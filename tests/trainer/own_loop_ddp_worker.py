"""A torchrun worker for test_mixed_batches.py: a user's own loop with MixedBatches on every rank (gloo, CPU).

    python -m torch.distributed.run --standalone --nproc_per_node 2 own_loop_ddp_worker.py OUT_DIR

Each rank writes OUT_DIR/draws.rankR.json; rank 0 writes OUT_DIR/records.json. Without torchrun it runs as
one process (the reference run). The learning rate is 1e-9, so the ranks' models and the 1-process model stay
where they started and every difference would come from the mixing (as in test_drivers_agree.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

torch.set_num_threads(1)


def main(out: str) -> None:
    from skillit.graph import builtin_graph
    from skillit.model import GPT, CharTokenizer, GPTConfig
    from skillit.policy import SkillIt
    from skillit.tasks import build_task
    from skillit.trainer import MixedBatches, Mixer, MixerConfig
    from skillit.trainer.distributed import process_group, wrap_model

    skills = build_task("lego", {"k": 3, "validation_size": 9, "train_pool_size": 1000}, seed=0)
    tokenizer = CharTokenizer(skills.metadata["alphabet"])
    with process_group() as group:
        torch.manual_seed(0)
        model = wrap_model(GPT(GPTConfig(tokenizer.vocab_size, 24, n_layer=1, n_head=2, n_embd=16)), group)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-9)
        dist = group.distributed
        mixer = Mixer(skills, tokenizer, SkillIt(builtin_graph("lego"), eta=2.0, window=2),
                      MixerConfig(total_steps=8, round_steps=2, eval_every=2, batch_size=8, train_loss="answer"),
                      device=group.device, rank=dist.rank, world_size=dist.world_size, all_reduce=dist.all_reduce)
        batches = MixedBatches(mixer)
        batches.start(model)
        draws = []
        for batch in batches:
            loss = batch.loss(model(input_ids=batch.input_ids, attention_mask=batch.attention_mask))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            batches.end_step(model)
            draws.append([batch.step, batch.round, [list(pair) for pair in batch.draws]])
        Path(out, f"draws.rank{group.rank}.json").write_text(json.dumps(draws))
        if group.is_main:
            Path(out, "records.json").write_text(json.dumps(mixer.records))
        del model, optimizer


if __name__ == "__main__":
    main(sys.argv[1])
