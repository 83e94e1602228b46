"""The one training loop, per-skill evaluation, batching and the optimiser set-up."""

from skillit.trainer.batching import Batch, collate, encode_example, token_losses
from skillit.trainer.evaluation import SkillEvaluator, answer_metrics
from skillit.trainer.loop import Distributed, TrainConfig, TrainerCallback, TrainResult, objective_skills, train
from skillit.trainer.optim import build_optimizer, linear_schedule

__all__ = [
    "Batch",
    "Distributed",
    "SkillEvaluator",
    "TrainConfig",
    "TrainResult",
    "TrainerCallback",
    "answer_metrics",
    "build_optimizer",
    "collate",
    "encode_example",
    "linear_schedule",
    "objective_skills",
    "token_losses",
    "train",
]
