"""Shared fixtures: tiny exact skill sets and a tiny model, built in-process (no downloads)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)  # tests may run beside other torch processes on a 2-core machine
os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def tiny_lego():
    from skillit.tasks import build_task

    return build_task("lego", {"k": 3, "validation_size": 8, "pool_proportions": [1, 1, 2]}, seed=0)


@pytest.fixture
def tiny_model_factory():
    from skillit.model import GPT, GPTConfig

    def make(tokenizer, block_size=32, seed=0):
        torch.manual_seed(seed)
        return GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=block_size, n_layer=1, n_head=2, n_embd=16))

    return make
