"""Skill localization by grafting (Panigrahi, Saunshi, Zhao, Arora; ICML 2023, arXiv 2302.06600).

Given a pre-trained model θ_pre and its fine-tuned version θ_ft (δ = θ_ft − θ_pre), find a small set of
parameters γ ∈ {0,1}^d such that the *grafted* model

    θ(γ) = θ_pre + γ ⊙ δ                                                                     (paper §2)

— fine-tuned values on the mask, pre-trained values elsewhere — recovers the fine-tuned skill. The ideal
problem min_γ L(θ(γ)) s.t. ‖γ‖₀ ≤ s·d is relaxed (paper §3) with real scores S and a large bias b:

    γ(S) = γ_base + (1 − 2 γ_base) ⊙ σ(S − b),    S ~ U[0, 1),  b = 10 (so σ(S − b) ≈ 4.5e-5 at start)

where γ_base is the *top-movement* mask: the s·d coordinates with the largest |δ| under one global threshold
(embeddings and output head left out by default, as in the paper's runs). Each step descends L(θ(γ(S)))
in S, rounds γ to {0, 1} (γ > 1/2) and evaluates the grafted model; the best-evaluated binary mask is kept.
No ℓ1 term: sparsity stays near s because steps are few and small. Step size: the paper uses plain SGD
with lr 1e7 (to beat σ' ≈ 4.5e-5); here each step is normalised so the largest score change is
``step_size``, the same descent direction with a scale that does not depend on the model's gradient
magnitude. The defaults (50 steps of 30) are what worked best of {2, 10, 30} × {10, 30, 50} on the CPU
demonstration (docs/llm-skills.md); with 30 the highest-gradient coordinates flip in the first step.

Two skills' masks give an asymmetric overlap |γ_i ∩ γ_j| / |γ_j| (paper §5, multi-task); over many skills
this is a :class:`~skillit.graph.SkillsGraph` (:func:`overlap_graph`), comparable with loss-based graphs.
"""

from __future__ import annotations

import copy
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.func import functional_call
from torch.nn import functional as F

from skillit.errors import DataError, SkillError
from skillit.graph import SkillsGraph
from skillit.model.tokenizer import Tokenizer
from skillit.skills.example import Example
from skillit.trainer.batching import collate, logits_of
from skillit.trainer.evaluation import answer_metrics
from skillit.utils.io import atomic_write_bytes

Mask = dict[str, torch.Tensor]  # parameter name -> bool tensor of the parameter's shape
Forward = Callable[..., Any]  # the model at given parameters, called like the model itself
DEFAULT_EXCLUDE = ("wte", "wpe", "tok_emb", "pos_emb", "embed", "lm_head", "head")


def _included(name: str, exclude: Sequence[str]) -> bool:
    components = name.split(".")
    return not any(c.startswith(part) for part in exclude for c in components)


def parameter_deltas(base: torch.nn.Module, finetuned: torch.nn.Module,
                     exclude: Sequence[str] = DEFAULT_EXCLUDE) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """name → (θ_pre, δ = θ_ft − θ_pre) for every floating parameter not excluded (by name component)."""
    pre = dict(base.named_parameters())
    ft = dict(finetuned.named_parameters())
    if set(pre) != set(ft):
        missing = sorted(set(pre) ^ set(ft))
        raise DataError(f"base and fine-tuned models have different parameters (e.g. {missing[0]!r}); graft needs "
                        "two checkpoints of the same architecture")
    out = {}
    for name, p in pre.items():
        if not p.is_floating_point() or not _included(name, exclude):
            continue
        if p.shape != ft[name].shape:
            raise DataError(f"parameter {name!r} has shape {tuple(p.shape)} in the base and {tuple(ft[name].shape)} "
                            "in the fine-tuned model")
        out[name] = (p.detach().clone(), (ft[name].detach() - p.detach()).clone())
    if not out:
        raise DataError(f"no parameters left to graft after excluding {list(exclude)}")
    return out


def top_movement_mask(deltas: Mapping[str, torch.Tensor | tuple[torch.Tensor, torch.Tensor]], sparsity: float) -> Mask:
    """The ``ceil(sparsity · d)`` coordinates with the largest |δ| (one threshold over all tensors)."""
    if not 0 < sparsity <= 1:
        raise DataError(f"sparsity must be in (0, 1], got {sparsity}")
    moved = {name: (d[1] if isinstance(d, tuple) else d).abs() for name, d in deltas.items()}
    flat = torch.cat([m.flatten() for m in moved.values()])
    keep = max(1, math.ceil(sparsity * flat.numel()))
    threshold = torch.topk(flat, keep, sorted=True).values[-1]
    mask = {name: m >= threshold for name, m in moved.items()}
    # ties at the threshold may add a few coordinates; drop the excess deterministically (last ones first)
    excess = int(sum(int(m.sum()) for m in mask.values())) - keep
    for name in reversed(list(mask)):
        if excess <= 0:
            break
        ties = ((moved[name] == threshold) & mask[name]).flatten().nonzero().flatten()
        drop = ties[-excess:] if excess < ties.numel() else ties
        flat_mask = mask[name].flatten().clone()
        flat_mask[drop] = False
        mask[name] = flat_mask.view_as(mask[name])
        excess -= int(drop.numel())
    return mask


