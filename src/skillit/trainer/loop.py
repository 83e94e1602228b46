"""The one training loop. It never branches on the mixing method: every method is a policy, and the mixing
(policy state, sampler, evaluation, round schedule, signals, records) belongs to the
:class:`~skillit.trainer.mixer.Mixer`; the loop only trains:

    mixer.start(model)                                  # evaluate (step 0) → policy.init
    for each optimiser step:
        pairs = mixer.draws()                           # a round starts here when one is due
        forward → (mixer.observe_batch when a policy needs training signals) → backward → clip → AdamW → lr
        mixer.end_step(model, step, ...)                # evaluate every eval_every; round end → policy.update

Evaluation is counted apart from training (seconds and examples). Every ``checkpoint_every`` steps the
loop writes one atomic checkpoint holding everything needed to continue exactly: model, optimiser,
scheduler, torch RNG and the Mixer's state (policy state, sampler RNG counters and stream positions, the
round's evaluations and signals so far, records); ``resume=True`` continues from it without losing or
repeating an example.

Data parallelism (``distributed``, see ``skillit.trainer.distributed``): every rank draws its own disjoint
share of each global batch at the same weights, evaluates a disjoint shard of every validation set, and
the per-skill sums are all-reduced, so every rank makes the same policy update. The training loss is the
token-weighted mean over the whole global batch: each rank scales its token-loss sum by
``world_size / global_tokens`` (DDP then averages gradients over ranks), which is the 1-process gradient.
Gradient accumulation (``gradient_accumulation_steps = G``) splits each rank's share into G micro-batches
whose gradients add up to the same global-batch gradient: a global batch is ``batch_size`` examples =
micro-batch × G × world_size, one optimiser step, and the weights never change inside a round.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from skillit.errors import CheckpointError, ConfigError
from skillit.model.tokenizer import Tokenizer
from skillit.policy.base import MixingPolicy, Setting
from skillit.skills.skillset import SkillSet
from skillit.trainer.batching import (
    collate,
    logits_of,
    loss_mask,
)
from skillit.trainer.evaluation import AllReduce
from skillit.trainer.mixer import Mixer, MixerConfig, ReferenceLosses
from skillit.trainer.optim import build_optimizer, linear_schedule
from skillit.trainer.settings import Precision, TrainConfig, resume_difference
from skillit.utils.checkpoint import atomic_torch_save, load_checkpoint

PRECISIONS: tuple[str, ...] = typing.get_args(Precision)
CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_VERSION = 2  # 2: the mixing state is the Mixer's state_dict


@dataclass
class Distributed:
    """Where this process sits in a data-parallel group (see ``skillit.trainer.distributed``)."""

    rank: int = 0
    world_size: int = 1
    all_reduce: AllReduce | None = None

    @property
    def is_main(self) -> bool:
        return self.rank == 0


class TrainerCallback:
    """Hooks into the loop; override what you need. Records are plain dicts (see ``TrainResult``)."""

    def on_train_begin(self, info: dict[str, Any]) -> None: ...

    def on_batch(self, step: int, round_index: int, pairs: Sequence[tuple[str, int]]) -> None:
        """This rank's draws for optimiser step ``step`` (1-based): ``(training skill, example index)`` pairs."""

    def on_step_end(self, step: int, loss: float) -> None: ...

    def on_evaluate(self, record: dict[str, Any]) -> None: ...

    def on_round_end(self, round_index: int, state: dict[str, Any]) -> None: ...

    def on_train_end(self, result: TrainResult) -> None: ...


@dataclass
class TrainResult:
    """What a run produced.

    ``records`` has one dict per evaluation: ``step``, ``round``, ``losses`` and ``accuracies`` per skill,
    ``weights`` in force (per training skill), cumulative ``examples_seen`` per training skill,
    ``train_loss`` (mean since the previous evaluation), ``lr``, cumulative ``train_seconds``,
    ``eval_seconds`` and ``eval_examples``.
    """

    records: list[dict[str, Any]]
    policy_state: dict[str, Any]
    steps: int
    train_seconds: float
    eval_seconds: float
    eval_examples: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> dict[str, Any]:
        return self.records[-1]


