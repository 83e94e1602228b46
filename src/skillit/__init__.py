"""skillit: skills graphs and online data-mixing policies for language-model training.

The data flow is the architecture: skills → graph → policy → sampler → trainer → records → report.

    from skillit import build_task, builtin_graph, GPT, GPTConfig, CharTokenizer, TrainConfig, train
    from skillit.policies import SkillIt

    skills = build_task("lego", {"k": 5}, seed=0)
    tokenizer = CharTokenizer(skills.metadata["alphabet"])
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=40))
    policy = SkillIt(builtin_graph("lego"), eta=0.5, window=3)
    result = train(model, tokenizer, skills, policy, TrainConfig(steps=1000, round_steps=200, eval_every=100))

The top level holds what a first program needs; every policy and wrapper is in :mod:`skillit.policies`, the
rest in its package (``skillit.graph``, ``skillit.trainer``, ``skillit.errors``, ...; docs/design.md, "The
public surface"). Names that were here before keep working for one release, with a DeprecationWarning that
names their new import.
"""

from __future__ import annotations

from skillit.errors import ConfigError, SkillitError
from skillit.utils.lazy import lazy_names

__version__ = "0.1.0"

# name -> the module that defines it. Imported on first use (PEP 562), so that `import skillit` and the
# `skillit` command start without torch; `from skillit import train` works as before.
_LAZY: dict[str, str] = {
    **dict.fromkeys(("Example", "SkillSet"), "skillit.skills"),
    "load_skills": "skillit.skills.io",
    "build_task": "skillit.tasks",
    **dict.fromkeys(("SkillsGraph", "builtin_graph"), "skillit.graph"),
    **dict.fromkeys(("MixingPolicy", "build_policy", "policy_names", "register_policy"), "skillit.policies"),
    "check_policy": "skillit.testing",
    **dict.fromkeys(("GPT", "CharTokenizer", "GPTConfig"), "skillit.model"),
    **dict.fromkeys(("MixedBatches", "Mixer", "MixerConfig", "TrainConfig", "TrainerCallback", "TrainResult",
                     "train"),
                    "skillit.trainer"),
    **dict.fromkeys(("ExperimentConfig", "load_config", "run_experiment"), "skillit.experiment"),
    "write_report": "skillit.report.html",
}

# names that were here before the public surface was curated (issue 27) -> their public home; they resolve
# there with a DeprecationWarning for one release, then go
_MOVED: dict[str, str] = {
    **dict.fromkeys(("AntiCurriculum", "Curriculum", "EvalResult", "Frozen", "GradStats", "MinimumProbability",
                     "Observation", "PolicyContext", "PolicySpec", "Random", "RoundPlan", "SkillAntiCurriculum",
                     "SkillCurriculum", "SkillIt", "SkillItPlus", "Smoothed", "Static", "Stratified", "TargetOnly"),
                    "skillit.policies"),
    **dict.fromkeys(("CheckpointError", "DataError", "GraphError", "LLMError", "OutputError", "PolicyError",
                     "SkillError"), "skillit.errors"),
    **dict.fromkeys(("SparseMatrix", "builtin_graph_names"), "skillit.graph"),
    "compare_graphs": "skillit.graph.diagnostics",
    **dict.fromkeys(("GraphLearner", "build_learner"), "skillit.graph_learners"),
    "WordTokenizer": "skillit.model",
    "MixtureSampler": "skillit.sampler",
    **dict.fromkeys(("GeneratedSource", "ListSource", "Skill"), "skillit.skills"),
    "inspect_data": "skillit.skills.io",
    **dict.fromkeys(("Distributed", "ModelReference", "RecordedReference", "SkillEvaluator"), "skillit.trainer"),
    **dict.fromkeys(("plan_search", "run_search"), "skillit.experiment"),
    "run_mixtures": "skillit.report.mixtures",
    **dict.fromkeys(("TensorBoardLogger", "WandbLogger"), "skillit.report.loggers"),
}

__getattr__, __dir__ = lazy_names(__name__, _LAZY, cache=True, deprecated=_MOVED)

__all__ = [
    # errors: the base class every skillit error derives from, and the one a bad config raises
    "ConfigError",
    "SkillitError",
    # data: skills and where they come from
    "Example",
    "SkillSet",
    "build_task",
    "load_skills",
    # the skills graph
    "SkillsGraph",
    "builtin_graph",
    # policies (each one: skillit.policies)
    "MixingPolicy",
    "build_policy",
    "check_policy",
    "policy_names",
    "register_policy",
    # a model to train
    "GPT",
    "CharTokenizer",
    "GPTConfig",
    # training: the loop, and the Mixer for someone else's loop (MixedBatches: its batches in your own loop)
    "MixedBatches",
    "Mixer",
    "MixerConfig",
    "TrainConfig",
    "TrainResult",
    "TrainerCallback",
    "train",
    # experiments from a config, and their report
    "ExperimentConfig",
    "load_config",
    "run_experiment",
    "write_report",
]
