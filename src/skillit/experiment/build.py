"""Building blocks of a run from an experiment config: skills, tokenizer, model, policies, schedule, warm start.

Used by the experiment driver (``skillit.experiment.runner``) and by graph learning
(``skillit.experiment.graph_learning``); kept apart so neither imports the other.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from skillit.errors import ConfigError, GraphError
from skillit.experiment.config import MAX_BLOCK_SIZE, ExperimentConfig, HFModelConfig
from skillit.graph import builtin_graph, builtin_graph_names, builtin_graph_task
from skillit.graph.skills_graph import SkillsGraph
from skillit.graph.spec import (
    BuiltinGraph,
    FileGraph,
    GraphSpec,
    IdentityGraph,
    LearnGraph,
    PrerequisitesGraph,
    parse_graph_spec,
)
from skillit.model import GPT, CharTokenizer, GPTConfig, WordTokenizer
from skillit.model.hf import build_hf_model, check_context, hf_tokenizer, lora_parameters
from skillit.model.tokenizer import Tokenizer
from skillit.policy.base import EvalResult, MixingPolicy, PolicyContext
from skillit.policy.objective import objective_weight_vector
from skillit.policy.registry import build_policy
from skillit.policy.static import Stratified
from skillit.records.layout import run_id
from skillit.skills.example import Example
from skillit.skills.skillset import Skill, SkillSet
from skillit.skills.sources import GeneratedSource
from skillit.tasks import build_task, get_task, parse_task_params
from skillit.trainer.batching import encode_example
from skillit.trainer.loop import TrainConfig, TrainerCallback, check_compile, check_precision, train
from skillit.trainer.mixer import objective_skills
from skillit.utils.checkpoint import atomic_torch_save

# (run id, steps done: int) as a run advances, or (run id, {step, losses, weights}) at each evaluation
ProgressFn = Callable[[str, Any], None]
# the "method" of a seed's warm-start pre-training in progress reports: run_id(WARM_START_RUN, seed)
WARM_START_RUN = "warm-start"


class StepProgress(TrainerCallback):
    """Reports ``(run id, steps done)`` every ``every`` steps and at the end, and ``(run id, {step, losses,
    weights})`` at each evaluation (for live views, skillit.report.live)."""

    def __init__(self, run_id: str, report: ProgressFn | None, every: int = 10):
        self.run_id, self.report, self.every = run_id, report, every

    def on_step_end(self, step: int, loss: float) -> None:
        if self.report is not None and step % self.every == 0:
            self.report(self.run_id, step)

    def on_evaluate(self, record: dict[str, Any]) -> None:
        if self.report is not None:
            self.report(self.run_id, {key: record.get(key) for key in ("step", "losses", "weights")})

    def on_train_end(self, result) -> None:
        if self.report is not None:
            self.report(self.run_id, result.steps)


def task_skillset(config: ExperimentConfig, seed: int) -> SkillSet:
    """Every skill of the task at one seed, before ``task.train_skills``/``eval_skills`` select a subset.

    A data file that is missing is the task's :class:`DataError`; :func:`~skillit.experiment.config.load_config`
    refuses it earlier with the config file and line that name it."""
    params = config.task.params
    if config.task.name == "data" and params.get("max_length") is not None and params.get("length_unit") is None:
        params = {**params, "length_unit": config.model.length_unit}  # max_length counts the model's tokens
    return build_task(config.task.name, params, seed)


def build_skillset(config: ExperimentConfig, seed: int, full: SkillSet | None = None) -> SkillSet:
    """The task's SkillSet for one seed, restricted to the configured training/evaluation skills."""
    skillset = full if full is not None else task_skillset(config, seed)
    if config.task.train_skills is not None or config.task.eval_skills is not None:
        skillset = skillset.select(config.task.train_skills, config.task.eval_skills)
    objective = objective_skills(skillset, config.setting, config.target_skills)  # validates target names early
    objective_weight_vector(objective, config.objective_weights)  # and the objective's weights
    return skillset


def build_tokenizer(config: ExperimentConfig, skillset: SkillSet) -> Tokenizer:
    """Char or word tokenizer over the task's alphabet, or over every text the runs can meet.

    Every validation and training example of a finite data source is read (:func:`measured_examples`), so
    no word or character later in the pool is missing from the vocabulary. A Hugging Face model (``kind: hf``)
    gets its own or a trained BPE tokenizer, checked against the model (:func:`skillit.model.hf.hf_tokenizer`).
    """
    if isinstance(config.model, HFModelConfig):
        return hf_tokenizer(config.model, lambda: _texts(skillset))
    alphabet = skillset.metadata.get("alphabet")
    if config.model.tokenizer == "char" and alphabet:
        return CharTokenizer(sorted(set(alphabet)))
    return (CharTokenizer if config.model.tokenizer == "char" else WordTokenizer).from_texts(_texts(skillset))