def check_precision(precision: str, device: torch.device | str) -> None:
    """``fp16`` needs a GPU: on the CPU half precision is slow (few CPUs multiply float16 natively) and, with
    its narrow range, needs loss scaling; ``bf16`` has float32's range and runs under CPU autocast."""
    if precision not in PRECISIONS:
        raise ConfigError(f"training.precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "fp16" and torch.device(device).type == "cpu":
        raise ConfigError(
            "training.precision: fp16 runs on a GPU (device: cuda), not on the CPU, where float16 is slow and its "
            "narrow range needs loss scaling; use precision: bf16 (CPU autocast, float32's range) or fp32 on the CPU"
        )


def check_compile(device: torch.device | str) -> None:
    """``training.compile: true`` needs torch.compile's default backend (TorchInductor) to work on ``device``: it
    generates C++ on the CPU, so it needs a C++ compiler (``$CXX`` or ``g++``), and Triton kernels on a CUDA
    GPU, so it needs ``triton``. Either missing is one :class:`ConfigError` before the run starts, not a
    compiler error at the first step."""
    import torch._dynamo

    if not torch._dynamo.is_dynamo_supported():
        raise ConfigError(
            f"training.compile: torch.compile is not supported with this Python and torch {torch.__version__} "
            "(torch._dynamo.is_dynamo_supported() is false); set training.compile: false"
        )
    kind = torch.device(device).type
    if kind == "cpu":
        from torch._inductor.cpp_builder import get_cpp_compiler

        try:
            get_cpp_compiler()
        except RuntimeError as exc:
            raise ConfigError(
                f"training.compile: torch.compile on the CPU generates C++ and needs a C++ compiler, but none works "
                f"here ({str(exc).splitlines()[0]}); install one (e.g. apt-get install g++, or set CXX to it), or set "
                "training.compile: false"
            ) from None
    elif kind == "cuda":
        from torch.utils._triton import has_triton

        if not has_triton():
            raise ConfigError(
                "training.compile: torch.compile on a CUDA GPU generates Triton kernels and needs the triton package, "
                "which is not importable here; install it (pip install triton, the version your torch names), or set "
                "training.compile: false"
            )


def autocast(precision: str, device: torch.device | str):
    """The context of the training forward and loss: none for fp32 (bit-identical to a loop without it), else
    ``torch.autocast`` to bfloat16 or float16 (matmuls in half precision, weights and optimiser in float32)."""
    if precision == "fp32":
        return nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype)


