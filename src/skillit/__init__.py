"""skillit: skills graphs and online data-mixing policies for language-model training.

The data flow is the architecture: skills → graph → policy → sampler → trainer → records → report.

    from skillit import build_task, builtin_graph, SkillIt, GPT, GPTConfig, CharTokenizer, TrainConfig, train

    skills = build_task("lego", {"k": 5}, seed=0)
    tokenizer = CharTokenizer(skills.metadata["alphabet"])
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=40))
    policy = SkillIt(builtin_graph("lego"), eta=0.5, window=3)
    result = train(model, tokenizer, skills, policy, TrainConfig(steps=1000, round_steps=200, eval_every=100))
"""

from __future__ import annotations

from skillit.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    GraphError,
    LLMError,
    OutputError,
    PolicyError,
    SkillError,
    SkillitError,
)
from skillit.utils.lazy import lazy_names

__version__ = "0.1.0"

# name -> the module that defines it. Imported on first use (PEP 562), so that `import skillit` and the
# `skillit` command start without torch; `from skillit import train` works as before.
_LAZY: dict[str, str] = {
    **dict.fromkeys(("ExperimentConfig", "load_config", "plan_search", "run_experiment", "run_search"),
                    "skillit.experiment"),
    **dict.fromkeys(("SkillsGraph", "SparseMatrix", "builtin_graph", "builtin_graph_names"), "skillit.graph"),
    "compare_graphs": "skillit.graph.diagnostics",
    **dict.fromkeys(("GraphLearner", "build_learner"), "skillit.graph_learners"),
    **dict.fromkeys(("GPT", "CharTokenizer", "GPTConfig", "WordTokenizer"), "skillit.model"),
    **dict.fromkeys(("AntiCurriculum", "Curriculum", "EvalResult", "Frozen", "GradStats", "MinimumProbability",
                     "MixingPolicy", "Observation", "PolicyContext", "PolicySpec", "Random", "RoundPlan",
                     "SkillAntiCurriculum", "SkillCurriculum", "SkillIt", "SkillItPlus", "Smoothed", "Static",
                     "Stratified", "TargetOnly", "build_policy", "policy_names", "register_policy"), "skillit.policy"),
    "write_report": "skillit.report.html",
    **dict.fromkeys(("TensorBoardLogger", "WandbLogger"), "skillit.report.loggers"),
    "run_mixtures": "skillit.report.mixtures",
    "MixtureSampler": "skillit.sampler",
    **dict.fromkeys(("Example", "GeneratedSource", "ListSource", "Skill", "SkillSet"), "skillit.skills"),
    **dict.fromkeys(("inspect_data", "load_skills"), "skillit.skills.io"),
    "build_task": "skillit.tasks",
    "check_policy": "skillit.testing",
    **dict.fromkeys(("Distributed", "MixedBatches", "Mixer", "MixerConfig", "ModelReference", "RecordedReference",
                     "SkillEvaluator", "TrainConfig", "TrainerCallback", "TrainResult", "train"), "skillit.trainer"),
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY, cache=True)


__all__ = [
    "GPT",
    "AntiCurriculum",
    "CharTokenizer",
    "CheckpointError",
    "ConfigError",
    "Curriculum",
    "DataError",
    "Distributed",
    "EvalResult",
    "Example",
    "ExperimentConfig",
    "Frozen",
    "GPTConfig",
    "GeneratedSource",
    "GradStats",
    "GraphError",
    "GraphLearner",
    "LLMError",
    "ListSource",
    "MinimumProbability",
    "MixedBatches",
    "Mixer",
    "MixerConfig",
    "MixingPolicy",
    "MixtureSampler",
    "ModelReference",
    "Observation",
    "OutputError",
    "PolicyContext",
    "PolicyError",
    "PolicySpec",
    "Random",
    "RecordedReference",
    "RoundPlan",
    "Skill",
    "SkillAntiCurriculum",
    "SkillCurriculum",
    "SkillError",
    "SkillEvaluator",
    "SkillIt",
    "SkillItPlus",
    "SkillSet",
    "SkillitError",
    "SkillsGraph",
    "Smoothed",
    "SparseMatrix",
    "Static",
    "Stratified",
    "TargetOnly",
    "TrainConfig",
    "TrainResult",
    "TrainerCallback",
    "WordTokenizer",
    "__version__",
    "build_learner",
    "build_policy",
    "build_task",
    "builtin_graph",
    "builtin_graph_names",
    "check_policy",
    "compare_graphs",
    "inspect_data",
    "load_config",
    "load_skills",
    "plan_search",
    "policy_names",
    "register_policy",
    "run_experiment",
    "run_mixtures",
    "run_search",
    "train",
    "TensorBoardLogger",
    "WandbLogger",
    "write_report",
]