def _texts(skillset: SkillSet) -> Iterator[str]:
    """Every text the runs can meet: prompt and answer apart, as the model encodes them (the word tokenizer
    splits "a b" != "a " + "b")."""
    return (text for skill in skillset.skills for example in measured_examples(skill, VOCABULARY_SAMPLE)
            for text in (example.prompt, example.answer))


VOCABULARY_SAMPLE = 2000  # training examples per skill read from a generated or unbounded stream (vocabulary)
CONTEXT_SAMPLE = 200  # ... and for the context length
CONTEXT_SLACK = 8  # tokens added to the longest example


def measured_examples(skill: Skill, sample: int) -> Iterator[Example]:
    """The examples whose tokens set the vocabulary and the context: the validation set, then every training
    example of a finite pool (a data file, in memory or streamed from shards: O(1) memory), or the first
    ``sample`` of a generated or unbounded stream (one generator, so one shape of example, e.g. LEGO's)."""
    yield from skill.validation or []
    source = skill.train
    if source is None:
        return
    n = source.size
    if n is None or isinstance(source, GeneratedSource):
        n = sample if n is None else min(sample, n)
    for i in range(n):
        yield source.get(i)


@dataclass(frozen=True)
class ContextInfo:
    """What set the automatic block size: the longest example (tokens incl. bos/eos), its skill, and the
    length below which 99 % of the measured examples fall."""

    block_size: int
    longest: int
    longest_skill: str | None
    p99: int
    examples: int
    configured: bool = False

    def warnings(self) -> list[str]:
        """A warning before training when one rare example sets the context (every batch's attention and
        the position table grow with it; a batch costs up to (T / T99)² more in attention)."""
        if self.configured or self.examples == 0 or self.longest <= max(2 * self.p99, 64):
            return []
        return [
            f"the context is {self.block_size} tokens because the longest example (skill {self.longest_skill!r}) "
            f"has {self.longest}, while 99 % of the {self.examples} examples have at most {self.p99}; every "
            "batch that draws a long example is padded to it and attention costs grow with the square of the "
            "length. Drop or truncate long examples with task.params.max_length (and too_long: drop | truncate), "
            "or set model.block_size (docs/data.md)"
        ]


def context_info(config: ExperimentConfig, skillset: SkillSet, tokenizer: Tokenizer) -> ContextInfo:
    """The model's block size (configured, or the longest example + 8 tokens of slack) and what set it.

    Every example of a finite pool is measured (:func:`measured_examples`), not a sample: an example
    longer than the sampled ones would stop a run mid-way with "does not fit the model's context". A Hugging
    Face checkpoint must have positions for the block size, and its ``lora`` setting must fit the architecture
    (checked here, so every path that builds the context — the plan, a worker's seed data,
    :func:`context_length` — refuses it before any output).
    """
    info = _context_info(config, skillset, tokenizer)
    if isinstance(config.model, HFModelConfig):
        check_context(config.model, info.block_size)
        if config.model.lora is not None:
            lora_parameters(config.model, tokenizer, info.block_size)  # the meta-device model: no weights
    return info


def _context_info(config: ExperimentConfig, skillset: SkillSet, tokenizer: Tokenizer) -> ContextInfo:
    if config.model.block_size is not None:
        return ContextInfo(config.model.block_size, 0, None, 0, 0, configured=True)
    longest, longest_skill = 0, None
    lengths: list[int] = []
    for skill in skillset.skills:
        for example in measured_examples(skill, CONTEXT_SAMPLE):
            if len(example.prompt) + len(example.answer) > 8 * MAX_BLOCK_SIZE:  # don't tokenise a 10 MB line
                n = len(example.prompt) + len(example.answer)
            else:
                n = len(encode_example(tokenizer, example)[0])
            if n + CONTEXT_SLACK > MAX_BLOCK_SIZE:
                raise ConfigError(
                    f"an example of skill {skill.name!r} is about {n:,} tokens long, so the automatic block size "
                    f"(longest example + {CONTEXT_SLACK}) exceeds {MAX_BLOCK_SIZE:,}; set model.block_size (longer "
                    "examples are cut), or task.params.max_length to drop or truncate them (`skillit data inspect` "
                    "shows the longest)"
                )
            lengths.append(n)
            if n > longest:
                longest, longest_skill = n, skill.name
    p99 = int(np.percentile(np.asarray(lengths, dtype=np.int64), 99)) if lengths else 0
    return ContextInfo(longest + CONTEXT_SLACK, longest, longest_skill, p99, len(lengths))


