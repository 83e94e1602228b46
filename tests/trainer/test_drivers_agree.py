"""Three drivers, one Mixer: skillit's own loop, a stock Hugging Face Trainer and 2 torchrun ranks
(``torchrun ... -m skillit run``) give the same weight trajectory and the same record fields.

The learning rate is 1e-9, so the three optimisers (skillit's AdamW loop, the Trainer's, DDP's) leave the
model where it started and every difference left would come from the mixing machinery itself: the round
schedule, the evaluations, the draws, the policy updates and the records. Skill-It's weights still move
(from the first mixture, softmax(η·A·1), to the observed losses' one), and each driver must follow them
step for step. The 2-rank losses are all-reduced sums of two shards, so they agree to float precision.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from skillit.experiment.build import (
    build_method,
    build_model,
    build_skillset,
    build_tokenizer,
    context_length,
    task_skillset,
)
from skillit.experiment.config import parse_config
from skillit.experiment.runner import run_experiment
from tests.processes import run_tree

CONFIG = """\
name: drivers
task: {name: lego, params: {k: 3, validation_size: 9, train_pool_size: 3000}}
model: {n_layer: 1, n_head: 2, n_embd: 16}
training: {steps: 12, batch_size: 8, round_steps: 4, eval_every: 2, lr: 1.0e-9, warmup_steps: 2}
methods:
  skill-it: {params: {graph: prerequisites, eta: 2.0, window: 2}}
seeds: [0]
"""


def metrics(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def hf_records(config, tmp_path: Path) -> list[dict]:
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    from transformers import Trainer, TrainingArguments
    from transformers.modeling_outputs import CausalLMOutput

    from skillit.integrations.hf import SkillMixingCallback, SkillMixingDataset

    full = task_skillset(config, 0)
    skills = build_skillset(config, 0, full)
    tokenizer = build_tokenizer(config, full)
    block = context_length(config, full, tokenizer)
    gpt = build_model(config, tokenizer, block, 0)  # the same initial model as the runner's

    class WithLoss(torch.nn.Module):
        """skillit's GPT with the Hugging Face calling convention (labels in, loss out)."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner
            self.config = inner.config

        def forward(self, input_ids, attention_mask=None, labels=None):
            logits = self.inner(input_ids=input_ids, attention_mask=attention_mask).logits
            loss = None
            if labels is not None:
                loss = torch.nn.functional.cross_entropy(
                    logits[:, :-1].transpose(1, 2), labels[:, 1:], ignore_index=-100)
            return CausalLMOutput(loss=loss, logits=logits)

    dataset = SkillMixingDataset(skills, tokenizer, seed=0, max_length=block)
    policy = build_method(config, "skill-it", skills, None)
    mixing = SkillMixingCallback(dataset, policy, round_steps=4, eval_every=2, eval_batch_size=512, max_length=block)
    args = TrainingArguments(
        output_dir=str(tmp_path / "hf"), report_to=[], use_cpu=True, max_steps=12, per_device_train_batch_size=8,
        learning_rate=1e-9, warmup_steps=2, seed=0, ignore_data_skip=True,
        accelerator_config={"dispatch_batches": False}, save_strategy="no", logging_steps=1000, disable_tqdm=True,
    )
    Trainer(model=WithLoss(gpt), args=args, train_dataset=dataset, data_collator=dataset.collate,
            callbacks=[mixing]).train()
    return mixing.records


@pytest.mark.slow
def test_own_loop_hf_trainer_and_torchrun_follow_one_trajectory(tmp_path):
    config = parse_config(CONFIG)
    (tmp_path / "cfg.yaml").write_text(CONFIG)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "skillit", "run", "cfg.yaml", "--out", "ddp"]
    done = run_tree(command, cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_experiment(config, tmp_path / "single", jobs=1)

    loop = metrics(tmp_path / "single" / "metrics.jsonl")
    ddp = metrics(tmp_path / "ddp" / "metrics.jsonl")
    hf = hf_records(config, tmp_path)
    assert json.loads((tmp_path / "ddp" / "summary.json").read_text())["world_size"] == 2

    steps = list(range(0, 13, 2))
    assert [r["step"] for r in loop] == [r["step"] for r in ddp] == [r["step"] for r in hf] == steps
    fields = set(hf[0])
    assert all(set(r) == fields for r in hf)  # the HF records carry train_loss and train_seconds too
    assert all(set(r) - {"method", "seed"} == fields for r in loop + ddp)
    weights = {name: np.array([list(r["weights"].values()) for r in records])
               for name, records in (("loop", loop), ("ddp", ddp), ("hf", hf))}
    assert np.ptp(weights["loop"][:, 0]) > 0.05  # the policy really moves the weights between rounds
    np.testing.assert_allclose(weights["hf"], weights["loop"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(weights["ddp"], weights["loop"], rtol=0, atol=1e-6)
    for a, b, c in zip(loop, ddp, hf):
        assert a["round"] == b["round"] == c["round"]
        assert a["examples_seen"] == b["examples_seen"] == c["examples_seen"]
        np.testing.assert_allclose(list(c["losses"].values()), list(a["losses"].values()), rtol=1e-6)
        np.testing.assert_allclose(list(b["losses"].values()), list(a["losses"].values()), rtol=1e-5)
        if a["train_loss"] is not None:
            assert c["train_loss"] == pytest.approx(a["train_loss"], rel=1e-5)
            assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-5)
