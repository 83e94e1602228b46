"""Adapters that put skillit's policies into other training stacks (callbacks and small adapters, never a fork).

* ``skillit.integrations.hf``: Hugging Face Transformers: :class:`~skillit.integrations.hf.HFTokenizer`,
  :func:`~skillit.integrations.hf.train_hf_tokenizer`, :class:`~skillit.integrations.hf.SkillMixingDataset`
  and :class:`~skillit.integrations.hf.SkillMixingCallback` for a stock ``transformers.Trainer``
  (needs the ``hf`` extra: ``pip install skillit[hf]``).

PyTorch DDP with skillit's own loop lives in ``skillit.trainer.distributed``.
"""

from __future__ import annotations

import importlib
from typing import Any

_HF_NAMES = ("HFTokenizer", "LazyBatch", "SkillMixingCallback", "SkillMixingDataset", "hf_batch", "train_hf_tokenizer")


def __getattr__(name: str) -> Any:  # lazy: importing skillit never imports transformers
    if name in _HF_NAMES:
        return getattr(importlib.import_module("skillit.integrations.hf"), name)
    raise AttributeError(f"module 'skillit.integrations' has no attribute {name!r}")


__all__ = list(_HF_NAMES)
