"""Embedding features of examples, the baselines trajectory clustering is compared with (paper Table 3).

* TF-IDF of the prompt text: character 1–3-grams by default (the synthetic tasks are strings of symbols,
  where words carry nothing), or words.
* The model's hidden states: the final layer-norm output of a trained model on the prompt, at the last
  prompt token (``last``, the paper's "last token") or averaged over the prompt tokens (``mean``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch

from skillit.model.tokenizer import Tokenizer
from skillit.skills.example import Example


def tfidf_features(texts: Sequence[str], *, analyzer: Literal["char", "word"] = "char", max_features: int = 20000):
    """Sparse TF-IDF matrix (n_texts, n_terms), rows L2-normalised (scikit-learn's ``TfidfVectorizer``)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if analyzer == "char":
        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), max_features=max_features, lowercase=False)
    else:
        vectorizer = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", max_features=max_features)
    return vectorizer.fit_transform(list(texts))


@torch.no_grad()
def hidden_state_features(
    model: torch.nn.Module,
    tokenizer: Tokenizer,
    examples: Sequence[Example],
    *,
    pool: Literal["last", "mean"] = "last",
    batch_size: int = 256,
) -> np.ndarray:
    """(n, n_embd) hidden states of ``[bos] + prompt`` from the model's final layer norm ``ln_f``.

    Needs a model with an ``ln_f`` module (skillit's GPT); the answer is not shown to the model.
    """
    layer = getattr(model, "ln_f", None)
    if layer is None:
        raise TypeError("hidden_state_features needs a model with an ln_f layer (skillit's GPT)")
    captured: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda _m, _i, out: captured.append(out))
    limit = getattr(getattr(model, "config", None), "block_size", None)
    was_training = model.training
    model.eval()
    rows = []
    try:
        for start in range(0, len(examples), batch_size):
            chunk = examples[start : start + batch_size]
            ids = [[tokenizer.bos_id, *tokenizer.encode(e.prompt or e.answer)] for e in chunk]
            if limit is not None:
                ids = [seq[:limit] for seq in ids]
            length = torch.tensor([len(seq) for seq in ids])  # (B,)
            padded = torch.zeros(len(ids), int(length.max()), dtype=torch.long)  # right padding: causal, no leak
            for i, seq in enumerate(ids):
                padded[i, : len(seq)] = torch.tensor(seq)
            captured.clear()
            model(padded)
            hidden = captured[-1]  # (B, T, C)
            if pool == "last":
                rows.append(hidden[torch.arange(len(ids)), length - 1])
            else:
                mask = (torch.arange(hidden.shape[1])[None, :] < length[:, None]).float()  # (B, T)
                rows.append((hidden * mask[..., None]).sum(1) / length[:, None])
    finally:
        handle.remove()
        model.train(was_training)
    return torch.cat(rows).float().numpy() if rows else np.zeros((0, 0))
