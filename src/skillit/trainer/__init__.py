"""The one training loop, the Mixer (the one owner of the mixing), its batches for your own loop, signals,
per-skill evaluation, batching, optimiser."""

from skillit.policy.objective import objective_skills
from skillit.trainer.batching import Batch, collate, encode_example, token_losses
from skillit.trainer.distributed import ProcessGroup, process_group, wrap_model
from skillit.trainer.draw_log import DrawLog, read_draw_log
from skillit.trainer.evaluation import SkillEvaluator, answer_metrics
from skillit.trainer.loop import (
    Distributed,
    TrainConfig,
    TrainerCallback,
    TrainResult,
    train,
)
from skillit.trainer.mixed_batches import MixedBatch, MixedBatches
from skillit.trainer.mixer import Mixer, MixerConfig, StepEvents
from skillit.trainer.optim import build_optimizer, linear_schedule
from skillit.trainer.reference import ModelReference, RecordedReference
from skillit.trainer.signals import SignalTap

__all__ = [
    "Batch",
    "Distributed",
    "DrawLog",
    "MixedBatch",
    "MixedBatches",
    "Mixer",
    "MixerConfig",
    "ModelReference",
    "ProcessGroup",
    "RecordedReference",
    "SignalTap",
    "SkillEvaluator",
    "StepEvents",
    "TrainConfig",
    "TrainResult",
    "TrainerCallback",
    "answer_metrics",
    "build_optimizer",
    "collate",
    "encode_example",
    "linear_schedule",
    "objective_skills",
    "process_group",
    "read_draw_log",
    "token_losses",
    "train",
    "wrap_model",
]