def context_length(config: ExperimentConfig, skillset: SkillSet, tokenizer: Tokenizer) -> int:
    """The model's block size: configured, or the longest example + 8 tokens of slack (:func:`context_info`);
    a Hugging Face checkpoint must have positions for it."""
    return context_info(config, skillset, tokenizer).block_size


@dataclass(frozen=True)
class SeedData:
    """What every run at one seed shares, built once (:func:`build_seed_data`): the task's skills, the selected
    training/evaluation skills, the tokenizer and the context (block size and what set it)."""

    seed: int
    full: SkillSet  # every skill of the task (warm-start skills outside the selection too)
    skills: SkillSet  # restricted to task.train_skills / eval_skills
    tokenizer: Tokenizer  # over ``full``
    context: ContextInfo

    @property
    def block_size(self) -> int:
        return self.context.block_size


def build_seed_data(config: ExperimentConfig, seed: int) -> SeedData:
    """Load the task once at ``seed`` and derive the selection, tokenizer and context from it."""
    full = task_skillset(config, seed)
    skills = build_skillset(config, seed, full)
    tokenizer = build_tokenizer(config, full)  # covers warm-start skills outside the selection too
    return SeedData(seed, full, skills, tokenizer, context_info(config, full, tokenizer))


def build_model(config: ExperimentConfig, tokenizer: Tokenizer, block_size: int, seed: int) -> torch.nn.Module:
    """The one model factory of every command that trains: skillit's GPT, or a Hugging Face causal LM
    (``kind: hf``, :func:`skillit.model.hf.build_hf_model`), its random weights drawn under ``seed``."""
    m = config.model
    if isinstance(m, HFModelConfig):
        return build_hf_model(m, tokenizer, block_size, seed)
    torch.manual_seed(seed)
    return GPT(GPTConfig(tokenizer.vocab_size, block_size, m.n_layer, m.n_head, m.n_embd, m.dropout, init_std=m.init_std))


def graph_resolver(config: ExperimentConfig, skillset: SkillSet, config_dir: Path | None) -> Callable[[str], SkillsGraph]:
    """Turns a graph parameter into a SkillsGraph (:func:`~skillit.graph.spec.parse_graph_spec`, then
    :func:`resolve_graph_spec`)."""

    def resolve(text: str) -> SkillsGraph:
        return resolve_graph_spec(parse_graph_spec(text, config_dir), config, skillset)

    return resolve


def resolve_graph_spec(spec: GraphSpec, config: ExperimentConfig, skillset: SkillSet) -> SkillsGraph:
    """The SkillsGraph a parsed graph spec names for this config's skills: ``identity``, ``builtin:NAME`` (it
    must name some of the skills), ``prerequisites`` (the task's planted graph), a file, or for ``learn`` a
    stand-in of the right names (``run_experiment`` learns the graph before the runs and passes the learned
    file instead, see ``skillit.experiment.graph_learning``; the stand-in only lets the policies' set-up be
    checked before the run directory exists)."""
    if isinstance(spec, IdentityGraph):
        if set(skillset.train_names) != set(skillset.eval_names) and config.setting == "out-of-domain":
            raise GraphError("graph 'identity' needs evaluation skills equal to training skills")
        return SkillsGraph.identity(skillset.train_names)
    if isinstance(spec, LearnGraph):
        return SkillsGraph(np.ones((len(skillset.train_names), len(skillset.eval_names))),
                           skillset.train_names, skillset.eval_names, {"source": "learn (stand-in)"})
    if isinstance(spec, PrerequisitesGraph):
        task_spec = get_task(config.task.name)
        if task_spec.prerequisites is None:
            raise GraphError(f"task {config.task.name!r} has no planted prerequisite graph")
        return task_spec.prerequisites(parse_task_params(config.task.name, config.task.params))
    if isinstance(spec, BuiltinGraph):
        graph = builtin_graph(spec.name)
        check_builtin_graph_fits(str(spec), graph, config, skillset)
        return graph
    assert isinstance(spec, FileGraph)
    if spec.path.suffix == ".npy":  # a bare matrix: rows = training skills, columns = objective skills
        columns = objective_skills(skillset, config.setting, config.target_skills)
        return SkillsGraph.load(spec.path, skillset.train_names, columns)
    return SkillsGraph.load(spec.path)


