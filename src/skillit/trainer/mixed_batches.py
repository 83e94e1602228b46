"""The Mixer in your own PyTorch loop: an iterable of mixed batches and one call at the end of each step.

Glue only: the :class:`~skillit.trainer.mixer.Mixer` stays the one owner of the mixing (policy, sampler,
evaluation, rounds, signals, records); :class:`MixedBatches` turns its draws into padded tensors and keeps
the two calls in the order the Mixer needs them::

    batches = MixedBatches(mixer)            # mixer = Mixer(skills, tokenizer, policy, MixerConfig(...))
    batches.start(model)                     # step 0: evaluate every skill, policy.init (or, restored: attach)
    for batch in batches:                    # total_steps × draws_per_step batches, then it stops
        loss = batch.loss(model(input_ids=batch.input_ids, attention_mask=batch.attention_mask))
        loss.backward(); optimizer.step(); optimizer.zero_grad()
        batches.end_step(model)              # evaluations when due; a round's end → policy.update

Order is the contract: the batches of step s+1 are drawn only after ``end_step`` of step s, because a round
that ends at step s decides the weights of step s+1. Asking for a batch before that (a data loader that reads
ahead, e.g. Lightning's prefetching fetcher, or a forgotten ``end_step``) is refused with a
:class:`~skillit.errors.DataError` rather than silently drawn at the old weights.

``batch.loss(output)`` is the token-mean next-token cross-entropy over the trained positions
(``MixerConfig.train_loss``: ``text``, ``answer`` or ``completion``, see ``skillit.trainer.batching``), exactly
the loss skillit's own loop minimises: Σ_{b,t} m_{b,t} ℓ_{b,t} / Σ_{b,t} m_{b,t}. It also hands the batch to
the Mixer (the records' ``train_loss`` = the token-weighted mean over the step's batches; per-skill training
losses and gradient statistics when the policy requires them). A loop that computes its own loss passes it
as ``end_step(model, train_loss=...)`` and, for a policy that requires training signals
(``mixer.wants_batch_signals``), calls ``mixer.observe_batch`` itself.

Resume: save ``mixer.state_dict()`` (plain JSON) after an ``end_step`` beside your model and optimiser; later
build the same Mixer, ``mixer.load_state_dict(state)``, wrap it in a new ``MixedBatches`` and call
``start(model)``, which attaches the model instead of evaluating step 0 again. The batches then continue
exactly where the saved run was (the same examples, the same weights).

Data parallelism: build the Mixer with ``rank``, ``world_size`` and ``all_reduce``; each rank's batches are
its share of every global draw, and ``end_step`` all-reduces the step's loss sums on every rank.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from skillit.errors import ConfigError, DataError
from skillit.trainer.batching import TRAIN_LOSSES, collate, logits_of, loss_mask
from skillit.trainer.mixer import Mixer, StepEvents


@dataclass
class MixedBatch:
    """One drawn (micro-)batch, padded, on the device.

    Attributes:
        input_ids, attention_mask: (B, T) long, right-padded ``[bos] prompt answer [eos]`` shifted by one.
        targets: (B, T) long, the next token at each position.
        loss_mask: (B, T) bool, the trained positions (``MixerConfig.train_loss``).
        skill_ids: (B,) the training-skill index of every row (``mixer.train_names[i]``).
        draws: ``[(skill name, example index), ...]``, the rows' examples.
        step: the optimiser step (1-based) this batch belongs to.
        round: the Mixer's round it was drawn in.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    targets: torch.Tensor
    loss_mask: torch.Tensor
    skill_ids: list[int]
    draws: list[tuple[str, int]]
    step: int
    round: int
    _owner: MixedBatches | None = field(default=None, repr=False)

    def loss(self, output: Any) -> torch.Tensor:
        """The token-mean cross-entropy on the trained positions of ``output`` (logits (B, T, V), or an object
        with ``.logits``), and the batch handed to the Mixer (see the module docstring). Call it once per batch."""
        logits = logits_of(output)
        if logits.shape[:2] != self.targets.shape:
            raise DataError(
                f"the model's logits have shape {tuple(logits.shape)}, the batch is {tuple(self.targets.shape)} "
                "(B, T): the model must return one row of logits per input position"
            )
        per_token = F.cross_entropy(logits.float().transpose(1, 2), self.targets, reduction="none")  # (B, T)
        mask = self.loss_mask
        token_sum = (per_token * mask).sum()
        tokens = mask.sum()
        if self._owner is not None:
            self._owner._observe(self, logits, per_token, float(token_sum.detach()), float(tokens))
        return token_sum / tokens.clamp(min=1)


