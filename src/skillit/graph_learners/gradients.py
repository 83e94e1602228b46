"""Per-skill mean gradients of the whole model at one point of training, and their inner products.

What the ``tracin`` learner measures at each checkpoint of its base run (TracInCP, Pruthi et al. 2020,
§3; LESS, Xia et al. 2024, §3 for the projection). For training skill i and evaluation skill j:

    g_i = (1/b) Σ_{batches B of i} ∇_θ ℓ_train(B; θ)     ℓ_train: the loop's loss, Σ_t m_t ℓ_t / Σ_t m_t over the
                                                          batch's trained positions (``training.train_loss``)
    h_j = ∇_θ L_j(θ),   L_j = (1/n_j) Σ_e mean answer-token loss of validation example e
                                                          (the quantity the evaluation reports as j's loss)

flattened over every parameter (θ ∈ R^P), and the products ⟨g_i, h_j⟩ (k × m), ⟨g_i, g_i'⟩ (k × k) and
‖h_j‖² (m). A plain SGD step θ' = θ − η g_i changes L_j by −η ⟨g_i, h_j⟩ + O(η²), so ⟨g_i, h_j⟩ > 0 means
"a batch of i lowers j's loss" (the graph's sign convention).

With ``projection = r > 0`` every gradient is replaced by R g with R (r × P) Gaussian, entries N(0, 1/r),
so E[⟨Rg, Rh⟩] = ⟨g, h⟩ (Johnson–Lindenstrauss; TRAK/LESS project the same way, with Rademacher entries).
R is never held whole: it is generated one block of columns at a time (r × block ≤ ``PROJECTION_ENTRIES``
floats, 64 MiB), each block from its own seeded generator, so memory stays bounded and R is the same for
every gradient, checkpoint and process. Gradients are taken in eval mode (no dropout): they are derivatives of
the loss function itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from skillit.model.tokenizer import Tokenizer
from skillit.skills.example import Example
from skillit.trainer.batching import collate, logits_of, loss_mask

PROJECTION_ENTRIES = 1 << 24  # entries of R generated at once (r × block float32: 64 MiB)


class Projection:
    """v ↦ R v for a seeded Gaussian R (``rows`` × P, entries N(0, 1/rows)), generated block by block.

    Block b covers parameters [b·block, (b+1)·block) of the flattened model (parameters in
    ``named_parameters`` order) and is drawn from ``torch.Generator().manual_seed(seed · 1_000_003 + b)``,
    so R depends only on (rows, seed, block), never on which vectors are projected or in what order.
    """

    def __init__(self, rows: int, seed: int = 0, block: int | None = None):
        if rows < 1:
            raise ValueError(f"projection rows must be >= 1, got {rows}")
        self.rows, self.seed = int(rows), int(seed)
        self.block = int(block) if block is not None else max(1, PROJECTION_ENTRIES // self.rows)  # columns per block

    def matrix_block(self, index: int, width: int) -> torch.Tensor:
        """Columns [index·block, index·block + width) of R: (rows, width), float32."""
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        return torch.randn(self.rows, width, generator=generator) / np.sqrt(self.rows)

    def __call__(self, vector: torch.Tensor) -> torch.Tensor:
        """R v for a flat vector (P,) → (rows,), float64 accumulation."""
        flat = vector.detach().reshape(-1).to("cpu", torch.float32)
        out = torch.zeros(self.rows, dtype=torch.float64)
        for index, start in enumerate(range(0, flat.numel(), self.block)):
            piece = flat[start : start + self.block]  # (w,)
            out += (self.matrix_block(index, piece.numel()) @ piece).double()  # (rows, w) @ (w,)
        return out


def flat_gradient(model: torch.nn.Module) -> torch.Tensor:
    """Every parameter's ``.grad`` (zeros where none), flattened in ``named_parameters`` order: (P,) float64."""
    parts = [
        (p.grad if p.grad is not None else torch.zeros_like(p)).detach().reshape(-1).to("cpu", torch.float64)
        for _, p in model.named_parameters() if p.requires_grad
    ]
    return torch.cat(parts)


def _model_context(model: torch.nn.Module) -> int | None:
    """The model's context (the loop's rule): ``config.block_size`` or ``config.max_position_embeddings``."""
    config = getattr(model, "config", None)
    return getattr(config, "block_size", None) or getattr(config, "max_position_embeddings", None)


