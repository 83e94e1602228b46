"""The gradient probe: full-model gradient alignment of every training skill with the target (``grad_probe``; DGA).

At the end of a round, for a policy that requires ``grad_probe`` (DGA, arXiv 2410.02498), the Mixer calls
:meth:`GradientProbe.measure` with the model as it is then:

    g_tgt = ∇_θ L(θ; B_tgt)                  B_tgt: ``examples`` examples of the target skills' training data,
                                             split evenly over the target skills (round-robin)
    for each training skill i:  g_i = ∇_θ L(θ; B_i)          B_i: ``examples`` examples of skill i
        alignment[i] = ⟨g_i, g_tgt⟩,  sqnorm[i] = ‖g_i‖²

With the objective's weights w (``target_weights``: the config's ``objective_weights``, one per target skill,
summing to 1), the target is the w-weighted sum of the target skills' gradients instead (DGA's target made the
run's objective, docs/policies.md):

    g_tgt = Σ_j w_j ∇_θ L(θ; B_tgt,j) = ∇_θ Σ_j w_j L(θ; B_tgt,j)      B_tgt,j: target j's share of B_tgt

still one forward/backward pass: the batch's loss weighs each token of target j by w_j / (tokens of j in the
batch). The ``examples`` are split round-robin over the targets with w_j > 0 (a zero-weight target draws
nothing); without weights the batch and its loss are exactly as above.

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
        target_weights: the objective's weight per target skill (in ``targets`` order, summing to 1), or
            ``None``: one token-weighted batch over the targets.
    """

    def __init__(self, train_names: Sequence[str], sources: Sequence[TrainSource], targets: Sequence[str],
                 tokenizer: Tokenizer, *, examples: int, train_loss: str = "text", max_length: int | None = None,
                 device: torch.device | str = "cpu", seed: int = 0,
                 target_weights: Sequence[float] | None = None):
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
        self.target_weights: list[float] | None = None
        if target_weights is not None:
            w = [float(v) for v in target_weights]
            if len(w) != len(self.targets) or not all(np.isfinite(w)) or min(w) < 0 or sum(w) <= 0:
                raise ConfigError(f"the gradient probe needs one finite, non-negative target weight per target skill "
                                  f"({list(targets)}), not all 0; got {w}")
            self.targets = [t for t, v in zip(self.targets, w) if v > 0]  # a zero weight draws no example
            self.target_weights = [v / sum(w) for v in w if v > 0]
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

    def target_draw(self, round_index: int) -> tuple[list[Example], list[int]]:
        """``examples`` examples spread round-robin over the target skills (at least one each), and the target
        (position in ``self.targets``) each example belongs to."""
        n = len(self.targets)
        counts = [len(range(j, max(self.examples, n), n)) for j in range(n)]
        drawn = [(example, j) for j, count in enumerate(counts)
                 for example in self._draw(self.targets[j], count, round_index, _TARGET_SALT)]
        return [example for example, _ in drawn], [j for _, j in drawn]

    def target_batch(self, round_index: int) -> list[Example]:
        """The examples of :meth:`target_draw`."""
        return self.target_draw(round_index)[0]

    def skill_batch(self, skill: int, round_index: int) -> list[Example]:
        return self._draw(skill, self.examples, round_index, _SKILL_SALT)

    # ---- gradients --------------------------------------------------------------------------------
    def _gradient(self, model: torch.nn.Module, examples: Sequence[Example],
                  groups: Sequence[int] | None = None, group_weights: Sequence[float] | None = None) -> torch.Tensor:
        """∇_θ of the batch's token-weighted mean loss, flattened over every trainable parameter: (P,) float64.

        With ``groups`` (one group index per example) and ``group_weights`` (w per group): ∇_θ Σ_g w_g·L_g,
        L_g the token-weighted mean loss over group g's examples (a group with no loss token adds 0).
        """
        batch = collate(self.tokenizer, examples, self.max_length).to(self.device)
        mask = loss_mask(batch, self.train_loss).float()  # (B, T)
        logits = logits_of(model(input_ids=batch.input_ids, attention_mask=batch.attention_mask))  # (B, T, V)
        per_token = torch.nn.functional.cross_entropy(logits.transpose(1, 2), batch.targets, reduction="none")  # (B, T)
        if groups is None or group_weights is None:
            loss = (per_token * mask).sum() / mask.sum().clamp(min=1.0)
        else:
            group = torch.as_tensor(list(groups), device=mask.device)  # (B,)
            weights = torch.as_tensor(list(group_weights), dtype=mask.dtype, device=mask.device)  # (G,)
            tokens = torch.zeros(len(weights), dtype=mask.dtype, device=mask.device).index_add_(0, group, mask.sum(1))
            per_example = (weights / tokens.clamp(min=1.0))[group]  # (B,) w_g / tokens of g
            loss = (per_token * mask * per_example[:, None]).sum()
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
            examples, groups = self.target_draw(round_index)
            target = self._gradient(model, examples, groups, self.target_weights)  # (P,); unweighted: groups unused
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
