"""The one training loop, the Mixer (the one owner of the mixing), its batches for your own loop, signals,
per-skill evaluation, batching, optimiser."""

from skillit.utils.lazy import lazy_names

# name -> the module that defines it: imported on first use (PEP 562), so that the config schema can import
# skillit.trainer.settings (torch-free) without importing torch
_LAZY: dict[str, str] = {
    "objective_skills": "skillit.policy.objective",
    **dict.fromkeys(("Batch", "collate", "encode_example", "token_losses"), "skillit.trainer.batching"),
    **dict.fromkeys(("ProcessGroup", "process_group", "wrap_model"), "skillit.trainer.distributed"),
    **dict.fromkeys(("DrawLog", "read_draw_log"), "skillit.trainer.draw_log"),
    **dict.fromkeys(("SkillEvaluator", "answer_metrics"), "skillit.trainer.evaluation"),
    **dict.fromkeys(("Distributed", "TrainerCallback", "TrainResult", "train"), "skillit.trainer.loop"),
    **dict.fromkeys(("MixedBatch", "MixedBatches"), "skillit.trainer.mixed_batches"),
    **dict.fromkeys(("Mixer", "MixerConfig", "StepEvents"), "skillit.trainer.mixer"),
    **dict.fromkeys(("build_optimizer", "linear_schedule"), "skillit.trainer.optim"),
    **dict.fromkeys(("ModelReference", "RecordedReference"), "skillit.trainer.reference"),
    **dict.fromkeys(("TrainConfig", "TrainingSettings"), "skillit.trainer.settings"),
    "SignalTap": "skillit.trainer.signals",
}
__getattr__, __dir__ = lazy_names(__name__, _LAZY, cache=True)

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
    "TrainingSettings",
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