def _per_token(model: torch.nn.Module, tokenizer: Tokenizer, examples: Sequence[Example], device, max_length):
    batch = collate(tokenizer, examples, max_length).to(device)
    logits = logits_of(model(input_ids=batch.input_ids, attention_mask=batch.attention_mask))  # (B, T, V)
    return batch, F.cross_entropy(logits.float().transpose(1, 2), batch.targets, reduction="none")  # (B, T)


def train_gradient(model, tokenizer, batches: Sequence[Sequence[Example]], *, train_loss: str, device="cpu",
                   max_length: int | None = None) -> tuple[torch.Tensor, float]:
    """g = mean over ``batches`` of ∇ (the loop's token-weighted batch loss): (P,) float64, and the mean loss."""
    model.zero_grad(set_to_none=True)
    total = 0.0
    for examples in batches:
        batch, per_token = _per_token(model, tokenizer, examples, device, max_length)
        mask = loss_mask(batch, train_loss).float()  # (B, T)
        value = (per_token * mask).sum() / mask.sum().clamp(min=1.0) / len(batches)
        value.backward()
        total += float(value.detach())
    return flat_gradient(model), total


def eval_gradient(model, tokenizer, examples: Sequence[Example], *, chunk: int, device="cpu",
                  max_length: int | None = None) -> tuple[torch.Tensor, float]:
    """h = ∇ L over ``examples`` (L: mean over examples of the mean answer-token loss, as the evaluation
    computes it), in chunks of ``chunk`` examples: (P,) float64, and L."""
    model.zero_grad(set_to_none=True)
    total = 0.0
    n = len(examples)
    for start in range(0, n, chunk):
        batch, per_token = _per_token(model, tokenizer, examples[start : start + chunk], device, max_length)
        mask = batch.answer_mask.float()  # (B, T)
        per_example = (per_token * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)  # (B,)
        value = per_example.sum() / n
        value.backward()
        total += float(value.detach())
    return flat_gradient(model), total


def measure_gradients(
    model: torch.nn.Module,
    tokenizer: Tokenizer,
    train_batches: dict[str, list[list[Example]]],
    eval_examples: dict[str, list[Example]],
    *,
    train_loss: str,
    chunk: int,
    projection: Projection | None = None,
    device: torch.device | str = "cpu",
) -> dict[str, Any]:
    """The inner products of one checkpoint (module docstring), as JSON-ready lists.

    ``train_batches[i]``: skill i's batches (g_i is their mean gradient); ``eval_examples[j]``: the
    validation examples of h_j, taken ``chunk`` at a time. Returns ``inner`` (k × m) = ⟨g_i, h_j⟩,
    ``train_gram`` (k × k), ``eval_sqnorm`` (m), ``train_loss`` (k), ``eval_loss`` (m), ``batches`` (forward +
    backward passes), ``examples`` and ``dim`` (entries of each gradient vector after projection).
    """
    model.to(device)
    was_training = model.training
    model.eval()
    max_length = _model_context(model)
    project = projection if projection is not None else (lambda v: v)
    g, h, train_losses, eval_losses = [], [], [], []
    batches = examples = 0
    try:
        for chunks in train_batches.values():
            vector, loss = train_gradient(model, tokenizer, chunks, train_loss=train_loss, device=device,
                                          max_length=max_length)
            g.append(project(vector))
            train_losses.append(loss)
            batches += len(chunks)
            examples += sum(len(c) for c in chunks)
        for items in eval_examples.values():
            vector, loss = eval_gradient(model, tokenizer, items, chunk=chunk, device=device, max_length=max_length)
            h.append(project(vector))
            eval_losses.append(loss)
            batches += -(-len(items) // chunk)
            examples += len(items)
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    G = torch.stack(g)  # (k, D) float64
    H = torch.stack(h)  # (m, D) float64
    return {
        "inner": (G @ H.T).tolist(),
        "train_gram": (G @ G.T).tolist(),
        "eval_sqnorm": (H * H).sum(dim=1).tolist(),
        "train_loss": train_losses,
        "eval_loss": eval_losses,
        "batches": batches,
        "examples": examples,
        "dim": int(G.shape[1]),
    }


__all__ = ["Projection", "eval_gradient", "flat_gradient", "measure_gradients", "train_gradient"]