def train(
    model: torch.nn.Module,
    tokenizer: Tokenizer,
    skillset: SkillSet,
    policy: MixingPolicy,
    config: TrainConfig,
    *,
    setting: Setting = "pretrain",
    target_skills: Sequence[str] | None = None,
    objective_weights: Mapping[str, float] | None = None,
    device: torch.device | str = "cpu",
    callbacks: Sequence[TrainerCallback] = (),
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    distributed: Distributed | None = None,
    max_length: int | None = None,
    reference: ReferenceLosses | None = None,
) -> TrainResult:
    """Train ``model`` on ``skillset`` with the mixture chosen online by ``policy``.

    ``model`` is any causal LM called as ``model(input_ids=..., attention_mask=...)`` returning logits or an
    object with ``.logits``; under DDP pass the wrapped model. ``max_length`` caps the input length
    (default: the model's ``config.block_size`` or ``config.max_position_embeddings`` if it has one).
    ``reference`` gives reference losses to a policy that requires them (DoReMi). ``objective_weights``
    (``{objective skill: weight}``, a config's ``objective_weights``) makes the objective the weighted mean
    and tells the policy (``PolicyContext.objective_weights``); ``None``: the plain mean. The mixing itself —
    rounds, draws, evaluation, signals, records — is the :class:`~skillit.trainer.mixer.Mixer`'s.

    ``config.precision`` bf16/fp16 runs the training forward pass and loss under ``torch.autocast`` (the loss
    in float32 from the cast logits) and, for fp16, scales the loss with a ``GradScaler`` (its state rides in
    the checkpoint); evaluations and the training signals stay in float32, so the losses that steer the
    mixture are measured the same way at every precision. fp32 runs exactly the loop without autocast.

    ``config.compile`` runs the training forward (and so its backward) through ``torch.compile(model)``
    (:func:`check_compile` first); evaluation, the training signals and the checkpoints use ``model`` itself,
    so a checkpoint's state_dict has the module's own keys (no ``_orig_mod.``) and resumes with or without
    compile. The first steps pay the compilation (and one recompilation when the batch length changes).
    """
    dist = distributed or Distributed()
    if dist.world_size > 1 and dist.all_reduce is None:
        raise ConfigError(
            f"distributed training on {dist.world_size} ranks needs an all_reduce; build Distributed with "
            "skillit.trainer.distributed.process_group() (or pass all_reduce=...)"
        )
    local_batch = config.batch_size // dist.world_size
    if config.batch_size % dist.world_size or local_batch % config.gradient_accumulation_steps:
        raise ConfigError(
            f"training.batch_size {config.batch_size} must split evenly over {dist.world_size} rank(s) × "
            f"{config.gradient_accumulation_steps} accumulation micro-batches; choose a batch size divisible "
            f"by {dist.world_size * config.gradient_accumulation_steps}"
        )
    check_precision(config.precision, device)
    if config.compile:
        check_compile(device)
    torch.manual_seed(config.seed)
    model.to(device)
    model.train()
    forward = torch.compile(model) if config.compile else model  # the training forward; the rest uses model
    if max_length is None:  # skillit's GPT: block_size; a Hugging Face model: max_position_embeddings
        model_config = getattr(_unwrap(model), "config", None)
        max_length = getattr(model_config, "block_size", None) or getattr(model_config, "max_position_embeddings", None)
    mixer = Mixer(
        skillset, tokenizer, policy,
        MixerConfig.from_training(config, setting=setting, target_skills=target_skills, max_length=max_length,
                                  objective_weights=objective_weights),
        device=device, rank=dist.rank, world_size=dist.world_size, all_reduce=dist.all_reduce, reference=reference,
    )
    train_names = mixer.train_names
    optimizer = build_optimizer(model, config.lr, config.weight_decay)
    scheduler = linear_schedule(optimizer, config.warmup_steps, config.steps)
    scaler = torch.amp.GradScaler(torch.device(device).type) if config.precision == "fp16" else None

    checkpoint_path = Path(checkpoint_dir) / CHECKPOINT_NAME if checkpoint_dir is not None else None
    if resume:
        if checkpoint_path is None or not checkpoint_path.is_file():
            raise CheckpointError(f"nothing to resume: no {CHECKPOINT_NAME} in {checkpoint_dir!r}")
        saved = load_checkpoint(checkpoint_path)
        _check_compatible(saved, config, checkpoint_path)
        mixer.load_state_dict(saved["mixer"], where=str(checkpoint_path))
        try:
            _unwrap(model).load_state_dict(saved["model"])
        except RuntimeError as exc:
            raise CheckpointError(
                f"{checkpoint_path}: the saved model does not fit this run's model ({str(exc).splitlines()[0]}); "
                "resume with the model configuration the run started with"
            ) from None
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        if scaler is not None and saved.get("scaler") is not None:
            scaler.load_state_dict(saved["scaler"])
        torch.set_rng_state(saved["torch_rng"])
        mixer.attach(model)
    else:
        first = mixer.start(model, lr=float(scheduler.get_last_lr()[0]))
        for cb in callbacks:
            cb.on_evaluate(first)
    step = mixer.step

    for cb in callbacks:
        cb.on_train_begin({"step": step, "steps": config.steps, "resumed": resume, "train_skills": train_names})

    tap_batches = mixer.wants_batch_signals
    while step < config.steps:
        pairs = mixer.draws()  # this rank's share of the global batch (starts a round when one is due)
        for cb in callbacks:
            cb.on_batch(step + 1, mixer.sampler.round, mixer.named(pairs))
        micro_size = len(pairs) // config.gradient_accumulation_steps
        micro_pairs = [pairs[m : m + micro_size] for m in range(0, len(pairs), micro_size)]
        micro = [collate(tokenizer, mixer.examples(chunk), max_length).to(device) for chunk in micro_pairs]
        masks = [loss_mask(b, config.train_loss) for b in micro]  # (b, T) each
        global_tokens = float(_sum_over_ranks(dist, [sum(float(m.sum()) for m in masks)])[0])
        # per-rank denominator: DDP averages gradients over ranks, so Σ_ranks (sum_r · W / N) / W = Σ / N
        denominator = max(global_tokens, 1.0) / dist.world_size
        optimizer.zero_grad(set_to_none=True)
        local_sum = 0.0
        for m, (batch, mask) in enumerate(zip(micro, masks)):
            last = m == len(micro) - 1
            with nullcontext() if last or not hasattr(model, "no_sync") else model.no_sync():  # sync grads once
                with autocast(config.precision, device):
                    logits = logits_of(forward(input_ids=batch.input_ids, attention_mask=batch.attention_mask))  # (b, T, V)
                    if config.precision != "fp32":
                        logits = logits.float()  # the loss (and the signals) in float32
                    per_token = torch.nn.functional.cross_entropy(logits.transpose(1, 2), batch.targets, reduction="none")  # (b, T)
                    token_sum = (per_token * mask).sum()
                if scaler is not None:
                    scaler.scale(token_sum / denominator).backward()
                else:
                    (token_sum / denominator).backward()
            local_sum += float(token_sum.detach())
            if tap_batches:
                mixer.observe_batch([s for s, _ in micro_pairs[m]], logits, batch.targets, mask, per_token)
        if scaler is not None:
            scaler.unscale_(optimizer)  # clip the true gradient; a step with inf/NaN gradients is skipped
        if config.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        scheduler.step()
        step += 1
        loss_value = float(_sum_over_ranks(dist, [local_sum])[0]) / max(global_tokens, 1.0)  # global-batch mean
        for cb in callbacks:
            cb.on_step_end(step, loss_value)
        events = mixer.end_step(model, step, train_loss=loss_value, lr=float(scheduler.get_last_lr()[0]))
        if events.record is not None:
            for cb in callbacks:
                cb.on_evaluate(events.record)
        if events.round_ended is not None:
            for cb in callbacks:
                cb.on_round_end(events.round_ended, mixer.policy_state)  # type: ignore[arg-type]
        if checkpoint_path is not None and config.checkpoint_every and step % config.checkpoint_every == 0:
            if dist.is_main:
                atomic_torch_save(
                    checkpoint_path,
                    {
                        "version": CHECKPOINT_VERSION,
                        "step": step,
                        "config": asdict(config),
                        "model": _unwrap(model).state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "torch_rng": torch.get_rng_state(),
                        "mixer": mixer.state_dict(),
                        **({"scaler": scaler.state_dict()} if scaler is not None else {}),
                    },
                )
    mixer.close()
    result = TrainResult(
        records=mixer.records,
        policy_state=mixer.policy_state or {},
        steps=step,
        train_seconds=mixer.train_seconds,
        eval_seconds=mixer.evaluator.seconds,
        eval_examples=mixer.evaluator.examples,
    )
    for cb in callbacks:
        cb.on_train_end(result)
    return result


