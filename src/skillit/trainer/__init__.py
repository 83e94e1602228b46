"""The one training loop, per-skill evaluation, batching and the optimiser set-up."""

from skillit.trainer.batching import Batch, collate, encode_example, token_losses
from skillit.trainer.distributed import ProcessGroup, process_group, wrap_model
from skillit.trainer.draw_log import DrawLog, read_draw_log
from skillit.trainer.evaluation import SkillEvaluator, answer_metrics
from skillit.trainer.loop import Distributed, TrainConfig, TrainerCallback, TrainResult, objective_skills, train
from skillit.trainer.optim import build_optimizer, linear_schedule

__all__ = [
    "Batch",
    "Distributed",
    "DrawLog",
    "ProcessGroup",
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
    "process_group",
    "read_draw_log",
    "token_losses",
    "train",
    "wrap_model",
]
