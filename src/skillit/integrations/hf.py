"""Hugging Face Transformers: any skillit policy inside a stock ``transformers.Trainer``, no subclass.

Three pieces, added to a normal Trainer script (docs/stacks.md has the full diff)::

    train_dataset = SkillMixingDataset(skills, HFTokenizer(tokenizer), seed=0)
    mixing = SkillMixingCallback(train_dataset, SkillIt(graph, eta=0.5), round_steps=100, eval_every=50)
    args = TrainingArguments(..., max_steps=1000, ignore_data_skip=True,
                             accelerator_config={"dispatch_batches": False})
    Trainer(model=model, args=args, train_dataset=train_dataset, data_collator=train_dataset.collate,
            callbacks=[mixing]).train()

* :class:`HFTokenizer` gives a ``PreTrainedTokenizerFast`` skillit's tokenizer contract (encode, decode,
  vocab_size, pad_id, bos_id, eos_id); :func:`train_hf_tokenizer` trains a byte-level BPE in-process.
* :class:`SkillMixingDataset` is an ``IterableDataset`` whose micro-batches come from a
  :class:`~skillit.sampler.MixtureSampler`; the callback replaces its weights in place at every round.
* :class:`SkillMixingCallback` (a ``TrainerCallback``) evaluates every skill's validation loss with
  :class:`~skillit.trainer.SkillEvaluator` on the Trainer's model at the policy's evaluation points, calls
  ``policy.update`` at each round end and pushes the new weights to the dataset. Its state (policy state,
  sampler position, records) rides in every Trainer checkpoint (``trainer_state.json``), so
  ``trainer.train(resume_from_checkpoint=...)`` continues the mixture where it stopped; in a single
  process the trajectory after a resume is identical to an uninterrupted run, dropout included.

Why the batches are *lazy*: the Trainer's data loader reads ahead (accelerate fetches the next micro-batch
before yielding the current one, and ``get_batch_samples`` fetches a step's micro-batches at once). A
dataset that drew examples when fetched would draw the first micro-batch of round t+1 before round t's
evaluation decided its weights, and a checkpoint would save a position one micro-batch ahead of what was
trained on. So the dataset yields placeholders, ``collate`` returns a :class:`LazyBatch`, and the examples
are drawn when the Trainer first reads the batch (to move it to the device), which is after the previous
optimiser step's ``on_step_end``. Hence, exactly as in skillit's own loop: a round is ``round_steps``
optimiser steps = ``round_steps × gradient_accumulation_steps`` micro-batches per rank, all drawn at that
round's weights; a checkpoint holds the position of the last micro-batch trained on.

Requirements (checked in ``on_train_begin`` with a message that says how to fix them):
``max_steps > 0``; ``ignore_data_skip=True`` (the dataset restores its own position; the Trainer's
fast-forward would draw and throw away batches); ``dataloader_num_workers=0`` (batches are drawn in the
main process); ``accelerator_config={"dispatch_batches": False}`` (by default accelerate reads an
IterableDataset ahead on the main process and slices it for the ranks; instead each rank draws its own
share: the sampler gives rank r slots r, r + W, ... of each global micro-batch).

Labels: the collate builds ``labels`` = the input ids with ``-100`` on padding, and also on the prompt when
``train_loss="completion"`` (answer and ``[eos]``) or ``"answer"`` (answer only, ``[eos]`` masked too: the
model does not learn to stop); the default ``"text"`` trains on prompt, answer and ``[eos]``, as skillit's own
loop does.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import torch
from transformers import TrainerCallback
from transformers.trainer_callback import ExportableState

from skillit.errors import CheckpointError, ConfigError, DataError
from skillit.model.hf import train_bpe_tokenizer
from skillit.model.tokenizer import HFTokenizer
from skillit.policy.base import MixingPolicy, Setting
from skillit.policy.objective import objective_skills, objective_weight_vector
from skillit.skills.skillset import SkillSet
from skillit.trainer.batching import TRAIN_LOSSES, TrainLoss, collate, loss_mask
from skillit.trainer.distributed import make_all_reduce
from skillit.trainer.mixer import Mixer, MixerConfig, ReferenceLosses

STATE_VERSION = 2  # 2: the mixing state is the Mixer's state_dict


# ---- tokenizers ------------------------------------------------------------------------------------
def train_hf_tokenizer(
    texts: Iterable[str], *, vocab_size: int = 512, min_frequency: int = 2
) -> HFTokenizer:
    """A byte-level BPE tokenizer trained in-process with ``tokenizers`` (no download), wrapped for skillit:
    the tokenizer ``model: {kind: hf, tokenizer: {train: bpe}}`` trains (:func:`skillit.model.hf.train_bpe_tokenizer`).

    Byte-level: every string is encodable (no unknown token). Special tokens ``<pad>``, ``<bos>``, ``<eos>``
    get ids 0, 1, 2. Training is deterministic for the same texts.
    """
    return train_bpe_tokenizer(texts, vocab_size=vocab_size, min_frequency=min_frequency)


# ---- the dataset -------------------------------------------------------------------------------------
def hf_batch(tokenizer: Any, examples: Sequence[Any], *, train_loss: TrainLoss = "text",
             max_length: int | None = None) -> dict[str, torch.Tensor]:
    """``input_ids``, ``attention_mask``, ``labels`` (B, L) for a causal LM that shifts labels itself.

    The sequence is skillit's ``[bos] prompt answer [eos]``; ``labels`` repeats the ids with -100 where
    nothing is trained (padding, the leading bos; the prompt when ``train_loss`` is ``"answer"`` or
    ``"completion"``, and the ``[eos]`` too with ``"answer"``), so the model's mean token loss equals skillit's
    training loss on the same examples.
    """
    batch = collate(tokenizer, examples, None if max_length is None else max_length - 1)
    ids = torch.cat([batch.input_ids[:, :1], batch.targets], dim=1)  # (B, T + 1): bos, then the targets
    attention = torch.cat([torch.ones_like(batch.attention_mask[:, :1]), batch.text_mask.long()], dim=1)
    mask = loss_mask(batch, train_loss)  # (B, T) on the targets
    labels = torch.cat([torch.full_like(ids[:, :1], -100), torch.where(mask, batch.targets, -100)], dim=1)
    return {"input_ids": ids, "attention_mask": attention, "labels": labels}


class LazyBatch(Mapping):
    """A micro-batch whose examples are drawn on first access (see the module docstring for why).

    A ``Mapping``: the Trainer and accelerate rebuild it as ``type(batch)({...})``, which gives a resolved one.
    """

    def __init__(self, data: Mapping[str, Any] | None = None, *, resolve: Callable[[], dict[str, Any]] | None = None):
        self._data = dict(data) if data is not None else None
        self._resolve = resolve

    def _resolved(self) -> dict[str, Any]:
        if self._data is None:
            assert self._resolve is not None
            self._data, self._resolve = self._resolve(), None
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._resolved()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._resolved())

    def __len__(self) -> int:
        return len(self._resolved())

    def __repr__(self) -> str:
        return f"LazyBatch({'unresolved' if self._data is None else list(self._data)})"


DrawListener = Callable[[int, int, list[tuple[str, int]]], None]  # (micro-batch number, round, draws)


class SkillMixingDataset(torch.utils.data.IterableDataset):
    """Training micro-batches drawn by the run's :class:`~skillit.trainer.mixer.Mixer` when the Trainer reads them.

    Pass it as ``train_dataset`` with ``data_collator=dataset.collate`` and attach a
    :class:`SkillMixingCallback`; the callback builds the Mixer from the ``TrainingArguments`` (global
    micro-batch = ``per_device_train_batch_size × world_size``, ``gradient_accumulation_steps`` draws per
    optimiser step) and binds it here. The Mixer starts every round itself at the first draw after the
    previous round ended.

    Args:
        skillset: the skills; every skill with a training source is sampled.
        tokenizer: skillit's tokenizer contract (e.g. :class:`HFTokenizer`).
        seed, sampling, exhausted: the sampler's (see ``MixtureSampler``).
        train_loss: ``text`` (prompt, answer and eos), ``answer`` (answer tokens only; the model does not
            learn to stop) or ``completion`` (answer tokens and eos, for a model that will generate).
        max_length: the model's context length in tokens (default: unchecked).
        on_draw: called as ``on_draw(micro_batch_number, round, [(skill, example index), ...])`` with this
            rank's draws, e.g. to log them.
    """

    def __init__(
        self,
        skillset: SkillSet,
        tokenizer: Any,
        *,
        seed: int = 0,
        sampling: Literal["quota", "iid"] = "quota",
        exhausted: Literal["cycle", "drop", "stop"] = "cycle",
        train_loss: TrainLoss = "text",
        max_length: int | None = None,
        on_draw: DrawListener | None = None,
    ):
        super().__init__()
        self.skillset = skillset
        self.tokenizer = tokenizer
        self.train_names = skillset.train_names
        if not self.train_names:
            raise DataError("the SkillSet has no training skill (no skill with a training source)")
        self.seed, self.sampling, self.exhausted = seed, sampling, exhausted
        if train_loss not in TRAIN_LOSSES:
            raise ConfigError(f"train_loss must be one of {', '.join(TRAIN_LOSSES)}, got {train_loss!r}")
        self.train_loss = train_loss
        self.max_length = max_length
        self.on_draw = on_draw
        self.mixer: Mixer | None = None
        self.micro_batch_size = 0  # per rank
        self.pending_skill_ids: list[int] | None = None  # skills of the micro-batch drawn last, until trained on
        self._drawn = 0  # micro-batches drawn (= trained on) by this rank
        self._issued = 0  # placeholders handed to the data loader by the current iterator
        self._rng_at_next_draw: torch.Tensor | None = None

    # the callback's side ------------------------------------------------------------------------
    def bind(self, mixer: Mixer, micro_batch_size: int) -> None:
        """Draw from ``mixer``, ``micro_batch_size`` examples per rank and micro-batch."""
        if mixer.train_names != list(self.train_names):
            raise ConfigError("the Mixer was built for other training skills than this dataset's")
        self.mixer = mixer
        self.micro_batch_size = micro_batch_size
        self._drawn = self._issued = 0

    @property
    def sampler(self):
        """The Mixer's sampler (``None`` before the callback bound the dataset)."""
        return None if self.mixer is None else self.mixer.sampler

    @property
    def micro_batches_drawn(self) -> int:
        return self._drawn

    def restore_rng_at_next_draw(self, state: torch.Tensor) -> None:
        """Set the torch CPU RNG to ``state`` just before the next micro-batch is trained on.

        On resume the Trainer restores the RNG and *then* creates the data loader iterator, which draws a
        seed from the global RNG: dropout after a resume would be one draw off the uninterrupted run.
        """
        self._rng_at_next_draw = state

    def state_dict(self) -> dict[str, Any]:
        return {"drawn": self._drawn, "micro_batch_size": self.micro_batch_size}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state["micro_batch_size"] != self.micro_batch_size:
            raise CheckpointError(
                f"the checkpoint was trained with {state['micro_batch_size']} examples per micro-batch and rank, this "
                f"run has {self.micro_batch_size}; resume with the same per_device_train_batch_size and world size"
            )
        self._drawn = self._issued = int(state["drawn"])

    # the data loader's side ------------------------------------------------------------------------
    def __iter__(self) -> Iterator[object]:
        if torch.utils.data.get_worker_info() is not None:
            raise ConfigError(
                "SkillMixingDataset draws batches in the main process; set TrainingArguments(dataloader_num_workers=0)"
            )
        self._issued = self._drawn  # placeholders of an abandoned iterator are never drawn
        while True:
            yield _SLOT

    def collate(self, items: Sequence[object]) -> LazyBatch:
        """The ``data_collator``: a micro-batch to be drawn when the Trainer first reads it."""
        if self.mixer is None:
            raise ConfigError("SkillMixingDataset is not bound: add SkillMixingCallback(dataset, policy) to the Trainer")
        if len(items) != self.micro_batch_size:
            raise ConfigError(
                f"the data loader made a micro-batch of {len(items)}, the mixing sampler expects {self.micro_batch_size} "
                "(per_device_train_batch_size); do not change the batch size after the callback bound the dataset"
            )
        ticket = self._issued
        self._issued += 1
        return LazyBatch(resolve=lambda: self._draw(ticket))

    def _draw(self, ticket: int) -> dict[str, torch.Tensor]:
        if ticket != self._drawn:
            raise DataError(
                f"micro-batch {ticket} was read before micro-batch {self._drawn}; skillit draws micro-batches in the "
                "order they are trained on (set ignore_data_skip=True; do not reuse batches)"
            )
        mixer = self._bound()
        if self._rng_at_next_draw is not None:
            torch.set_rng_state(self._rng_at_next_draw)
            self._rng_at_next_draw = None
        pairs = mixer.draws()
        self._drawn += 1
        self.pending_skill_ids = [s for s, _ in pairs]
        if self.on_draw is not None:
            self.on_draw(self._drawn, mixer.sampler.round, mixer.named(pairs))
        return hf_batch(self.tokenizer, mixer.examples(pairs), train_loss=self.train_loss, max_length=self.max_length)

    def _bound(self) -> Mixer:
        if self.mixer is None:
            raise ConfigError("SkillMixingDataset is not bound: add SkillMixingCallback(dataset, policy) to the Trainer")
        return self.mixer


