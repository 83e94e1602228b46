"""skillit: skills graphs and online data-mixing policies for language-model training.

The data flow is the architecture: skills → graph → policy → sampler → trainer → records → report.

    from skillit import build_task, builtin_graph, SkillIt, GPT, GPTConfig, CharTokenizer, TrainConfig, train

    skills = build_task("lego", {"k": 5}, seed=0)
    tokenizer = CharTokenizer(skills.metadata["alphabet"])
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=40))
    policy = SkillIt(builtin_graph("lego"), eta=0.5, window=3)
    result = train(model, tokenizer, skills, policy, TrainConfig(steps=1000, round_steps=200, eval_every=100))
"""

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
from skillit.experiment import ExperimentConfig, load_config, plan_search, run_experiment, run_search
from skillit.graph import SkillsGraph, SparseMatrix, builtin_graph, builtin_graph_names
from skillit.graph.diagnostics import compare_graphs
from skillit.graph_learners import GraphLearner, build_learner
from skillit.model import GPT, CharTokenizer, GPTConfig, WordTokenizer
from skillit.policy import (
    AntiCurriculum,
    Curriculum,
    EvalResult,
    Frozen,
    GradStats,
    MinimumProbability,
    MixingPolicy,
    Observation,
    PolicyContext,
    PolicySpec,
    Random,
    RoundPlan,
    SkillAntiCurriculum,
    SkillCurriculum,
    SkillIt,
    SkillItPlus,
    Smoothed,
    Static,
    Stratified,
    TargetOnly,
    build_policy,
    policy_names,
    register_policy,
)
from skillit.report.html import write_report
from skillit.report.loggers import TensorBoardLogger, WandbLogger
from skillit.report.mixtures import run_mixtures
from skillit.sampler import MixtureSampler
from skillit.skills import Example, GeneratedSource, ListSource, Skill, SkillSet
from skillit.skills.io import inspect_data, load_skills
from skillit.tasks import build_task
from skillit.testing import check_policy
from skillit.trainer import (
    Distributed,
    Mixer,
    MixerConfig,
    ModelReference,
    RecordedReference,
    SkillEvaluator,
    TrainConfig,
    TrainerCallback,
    TrainResult,
    train,
)

__version__ = "0.1.0"

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