def _sum_over_ranks(dist: Distributed, values: Sequence[float]) -> np.ndarray:
    """Σ over ranks of a few floats (the values themselves in a single process)."""
    array = np.asarray(values, dtype=np.float64)
    return array if dist.all_reduce is None else dist.all_reduce(array)


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The module under DDP (``.module``) and torch.compile (``._orig_mod``), whose state_dict keys are the model's."""
    model = getattr(model, "_orig_mod", model)
    model = model.module if hasattr(model, "module") else model
    return getattr(model, "_orig_mod", model)


def _check_compatible(saved: dict[str, Any], config: TrainConfig, path: Path) -> None:
    """The checkpoint's settings must be this run's (:func:`~skillit.trainer.settings.resume_difference`: every
    setting but ``MAY_DIFFER_ON_RESUME``); the Mixer checks its own set-up."""
    if saved.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {saved.get('version')!r}, this skillit writes version {CHECKPOINT_VERSION}; "
            "resume with the skillit version that wrote it, or start the run again"
        )
    found = resume_difference(saved.get("config", {}), asdict(config))
    if found is not None:
        key, theirs, ours = found
        raise CheckpointError(
            f"{path}: saved with training.{key}={theirs!r}, this run has {ours!r}; "
            "resume with the configuration the run started with"
        )
