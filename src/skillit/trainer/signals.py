"""Training-side signals for mixing policies: per-skill training loss, tokens, output-layer gradient statistics.

The :class:`SignalTap` sees every training micro-batch a driver trains on — the skill of each row, the
logits (B, T, V), the targets (B, T) and the loss mask (B, T) — and accumulates over a round:

* ``train_loss``: Σ_e Σ_t ℓ_{e,t} / Σ_e n_e per training skill (token-weighted mean per-token loss), the
  same quantity the training step minimises, restricted to one skill. NaN for a skill not drawn.
* ``train_tokens`` and ``round_examples``: loss tokens and examples per skill (always; they cost nothing).
* ``grad_stats`` (:class:`~skillit.policy.base.GradStats`): for every example e, the gradient of its mean
  per-token loss with respect to the output layer's weight W (V × d). For softmax cross-entropy it has
  the closed form

      ∂ℓ_e/∂W = (1/n_e) Σ_t m_{e,t} (softmax(z_{e,t}) − onehot(y_{e,t})) h_{e,t}ᵀ

  with z the logits, y the targets, m the loss mask and h (B, T, d) the output layer's input, captured by a
  forward hook. This equals what autograd gives for that example alone (a test checks it) and needs no
  backward hook, so it never interferes with the optimiser's gradients or with DDP's reducer. With a
  projection, g_e = R ∂ℓ_e/∂W for a fixed R (r × V, entries N(0, 1/r), seeded), so g_e has r·d entries
  (Johnson–Lindenstrauss: inner products are preserved in expectation). Per skill the tap keeps Σ g_e,
  Σ ‖g_e‖² and n, from which gram, sqnorm and var follow (see ``GradStats``).

  The closed form needs no gradient of W, so it holds whether W trains or not. Under LoRA (``model.lora``)
  the output layer is frozen unless the adapters target it: the statistics are then still the gradient the
  loss puts on the output layer at the current (adapted) model — a per-example feature of the model's errors
  and hidden states, which the adapters change — not the direction the adapters move. Policies that read them
  (dga, pike, rb-balance) run unchanged; an adapter on the output layer is tapped through its base layer.

Under DDP each rank taps its own share; :meth:`SignalTap.round_signals` sums the accumulators over ranks
with the driver's all-reduce, so every rank reports the same signals. The accumulators are part of
``state_dict()``, so a run resumed mid-round reports exactly what an uninterrupted run would.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from skillit.errors import ConfigError
from skillit.policy.base import GradStats

AllReduce = Callable[[np.ndarray], np.ndarray]  # sums an array over ranks

AUTO_PROJECT_ABOVE = 512  # vocabularies larger than this are projected by default
DEFAULT_PROJECTION = 64  # r: rows of the random projection


def output_layer(model: torch.nn.Module) -> torch.nn.Module:
    """The module that maps hidden states to logits: ``get_output_embeddings()`` (Hugging Face) or ``lm_head``."""
    module = model.module if hasattr(model, "module") else model  # DDP
    getter = getattr(module, "get_output_embeddings", None)
    layer = getter() if callable(getter) else None
    if layer is None:
        layer = getattr(module, "lm_head", None)
    base = getattr(layer, "get_base_layer", None)  # an adapter wrapping the output layer (peft's LoRA on lm_head)
    if callable(base) and not isinstance(layer, torch.nn.Linear):
        layer = base()  # its input is the adapted layer's input, the h of the closed form
    if not isinstance(layer, torch.nn.Linear):
        raise ConfigError(
            "gradient statistics need the model's output layer as a torch.nn.Linear: give the model a "
            "get_output_embeddings() method or an lm_head attribute"
        )
    return layer


class SignalTap:
    """Accumulates per-skill training signals over a round (see the module docstring).

    Args:
        train_skills: the training skills, in the order of the skill ids passed to :meth:`observe`.
        train_loss: accumulate per-skill training losses.
        grad_stats: accumulate output-layer gradient statistics (needs :meth:`attach`).
        projection: ``None`` = auto (project to 64 rows when the vocabulary exceeds 512), ``0`` = never,
            r > 0 = always project to r rows.
        seed: seeds the projection matrix (identical on every rank).
    """

    def __init__(self, train_skills: Sequence[str], *, train_loss: bool = False, grad_stats: bool = False,
                 projection: int | None = None, seed: int = 0):
        self.train_skills = tuple(train_skills)
        self.k = len(self.train_skills)
        self.want_train_loss = bool(train_loss)
        self.want_grad = bool(grad_stats)
        self.projection = projection
        self.seed = int(seed)
        self.seconds = {"train_loss": 0.0, "grad_stats": 0.0}  # cumulative cost of each signal
        self._hidden: torch.Tensor | None = None  # (B, T, d) input of the output layer, last forward
        self._handle: Any = None
        self._R: torch.Tensor | None = None  # (r, V) projection, built on first use
        self._dim = 0
        self.reset()

    # ---- hooks ----------------------------------------------------------------------------------
    def attach(self, model: torch.nn.Module) -> None:
        """Capture the output layer's input on every forward pass (only needed for gradient statistics)."""
        if not self.want_grad or self._handle is not None:
            return
        layer = output_layer(model)

        def keep_input(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
            if module.training:
                self._hidden = inputs[0].detach()

        self._handle = layer.register_forward_hook(keep_input)

    def detach(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
        self._hidden = None

    # ---- accumulation ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Start a new round."""
        self._loss = np.zeros(self.k)
        self._tokens = np.zeros(self.k)
        self._examples = np.zeros(self.k)
        self._gsum: np.ndarray | None = None  # (k, D)
        self._gsq = np.zeros(self.k)
        self._gcount = np.zeros(self.k)

    @torch.no_grad()
    def observe(self, skill_ids: Sequence[int], logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor,
                per_token: torch.Tensor | None = None) -> None:
        """One micro-batch: ``skill_ids`` (B,), ``logits`` (B, T, V), ``targets`` (B, T), ``mask`` (B, T) bool;
        ``per_token`` (B, T): the per-token losses when the driver has them already (not recomputed then)."""
        ids = torch.as_tensor(np.asarray(skill_ids, dtype=np.int64))  # (B,)
        m = mask.detach().float()  # (B, T)
        tokens = m.sum(dim=1).cpu()  # (B,)
        self._tokens += np.bincount(ids.numpy(), weights=tokens.numpy(), minlength=self.k)
        self._examples += np.bincount(ids.numpy(), minlength=self.k)
        if self.want_train_loss:
            started = time.perf_counter()
            if per_token is None:
                z = logits.detach().float()
                per_token = torch.nn.functional.cross_entropy(z.transpose(1, 2), targets, reduction="none")  # (B, T)
            sums = (per_token.detach().float() * m).sum(dim=1).cpu().numpy()  # (B,)
            self._loss += np.bincount(ids.numpy(), weights=sums, minlength=self.k)
            self.seconds["train_loss"] += time.perf_counter() - started
        if self.want_grad:
            started = time.perf_counter()
            self._observe_grad(ids, logits, targets, m, tokens)
            self.seconds["grad_stats"] += time.perf_counter() - started

    def _observe_grad(self, ids: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor, m: torch.Tensor,
                      tokens: torch.Tensor) -> None:
        if self._hidden is None:
            raise ConfigError(
                "gradient statistics need the output layer's input: call SignalTap.attach(model) before training "
                "(the Mixer does this when a policy requires 'grad_stats')"
            )
        h = self._hidden.float()  # (B, T, d)
        self._hidden = None
        z = logits.detach().float()
        delta = torch.softmax(z, dim=-1)  # (B, T, V)
        delta.scatter_add_(-1, targets.unsqueeze(-1), -torch.ones_like(targets, dtype=delta.dtype).unsqueeze(-1))
        delta = delta * (m / tokens.to(m.device).clamp(min=1.0).unsqueeze(1)).unsqueeze(-1)  # mean over e's tokens
        V = delta.shape[-1]
        R = self._projection(V, delta.device)
        if R is not None:
            delta = delta @ R.T  # (B, T, r)
        per_example = torch.einsum("btv,btd->bvd", delta, h).reshape(delta.shape[0], -1)  # (B, D)
        onehot = torch.nn.functional.one_hot(ids.to(per_example.device), self.k).to(per_example.dtype).T  # (k, B)
        sums = (onehot @ per_example).cpu().double().numpy()  # (k, D): Σ g_e per skill, one matmul
        squares = (onehot @ (per_example * per_example).sum(dim=1)).cpu().double().numpy()  # (k,): Σ ‖g_e‖²
        if self._gsum is None:
            self._dim = per_example.shape[1]
            self._gsum = np.zeros((self.k, self._dim))
        self._gsum += sums
        self._gsq += squares
        self._gcount += np.bincount(ids.numpy(), minlength=self.k)

    def _projection(self, vocab: int, device: torch.device) -> torch.Tensor | None:
        rows = self.projection
        if rows is None:
            rows = DEFAULT_PROJECTION if vocab > AUTO_PROJECT_ABOVE else 0
        if rows == 0:
            return None
        if self._R is None or self._R.shape[1] != vocab:
            generator = torch.Generator().manual_seed(self.seed + 7919)
            self._R = (torch.randn(rows, vocab, generator=generator) / np.sqrt(rows)).to(device)
        return self._R

    # ---- the round's signals --------------------------------------------------------------------
    def round_signals(self, all_reduce: AllReduce | None = None) -> dict[str, Any]:
        """``round_examples``, ``train_tokens`` and, where wanted, ``train_loss`` and ``grad`` of the round."""
        counts = np.stack([self._loss, self._tokens, self._examples, self._gsq, self._gcount])  # (5, k)
        gsum = self._gsum
        if all_reduce is not None:
            counts = all_reduce(counts)
            if self.want_grad:
                dim = int(all_reduce(np.array([float(self._dim)])).max()) if gsum is None else gsum.shape[1]
                gsum = all_reduce(gsum if gsum is not None else np.zeros((self.k, dim)))
        loss, tokens, examples, gsq, gcount = counts
        out: dict[str, Any] = {
            "round_examples": {s: int(n) for s, n in zip(self.train_skills, examples)},
            "train_tokens": {s: int(n) for s, n in zip(self.train_skills, tokens)},
        }
        if self.want_train_loss:
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(tokens > 0, loss / np.maximum(tokens, 1.0), np.nan)
            out["train_loss"] = {s: float(v) for s, v in zip(self.train_skills, mean)}
        if self.want_grad:
            out["grad"] = grad_stats_from_sums(self.train_skills, gsum, gsq, gcount, projected=self._R is not None)
        return out

    # ---- state ----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"loss": self._loss.tolist(), "tokens": self._tokens.tolist(), "examples": self._examples.tolist(),
                "gsum": None if self._gsum is None else self._gsum.tolist(), "gsq": self._gsq.tolist(),
                "gcount": self._gcount.tolist(), "dim": self._dim, "seconds": dict(self.seconds)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._loss = np.asarray(state["loss"], dtype=float)
        self._tokens = np.asarray(state["tokens"], dtype=float)
        self._examples = np.asarray(state["examples"], dtype=float)
        self._gsum = None if state["gsum"] is None else np.asarray(state["gsum"], dtype=float)
        self._gsq = np.asarray(state["gsq"], dtype=float)
        self._gcount = np.asarray(state["gcount"], dtype=float)
        self._dim = int(state["dim"])
        self.seconds = dict(state["seconds"])


def grad_stats_from_sums(skills: Sequence[str], gsum: np.ndarray | None, gsq: np.ndarray, gcount: np.ndarray,
                         *, projected: bool = False) -> GradStats:
    """gram, sqnorm and var from per-skill Σ g_e (k, D), Σ ‖g_e‖² (k,) and n (k,); NaN where n = 0."""
    k = len(skills)
    if gsum is None:
        nan = np.full(k, np.nan)
        return GradStats(tuple(skills), np.full((k, k), np.nan), nan, nan.copy(), np.zeros(k), 0, projected)
    n = np.asarray(gcount, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = gsum / n[:, None]  # (k, D); NaN rows where n = 0
        gram = mean @ mean.T  # (k, k)
        sqnorm = np.einsum("kd,kd->k", mean, mean)
        var = np.maximum(gsq / n - sqnorm, 0.0)
    return GradStats(tuple(skills), gram, sqnorm, var, n, int(gsum.shape[1]), projected)


__all__ = ["SignalTap", "grad_stats_from_sums", "output_layer"]