def mask_fraction(mask: Mask) -> float:
    """Selected coordinates / coordinates covered by the mask."""
    total = sum(m.numel() for m in mask.values())
    return float(sum(int(m.sum()) for m in mask.values()) / max(total, 1))


def mask_count(mask: Mask) -> int:
    return int(sum(int(m.sum()) for m in mask.values()))


def apply_graft(base: torch.nn.Module, finetuned: torch.nn.Module, mask: Mask) -> torch.nn.Module:
    """A copy of ``base`` with the fine-tuned values where ``mask`` is True (θ_pre + γ ⊙ δ)."""
    grafted = copy.deepcopy(base)
    ft = dict(finetuned.named_parameters())
    with torch.no_grad():
        for name, p in grafted.named_parameters():
            if name in mask:
                p.copy_(torch.where(mask[name].to(p.device), ft[name].detach().to(p.device), p))
    return grafted


@dataclass
class GraftResult:
    """The best binary mask found and how each step scored."""

    mask: Mask
    score: float  # evaluation of the grafted model with ``mask``
    fraction: float  # selected / graftable coordinates
    count: int
    history: list[dict[str, float]] = field(default_factory=list)  # per step: loss, fraction, score


def graft(
    base: torch.nn.Module,
    finetuned: torch.nn.Module,
    loss_fn: Callable[[Forward], torch.Tensor],
    *,
    sparsity: float,
    steps: int = 50,
    step_size: float = 30.0,
    bias: float = 10.0,
    evaluate: Callable[[torch.nn.Module], float] | None = None,
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
    seed: int = 0,
) -> GraftResult:
    """Learn a sparse graft mask (module docstring).

    Args:
        loss_fn: ``loss_fn(forward) -> scalar`` where ``forward(input_ids=..., attention_mask=...)`` runs the
            model at the current relaxed parameters (e.g. :func:`answer_loss`).
        sparsity: s, the top-movement start's share of graftable coordinates.
        steps: descent steps on the scores (0 = the top-movement mask alone).
        evaluate: ``evaluate(model) -> score`` (higher is better) of a grafted model (``base`` itself, its
            masked parameters temporarily set to θ_pre + γ ⊙ δ and restored afterwards); the best mask over
            steps is kept. Default: minus the loss at the rounded mask.
    """
    deltas = parameter_deltas(base, finetuned, exclude)
    start = top_movement_mask(deltas, sparsity)
    names = list(deltas)
    generator = torch.Generator().manual_seed(seed)
    scores = {n: torch.rand(deltas[n][0].shape, generator=generator).requires_grad_(True) for n in names}
    fixed = {n: p.detach() for n, p in base.named_parameters() if n not in deltas}
    fixed.update({n: b for n, b in base.named_buffers()})
    was_training = base.training
    base.eval()

    def relaxed(n: str) -> torch.Tensor:
        gamma_base = start[n].float()
        return gamma_base + (1 - 2 * gamma_base) * torch.sigmoid(scores[n] - bias)

    live = dict(base.named_parameters())
    tuned = dict(finetuned.named_parameters())

    def score_of(mask: Mask) -> float:
        if evaluate is not None:  # graft in place (no copy of the model), evaluate, restore θ_pre exactly
            with torch.no_grad():
                for n in names:
                    live[n].copy_(torch.where(mask[n], tuned[n].detach(), deltas[n][0]))  # = apply_graft
            try:
                return float(evaluate(base))
            finally:
                with torch.no_grad():
                    for n in names:
                        live[n].copy_(deltas[n][0])
        with torch.no_grad():
            params = {**fixed, **{n: deltas[n][0] + mask[n].float() * deltas[n][1] for n in names}}
            return -float(loss_fn(lambda *args, **kw: functional_call(base, params, args, kw)))

    best = GraftResult(start, score_of(start), mask_fraction(start), mask_count(start))
    best.history.append({"step": 0, "loss": float("nan"), "fraction": best.fraction, "score": best.score})
    try:
        for step in range(1, steps + 1):
            params = {**fixed, **{n: deltas[n][0] + relaxed(n) * deltas[n][1] for n in names}}
            loss = loss_fn(lambda *args, **kw: functional_call(base, params, args, kw))
            grads = torch.autograd.grad(loss, [scores[n] for n in names])
            largest = max(float(g.abs().max()) for g in grads)
            if largest == 0 or not math.isfinite(largest):
                break
            with torch.no_grad():
                for n, g in zip(names, grads):
                    scores[n] -= step_size * g / largest
            mask = {n: relaxed(n).detach() > 0.5 for n in names}
            value = score_of(mask)
            entry = {"step": step, "loss": float(loss.detach()), "fraction": mask_fraction(mask), "score": value}
            best.history.append(entry)
            if value > best.score:
                best = GraftResult(mask, value, entry["fraction"], mask_count(mask), best.history)
    finally:
        base.train(was_training)
    return best


