"""The gradient probe: full-model gradient alignment of every training skill with the target (``grad_probe``; DGA).

At the end of a round, for a policy that requires ``grad_probe`` (DGA, arXiv 2410.02498), the Mixer calls
:meth:`GradientProbe.measure` with the model as it is then:

    g_tgt = ∇_θ L(θ; B_tgt)                  B_tgt: ``examples`` examples of the target skills' training data,
                                             split evenly over the target skills (round-robin)
    for each training skill i:  g_i = ∇_θ L(θ; B_i)          B_i: ``examples`` examples of skill i
        alignment[i] = ⟨g_i, g_tgt⟩,  sqnorm[i] = ‖g_i‖²

L is the token-weighted mean per-token loss on the positions the run trains (``training.train_loss``), the
same loss the optimiser minimises; θ is every trainable parameter (raw gradients, not Adam-preconditioned).
The batches are fresh each round — drawn with their own RNG, ``numpy.random.default_rng([seed, salt, round,
skill])``, never from the sampler's streams, so training draws the same examples with and without the probe
— and B_i and B_tgt are drawn apart even when i is a target skill, so a_t = ⟨g_t, g_tgt⟩ is not inflated by
the batch's own noise (E⟨g, g′⟩ = ‖∇L‖² for independent batches, while E‖g‖² adds the variance).

The probe runs in eval mode (no dropout: it consumes no torch RNG, so a resumed run stays exact), with
``torch.autograd.grad`` (the optimiser's ``.grad`` buffers are never touched), on the bare module (no DDP
collectives: every rank computes the same numbers from the same batches). At most two flattened gradients
are held at once. Its cost — k + 1 forward/backward passes of ``examples`` examples per round — is counted
in the records: ``probe_grad_passes``, ``probe_grad_examples`` and ``signal_seconds["grad_probe"]``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch

from skillit.errors import ConfigError
from skillit.model.tokenizer import Tokenizer
from skillit.policy.base import GradProbe
from skillit.skills.example import Example
from skillit.skills.sources import TrainSource
from skillit.trainer.batching import collate, logits_of, loss_mask

_TARGET_SALT, _SKILL_SALT = 5273, 2417  # keep the target batch and the skills' batches apart
_STREAM_SPAN = 2**31 - 1  # positions drawn from an unbounded stream


class GradientProbe:
    """Measures :class:`~skillit.policy.base.GradProbe` (see the module docstring).

    Args:
        train_names, sources: the training skills and their sources, in the Mixer's order.
        targets: the target skills; each must be a training skill (its training data is the target batch).
        tokenizer, max_length, device: as the training batches.
        examples: examples per probe batch.
        train_loss: the trained positions (``text``, ``answer`` or ``completion``).
        seed: the run's seed.
    """

    def __init__(self, train_names: Sequence[str], sources: Sequence[TrainSource], targets: Sequence[str],
                 tokenizer: Tokenizer, *, examples: int, train_loss: str = "text", max_length: int | None = None,
                 device: torch.device | str = "cpu", seed: int = 0):
        self.train_names = list(train_names)
        missing = [name for name in targets if name not in self.train_names]
        if missing or not targets:
            raise ConfigError(
                f"the gradient probe takes the target's gradient on the target skills' training data, but target "
                f"{(missing or ['(none)'])[0]!r} has no training data; use setting: finetune with target_skills "
                "among the training skills"
            )
        if int(examples) < 1:
            raise ConfigError(f"the gradient probe needs at least 1 example per batch, got {examples}")
        self.sources = list(sources)
        self.targets = [self.train_names.index(name) for name in targets]
        self.tokenizer, self.max_length, self.device = tokenizer, max_length, device
        self.examples, self.train_loss, self.seed = int(examples), train_loss, int(seed)
        self.seconds = 0.0
        self.passes = 0
        self.examples_used = 0

    # ---- batches ----------------------------------------------------------------------------------
    def _draw(self, skill: int, count: int, round_index: int, salt: int) -> list[Example]:
        """``count`` examples of training skill ``skill`` (without replacement within a finite pool)."""
        rng = np.random.default_rng([self.seed, salt, round_index, skill])
        size = self.sources[skill].size
        if size is None:
            positions = rng.integers(0, _STREAM_SPAN, size=count)
        else:
            positions = rng.choice(size, size=min(count, size), replace=False)
        return [self.sources[skill].get(int(p)) for p in positions]

    def target_batch(self, round_index: int) -> list[Example]:
        """``examples`` examples spread round-robin over the target skills (at least one each)."""
        n = len(self.targets)
        counts = [len(range(j, max(self.examples, n), n)) for j in range(n)]
        return [example for j, count in enumerate(counts)
                for example in self._draw(self.targets[j], count, round_index, _TARGET_SALT)]

    def skill_batch(self, skill: int, round_index: int) -> list[Example]:
        return self._draw(skill, self.examples, round_index, _SKILL_SALT)

    # ---- gradients --------------------------------------------------------------------------------
    def _gradient(self, model: torch.nn.Module, examples: Sequence[Example]) -> torch.Tensor:
        """∇_θ of the batch's token-weighted mean loss, flattened over every trainable parameter: (P,) float64."""
        batch = collate(self.tokenizer, examples, self.max_length).to(self.device)
        mask = loss_mask(batch, self.train_loss).float()  # (B, T)
        logits = logits_of(model(input_ids=batch.input_ids, attention_mask=batch.attention_mask))  # (B, T, V)
        per_token = torch.nn.functional.cross_entropy(logits.transpose(1, 2), batch.targets, reduction="none")  # (B, T)
        loss = (per_token * mask).sum() / mask.sum().clamp(min=1.0)
        params = [p for p in model.parameters() if p.requires_grad]
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        self.passes += 1
        self.examples_used += len(examples)
        return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1).double()
                          for g, p in zip(grads, params)])

    def measure(self, model: torch.nn.Module, round_index: int) -> GradProbe:
        """The alignment of every training skill with the target at the model's current parameters."""
        started = time.perf_counter()
        was_training = model.training
        model.eval()  # no dropout: deterministic, and no torch RNG consumed
        try:
            target = self._gradient(model, self.target_batch(round_index))  # (P,)
            alignment = np.zeros(len(self.train_names))
            sqnorm = np.zeros(len(self.train_names))
            for i in range(len(self.train_names)):
                g = self._gradient(model, self.skill_batch(i, round_index))  # (P,)
                alignment[i] = float(g @ target)
                sqnorm[i] = float(g @ g)
            target_sqnorm = float(target @ target)
        finally:
            model.train(was_training)
            self.seconds += time.perf_counter() - started
        return GradProbe(tuple(self.train_names), alignment, sqnorm, target_sqnorm, self.examples)

    # ---- state ------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, float]:
        return {"seconds": self.seconds, "passes": self.passes, "examples": self.examples_used}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.seconds = float(state["seconds"])
        self.passes = int(state["passes"])
        self.examples_used = int(state["examples"])


__all__ = ["GradientProbe"]
