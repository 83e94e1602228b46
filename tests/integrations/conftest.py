"""Fixtures for the Hugging Face integration: a BPE tokenizer trained in-process, a tiny random GPT-2."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")
pytest.importorskip("accelerate")  # transformers.Trainer needs it


@pytest.fixture(scope="module")
def lego_skills():
    from skillit.tasks import build_task

    return build_task("lego", {"k": 3, "validation_size": 8, "train_pool_size": 3000}, seed=0)


def texts_of(skills, per_skill=200):
    texts = [e.text for s in skills.skills for e in (s.validation or [])]
    for name in skills.train_names:
        source = skills[name].train
        n = per_skill if source.size is None else min(per_skill, source.size)
        texts += [source.get(i).text for i in range(n)]
    return texts


@pytest.fixture(scope="module")
def lego_tokenizer(lego_skills):
    from skillit.integrations.hf import train_hf_tokenizer

    return train_hf_tokenizer(texts_of(lego_skills), vocab_size=300)


@pytest.fixture
def gpt2_factory():
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    def make(tokenizer, n_positions=64, seed=0):
        torch.manual_seed(seed)
        config = GPT2Config(vocab_size=tokenizer.vocab_size, n_positions=n_positions, n_layer=1, n_head=2, n_embd=32,
                            bos_token_id=tokenizer.bos_id, eos_token_id=tokenizer.eos_id, pad_token_id=tokenizer.pad_id)
        return GPT2LMHeadModel(config)

    return make


@pytest.fixture
def trainer_args(tmp_path):
    from transformers import TrainingArguments

    def make(**overrides):
        settings = {
            "output_dir": str(tmp_path / "hf"), "report_to": [], "use_cpu": True, "max_steps": 12,
            "per_device_train_batch_size": 8, "learning_rate": 3e-3, "warmup_steps": 1, "seed": 0,
            "ignore_data_skip": True, "accelerator_config": {"dispatch_batches": False},
            "save_strategy": "no", "logging_steps": 100, "disable_tqdm": True,
        }
        settings.update(overrides)
        return TrainingArguments(**settings)

    return make