def check_builtin_graph_fits(spec: str, graph: SkillsGraph, config: ExperimentConfig, skillset: SkillSet) -> None:
    """A built-in graph that names none of the config's skills is another task's graph (``builtin:lego`` in an
    addition config): say whose it is and which built-in graphs fit this config's skills (or ``graph: learn``)."""
    if set(graph.train_skills) & set(skillset.train_names) or set(graph.eval_skills) & set(skillset.eval_names):
        return
    name = spec.split(":", 1)[1]
    fitting = [f"builtin:{other}" for other in builtin_graph_names()
               if set(skillset.train_names) <= set(builtin_graph(other).train_skills)]
    ours = skillset.train_names
    theirs = ", ".join(graph.train_skills)
    raise GraphError(
        f"graph {spec!r} is the built-in graph of task {builtin_graph_task(name)}, whose skills are {theirs}; this "
        f"config's task {config.task.name} has skills {', '.join(ours[:8])}{', ...' if len(ours) > 8 else ''}, none "
        "of them in that graph. "
        + (f"Built-in graphs for these skills: {', '.join(fitting)}; or use graph: learn (learned before the runs, "
           "docs/graphs.md)" if fitting else
           "No built-in graph names these skills: use graph: learn (learned before the runs, docs/graphs.md)")
        + (", graph: prerequisites (the task's planted graph)" if get_task(config.task.name).prerequisites is not None
           and config.task.name != "data" else "")
        + " or graph: identity (no graph)"
    )


def build_method(config: ExperimentConfig, method: str, skillset: SkillSet, config_dir: Path | None) -> MixingPolicy:
    spec = config.methods[method]
    return build_policy(
        config.policy_of(method),
        spec.params,
        resolve_graph=graph_resolver(config, skillset, config_dir),
        wrappers=spec.wrappers,
        where=f"method {method!r}",
    )


def train_config(config: ExperimentConfig, seed: int) -> TrainConfig:
    return TrainConfig.from_training(config.training, seed)


def dry_run_context(config: ExperimentConfig, skillset: SkillSet) -> PolicyContext:
    """A context with made-up losses, to check a policy's set-up (names, shapes) before training; the objective
    and its weights are the run's (``objective_weights``: what the Mixer will give the policy)."""
    train_names = skillset.train_names
    pools = tuple(skillset[n].train.size for n in train_names)  # type: ignore[union-attr]
    objective = objective_skills(skillset, config.setting, config.target_skills)
    weights = objective_weight_vector(objective, config.objective_weights)
    return PolicyContext(
        train_skills=tuple(train_names),
        eval_skills=tuple(skillset.eval_names),
        target_skills=objective,
        objective_weights=None if weights is None else tuple(weights.tolist()),
        setting=config.setting,
        natural_proportions=tuple(skillset.natural_proportions()),
        pool_sizes=pools,
        n_rounds=train_config(config, 0).n_rounds,
        round_steps=config.training.round_steps,
        initial_eval=EvalResult(0, {n: 1.0 for n in skillset.eval_names}, {n: 0.0 for n in skillset.eval_names}),
        score_pool=lambda: {n: np.zeros(s or 0) for n, s in zip(train_names, pools)},
        mean_tokens=lambda: tuple(1.0 for _ in train_names),
    )


def data_notes(config: ExperimentConfig, full: SkillSet, info: ContextInfo | None = None) -> list[str]:
    """What a user should know about the data before training starts: the examples a length limit dropped or
    truncated, and a warning when one rare, long example sets the context (:meth:`ContextInfo.warnings`).

    ``info``: the context of ``full`` when already measured (:class:`SeedData`), else measured here."""
    notes = []
    limit = full.metadata.get("length_limit")
    if limit:
        for action in ("dropped", "truncated"):
            counts = limit.get(action) or {}
            if counts:
                per_skill = ", ".join(f"{name}: {n}" for name, n in counts.items())
                notes.append(f"task.params.max_length {limit['max_length']} ({limit['unit']} tokens): "
                             f"{sum(counts.values())} example(s) {action} ({per_skill})")
    if info is None:
        info = context_info(config, full, build_tokenizer(config, full))
    if not info.configured and config.task.name == "data":  # generated tasks: one fixed shape of example
        notes.append(f"context: {info.block_size} tokens (longest example {info.longest} tokens with <bos>/<eos>, "
                     f"skill {info.longest_skill!r}; 99 % have at most {info.p99})")
    return notes + [f"warning: {line}" for line in info.warnings()]


