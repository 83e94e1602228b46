"""The GPT's architecture, declared once and torch-free: the config schema's ``model:`` section
(``skillit.experiment.config.ModelConfig``) takes the defaults of the fields it shares from here
(:func:`gpt_default`), and the model is built from that section (``skillit.experiment.build.build_model``)."""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any


@dataclass
class GPTConfig:
    vocab_size: int
    block_size: int = 64  # longest sequence (tokens) the position table covers
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    dropout: float = 0.0
    tie_embeddings: bool = False  # tying input and output embeddings slowed tiny-vocabulary tasks a lot here
    # std of the normal init of every weight matrix and embedding (GPT-2: 0.02; residual projections get
    # init_std / sqrt(2 n_layer)). Larger values (0.1-0.2) shortened the long loss plateaus that tiny
    # from-scratch models hit on the synthetic LEGO/Addition tasks on CPU budgets.
    init_std: float = 0.02

    def to_dict(self) -> dict:
        return asdict(self)


def gpt_default(name: str) -> Any:
    """The default of the GPTConfig field ``name`` (for a schema that shares the field)."""
    found = {field.name: field.default for field in fields(GPTConfig)}[name]
    if found is MISSING:
        raise KeyError(f"GPTConfig.{name} has no default")
    return found