_SLOT = object()  # what the dataset yields: a placeholder, drawn later by LazyBatch


# ---- the callback -----------------------------------------------------------------------------------
class SkillMixingCallback(TrainerCallback, ExportableState):
    """Runs a skillit policy inside ``transformers.Trainer`` through the one :class:`~skillit.trainer.mixer.Mixer`.

    Schedule, in optimiser steps (``state.global_step``): evaluate every skill at step 0, every
    ``eval_every`` steps and at ``max_steps``; a round is ``round_steps`` steps (or what the policy plans);
    at each round end the policy gets the round's evaluations and the signals it requires.

    Glue only: ``on_train_begin`` builds the Mixer and starts it (or restores it from the checkpoint),
    a forward hook on the model hands every trained micro-batch's logits and labels to the Mixer (the
    training loss of the records, and per-skill training signals for policies that require them — no
    Trainer subclass), ``on_step_end`` calls ``Mixer.end_step``. ``records`` are the Mixer's: the same
    fields as skillit's own loop (``train_loss`` and ``train_seconds`` included). The mixture and the
    per-skill losses also go through the Trainer's own ``log`` at every evaluation, so ``report_to``
    (TensorBoard, W&B, ...) sees them unchanged.

    Args:
        dataset: the Trainer's ``train_dataset``.
        policy: any skillit :class:`~skillit.policy.MixingPolicy`.
        round_steps, eval_every: H and the evaluation spacing, in optimiser steps.
        setting, target_skills: the objective (``finetune`` needs target skills), as in ``skillit.train``.
        objective_weights: ``{objective skill: weight}``: the objective is the weighted mean and the policy is
            told the weights (``PolicyContext.objective_weights``), as in ``skillit.train``; ``None``: the plain mean.
        eval_batch_size: examples per evaluation forward pass.
        max_length: context length for evaluation (default: the dataset's).
        reference: reference losses for a policy that requires ``ref_loss`` (DoReMi).
        grad_projection: rows of the random projection of gradient statistics (``None``: auto).
    """

    def __init__(
        self,
        dataset: SkillMixingDataset,
        policy: MixingPolicy,
        *,
        round_steps: int,
        eval_every: int,
        setting: Setting = "pretrain",
        target_skills: Sequence[str] | None = None,
        objective_weights: Mapping[str, float] | None = None,
        eval_batch_size: int = 256,
        max_length: int | None = None,
        reference: ReferenceLosses | None = None,
        grad_projection: int | None = None,
    ):
        if round_steps < 1 or eval_every < 1:
            raise ConfigError(f"round_steps and eval_every must be >= 1, got {round_steps} and {eval_every}")
        self.dataset = dataset
        self.policy = policy
        self.round_steps = round_steps
        self.eval_every = eval_every
        self.setting = setting
        self.skillset = dataset.skillset
        if not self.skillset.eval_names:
            raise ConfigError("the SkillSet has no evaluation skill (no skill with a validation set)")
        self.target_skills = tuple(target_skills) if target_skills else None
        self.targets = objective_skills(self.skillset, setting, target_skills)
        objective_weight_vector(self.targets, objective_weights)  # a name outside the objective fails here, early
        self.objective_weights = dict(objective_weights) if objective_weights is not None else None
        self.eval_batch_size = eval_batch_size
        self.max_length = max_length if max_length is not None else dataset.max_length
        self.reference = reference
        self.grad_projection = grad_projection
        self.mixer: Mixer | None = None
        self._accumulation = 1
        self._hook: Any = None
        self._step_loss = np.zeros(2)  # this rank's (loss sum, tokens) of the current optimiser step
        self._all_reduce: Any = None
        self._pending_log: dict[str, float] | None = None

    @property
    def records(self) -> list[dict[str, Any]]:
        return self.mixer.records if self.mixer is not None else []

    @property
    def policy_state(self) -> dict[str, Any] | None:
        return self.mixer.policy_state if self.mixer is not None else None

    # ---- the Trainer's events ------------------------------------------------------------------
    def on_init_end(self, args, state, control, **kwargs):
        if getattr(args, "restore_callback_states_from_checkpoint", False):
            raise ConfigError(
                "SkillMixingCallback restores its own state from the checkpoint; leave "
                "TrainingArguments(restore_callback_states_from_checkpoint=False)"
            )

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self._check_arguments(args)
        rank, world, all_reduce = _data_parallel(args)
        self._all_reduce = all_reduce
        self._accumulation = args.gradient_accumulation_steps
        micro = args.per_device_train_batch_size
        self.mixer = Mixer(
            self.skillset, self.dataset.tokenizer, self.policy,
            MixerConfig(
                total_steps=int(state.max_steps), round_steps=self.round_steps, eval_every=self.eval_every,
                batch_size=micro * world, draws_per_step=self._accumulation, seed=self.dataset.seed,
                sampling=self.dataset.sampling, exhausted=self.dataset.exhausted, setting=self.setting,
                target_skills=self.target_skills, objective_weights=self.objective_weights,
                eval_batch_size=self.eval_batch_size, max_length=self.max_length,
                grad_projection=self.grad_projection, train_loss=self.dataset.train_loss,
            ),
            device=args.device, rank=rank, world_size=world, all_reduce=all_reduce, reference=self.reference,
        )
        self.dataset.bind(self.mixer, micro)
        self._attach(model)
        if state.global_step > 0:
            self._restore(state, args, model)
            return
        self.mixer.start(model, lr=_lr(kwargs))
        self._pending_log = _log_values(self.mixer.records[-1])

    def on_step_end(self, args, state, control, model=None, **kwargs):
        assert self.mixer is not None
        sums = self._step_loss if self._all_reduce is None else self._all_reduce(self._step_loss.copy())
        train_loss = float(sums[0] / max(sums[1], 1.0))
        self._step_loss = np.zeros(2)
        events = self.mixer.end_step(model, state.global_step, train_loss=train_loss, lr=_lr(kwargs))
        if events.record is not None:
            self._pending_log = _log_values(events.record)
            control.should_log = True  # the Trainer then calls its own log(), and on_log below adds ours

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self._pending_log and logs is not None:
            logs.update(self._pending_log)  # report_to integrations run after the callbacks and see these
            self._pending_log = None

    def on_train_end(self, args, state, control, **kwargs):
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        if self.mixer is not None:
            self.mixer.close()

    # ---- ExportableState: saved in every checkpoint's trainer_state.json -------------------------
    def state(self) -> dict[str, Any]:
        """The mixing state as one JSON string (the Trainer sorts keys of its own JSON; ours keeps order)."""
        payload = None
        if self.mixer is not None and self.mixer.started:
            payload = json.dumps({
                "version": STATE_VERSION,
                "gradient_accumulation_steps": self._accumulation,
                "mixer": self.mixer.state_dict(),
                "dataset": self.dataset.state_dict(),
                "torch_rng": base64.b64encode(torch.get_rng_state().numpy().tobytes()).decode("ascii"),
            })
        return {"args": {}, "attributes": {"skillit_state": payload}}

    # ---- helpers -------------------------------------------------------------------------------
    def _attach(self, model: torch.nn.Module) -> None:
        """A forward hook that hands every trained micro-batch (logits, labels) to the Mixer."""
        if self._hook is not None:
            self._hook.remove()

        def tap(module: torch.nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
            skill_ids = self.dataset.pending_skill_ids
            labels = kwargs.get("labels")
            if not module.training or skill_ids is None or labels is None:
                return  # evaluation, or a forward that is not a drawn micro-batch
            self.dataset.pending_skill_ids = None
            logits = output.logits[:, :-1]  # (B, L-1, V): position t predicts token t + 1
            shifted = labels[:, 1:]  # (B, L-1)
            mask = shifted != -100
            targets = shifted.clamp(min=0)
            with torch.no_grad():
                per_token = torch.nn.functional.cross_entropy(logits.detach().float().transpose(1, 2), targets, reduction="none")
                self._step_loss += np.array([float((per_token * mask).sum()), float(mask.sum())])
            if self.mixer is not None and self.mixer.wants_batch_signals:
                self.mixer.observe_batch(skill_ids, logits, targets, mask, per_token)

        self._hook = _unwrap(model).register_forward_hook(tap, with_kwargs=True)

    def _restore(self, state, args, model) -> None:
        assert self.mixer is not None
        saved = state.stateful_callbacks.get(type(self).__name__) if state.stateful_callbacks else None
        if isinstance(saved, list):
            saved = saved[0] if saved else None
        payload = (saved or {}).get("attributes", {}).get("skillit_state")
        if not payload:
            raise CheckpointError(
                f"the checkpoint at step {state.global_step} holds no {type(self).__name__} state; resume from a "
                "checkpoint written by a Trainer that had this callback"
            )
        data = json.loads(payload)
        if data.get("version") != STATE_VERSION:
            raise CheckpointError(
                f"the checkpoint's {type(self).__name__} state has version {data.get('version')!r}, this skillit "
                f"expects {STATE_VERSION}; resume with the skillit version that wrote it"
            )
        if data.get("gradient_accumulation_steps") != self._accumulation:
            raise CheckpointError(
                f"the checkpoint was written with gradient_accumulation_steps={data.get('gradient_accumulation_steps')!r}, "
                f"this run has {self._accumulation!r}; resume with the settings the run started with"
            )
        self.mixer.load_state_dict(data["mixer"], where=f"checkpoint at step {state.global_step}")
        self.dataset.load_state_dict(data["dataset"])
        drawn, expected = self.dataset.micro_batches_drawn, state.global_step * self._accumulation
        if drawn != expected:
            raise CheckpointError(
                f"the checkpoint's sampler drew {drawn} micro-batches but {state.global_step} steps × "
                f"{self._accumulation} were trained; it was not written by this callback's Trainer"
            )
        self.mixer.attach(model)
        if int(args.world_size) == 1:  # the checkpoint holds rank 0's RNG; other ranks keep the Trainer's restore
            rng = np.frombuffer(base64.b64decode(data["torch_rng"]), dtype=np.uint8).copy()
            self.dataset.restore_rng_at_next_draw(torch.from_numpy(rng))

    def _check_arguments(self, args) -> None:
        problems = []
        if not args.max_steps or args.max_steps <= 0:
            problems.append("max_steps=N (a positive number of optimiser steps; the dataset never ends)")
        if not args.ignore_data_skip:
            problems.append("ignore_data_skip=True (the dataset restores its own position on resume)")
        if args.dataloader_num_workers:
            problems.append("dataloader_num_workers=0 (batches are drawn in the main process)")
        if getattr(getattr(args, "accelerator_config", None), "dispatch_batches", None) is not False:
            problems.append(
                'accelerator_config={"dispatch_batches": False} (accelerate would otherwise read an IterableDataset '
                "ahead on the main process and slice it; skillit draws each rank's share itself, when trained on)"
            )
        if problems:
            raise ConfigError("SkillMixingCallback needs TrainingArguments(" + ", ".join(problems) + ")")


def _log_values(record: Mapping[str, Any]) -> dict[str, float]:
    """A record as flat scalars for the Trainer's log: ``skillit/loss/SKILL``, ``skillit/weight/SKILL``, ..."""
    values: dict[str, float] = {}
    for key, label in (("losses", "loss"), ("accuracies", "accuracy"), ("weights", "weight")):
        for name, value in record.get(key, {}).items():
            values[f"skillit/{label}/{name}"] = float(value)
    for name, value in record.get("examples_seen", {}).items():
        values[f"skillit/examples/{name}"] = float(value)
    return values


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if hasattr(model, "module") else model


def _lr(kwargs: Mapping[str, Any]) -> float:
    scheduler = kwargs.get("lr_scheduler")
    if scheduler is not None:
        try:
            return float(scheduler.get_last_lr()[0])
        except (AttributeError, IndexError):
            pass
    optimizer = kwargs.get("optimizer")
    return float(optimizer.param_groups[0]["lr"]) if optimizer is not None else float("nan")


def _data_parallel(args) -> tuple[int, int, Any]:
    """(rank, world size, all_reduce) of the Trainer's processes."""
    world = int(getattr(args, "world_size", 1) or 1)
    if world == 1:
        return 0, 1, None
    return int(args.process_index), world, make_all_reduce(args.device)


__all__ = [
    "HFTokenizer",
    "LazyBatch",
    "SkillMixingCallback",
    "SkillMixingDataset",
    "hf_batch",
    "train_hf_tokenizer",
]