class MixedBatches:
    """Mixed batches for your own training loop, drawn by ``mixer`` (see the module docstring).

    Args:
        mixer: the run's :class:`~skillit.trainer.mixer.Mixer` (fresh, or restored with ``load_state_dict``).
        device: where the batch tensors go (default: the Mixer's device).
        train_loss: the trained positions (default: ``mixer.config.train_loss``).
        max_length: longest model input; a longer example is an error (default: ``mixer.config.max_length``).
    """

    def __init__(self, mixer: Mixer, *, device: torch.device | str | None = None, train_loss: str | None = None,
                 max_length: int | None = None):
        self.mixer = mixer
        self.device = mixer.device if device is None else device
        self.train_loss = mixer.config.train_loss if train_loss is None else train_loss
        if self.train_loss not in TRAIN_LOSSES:
            raise ConfigError(f"train_loss must be one of {', '.join(TRAIN_LOSSES)}, got {self.train_loss!r}")
        self.max_length = mixer.config.max_length if max_length is None else max_length
        self._drawn = 0  # draws of the current step
        self._sums = np.zeros(2)  # (token-loss sum, tokens) of the current step, this rank
        self._observed = 0  # batches of the current step whose loss() was called

    def start(self, model: torch.nn.Module, *, lr: float = float("nan")) -> dict[str, Any] | None:
        """Begin (step 0: evaluate every skill, ``policy.init``; returns the first record) or, on a Mixer restored
        with ``load_state_dict``, attach ``model`` and continue (returns ``None``)."""
        if self.mixer.started:
            self.mixer.attach(model)
            return None
        return self.mixer.start(model, lr=lr)

    @property
    def step(self) -> int:
        """Optimiser steps done (``end_step`` calls, counting those of a restored run)."""
        return self.mixer.step

    def __iter__(self) -> Iterator[MixedBatch]:
        if not self.mixer.started:
            raise ConfigError("iterating MixedBatches before start(model): call batches.start(model) first")
        while not self.mixer.finished:
            yield self._next()

    def _next(self) -> MixedBatch:
        per_step = self.mixer.config.draws_per_step
        if self._drawn >= per_step:
            raise DataError(
                f"a batch of step {self.mixer.step + 2} was asked for before end_step(model) of step "
                f"{self.mixer.step + 1}: call batches.end_step(model) after every optimiser step (after "
                f"{per_step} batch(es)), and do not hand MixedBatches to a data loader that reads ahead "
                "(the next batch's mixture is decided at the end of the step)"
            )
        pairs = self.mixer.draws()
        self._drawn += 1
        batch = collate(self.mixer.tokenizer, self.mixer.examples(pairs), self.max_length).to(self.device)
        return MixedBatch(
            input_ids=batch.input_ids, attention_mask=batch.attention_mask, targets=batch.targets,
            loss_mask=loss_mask(batch, self.train_loss), skill_ids=[s for s, _ in pairs],
            draws=self.mixer.named(pairs), step=self.mixer.step + 1, round=self.mixer.sampler.round, _owner=self,
        )

    def _observe(self, batch: MixedBatch, logits: torch.Tensor, per_token: torch.Tensor, token_sum: float,
                 tokens: float) -> None:
        if batch.step != self.mixer.step + 1:
            raise DataError(f"loss() of a batch of step {batch.step} during step {self.mixer.step + 1}")
        self._sums += (token_sum, tokens)
        self._observed += 1
        if self.mixer.wants_batch_signals:
            self.mixer.observe_batch(batch.skill_ids, logits, batch.targets, batch.loss_mask, per_token)

    def end_step(self, model: torch.nn.Module, *, lr: float = float("nan"),
                 train_loss: float | None = None) -> StepEvents:
        """The optimiser step is done: the Mixer evaluates when due and ends the round when due.

        ``train_loss``: the step's loss if you computed it yourself (default: the token-weighted mean of the
        ``batch.loss`` calls of the step, over all ranks). Returns the Mixer's
        :class:`~skillit.trainer.mixer.StepEvents` (``record`` when it evaluated, ``round_ended``)."""
        per_step = self.mixer.config.draws_per_step
        if self._drawn != per_step:
            raise DataError(
                f"end_step after {self._drawn} of the step's {per_step} batch(es) (MixerConfig.draws_per_step); "
                "draw them all before ending the step"
            )
        sums = self._sums if self.mixer.all_reduce is None else self.mixer.all_reduce(self._sums.copy())
        if train_loss is None and self._observed:
            train_loss = float(sums[0] / max(sums[1], 1.0))
        self._drawn, self._sums, self._observed = 0, np.zeros(2), 0
        return self.mixer.end_step(model, self.mixer.step + 1, train_loss=train_loss, lr=lr)

    def close(self) -> None:
        """Remove the Mixer's hooks from the model (gradient statistics)."""
        self.mixer.close()


__all__ = ["MixedBatch", "MixedBatches"]