def sparsity_curve(base: torch.nn.Module, finetuned: torch.nn.Module, loss_fn: Callable[[Forward], torch.Tensor],
                   evaluate: Callable[[torch.nn.Module], float], sparsities: Sequence[float], **graft_kwargs: Any
                   ) -> list[dict[str, float]]:
    """Grafted score against mask size: one :func:`graft` per sparsity, with the base and fine-tuned scores.

    ``recovered`` = (grafted − base) / (fine-tuned − base): the share of the fine-tuning gain the mask keeps.
    """
    base_score, ft_score = float(evaluate(base)), float(evaluate(finetuned))
    rows = []
    for s in sparsities:
        result = graft(base, finetuned, loss_fn, sparsity=s, evaluate=evaluate, **graft_kwargs)
        gain = ft_score - base_score
        rows.append({"sparsity": float(s), "fraction": result.fraction, "count": result.count, "score": result.score,
                     "base": base_score, "finetuned": ft_score,
                     "recovered": float((result.score - base_score) / gain) if gain else float("nan")})
    return rows


def mask_overlap(a: Mask, b: Mask) -> float:
    """|a ∩ b| / |b| (the paper's asymmetric overlap of two skills' regions)."""
    if set(a) != set(b):
        raise DataError("the two masks cover different parameters; graft both skills from the same base")
    inter = sum(int((a[n] & b[n]).sum()) for n in a)
    size_b = mask_count(b)
    return float(inter / size_b) if size_b else 0.0


def overlap_graph(masks: Mapping[str, Mask]) -> SkillsGraph:
    """A skills graph with A[i, j] = |γ_i ∩ γ_j| / |γ_j| (diagonal 1): parameter overlap as skill relatedness."""
    names = list(masks)
    if not names:
        raise SkillError("overlap_graph needs at least one skill's mask")
    matrix = np.array([[mask_overlap(masks[i], masks[j]) for j in names] for i in names])
    return SkillsGraph(matrix, names, names, provenance={"source": "grafting mask overlap |γ_i ∩ γ_j| / |γ_j|"})


def save_mask(path: str | Path, mask: Mask) -> Path:
    """Write a mask atomically (``torch.save`` of a name → bool tensor dict)."""
    buffer = io.BytesIO()
    torch.save({n: m.to(torch.bool).cpu() for n, m in mask.items()}, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def load_mask(path: str | Path) -> Mask:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"mask file {str(path)!r} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a bad file
        raise DataError(f"{path}: not a skillit graft mask ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) and v.dtype == torch.bool for v in data.values()):
        raise DataError(f"{path}: not a skillit graft mask (expected a dict of bool tensors)")
    return data


# ---- helpers for skillit-style (prompt, answer) data ---------------------------------------------


def answer_loss(tokenizer: Tokenizer, examples: Sequence[Example], *, batch_size: int = 256,
                max_length: int | None = None) -> Callable[[Forward], torch.Tensor]:
    """``loss_fn`` for :func:`graft`: mean cross-entropy on the answer tokens of ``examples``."""
    if not examples:
        raise DataError("answer_loss needs at least one example")
    batches = [collate(tokenizer, examples[i : i + batch_size], max_length) for i in range(0, len(examples), batch_size)]

    def loss_fn(forward: Forward) -> torch.Tensor:
        total = torch.zeros(())
        count = 0
        for batch in batches:
            logits = logits_of(forward(input_ids=batch.input_ids, attention_mask=batch.attention_mask))  # (B, T, V)
            losses = F.cross_entropy(logits.transpose(1, 2), batch.targets, reduction="none")  # (B, T)
            total = total + (losses * batch.answer_mask).sum()
            count += int(batch.answer_mask.sum())
        return total / max(count, 1)

    return loss_fn


def answer_accuracy(tokenizer: Tokenizer, examples: Sequence[Example], **kwargs: Any) -> Callable[[torch.nn.Module], float]:
    """``evaluate`` for :func:`graft`: exact-match accuracy on ``examples`` (greedy answers)."""

    def evaluate(model: torch.nn.Module) -> float:
        _, correct = answer_metrics(model, tokenizer, list(examples), **kwargs)
        return float(correct.mean()) if correct.size else 0.0

    return evaluate


__all__ = [
    "DEFAULT_EXCLUDE",
    "GraftResult",
    "answer_accuracy",
    "answer_loss",
    "apply_graft",
    "graft",
    "load_mask",
    "mask_count",
    "mask_fraction",
    "mask_overlap",
    "overlap_graph",
    "parameter_deltas",
    "save_mask",
    "sparsity_curve",
    "top_movement_mask",
]
