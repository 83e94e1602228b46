"""AdamW with linear warm-up and linear decay (the paper's set-up, App. C.3), one schedule for the whole run."""

from __future__ import annotations

import torch


def build_optimizer(model: torch.nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW(β = (0.9, 0.999), ε = 1e-8); no weight decay on biases, norms and 1-d parameters."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (decay if param.dim() >= 2 and "norm" not in name.lower() and not name.startswith("ln") else no_decay).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8)


def linear_schedule(optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """lr_t = lr · t / warm-up for t < warm-up, then decays linearly to 0 at ``total_steps`` (:func:`lr_factor`)."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, warmup_steps, total_steps))


def lr_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """The schedule's multiplier of the lr after ``step`` scheduler steps: optimiser step s (1-based) uses
    ``lr · lr_factor(s − 1, ...)`` (the tracin graph learner weights its checkpoints with it)."""
    if step < warmup_steps:
        return (step + 1) / max(1, warmup_steps)
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))
