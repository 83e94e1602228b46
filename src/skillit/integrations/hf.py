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
``train_loss="answer"`` (the default ``"text"`` trains on prompt and answer, as skillit's own loop does).
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import torch
from transformers import PreTrainedTokenizerFast, TrainerCallback
from transformers.trainer_callback import ExportableState

from skillit.errors import CheckpointError, ConfigError, DataError
from skillit.policy.base import EvalResult, MixingPolicy, Observation, PolicyContext, Setting
from skillit.sampler.mixture_sampler import MixtureSampler
from skillit.skills.skillset import SkillSet
from skillit.trainer.batching import collate
from skillit.trainer.evaluation import SkillEvaluator, answer_metrics
from skillit.trainer.loop import objective_skills

STATE_VERSION = 1


# ---- tokenizers ------------------------------------------------------------------------------------
class HFTokenizer:
    """skillit's tokenizer contract over a Hugging Face fast tokenizer.

    ``encode`` adds no special tokens (skillit adds ``bos``/``eos`` itself, around prompt + answer).
    ``pad_id`` falls back to ``eos_id`` and ``bos_id`` to ``eos_id`` when the tokenizer defines none
    (GPT-2 style tokenizers have one ``<|endoftext|>`` token); an ``eos`` token is required.
    """

    def __init__(self, tokenizer: Any):
        eos = tokenizer.eos_token_id
        if eos is None:
            raise DataError(
                "the Hugging Face tokenizer has no eos token; set one (tokenizer.eos_token = '...') so skillit "
                "can end every example"
            )
        self.tokenizer = tokenizer
        self.eos_id = int(eos)
        self.bos_id = int(tokenizer.bos_token_id) if tokenizer.bos_token_id is not None else self.eos_id
        self.pad_id = int(tokenizer.pad_token_id) if tokenizer.pad_token_id is not None else self.eos_id
        self.vocab_size = len(tokenizer)

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)


