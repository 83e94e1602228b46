"""The Mixer: the one owner of the mixing — policy and state, sampler, evaluation, round schedule, signals, records.

Every driver (skillit's own loop, the Hugging Face callback, `skillit run` under torchrun, the graph learners'
runs, a user's own loop through :class:`~skillit.trainer.mixed_batches.MixedBatches`) trains the model its own
way and calls the same four methods::

    mixer.start(model)                       # step 0: evaluate every skill, policy.init, first record
    for each optimiser step:
        for each draw of the step:            # 1 in skillit's loop; gradient_accumulation_steps in HF
            pairs = mixer.draws()             # this rank's (skill, example) pairs; starts a round when due
            ... forward ... mixer.observe_batch(skill_ids, logits, targets, mask)   # training signals
        ... backward, optimiser step ...
        mixer.end_step(model, step, train_loss=..., lr=...)   # evaluations, round end → policy.update

A round is planned by the policy (``MixingPolicy.plan``: by default ``round_steps`` training steps at
``policy.weights(state)``; Aioli-style probe sub-rounds choose their own length and mixture). Probe steps
count against the step budget; evaluations a plan asks for off the ``eval_every`` grid are counted
(``probe_evaluations``, ``probe_eval_examples`` in the records) as overhead. At the end of a round the
policy gets an :class:`~skillit.policy.base.Observation` with the round's evaluations and the signals it
``requires`` (training loss, reference losses, gradient statistics — computed only when some policy asks,
and each signal's cost is reported in the records as ``signal_seconds``). A policy that requires
``grad_probe`` (DGA) gets full-model gradient alignments with the target measured at the end of each of its
rounds (:class:`~skillit.trainer.probe.GradientProbe`); those extra forward/backward passes are counted in
the records (``probe_grad_passes``, ``probe_grad_examples``, ``signal_seconds["grad_probe"]``).

Records: one dict per evaluation with ``step``, ``round``, ``losses`` and ``accuracies`` per skill, the
``weights`` in force, cumulative ``examples_seen`` per training skill, ``train_loss`` (mean of the step
losses since the previous evaluation), ``lr``, cumulative ``train_seconds``, ``eval_seconds`` and
``eval_examples``.

``state_dict()`` is plain JSON and holds everything needed to continue exactly (policy state tagged with
the policy's name and version, sampler position, the round's evaluations and signals so far, records,
costs) plus the set-up it was made under; ``load_state_dict`` refuses a state from a different policy,
sampler set-up or accumulation setting, naming the field.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from skillit.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    PolicyError,
    SkillError,
)
from skillit.model.tokenizer import Tokenizer
from skillit.policy.base import (
    EvalResult,
    GradProbe,
    MixingPolicy,
    Observation,
    PolicyContext,
    RoundPlan,
    Setting,
)
from skillit.policy.objective import objective_skills, objective_weight_vector
from skillit.policy.registry import upgrade_description
from skillit.sampler.mixture_sampler import MixtureSampler
from skillit.skills.example import Example, TrainLoss
from skillit.skills.skillset import SkillSet
from skillit.trainer.batching import mean_tokens_per_example
from skillit.trainer.evaluation import AllReduce, SkillEvaluator, pool_answer_losses
from skillit.trainer.probe import GradientProbe
from skillit.trainer.reference import ModelReference, RecordedReference, ReferenceLosses
from skillit.trainer.settings import MAY_DIFFER_ON_RESUME, Exhausted, Sampling, TrainConfig, training_default
from skillit.trainer.signals import SignalTap

STATE_VERSION = 2


@dataclass(frozen=True)
class MixerConfig:
    """The schedule and sampling set-up of a run.

    Attributes:
        total_steps: optimiser steps of the run (probe rounds count against it).
        round_steps: H, optimiser steps per policy round (unless the policy plans otherwise).
        eval_every: evaluate every skill every this many steps (and at step 0 and the last step).
        batch_size: examples per draw, over all ranks (skillit's loop: the global batch; HF: the global
            micro-batch).
        draws_per_step: draws per optimiser step (HF: ``gradient_accumulation_steps``; skillit's loop: 1).
        seed, sampling, exhausted: the sampler's (:class:`~skillit.sampler.MixtureSampler`).
        setting, target_skills: the objective (``finetune`` needs target skills).
        objective_weights: ``{objective skill: weight}`` (the config's ``objective_weights``): the objective is
            the weighted mean Σ_j w_j·L_j, and the policy is told the weights (``PolicyContext.objective_weights``;
            the gradient probe's target becomes Σ_j w_j·g_j). ``None``: the plain mean.
        eval_batch_size, max_length: evaluation forward passes.
        grad_projection: rows of the random projection for gradient statistics (``None``: auto, 0: never).
        train_loss: the positions the run trains (``text``, ``answer``, ``completion``); the gradient probe
            (``grad_probe``) takes gradients of this loss.
    """

    total_steps: int
    round_steps: int
    eval_every: int
    batch_size: int
    draws_per_step: int = 1
    seed: int = training_default("seed")
    sampling: Sampling = training_default("sampling")
    exhausted: Exhausted = training_default("exhausted")
    setting: Setting = "pretrain"
    target_skills: tuple[str, ...] | None = None
    objective_weights: Mapping[str, float] | None = None
    eval_batch_size: int = training_default("eval_batch_size")
    max_length: int | None = None
    grad_projection: int | None = training_default("grad_projection")
    train_loss: TrainLoss = training_default("train_loss")

    def __post_init__(self) -> None:
        for name in ("total_steps", "round_steps", "eval_every", "batch_size", "draws_per_step", "eval_batch_size"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")

    @classmethod
    def from_training(cls, training: TrainConfig, *, setting: Setting = "pretrain",
                      target_skills: Sequence[str] | None = None, max_length: int | None = None,
                      objective_weights: Mapping[str, float] | None = None) -> MixerConfig:
        """The Mixer's settings of the training loop's run (its :class:`TrainConfig`: the training settings and
        the seed); one draw per optimiser step."""
        return cls(
            total_steps=training.steps, round_steps=training.round_steps, eval_every=training.eval_every,
            batch_size=training.batch_size, seed=training.seed, sampling=training.sampling,
            exhausted=training.exhausted, setting=setting, target_skills=tuple(target_skills) if target_skills else None,
            objective_weights=dict(objective_weights) if objective_weights is not None else None,
            eval_batch_size=training.eval_batch_size, max_length=max_length, grad_projection=training.grad_projection,
            train_loss=training.train_loss,
        )

    @property
    def n_rounds(self) -> int:
        return -(-self.total_steps // self.round_steps)


@dataclass(frozen=True)
class StepEvents:
    """What :meth:`Mixer.end_step` did: the evaluation record it appended, and the round it ended."""

    record: dict[str, Any] | None = None
    round_ended: int | None = None


class Mixer:
    """Owns the mixing of one run (see the module docstring).

    Args:
        skillset: training and evaluation skills.
        tokenizer: the model's tokenizer (skillit's contract).
        policy: any :class:`~skillit.policy.MixingPolicy`.
        config: :class:`MixerConfig`.
        device: where evaluation batches go.
        rank, world_size, all_reduce: data parallelism (every rank draws its share of each draw; sums
            are all-reduced so every rank makes the same policy update).
        reference: reference losses, required when the policy requires ``ref_loss``.
    """

    def __init__(
        self,
        skillset: SkillSet,
        tokenizer: Tokenizer,
        policy: MixingPolicy,
        config: MixerConfig,
        *,
        device: torch.device | str = "cpu",
        rank: int = 0,
        world_size: int = 1,
        all_reduce: AllReduce | None = None,
        reference: ReferenceLosses | None = None,
    ):
        self.skillset = skillset
        self.tokenizer = tokenizer
        self.policy = policy
        self.config = config
        self.device = device
        self.rank, self.world_size, self.all_reduce = rank, world_size, all_reduce
        if world_size > 1 and all_reduce is None:
            raise ConfigError(
                f"a Mixer on {world_size} ranks needs an all_reduce (skillit.trainer.distributed.make_all_reduce)"
            )
        self.train_names = list(skillset.train_names)
        if not self.train_names:
            raise SkillError("the SkillSet has no training skill (no skill with a training source)")
        if not skillset.eval_names:
            raise SkillError("the SkillSet has no evaluation skill (no skill with a validation set)")
        self.targets = objective_skills(skillset, config.setting, config.target_skills)
        weights = objective_weight_vector(self.targets, config.objective_weights)  # (m,) summing to 1, or None
        self.objective_weights = None if weights is None else tuple(weights.tolist())
        self.sources = [skillset[name].train for name in self.train_names]
        self.pool_sizes = [source.size for source in self.sources]  # type: ignore[union-attr]
        self.evaluator = SkillEvaluator(
            skillset, tokenizer, batch_size=config.eval_batch_size, device=device, max_length=config.max_length,
            rank=rank, world_size=world_size, all_reduce=all_reduce,
        )
        self.sampler = MixtureSampler(
            self.pool_sizes, config.batch_size, seed=config.seed, mode=config.sampling, exhausted=config.exhausted,
            world_size=world_size, rank=rank, names=self.train_names,
            ordered=[bool(getattr(source, "ordered", False)) for source in self.sources],  # streamed shards: file order
        )
        requires = frozenset(policy.requires)
        self.tap = SignalTap(self.train_names, train_loss="train_loss" in requires, grad_stats="grad_stats" in requires,
                             projection=config.grad_projection, seed=config.seed)
        if "ref_loss" in requires and reference is None:
            raise ConfigError(
                f"policy {policy.name!r} requires reference losses (ref_loss): give the Mixer a reference — "
                "RecordedReference(records of a reference run) or ModelReference(reference model)"
            )
        self.reference = reference if "ref_loss" in requires else None
        self.prober = (
            GradientProbe(self.train_names, self.sources, list(self.targets), tokenizer,
                          examples=getattr(policy, "probe_examples", 8), train_loss=config.train_loss,
                          target_weights=self.objective_weights,
                          max_length=config.max_length, device=device, seed=config.seed)
            if "grad_probe" in requires else None
        )
        # ---- run state (all in state_dict) ----
        self.policy_state: dict[str, Any] | None = None
        self.records: list[dict[str, Any]] = []
        self.step = 0
        self._round_evals: list[EvalResult] = []
        self._plan: dict[str, Any] | None = None  # steps, kind, evaluate, start of the current round
        self._loss_sum, self._loss_count = 0.0, 0
        self.train_seconds = 0.0
        self.ref_seconds = 0.0
        self.probe_steps = 0
        self.probe_evaluations = 0
        self.probe_eval_examples = 0
        self._clock: float | None = None
        self._model: torch.nn.Module | None = None

    # ---- life cycle -------------------------------------------------------------------------------
    def start(self, model: torch.nn.Module, *, lr: float = float("nan")) -> dict[str, Any]:
        """Step 0: evaluate, initialise the policy, write the first record (returned); ``lr``: the initial one."""
        bare = _unwrap(model)
        self._model = bare
        self.tap.attach(bare)
        if isinstance(self.reference, ModelReference):
            started = time.perf_counter()
            self.reference.evaluate(self.evaluator)
            self.ref_seconds += time.perf_counter() - started
        initial = self.evaluator(bare, 0)  # the bare module: no DDP collectives in sharded evaluation
        context = PolicyContext(
            train_skills=tuple(self.train_names),
            eval_skills=tuple(self.skillset.eval_names),
            target_skills=self.targets,
            setting=self.config.setting,
            natural_proportions=tuple(self.skillset.natural_proportions()),
            pool_sizes=tuple(self.pool_sizes),
            n_rounds=self.config.n_rounds,
            round_steps=self.config.round_steps,
            initial_eval=initial,
            score_pool=lambda: self._score_pool(bare),
            total_steps=self.config.total_steps,
            batch_size=self.config.batch_size * self.config.draws_per_step,
            seed=self.config.seed,
            mean_tokens=lambda: mean_tokens_per_example(self.tokenizer, self.sources),
            objective_weights=self.objective_weights,
        )
        self.policy_state = self.policy.init(context)
        first = np.asarray(self.policy.weights(self.policy_state), dtype=float)
        first = first / first.sum()  # normalised exactly as the sampler stores the weights in force
        self.records = [self._record(initial, 0, first, None, lr)]
        self._clock = time.perf_counter()
        return self.records[-1]

    def attach(self, model: torch.nn.Module) -> None:
        """After :meth:`load_state_dict`: the model whose output layer the signals tap."""
        self._model = _unwrap(model)
        self.tap.attach(self._model)
        self._clock = time.perf_counter()

    def close(self) -> None:
        """Remove hooks from the model."""
        self.tap.detach()

    @property
    def started(self) -> bool:
        return self.policy_state is not None

    @property
    def finished(self) -> bool:
        return self.step >= self.config.total_steps

    # ---- drawing ----------------------------------------------------------------------------------
    def draws(self) -> list[tuple[int, int]]:
        """This rank's share of the next draw, ``[(training-skill index, example index), ...]``."""
        if self.policy_state is None:
            raise ConfigError("Mixer.draws() before Mixer.start(model) (or load_state_dict)")
        if self._plan is None or self.sampler.round_finished:
            if self.finished:
                raise DataError(f"the run's {self.config.total_steps} steps are done; nothing more to draw")
            if self._plan is not None:
                raise DataError(
                    f"round {self.sampler.round}'s {self._plan['steps']} step(s) × {self.config.draws_per_step} draws are "
                    "all drawn but the driver did not end the round's last step; the trainer and the mixer disagree "
                    "on the step count (is gradient_accumulation_steps or the batch size changed?)"
                )
            self._start_round()
        return self.sampler.next_batch()

    def examples(self, pairs: Sequence[tuple[int, int]]) -> list[Example]:
        return [self.sources[s].get(i) for s, i in pairs]  # type: ignore[union-attr]

    def named(self, pairs: Sequence[tuple[int, int]]) -> list[tuple[str, int]]:
        return [(self.train_names[s], i) for s, i in pairs]

    def _start_round(self) -> None:
        assert self.policy_state is not None
        plan = self.policy.plan(self.policy_state, self.config.round_steps)
        if not isinstance(plan, RoundPlan):
            raise PolicyError(f"policy {self.policy.name!r}: plan() must return a RoundPlan, got {type(plan).__name__}")
        steps = min(int(plan.steps), self.config.total_steps - self.step)
        weights = plan.weights if plan.weights is not None else self.policy.weights(self.policy_state)
        scope = self.policy.scope(self.policy_state)
        self.sampler.start_round(weights, steps * self.config.draws_per_step, scope)
        self._plan = {"steps": steps, "kind": plan.kind, "evaluate": bool(plan.evaluate), "start": self.step}

    # ---- signals ----------------------------------------------------------------------------------
    @property
    def wants_batch_signals(self) -> bool:
        """Whether :meth:`observe_batch` computes anything beyond counts (drivers may skip the call otherwise)."""
        return self.tap.want_train_loss or self.tap.want_grad

    def observe_batch(self, skill_ids: Sequence[int], logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor,
                      per_token: torch.Tensor | None = None) -> None:
        """One trained micro-batch: skill index per row (B,), logits (B, T, V), targets (B, T), loss mask (B, T);
        ``per_token`` (B, T): the step's per-token losses, if the driver computed them (saves recomputing)."""
        self.tap.observe(skill_ids, logits, targets, mask, per_token)

    # ---- the end of a step ------------------------------------------------------------------------
    def end_step(self, model: torch.nn.Module, step: int, *, train_loss: float | None = None,
                 lr: float = float("nan")) -> StepEvents:
        """Optimiser step ``step`` (1-based) is done: evaluate when due, end the round when due."""
        if self._plan is None or self.policy_state is None:
            raise ConfigError("Mixer.end_step() before any draw of the step")
        now = time.perf_counter()
        if self._clock is not None:
            self.train_seconds += now - self._clock
        self.step = step
        if train_loss is not None:
            self._loss_sum += float(train_loss)
            self._loss_count += 1
        if self._plan["kind"] == "probe":
            self.probe_steps += 1
        round_over = step - self._plan["start"] >= self._plan["steps"] or step >= self.config.total_steps
        on_grid = step % self.config.eval_every == 0 or step == self.config.total_steps
        events = StepEvents()
        # the probe before the evaluation, so the record written at a round's end already counts its cost
        probe = self.prober.measure(_unwrap(model), self.sampler.round) if round_over and self.prober else None
        if on_grid or (round_over and self._plan["evaluate"]):
            evaluation = self.evaluator(_unwrap(model), step)
            if not on_grid:
                self.probe_evaluations += 1
                self.probe_eval_examples += self.evaluator.total_examples
            self._round_evals.append(evaluation)
            mean_loss = self._loss_sum / max(1, self._loss_count) if self._loss_count else None
            self.records.append(self._record(evaluation, self.sampler.round, self.sampler.weights, mean_loss, lr))
            self._loss_sum, self._loss_count = 0.0, 0
            events = StepEvents(record=self.records[-1])
        if round_over:
            if not self.sampler.round_finished:
                raise DataError(
                    f"step {step} ends round {self.sampler.round}, but only part of its draws were taken; call "
                    "Mixer.draws() draws_per_step times per optimiser step"
                )
            self.policy_state = self.policy.update(self.policy_state, self._observation(step, lr, probe))
            events = StepEvents(record=events.record, round_ended=self.sampler.round)
            self._round_evals = []
            self._plan = None
        self._clock = time.perf_counter()
        return events

    def _observation(self, step: int, lr: float, probe: GradProbe | None) -> Observation:
        assert self._plan is not None
        signals = self.tap.round_signals(self.all_reduce)
        self.tap.reset()
        ref: Mapping[str, float] = {}
        if self.reference is not None:
            ref = dict(self.reference.at(step))
        seen = self.sampler.examples_seen()
        return Observation(
            round=self.sampler.round,
            step=step,
            evals=tuple(self._round_evals),
            examples_seen={name: int(n) for name, n in zip(self.train_names, seen)},
            kind=self._plan["kind"],
            steps=step - self._plan["start"],
            lr=None if lr != lr else float(lr),
            round_examples=signals["round_examples"],
            train_tokens=signals["train_tokens"],
            train_loss=signals.get("train_loss", {}),
            ref_losses=ref,
            grad=signals.get("grad"),
            probe=probe,
        )

    # ---- records ----------------------------------------------------------------------------------
    def _record(self, evaluation: EvalResult, round_index: int, weights: np.ndarray | None,
                train_loss: float | None, lr: float) -> dict[str, Any]:
        seen = self.sampler.examples_seen()
        record = {
            "step": evaluation.step,
            "round": max(0, round_index),
            "losses": dict(evaluation.losses),
            "accuracies": dict(evaluation.accuracies),
            "weights": {n: float(w) for n, w in zip(self.train_names, weights)} if weights is not None else {},
            "examples_seen": {n: int(c) for n, c in zip(self.train_names, seen)},
            "train_loss": train_loss,
            "lr": float(lr),
            "train_seconds": self.train_seconds,
            "eval_seconds": self.evaluator.seconds,
            "eval_examples": self.evaluator.examples,
        }
        if self.wants_batch_signals or self.reference is not None or self.prober is not None:
            record["signal_seconds"] = {**{k: v for k, v in self.tap.seconds.items()
                                           if (k == "train_loss" and self.tap.want_train_loss)
                                           or (k == "grad_stats" and self.tap.want_grad)},
                                        **({"ref_loss": self.ref_seconds} if self.reference is not None else {}),
                                        **({"grad_probe": self.prober.seconds} if self.prober is not None else {})}
        if self.prober is not None:
            record["probe_grad_passes"] = self.prober.passes  # forward/backward passes, cumulative
            record["probe_grad_examples"] = self.prober.examples_used
        if self.probe_steps or self.probe_evaluations:
            record["probe_steps"] = self.probe_steps
            record["probe_evaluations"] = self.probe_evaluations
            record["probe_eval_examples"] = self.probe_eval_examples
        return record

    def _score_pool(self, model: torch.nn.Module) -> dict[str, np.ndarray]:
        """The current (initial) model's answer loss on every pool example; counted as evaluation cost."""
        started = time.perf_counter()
        for name, size in zip(self.train_names, self.pool_sizes):
            if size is None:
                raise DataError(f"scoring the pool of {name!r} needs a finite pool, but it is a stream")
        scores = pool_answer_losses(model, self.tokenizer, dict(zip(self.train_names, self.sources)),
                                    batch_size=self.config.eval_batch_size, device=self.device,
                                    max_length=self.config.max_length)
        self.evaluator.examples += sum(len(values) for values in scores.values())
        self.evaluator.seconds += time.perf_counter() - started
        return scores

    # ---- state ------------------------------------------------------------------------------------
    def setup(self) -> dict[str, Any]:
        """What a saved state must match to be resumed: skills, schedule, sampling, ranks, policy."""
        config = asdict(self.config)
        config["target_skills"] = list(self.targets)
        if self.objective_weights is None:
            config.pop("objective_weights")  # a checkpoint's setup as before the weights existed
        else:
            config["objective_weights"] = dict(zip(self.targets, self.objective_weights))
        for name in MAY_DIFFER_ON_RESUME & set(config):  # the training settings a resume may change
            config.pop(name)
        config.pop("max_length")
        config.pop("train_loss")  # the training loop's own checkpoint check covers it
        return {"train_skills": self.train_names, "world_size": self.world_size, **config,
                "policy": self.policy.describe()}

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly, as plain JSON."""
        if self.policy_state is None:
            raise ConfigError("Mixer.state_dict() before Mixer.start(model)")
        return {
            "version": STATE_VERSION,
            "setup": _jsonable(self.setup()),
            "policy_state": self.policy.pack_state(self.policy_state),
            "sampler": self.sampler.state_dict(),
            "step": self.step,
            "plan": self._plan,
            "round_evals": [e.to_dict() for e in self._round_evals],
            "records": self.records,
            "signals": self.tap.state_dict(),
            "loss_sum": self._loss_sum,
            "loss_count": self._loss_count,
            "train_seconds": self.train_seconds,
            "eval_seconds": self.evaluator.seconds,
            "eval_examples": self.evaluator.examples,
            "ref_seconds": self.ref_seconds,
            "probe": [self.probe_steps, self.probe_evaluations, self.probe_eval_examples],
            **({"grad_probe": self.prober.state_dict()} if self.prober is not None else {}),
        }

    def load_state_dict(self, state: Mapping[str, Any], *, where: str = "checkpoint") -> None:
        """Restore a :meth:`state_dict`; refuses one made under another set-up, naming the field."""
        if not isinstance(state, Mapping) or state.get("version") != STATE_VERSION:
            found = state.get("version") if isinstance(state, Mapping) else type(state).__name__
            raise CheckpointError(
                f"{where}: mixer state version {found!r}, this skillit writes version {STATE_VERSION}; resume with "
                "the skillit version that wrote it, or start the run again"
            )
        mine = _jsonable(self.setup())
        theirs = dict(state["setup"])
        if "policy" in theirs:  # a set-up saved before a policy parameter was renamed: compared in the new spelling
            theirs["policy"] = upgrade_description(theirs["policy"])
        for key in sorted(set(mine) | set(theirs)):
            if mine.get(key) != theirs.get(key):
                raise CheckpointError(
                    f"{where}: saved with {key}={theirs.get(key)!r}, this run has {mine.get(key)!r}; resume with "
                    "the policy, data and settings the run started with"
                )
        self.policy_state = self.policy.unpack_state(state["policy_state"], where=where)
        self.sampler.load_state_dict(state["sampler"])
        self.step = int(state["step"])
        self._plan = state["plan"]
        self._round_evals = [EvalResult.from_dict(e) for e in state["round_evals"]]
        self.records = [dict(r) for r in state["records"]]
        self.tap.load_state_dict(state["signals"])
        self._loss_sum, self._loss_count = float(state["loss_sum"]), int(state["loss_count"])
        self.train_seconds = float(state["train_seconds"])
        self.evaluator.seconds, self.evaluator.examples = float(state["eval_seconds"]), int(state["eval_examples"])
        self.ref_seconds = float(state["ref_seconds"])
        self.probe_steps, self.probe_evaluations, self.probe_eval_examples = (int(v) for v in state["probe"])
        if self.prober is not None and "grad_probe" in state:
            self.prober.load_state_dict(state["grad_probe"])


def _jsonable(value: Any) -> Any:
    """Tuples → lists, recursively, so a set-up compares equal to its JSON round trip."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if hasattr(model, "module") else model


# ModelReference, RecordedReference, ReferenceLosses (trainer/reference.py) and objective_skills
# (policy/objective.py) lived here; they stay importable from this module
__all__ = [
    "Mixer",
    "MixerConfig",
    "ModelReference",
    "RecordedReference",
    "ReferenceLosses",
    "StepEvents",
    "objective_skills",
]
