"""The one training loop. It never branches on the mixing method: every method is a policy.

    evaluate (step 0) → policy.init
    for each round of H = round_steps optimiser steps:
        p = policy.weights(state); sampler.start_round(p, H, policy.scope(state))
        H × (draw batch → forward → backward → clip → AdamW step → lr schedule; evaluate every eval_every)
        state = policy.update(state, evaluations of the round)

Evaluation is counted apart from training (seconds and examples). Every ``checkpoint_every`` steps the
loop writes one atomic checkpoint holding everything needed to continue exactly: model, optimiser,
scheduler, policy state, sampler state (RNG counters and stream positions), the round's evaluations so far
and the records; ``resume=True`` continues from it without losing or repeating an example.

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

import math
import os
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from skillit.errors import CheckpointError, SkillError
from skillit.model.tokenizer import Tokenizer
from skillit.policy.base import EvalResult, MixingPolicy, Observation, PolicyContext, Setting
from skillit.sampler.mixture_sampler import MixtureSampler
from skillit.skills.skillset import SkillSet
from skillit.trainer.batching import collate, logits_of
from skillit.trainer.evaluation import AllReduce, SkillEvaluator, pool_answer_losses
from skillit.trainer.optim import build_optimizer, linear_schedule

CHECKPOINT_NAME = "checkpoint.pt"


@dataclass
class TrainConfig:
    """Everything the loop needs besides the model, data and policy."""

    steps: int
    batch_size: int = 32  # global batch (all ranks)
    round_steps: int = 100  # H: optimiser steps per policy round
    eval_every: int = 50  # evaluate every skill every this many steps (and at step 0 and the last step)
    lr: float = 1e-3
    warmup_steps: int = 50
    weight_decay: float = 0.01
    grad_clip: float | None = 1.0
    train_loss: Literal["text", "answer"] = "text"
    sampling: Literal["quota", "iid"] = "quota"
    exhausted: Literal["cycle", "drop", "stop"] = "cycle"
    eval_batch_size: int = 512
    seed: int = 0
    checkpoint_every: int | None = None
    gradient_accumulation_steps: int = 1  # micro-batches per rank per optimiser step (same gradient)

    def __post_init__(self) -> None:
        from skillit.errors import ConfigError

        for name in ("steps", "batch_size", "round_steps", "eval_every", "eval_batch_size", "gradient_accumulation_steps"):
            if getattr(self, name) < 1:
                raise ConfigError(f"training.{name} must be >= 1, got {getattr(self, name)}")
        if self.checkpoint_every is not None and self.checkpoint_every < 1:
            raise ConfigError(f"training.checkpoint_every must be >= 1, got {self.checkpoint_every}")

    @property
    def n_rounds(self) -> int:
        return math.ceil(self.steps / self.round_steps)


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


def objective_skills(skillset: SkillSet, setting: Setting, target_skills: Sequence[str] | None) -> tuple[str, ...]:
    """The skills whose loss is the objective: targets in fine-tuning, all evaluation skills otherwise."""
    if setting == "finetune":
        if not target_skills:
            raise SkillError("the fine-tuning setting needs target_skills (a subset of the training skills)")
        skillset.check_names(target_skills, role="train", where="target_skills")
        skillset.check_names(target_skills, role="eval", where="target_skills (targets need validation data)")
        return tuple(target_skills)
    if target_skills:
        skillset.check_names(target_skills, role="eval", where="target_skills")
        return tuple(target_skills)
    if setting == "out-of-domain":
        overlap = set(skillset.eval_names) & set(skillset.train_names)
        evals = [name for name in skillset.eval_names if name not in overlap]
        if not evals:
            raise SkillError("the out-of-domain setting needs evaluation skills that are not training skills")
        return tuple(evals)
    return tuple(skillset.eval_names)


def train(
    model: torch.nn.Module,
    tokenizer: Tokenizer,
    skillset: SkillSet,
    policy: MixingPolicy,
    config: TrainConfig,
    *,
    setting: Setting = "pretrain",
    target_skills: Sequence[str] | None = None,
    device: torch.device | str = "cpu",
    callbacks: Sequence[TrainerCallback] = (),
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    distributed: Distributed | None = None,
    max_length: int | None = None,
) -> TrainResult:
    """Train ``model`` on ``skillset`` with the mixture chosen online by ``policy``.

    ``model`` is any causal LM called as ``model(input_ids=..., attention_mask=...)`` returning logits or an
    object with ``.logits``; under DDP pass the wrapped model. ``max_length`` caps the input length
    (default: the model's ``config.block_size`` or ``config.max_position_embeddings`` if it has one).
    """
    dist = distributed or Distributed()
    if dist.world_size > 1 and dist.all_reduce is None:
        from skillit.errors import ConfigError

        raise ConfigError(
            f"distributed training on {dist.world_size} ranks needs an all_reduce; build Distributed with "
            "skillit.trainer.distributed.process_group() (or pass all_reduce=...)"
        )
    local_batch = config.batch_size // dist.world_size
    if config.batch_size % dist.world_size or local_batch % config.gradient_accumulation_steps:
        from skillit.errors import ConfigError

        raise ConfigError(
            f"training.batch_size {config.batch_size} must split evenly over {dist.world_size} rank(s) × "
            f"{config.gradient_accumulation_steps} accumulation micro-batches; choose a batch size divisible "
            f"by {dist.world_size * config.gradient_accumulation_steps}"
        )
    torch.manual_seed(config.seed)
    model.to(device)
    model.train()
    if max_length is None:  # skillit's GPT: block_size; a Hugging Face model: max_position_embeddings
        model_config = getattr(_unwrap(model), "config", None)
        max_length = getattr(model_config, "block_size", None) or getattr(model_config, "max_position_embeddings", None)
    train_names = skillset.train_names
    if not train_names:
        raise SkillError("the SkillSet has no training skill (no skill with a training source)")
    if not skillset.eval_names:
        raise SkillError("the SkillSet has no evaluation skill (no skill with a validation set)")
    targets = objective_skills(skillset, setting, target_skills)
    sources = [skillset[name].train for name in train_names]
    pool_sizes = [source.size for source in sources]  # type: ignore[union-attr]

    evaluator = SkillEvaluator(
        skillset, tokenizer, batch_size=config.eval_batch_size, device=device, max_length=max_length,
        rank=dist.rank, world_size=dist.world_size, all_reduce=dist.all_reduce,
    )
    optimizer = build_optimizer(model, config.lr, config.weight_decay)
    scheduler = linear_schedule(optimizer, config.warmup_steps, config.steps)
    sampler = MixtureSampler(
        pool_sizes, config.batch_size, seed=config.seed, mode=config.sampling, exhausted=config.exhausted,
        world_size=dist.world_size, rank=dist.rank, names=train_names,
        ordered=[bool(getattr(source, "ordered", False)) for source in sources],  # streamed shards: file order
    )

    def score_pool() -> dict[str, np.ndarray]:
        """The current (initial) model's answer loss on every pool example; counted as evaluation cost."""
        started = time.perf_counter()
        scores = pool_answer_losses(_unwrap(model), tokenizer, dict(zip(train_names, sources)),
                                    batch_size=config.eval_batch_size, device=device, max_length=max_length)
        evaluator.examples += sum(len(values) for values in scores.values())
        evaluator.seconds += time.perf_counter() - started
        return scores

    checkpoint_path = Path(checkpoint_dir) / CHECKPOINT_NAME if checkpoint_dir is not None else None
    train_seconds = 0.0
    loss_sum, loss_count = 0.0, 0
    if resume:
        if checkpoint_path is None or not checkpoint_path.is_file():
            raise CheckpointError(f"nothing to resume: no {CHECKPOINT_NAME} in {checkpoint_dir!r}")
        saved = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
        _check_compatible(saved, config, train_names, checkpoint_path)
        _unwrap(model).load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        sampler.load_state_dict(saved["sampler"])
        torch.set_rng_state(saved["torch_rng"])
        policy_state = saved["policy_state"]
        records = saved["records"]
        round_evals = [EvalResult.from_dict(e) for e in saved["round_evals"]]
        step = saved["step"]
        train_seconds = saved["train_seconds"]
        evaluator.seconds, evaluator.examples = saved["eval_seconds"], saved["eval_examples"]
        loss_sum, loss_count = saved["loss_sum"], saved["loss_count"]
    else:
        initial = evaluator(_unwrap(model), 0)  # the bare module: no DDP collectives in sharded evaluation
        context = PolicyContext(
            train_skills=tuple(train_names),
            eval_skills=tuple(skillset.eval_names),
            target_skills=targets,
            setting=setting,
            natural_proportions=tuple(skillset.natural_proportions()),
            pool_sizes=tuple(pool_sizes),
            n_rounds=config.n_rounds,
            round_steps=config.round_steps,
            initial_eval=initial,
            score_pool=score_pool,
        )
        policy_state = policy.init(context)
        step = 0
        round_evals = []
        records = []
        first = np.asarray(policy.weights(policy_state), dtype=float)
        first = first / first.sum()  # normalised exactly as the sampler stores the weights in force
        records.append(_record(initial, 0, first, train_names, sampler, None, scheduler, 0.0, evaluator))
        for cb in callbacks:
            cb.on_evaluate(records[-1])

    for cb in callbacks:
        cb.on_train_begin({"step": step, "steps": config.steps, "resumed": resume, "train_skills": train_names})

    while step < config.steps:
        if sampler.round < 0 or sampler.round_finished:
            sampler.start_round(
                policy.weights(policy_state),
                min(config.round_steps, config.steps - step),
                policy.scope(policy_state),
            )
        started = time.perf_counter()
        pairs = sampler.next_batch()  # this rank's share of the global batch
        for cb in callbacks:
            cb.on_batch(step + 1, sampler.round, [(train_names[s], i) for s, i in pairs])
        micro_size = len(pairs) // config.gradient_accumulation_steps
        micro = [
            collate(tokenizer, [sources[s].get(i) for s, i in pairs[m : m + micro_size]], max_length).to(device)  # type: ignore[union-attr]
            for m in range(0, len(pairs), micro_size)
        ]
        masks = [b.answer_mask if config.train_loss == "answer" else b.text_mask for b in micro]  # (b, T) each
        global_tokens = float(_sum_over_ranks(dist, [sum(float(m.sum()) for m in masks)])[0])
        # per-rank denominator: DDP averages gradients over ranks, so Σ_ranks (sum_r · W / N) / W = Σ / N
        denominator = max(global_tokens, 1.0) / dist.world_size
        optimizer.zero_grad(set_to_none=True)
        local_sum = 0.0
        for m, (batch, mask) in enumerate(zip(micro, masks)):
            last = m == len(micro) - 1
            with nullcontext() if last or not hasattr(model, "no_sync") else model.no_sync():  # sync grads once
                logits = logits_of(model(input_ids=batch.input_ids, attention_mask=batch.attention_mask))  # (b, T, V)
                per_token = torch.nn.functional.cross_entropy(logits.transpose(1, 2), batch.targets, reduction="none")  # (b, T)
                token_sum = (per_token * mask).sum()
                (token_sum / denominator).backward()
            local_sum += float(token_sum.detach())
        if config.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        scheduler.step()
        step += 1
        loss_value = float(_sum_over_ranks(dist, [local_sum])[0]) / max(global_tokens, 1.0)  # global-batch mean
        loss_sum += loss_value
        loss_count += 1
        train_seconds += time.perf_counter() - started
        for cb in callbacks:
            cb.on_step_end(step, loss_value)

        if step % config.eval_every == 0 or step == config.steps:
            evaluation = evaluator(_unwrap(model), step)
            round_evals.append(evaluation)
            records.append(
                _record(evaluation, sampler.round, sampler.weights, train_names, sampler,
                        loss_sum / max(1, loss_count), scheduler, train_seconds, evaluator)
            )
            loss_sum, loss_count = 0.0, 0
            for cb in callbacks:
                cb.on_evaluate(records[-1])
        if sampler.round_finished:
            seen = sampler.examples_seen()
            observation = Observation(
                round=sampler.round,
                step=step,
                evals=tuple(round_evals),
                examples_seen={name: int(n) for name, n in zip(train_names, seen)},
            )
            policy_state = policy.update(policy_state, observation)
            round_evals = []
            for cb in callbacks:
                cb.on_round_end(sampler.round, policy_state)
        if checkpoint_path is not None and config.checkpoint_every and step % config.checkpoint_every == 0:
            if dist.is_main:
                _save_checkpoint(
                    checkpoint_path,
                    {
                        "version": 1,
                        "step": step,
                        "config": asdict(config),
                        "train_skills": list(train_names),
                        "model": _unwrap(model).state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "sampler": sampler.state_dict(),
                        "torch_rng": torch.get_rng_state(),
                        "policy_state": policy_state,
                        "records": records,
                        "round_evals": [e.to_dict() for e in round_evals],
                        "train_seconds": train_seconds,
                        "eval_seconds": evaluator.seconds,
                        "eval_examples": evaluator.examples,
                        "loss_sum": loss_sum,
                        "loss_count": loss_count,
                    },
                )

    result = TrainResult(
        records=records,
        policy_state=policy_state,
        steps=step,
        train_seconds=train_seconds,
        eval_seconds=evaluator.seconds,
        eval_examples=evaluator.examples,
    )
    for cb in callbacks:
        cb.on_train_end(result)
    return result


def _record(
    evaluation: EvalResult,
    round_index: int,
    weights: np.ndarray | None,
    train_names: Sequence[str],
    sampler: MixtureSampler,
    train_loss: float | None,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    train_seconds: float,
    evaluator: SkillEvaluator,
) -> dict[str, Any]:
    seen = sampler.examples_seen()
    return {
        "step": evaluation.step,
        "round": max(0, round_index),
        "losses": dict(evaluation.losses),
        "accuracies": dict(evaluation.accuracies),
        "weights": {name: float(w) for name, w in zip(train_names, weights)} if weights is not None else {},
        "examples_seen": {name: int(n) for name, n in zip(train_names, seen)},
        "train_loss": train_loss,
        "lr": float(scheduler.get_last_lr()[0]),
        "train_seconds": train_seconds,
        "eval_seconds": evaluator.seconds,
        "eval_examples": evaluator.examples,
    }


def _sum_over_ranks(dist: Distributed, values: Sequence[float]) -> np.ndarray:
    """Σ over ranks of a few floats (the values themselves in a single process)."""
    array = np.asarray(values, dtype=np.float64)
    return array if dist.all_reduce is None else dist.all_reduce(array)


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if hasattr(model, "module") else model


def _save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def _check_compatible(saved: dict[str, Any], config: TrainConfig, train_names: Sequence[str], path: Path) -> None:
    if saved.get("train_skills") != list(train_names):
        raise CheckpointError(
            f"{path}: saved for training skills {saved.get('train_skills')}, but this run has {list(train_names)}"
        )
    theirs = saved.get("config", {})
    for key in ("steps", "batch_size", "round_steps", "eval_every", "seed", "sampling", "train_loss"):
        if theirs.get(key) != getattr(config, key):
            raise CheckpointError(
                f"{path}: saved with training.{key}={theirs.get(key)!r}, this run has {getattr(config, key)!r}; "
                "resume with the configuration the run started with"
            )