def train_hf_tokenizer(
    texts: Iterable[str], *, vocab_size: int = 512, min_frequency: int = 2
) -> HFTokenizer:
    """A byte-level BPE tokenizer trained in-process with ``tokenizers`` (no download), wrapped for skillit.

    Byte-level: every string is encodable (no unknown token). Special tokens ``<pad>``, ``<bos>``, ``<eos>``
    get ids 0, 1, 2. Training is deterministic for the same texts.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    texts = list(texts)
    if not texts:
        raise DataError("train_hf_tokenizer needs at least one text")
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=["<pad>", "<bos>", "<eos>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", bos_token="<bos>", eos_token="<eos>")
    return HFTokenizer(fast)


# ---- the dataset -------------------------------------------------------------------------------------
def hf_batch(tokenizer: Any, examples: Sequence[Any], *, train_loss: Literal["text", "answer"] = "text",
             max_length: int | None = None) -> dict[str, torch.Tensor]:
    """``input_ids``, ``attention_mask``, ``labels`` (B, L) for a causal LM that shifts labels itself.

    The sequence is skillit's ``[bos] prompt answer [eos]``; ``labels`` repeats the ids with -100 where
    nothing is trained (padding, the leading bos, and the prompt when ``train_loss="answer"``), so the
    model's mean token loss equals skillit's training loss on the same examples.
    """
    batch = collate(tokenizer, examples, None if max_length is None else max_length - 1)
    ids = torch.cat([batch.input_ids[:, :1], batch.targets], dim=1)  # (B, T + 1): bos, then the targets
    attention = torch.cat([torch.ones_like(batch.attention_mask[:, :1]), batch.text_mask.long()], dim=1)
    mask = batch.answer_mask if train_loss == "answer" else batch.text_mask  # (B, T) on the targets
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
    """Training micro-batches drawn by a :class:`~skillit.sampler.MixtureSampler` at weights set in place.

    Pass it as ``train_dataset`` with ``data_collator=dataset.collate`` and attach a
    :class:`SkillMixingCallback`; the callback sizes the sampler from the ``TrainingArguments`` (global
    micro-batch = ``per_device_train_batch_size × world_size``) and starts every round.

    Args:
        skillset: the skills; every skill with a training source is sampled.
        tokenizer: skillit's tokenizer contract (e.g. :class:`HFTokenizer`).
        seed, sampling, exhausted: the sampler's (see ``MixtureSampler``).
        train_loss: ``text`` (prompt and answer) or ``answer`` (answer tokens only).
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
        train_loss: Literal["text", "answer"] = "text",
        max_length: int | None = None,
        on_draw: DrawListener | None = None,
    ):
        super().__init__()
        self.skillset = skillset
        self.tokenizer = tokenizer
        self.train_names = skillset.train_names
        if not self.train_names:
            raise DataError("the SkillSet has no training skill (no skill with a training source)")
        self.sources = [skillset[name].train for name in self.train_names]
        self.seed, self.sampling, self.exhausted = seed, sampling, exhausted
        if train_loss not in ("text", "answer"):
            raise ConfigError(f"train_loss must be 'text' or 'answer', got {train_loss!r}")
        self.train_loss = train_loss
        self.max_length = max_length
        self.on_draw = on_draw
        self.sampler: MixtureSampler | None = None
        self.micro_batch_size = 0  # per rank
        self._drawn = 0  # micro-batches drawn (= trained on) by this rank
        self._issued = 0  # placeholders handed to the data loader by the current iterator
        self._rng_at_next_draw: torch.Tensor | None = None

    # the callback's side ------------------------------------------------------------------------
    def bind(self, micro_batch_size: int, *, world_size: int = 1, rank: int = 0) -> None:
        """Create the sampler for ``micro_batch_size`` examples per rank and micro-batch."""
        pools = [source.size for source in self.sources]  # type: ignore[union-attr]
        self.sampler = MixtureSampler(
            pools, micro_batch_size * world_size, seed=self.seed, mode=self.sampling, exhausted=self.exhausted,
            world_size=world_size, rank=rank, names=self.train_names,
            ordered=[bool(getattr(source, "ordered", False)) for source in self.sources],  # streamed shards
        )
        self.micro_batch_size = micro_batch_size
        self._drawn = self._issued = 0

    def start_round(self, weights: Sequence[float], n_micro_batches: int, scope: Mapping[int, Sequence[int]] | None = None) -> None:
        """Replace the weights in place: the next ``n_micro_batches`` global micro-batches are drawn at them."""
        sampler = self._bound()
        if sampler.round >= 0 and not sampler.round_finished:
            raise DataError(
                f"a new round was started after {sampler.examples_seen().sum()} examples, before the previous round's "
                "micro-batches were all drawn; the dataset and the Trainer disagree on the round length "
                "(is gradient_accumulation_steps or per_device_train_batch_size changed?)"
            )
        sampler.start_round(weights, n_micro_batches, scope)

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
        return {"sampler": self._bound().state_dict(), "drawn": self._drawn, "micro_batch_size": self.micro_batch_size}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state["micro_batch_size"] != self.micro_batch_size:
            raise CheckpointError(
                f"the checkpoint was trained with {state['micro_batch_size']} examples per micro-batch and rank, this "
                f"run has {self.micro_batch_size}; resume with the same per_device_train_batch_size and world size"
            )
        self._bound().load_state_dict(state["sampler"])
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
        if self.sampler is None:
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
        sampler = self._bound()
        if sampler.round < 0 or sampler.round_finished:
            raise DataError(
                "the mixing round is over and no new weights were set; SkillMixingCallback starts every round "
                "(is it attached to the Trainer, and is max_steps the same as when the callback started?)"
            )
        if self._rng_at_next_draw is not None:
            torch.set_rng_state(self._rng_at_next_draw)
            self._rng_at_next_draw = None
        pairs = sampler.next_batch()
        self._drawn += 1
        if self.on_draw is not None:
            self.on_draw(self._drawn, sampler.round, [(self.train_names[s], i) for s, i in pairs])
        examples = [self.sources[s].get(i) for s, i in pairs]  # type: ignore[union-attr]
        return hf_batch(self.tokenizer, examples, train_loss=self.train_loss, max_length=self.max_length)

    def _bound(self) -> MixtureSampler:
        if self.sampler is None:
            raise ConfigError("SkillMixingDataset is not bound: add SkillMixingCallback(dataset, policy) to the Trainer")
        return self.sampler


_SLOT = object()  # what the dataset yields: a placeholder, drawn later by LazyBatch