def model_notes(config: ExperimentConfig, data: SeedData) -> list[str]:
    """What the run trains, when it is not the whole model: under ``model.lora`` the adapted layers and the
    trainable share of the parameters (counted on the meta device, :func:`skillit.model.hf.lora_parameters`)."""
    m = config.model
    if not isinstance(m, HFModelConfig) or m.lora is None:
        return []
    trainable, total, targets = lora_parameters(m, data.tokenizer, data.block_size)
    return [f"model: LoRA (r {m.lora.r}, alpha {m.lora.alpha:g}) on {', '.join(targets)}: {trainable:,} of "
            f"{total:,} parameters train ({100 * trainable / max(total, 1):.2f} %), the rest are frozen"]


def reference_method(config: ExperimentConfig, method: str, policies: dict[str, MixingPolicy]) -> str | None:
    """The method whose run gives ``method`` its reference losses, if its policy requires ``ref_loss``.

    ``reference:`` in the method's config names it; the default is ``stratified`` (DoReMi's reference is
    a model trained on a fixed, usually uniform, mixture). The reference must be a method of the same
    config that needs no reference itself.
    """
    if "ref_loss" not in policies[method].requires:
        return None
    name = config.methods[method].reference or "stratified"
    if name not in config.methods:
        raise ConfigError(
            f"method {method!r} needs reference losses from another method's runs (reference: {name!r}), but the "
            f"config has no method {name!r}; add it, or set reference: to one of {', '.join(config.methods)}"
        )
    if "ref_loss" in policies[name].requires:
        raise ConfigError(f"method {method!r}: its reference method {name!r} needs a reference itself; choose a fixed mixture")
    return name


def resolve_device(device: str, precision: str = "fp32", compile: bool = False) -> str:
    """The device a run trains on (``auto``: cuda when available, else cpu); refused before anything is
    written: CUDA that is not there, ``training.precision: fp16`` on the CPU (:func:`check_precision`), and
    ``training.compile: true`` without its backend's compiler (:func:`check_compile`)."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but CUDA is not available; use device: cpu or auto")
    check_precision(precision, device)
    if compile:
        check_compile(device)
    return device


def default_jobs() -> int:
    """Parallel runs for ``skillit run``: one per core, at most 2 by default."""
    return max(1, min(2, os.cpu_count() or 1))


def warm_start(config: ExperimentConfig, seed: int, path: Path, progress: ProgressFn | None = None, *,
               data: SeedData | None = None) -> dict[str, Any]:
    """Train the seed's initial model on ``config.warm_start.skills`` (stratified) and save it atomically.

    Every method of the seed then starts from this model, so they differ only in the mixture. ``data``: the
    seed's :class:`SeedData` when already built (an experiment plan's), else built here.
    """
    assert config.warm_start is not None
    ws = config.warm_start
    data = data if data is not None else build_seed_data(config, seed)
    full, tokenizer = data.full, data.tokenizer
    model = build_model(config, tokenizer, data.block_size, seed)
    skills = full.select(train=ws.skills, eval=[name for name in ws.skills if name in full.eval_names])
    settings = config.training.model_dump(exclude={"log_draws"})
    settings.update(
        steps=ws.steps, round_steps=ws.steps, eval_every=ws.steps, checkpoint_every=None,
        batch_size=ws.batch_size or settings["batch_size"], lr=ws.lr or settings["lr"],
        warmup_steps=min(settings["warmup_steps"], ws.steps // 10),
    )
    result = train(model, tokenizer, skills, Stratified(), TrainConfig(seed=seed, **settings),
                   callbacks=[StepProgress(run_id(WARM_START_RUN, seed), progress)])
    payload = {"model": model.state_dict(), "records": result.records, "steps": result.steps,
               "train_seconds": result.train_seconds, "eval_seconds": result.eval_seconds}
    atomic_torch_save(path, payload)
    return {"seed": seed, "steps": result.steps, "train_seconds": result.train_seconds, "final": result.final}



__all__ = [
    "ContextInfo",
    "SeedData",
    "StepProgress",
    "build_method",
    "build_model",
    "build_seed_data",
    "build_skillset",
    "build_tokenizer",
    "context_info",
    "context_length",
    "data_notes",
    "default_jobs",
    "dry_run_context",
    "graph_resolver",
    "measured_examples",
    "resolve_graph_spec",
    "resolve_device",
    "task_skillset",
    "train_config",
    "warm_start",
]
