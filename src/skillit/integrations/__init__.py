"""Adapters that put skillit's policies into other training stacks (callbacks and small adapters, never a fork).

* ``skillit.integrations.hf``: Hugging Face Transformers: :class:`~skillit.model.tokenizer.HFTokenizer`
  (no ``transformers`` import of its own), :func:`~skillit.integrations.hf.train_hf_tokenizer`,
  :class:`~skillit.integrations.hf.SkillMixingDataset` and :class:`~skillit.integrations.hf.SkillMixingCallback`
  for a stock ``transformers.Trainer`` (needs the ``hf`` extra: ``pip install -e ".[hf]"`` in a clone).

PyTorch DDP with skillit's own loop lives in ``skillit.trainer.distributed``.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> the module that defines it; HFTokenizer needs no transformers (it wraps a tokenizer object)
_LAZY = {"HFTokenizer": "skillit.model.tokenizer",
         **{name: "skillit.integrations.hf" for name in ("LazyBatch", "SkillMixingCallback", "SkillMixingDataset",
                                                         "hf_batch", "train_hf_tokenizer")}}


def __getattr__(name: str) -> Any:  # lazy: importing skillit never imports transformers
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'skillit.integrations' has no attribute {name!r}")


__all__ = sorted(_LAZY)