# ---- the callback -----------------------------------------------------------------------------------
class SkillMixingCallback(TrainerCallback, ExportableState):
    """Runs a skillit policy inside ``transformers.Trainer``: evaluate, update, push new weights.

    Schedule, in optimiser steps (``state.global_step``): evaluate every skill at step 0, every
    ``eval_every`` steps and at ``max_steps``; a round is ``round_steps`` steps; at each round end the
    policy gets the round's evaluations (``policy.update``) and the dataset the next round's weights.

    ``records`` holds one dict per evaluation, like skillit's loop: ``step``, ``round``, ``losses`` and
    ``accuracies`` per skill, the ``weights`` in force, cumulative ``examples_seen`` per training skill
    (all ranks), ``lr``, ``eval_seconds`` and ``eval_examples``.

    Args:
        dataset: the Trainer's ``train_dataset``.
        policy: any skillit :class:`~skillit.policy.MixingPolicy`.
        round_steps, eval_every: H and the evaluation spacing, in optimiser steps.
        setting, target_skills: the objective (``finetune`` needs target skills), as in ``skillit.train``.
        eval_batch_size: examples per evaluation forward pass.
        max_length: context length for evaluation (default: the dataset's).
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
        eval_batch_size: int = 256,
        max_length: int | None = None,
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
        self.targets = objective_skills(self.skillset, setting, target_skills)
        self.eval_batch_size = eval_batch_size
        self.max_length = max_length if max_length is not None else dataset.max_length
        self.records: list[dict[str, Any]] = []
        self.policy_state: dict[str, Any] | None = None
        self._round_evals: list[EvalResult] = []
        self._round = -1
        self._evaluator: SkillEvaluator | None = None
        self._accumulation = 1
        self._max_steps = 0
        self._last_lr = 0.0

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
        self._accumulation = args.gradient_accumulation_steps
        self._max_steps = int(state.max_steps)
        self.dataset.bind(args.per_device_train_batch_size, world_size=world, rank=rank)
        self._evaluator = SkillEvaluator(
            self.skillset, self.dataset.tokenizer, batch_size=self.eval_batch_size, device=args.device,
            max_length=self.max_length, rank=rank, world_size=world, all_reduce=all_reduce,
        )
        if state.global_step > 0:
            self._restore(state, args)
            return
        initial = self._evaluator(model, 0)
        context = PolicyContext(
            train_skills=tuple(self.dataset.train_names),
            eval_skills=tuple(self.skillset.eval_names),
            target_skills=self.targets,
            setting=self.setting,
            natural_proportions=tuple(self.skillset.natural_proportions()),
            pool_sizes=tuple(source.size for source in self.dataset.sources),  # type: ignore[union-attr]
            n_rounds=math.ceil(self._max_steps / self.round_steps),
            round_steps=self.round_steps,
            initial_eval=initial,
            score_pool=lambda: self._score_pool(model),
        )
        self.policy_state = self.policy.init(context)
        self.records, self._round_evals, self._round = [], [], -1
        self._start_round(0)
        self.records.append(self._record(initial, _lr(kwargs)))

    def on_step_end(self, args, state, control, model=None, **kwargs):
        step = state.global_step
        self._last_lr = _lr(kwargs)
        if step % self.eval_every == 0 or step == self._max_steps:
            evaluation = self._evaluator_or_fail()(model, step)
            self._round_evals.append(evaluation)
            self.records.append(self._record(evaluation, self._last_lr))
        if step % self.round_steps == 0 or step == self._max_steps:
            seen = self.dataset._bound().examples_seen()
            observation = Observation(
                round=self._round,
                step=step,
                evals=tuple(self._round_evals),
                examples_seen={name: int(n) for name, n in zip(self.dataset.train_names, seen)},
            )
            self.policy_state = self.policy.update(self.policy_state, observation)
            self._round_evals = []
            if step < self._max_steps:
                self._start_round(step)

    # ---- ExportableState: saved in every checkpoint's trainer_state.json -------------------------
    def state(self) -> dict[str, Any]:
        """The mixing state as one JSON string (the Trainer sorts keys of its own JSON; ours keeps order)."""
        payload = None
        if self.dataset.sampler is not None and self.policy_state is not None:
            payload = json.dumps({
                "version": STATE_VERSION,
                "train_skills": list(self.dataset.train_names),
                "round_steps": self.round_steps,
                "eval_every": self.eval_every,
                "gradient_accumulation_steps": self._accumulation,
                "round": self._round,
                "policy_state": self.policy_state,
                "round_evals": [e.to_dict() for e in self._round_evals],
                "records": self.records,
                "dataset": self.dataset.state_dict(),
                "eval_seconds": self._evaluator.seconds if self._evaluator else 0.0,
                "eval_examples": self._evaluator.examples if self._evaluator else 0,
                "torch_rng": base64.b64encode(torch.get_rng_state().numpy().tobytes()).decode("ascii"),
            })
        return {"args": {}, "attributes": {"skillit_state": payload}}

    # ---- helpers -------------------------------------------------------------------------------
    def _start_round(self, step: int) -> None:
        self._round += 1
        steps = min(self.round_steps, self._max_steps - step)
        assert self.policy_state is not None
        self.dataset.start_round(
            self.policy.weights(self.policy_state), steps * self._accumulation, self.policy.scope(self.policy_state)
        )

    def _record(self, evaluation: EvalResult, lr: float) -> dict[str, Any]:
        sampler = self.dataset._bound()
        weights = sampler.weights
        seen = sampler.examples_seen()
        evaluator = self._evaluator_or_fail()
        return {
            "step": evaluation.step,
            "round": max(0, self._round),
            "losses": dict(evaluation.losses),
            "accuracies": dict(evaluation.accuracies),
            "weights": {n: float(w) for n, w in zip(self.dataset.train_names, weights)} if weights is not None else {},
            "examples_seen": {n: int(c) for n, c in zip(self.dataset.train_names, seen)},
            "lr": lr,
            "eval_seconds": evaluator.seconds,
            "eval_examples": evaluator.examples,
        }

    def _score_pool(self, model: torch.nn.Module) -> dict[str, np.ndarray]:
        evaluator = self._evaluator_or_fail()
        started = time.perf_counter()
        scores = {}
        for name, source in zip(self.dataset.train_names, self.dataset.sources):
            if source.size is None:  # type: ignore[union-attr]
                raise DataError(f"scoring the pool of {name!r} needs a finite pool, but it is a stream")
            examples = [source.get(i) for i in range(source.size)]  # type: ignore[union-attr]
            scores[name], _ = answer_metrics(
                model, self.dataset.tokenizer, examples, batch_size=self.eval_batch_size, device=evaluator.device,
                max_length=self.max_length,
            )
            evaluator.examples += len(examples)
        evaluator.seconds += time.perf_counter() - started
        return scores

    def _restore(self, state, args) -> None:
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
        mine = {"train_skills": list(self.dataset.train_names), "round_steps": self.round_steps,
                "eval_every": self.eval_every, "gradient_accumulation_steps": self._accumulation}
        for key, value in mine.items():
            if data.get(key) != value:
                raise CheckpointError(
                    f"the checkpoint was written with {key}={data.get(key)!r}, this run has {value!r}; resume with "
                    "the settings the run started with"
                )
        self.dataset.load_state_dict(data["dataset"])
        drawn, expected = self.dataset.micro_batches_drawn, state.global_step * self._accumulation
        if drawn != expected:
            raise CheckpointError(
                f"the checkpoint's sampler drew {drawn} micro-batches but {state.global_step} steps × "
                f"{self._accumulation} were trained; it was not written by this callback's Trainer"
            )
        self.policy_state = data["policy_state"]
        self.records = data["records"]
        self._round_evals = [EvalResult.from_dict(e) for e in data["round_evals"]]
        self._round = int(data["round"])
        evaluator = self._evaluator_or_fail()
        evaluator.seconds, evaluator.examples = data["eval_seconds"], data["eval_examples"]
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

    def _evaluator_or_fail(self) -> SkillEvaluator:
        if self._evaluator is None:
            raise ConfigError("SkillMixingCallback used before on_train_begin")
        return self._evaluator


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
    from skillit.trainer.distributed import make_all_reduce

    return int(args.process_index), world, make_all_reduce(args.device)


__all__ = [
    "HFTokenizer",
    "LazyBatch",
    "SkillMixingCallback",
    "SkillMixingDataset",
    "hf_batch",
    "train_hf_tokenizer",
]
