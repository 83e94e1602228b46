"""The training settings, declared once (torch-free, so that the config schema can use it).

:class:`TrainingSettings` is the one declaration of the user's training settings: each field's type,
default, bounds and description. Everything else is derived from it:

* the YAML's ``training:`` section (``skillit.experiment.config.TrainingConfig``) is this model plus the
  section's own keys (``log_draws``) and checks (a round's sampling plan must fit in memory);
* the loop's settings (:class:`TrainConfig`, also ``skillit.trainer.TrainConfig``) are this model plus the
  run's ``seed`` (``TrainConfig.from_training(training, seed)``);
* the Mixer's settings (:class:`skillit.trainer.mixer.MixerConfig`) take their defaults from here
  (:func:`training_default`) and are built from a TrainConfig by ``MixerConfig.from_training``;
* a resume compares the stored settings with the new ones field by field (:func:`resume_difference`),
  except the fields named in :data:`MAY_DIFFER_ON_RESUME`.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator
from pydantic.dataclasses import dataclass
from pydantic.fields import FieldInfo

from skillit.errors import ConfigError, pydantic_message
from skillit.skills.example import TrainLoss

MAX_STEPS = 10**9
MAX_BATCH = 10**6

Precision = Literal["fp32", "bf16", "fp16"]
Sampling = Literal["quota", "iid"]
Exhausted = Literal["cycle", "drop", "stop"]

#: settings a run may change when it continues from a checkpoint: none of them changes what is trained
#: (how often a checkpoint is written, the evaluation's forward-pass size, torch.compile of the same model);
#: every other field of :class:`TrainingSettings` (and the loop's ``seed``) must be equal
MAY_DIFFER_ON_RESUME: frozenset[str] = frozenset({"checkpoint_every", "eval_batch_size", "compile"})


@dataclass(config=ConfigDict(extra="forbid", allow_inf_nan=False))
class TrainingSettings:
    """The user's training settings: the ``training:`` section of a config, and what the loop trains with.

    A (pydantic) dataclass, so that the loop's :class:`TrainConfig` stays one: ``dataclasses.asdict`` and
    ``dataclasses.replace`` work on it, and every value is checked against the bounds below."""

    steps: int = Field(ge=1, le=MAX_STEPS, description="optimiser steps per run")
    batch_size: int = Field(32, ge=1, le=MAX_BATCH, description="global batch (all ranks)")
    round_steps: int = Field(100, ge=1, description="H: steps per policy round")
    eval_every: int = Field(
        50, ge=1, description="evaluate every skill every this many steps (and at step 0 and the last step)")
    lr: float = Field(1e-3, gt=0)
    warmup_steps: int = Field(50, ge=0)
    weight_decay: float = Field(0.01, ge=0)
    grad_clip: float | None = Field(1.0, gt=0)
    train_loss: TrainLoss = Field(
        "text", description="trained positions: text (prompt, answer, eos), answer (answer tokens only: never "
        "learns to stop), completion (answer and its eos)")
    sampling: Sampling = "quota"
    exhausted: Exhausted = "cycle"
    eval_batch_size: int = Field(512, ge=1, le=MAX_BATCH)
    checkpoint_every: int | None = Field(None, ge=1)
    gradient_accumulation_steps: int = Field(
        1, ge=1, description="micro-batches per rank per optimiser step; same gradient as one batch"
    )
    grad_projection: int | None = Field(
        None, ge=0, description="gradient statistics (policies that need them): rows of the random projection of the "
        "output-layer gradient; default: 64 when the vocabulary exceeds 512, else none; 0: never project"
    )
    precision: Precision = Field(
        "fp32", description="fp32, or autocast of the training forward and loss to bf16 (CPU or GPU) or fp16 (GPU, "
        "with a grad scaler)")
    compile: bool = Field(
        False, description="torch.compile the model for the training forward and backward (TorchInductor: a C++ "
        "compiler on the CPU, triton on a GPU); evaluation and checkpoints use the plain module")


@dataclass(config=ConfigDict(extra="forbid", allow_inf_nan=False))
class TrainConfig(TrainingSettings):
    """Everything the loop needs besides the model, data and policy: the training settings
    (:class:`TrainingSettings`, declared once) and the run's seed.

    An invalid value is a :class:`~skillit.errors.ConfigError` naming the setting (``training.NAME``)."""

    seed: int = 0

    @model_validator(mode="wrap")
    @classmethod
    def _config_error(cls, data: Any, handler: Any) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            raise ConfigError(_settings_message(exc.errors()[0])) from None

    @classmethod
    def from_training(cls, training: Any, seed: int = 0) -> TrainConfig:
        """The loop's settings of one seed's run of a config's ``training:`` section: its
        :class:`TrainingSettings` fields (any object that has them, e.g. ``TrainingConfig``) and ``seed``."""
        return cls(seed=seed, **{name: getattr(training, name) for name in SETTINGS})

    @property
    def n_rounds(self) -> int:
        return math.ceil(self.steps / self.round_steps)


def _settings_message(error: Any) -> str:
    """One pydantic error of a TrainConfig as ``training.NAME must be …, got …`` (the YAML's words)."""
    name = ".".join(str(part) for part in error["loc"]) or "training"
    if error["type"] == "literal_error" and name in FIELDS:
        choices = typing.get_args(FIELDS[name].annotation)
        return f"training.{name} must be one of {', '.join(map(str, choices))}, got {error['input']!r}"
    if error["type"] == "greater_than_equal":
        return f"training.{name} must be >= {error['ctx']['ge']}, got {error['input']}"
    return f"training.{name}: {pydantic_message(error)}"


#: the user's training settings, by name: each one's type, default, bounds and description (pydantic FieldInfo)
SETTINGS: dict[str, FieldInfo] = dict(TrainingSettings.__pydantic_fields__)
#: the loop's: the settings and ``seed``
FIELDS: dict[str, FieldInfo] = dict(TrainConfig.__pydantic_fields__)


def training_default(name: str) -> Any:
    """The default of the loop's setting ``name`` (:class:`TrainConfig`), for a settings class that shares the
    field (MixerConfig): the default is declared once, here."""
    return FIELDS[name].get_default(call_default_factory=True)


def resume_difference(saved: Mapping[str, Any], current: Mapping[str, Any]) -> tuple[str, Any, Any] | None:
    """The first setting in which a checkpoint's stored settings (``saved``) and this run's (``current``, the
    same fields as plain values) differ, as ``(name, saved value, current value)``; None when they agree.

    Every key of ``current`` is compared except :data:`MAY_DIFFER_ON_RESUME`. A key missing from ``saved``
    (a checkpoint written before the setting existed) stands for the setting's default, which is how such a
    run trained."""
    for name, value in current.items():
        if name in MAY_DIFFER_ON_RESUME:
            continue
        if name in saved:
            theirs = saved[name]
        elif name in FIELDS:
            theirs = training_default(name)
        else:
            theirs = None
        if theirs != value:
            return name, theirs, value
    return None
