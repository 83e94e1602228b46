"""Experiment configuration: typed pydantic models that are also the YAML schema.

Unknown keys and bad values are errors that name the key, the file and the line, before anything runs::

    name: lego-demo
    task: {name: lego, params: {k: 5}}
    setting: pretrain
    model: {n_layer: 2, n_head: 4, n_embd: 64}
    training: {steps: 2000, batch_size: 64, round_steps: 250, eval_every: 125, lr: 0.003}
    methods:
      skill-it: {params: {graph: builtin:lego, eta: 0.5}}
      stratified: {}
      random: {}
    seeds: [0, 1]

A method's ``policy`` defaults to its name, so ``stratified: {}`` runs the ``stratified`` policy.

Beyond the schema, every value that could crash later is refused here, before anything is written
(docs/reliability.md): duplicate YAML keys and alias bombs, booleans given for numbers (``steps: true``),
NaN/inf numbers, negative, huge or duplicated seeds, unknown devices, a name that is a path (``..``), and
sizes that cannot fit in memory (steps, batch size × round length, block size, the model's estimate).
"""

from __future__ import annotations

import copy
import difflib
import os
import re
import typing
import warnings
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from skillit.errors import ConfigError, DataError, SkillitError, did_you_mean, missing_model_folder, pydantic_message
from skillit.experiment.hf_size import hf_config_dict, hf_dimensions, hf_parameter_count
from skillit.graph_learners.params import LEARNER_PARAMS, learner_params_model
from skillit.model.config import gpt_default
from skillit.policy.base import rename_params
from skillit.policy.registry import POLICIES, get_policy_spec, validate_params
from skillit.tasks import get_task, parse_task_params, resolve_task_paths
from skillit.tasks.corpora import data_needs
from skillit.tasks.data import missing_file_message, missing_files
from skillit.trainer.settings import MAX_BATCH as MAX_BATCH  # re-exported: the caps of the schema
from skillit.trainer.settings import MAX_STEPS as MAX_STEPS
from skillit.trainer.settings import SETTINGS
from skillit.utils.plugins import import_modules, module_name_problem
from skillit.utils.schema import StrictModel

# ---- limits: values beyond these would crash or exhaust memory long after the run directory exists --------
MAX_SEED = 2**32 - 1  # numpy's seed range
MAX_GRAPH_SEEDS = 100  # each learner seed costs one whole graph learning
MAX_BLOCK_SIZE = 2**16  # tokens; also the cap on the automatic block size (longest example + 8)
MAX_ROUND_DRAWS = 10**8  # a round's sampling plan holds round_steps × batch_size draws (16 bytes each)
MAX_YAML_VALUES = 10**6  # values a config expands to, counting every alias expansion (alias bombs)


def _module_name(name: str) -> str:
    problem = module_name_problem(name)
    if problem is not None:
        raise ValueError(problem)
    return name


ModuleName = Annotated[str, AfterValidator(_module_name)]  # an entry of `imports:` (my_pkg.my_policies)


class _Strict(StrictModel):
    model_config = ConfigDict(allow_inf_nan=False)  # and, from StrictModel, unknown keys refused


class TaskConfig(_Strict):
    name: str = Field(description="registered task: lego, addition, ...")
    params: dict[str, Any] = Field(default_factory=dict, description="the task's own parameters")
    train_skills: list[str] | None = Field(None, description="subset (and order) of training skills; default all")
    eval_skills: list[str] | None = Field(None, description="subset of evaluation skills; default all")


class ModelConfig(_Strict):
    """``kind: gpt`` (the default when ``kind`` is left out): skillit's tiny GPT with a char or word tokenizer.

    The architecture's defaults are GPTConfig's (``skillit.model.config``, declared once); ``block_size`` is
    derived from the data when left out, and ``vocab_size`` from the tokenizer."""

    kind: Literal["gpt"] = "gpt"
    n_layer: int = Field(gpt_default("n_layer"), ge=1)
    n_head: int = Field(gpt_default("n_head"), ge=1)
    n_embd: int = Field(gpt_default("n_embd"), ge=8)
    block_size: int | None = Field(None, ge=2, le=MAX_BLOCK_SIZE, description="context length; default: longest example + 8")
    dropout: float = Field(gpt_default("dropout"), ge=0, lt=1)
    tokenizer: Literal["char", "word"] = "char"
    init_std: float = Field(gpt_default("init_std"), gt=0,
                            description="std of the weight init (GPT-2: 0.02; ~0.1 shortens plateaus)")

    @model_validator(mode="after")
    def _check_heads(self) -> ModelConfig:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        return self

    @property
    def length_unit(self) -> Literal["char", "word"]:
        """What ``task.params.max_length`` counts by default: this model's tokens."""
        return self.tokenizer


class TrainedTokenizerConfig(_Strict):
    """``tokenizer: {train: bpe, vocab_size: N}``: a byte-level BPE trained on the run's prompts and answers."""

    train: Literal["bpe"] = Field(description="bpe: byte-level BPE with the tokenizers library (deterministic)")
    vocab_size: int = Field(ge=260, le=2**20, description="tokens incl. <pad> <bos> <eos> and the 256 bytes")
    min_frequency: int = Field(2, ge=1, description="a merge must occur this often")


class LoraConfig(_Strict):
    """``model.lora``: train low-rank adapters instead of the model (peft's LoRA; the ``lora`` extra).

    Every targeted linear layer W (d_out × d_in) gets W + (alpha / r) B A with A (r × d_in) and B (d_out × r),
    B = 0 at the start (Hu et al. 2021, LoRA, §4.1); only A and B train, the model's own weights are frozen.
    """

    r: int = Field(8, ge=1, le=4096, description="rank of the adapters")
    alpha: float = Field(16, gt=0, description="scale: the update is (alpha / r) B A")
    dropout: float = Field(0.0, ge=0, lt=1, description="dropout on the adapters' input while training")
    target_modules: list[str] | None = Field(
        None, min_length=1, description="names of the layers to adapt (e.g. [q_proj, v_proj]); "
                                        "null: peft's default for the architecture (GPT-2: c_attn; Llama: q_proj, v_proj)")


def _tokenizer_kind(value: Any) -> str | None:
    return "folder" if isinstance(value, str) else "trained" if isinstance(value, (dict, TrainedTokenizerConfig)) else None


class HFModelConfig(_Strict):
    """``kind: hf``: a Hugging Face causal LM in skillit's loop (skillit.model.hf; docs/stacks.md "Your model").

    ``path``: a local checkpoint folder (save_pretrained); or ``config``: ``{model_type: gpt2 | llama | ...,
    ...}``, a randomly initialised architecture. ``tokenizer``: a local folder, or ``{train: bpe, vocab_size:
    N}``; default the checkpoint's own. Relative paths are read from the config file's folder. ``lora``:
    train low-rank adapters only (:class:`LoraConfig`).
    """

    kind: Literal["hf"]
    path: str | None = Field(None, description="folder of a causal-LM checkpoint (config.json + weights)")
    config: dict[str, Any] | None = Field(None, description="a new architecture: model_type and its HF config fields")
    tokenizer: Annotated[
        Annotated[str, Tag("folder")] | Annotated[TrainedTokenizerConfig, Tag("trained")],
        Discriminator(_tokenizer_kind, custom_error_type="tokenizer_kind",
                      custom_error_message="give a tokenizer folder or {train: bpe, vocab_size: N}"),
    ] | None = Field(None, description="a tokenizer folder, or {train: bpe, vocab_size: N}; default the checkpoint's")
    block_size: int | None = Field(None, ge=2, le=MAX_BLOCK_SIZE, description="context length; default: longest example + 8")
    lora: LoraConfig | None = Field(None, description="train LoRA adapters only ({r, alpha, dropout, target_modules}; "
                                                      "needs the lora extra)")

    @model_serializer(mode="wrap")
    def _without_lora_none(self, handler: Any) -> Any:
        """No ``lora`` key without LoRA: config.yaml and the manifest stay as they were before it existed (so a
        run started then still resumes)."""
        data = handler(self)
        if isinstance(data, dict) and self.lora is None:
            data.pop("lora", None)
        return data

    @model_validator(mode="after")
    def _check_source(self) -> HFModelConfig:
        if (self.path is None) == (self.config is None):
            raise ValueError("give either path (a checkpoint folder) or config ({model_type: ..., ...}: a new "
                             "architecture), not " + ("both" if self.path is not None else "neither"))
        if self.config is not None:
            if not isinstance(self.config.get("model_type"), str):
                raise ValueError("config needs model_type (e.g. gpt2 or llama) and that architecture's fields")
            if self.tokenizer is None:
                raise ValueError("a new architecture (config) needs a tokenizer: a tokenizer folder, or "
                                 "{train: bpe, vocab_size: N} (trained on the run's texts)")
        return self

    @property
    def length_unit(self) -> Literal["word"]:
        """``task.params.max_length`` counts words for a Hugging Face tokenizer unless ``length_unit`` is set."""
        return "word"


def _model_kind(value: Any) -> Any:
    return value.get("kind", "gpt") if isinstance(value, dict) else getattr(value, "kind", None)


AnyModelConfig = Annotated[
    Annotated[ModelConfig, Tag("gpt")] | Annotated[HFModelConfig, Tag("hf")],
    Discriminator(_model_kind, custom_error_type="model_kind",
                  custom_error_message="kind must be gpt (skillit's GPT; the default) or hf (a Hugging Face model)"),
]
# the tags of the schema's tagged unions, as they appear in a validation error's location after their field
UNION_TAGS = {"model": ("gpt", "hf"), "tokenizer": ("folder", "trained")}


def _training_fields() -> dict[str, Any]:
    """The ``training:`` section's fields: the training settings (declared once, ``TrainingSettings``) and the
    section's own ``log_draws``, in the order config.yaml has always listed them."""
    fields: dict[str, Any] = {}
    for name, info in SETTINGS.items():
        fields[name] = (info.annotation, copy.copy(info))
        if name == "gradient_accumulation_steps":
            fields["log_draws"] = (bool, Field(
                False, description="write draws/RUN.jsonl: every (skill, example index) drawn, per step"))
    return fields


class TrainingConfig(create_model("_TrainingFields", __base__=_Strict, **_training_fields())):  # type: ignore[misc]
    """The ``training:`` section: the training settings, whose one declaration is
    :class:`~skillit.trainer.settings.TrainingSettings` (shared with the loop's ``TrainConfig``, built from
    this section by ``TrainConfig.from_training``), and ``log_draws``."""

    @model_serializer(mode="wrap")
    def _without_default_precision(self, handler: Any) -> Any:
        """No ``precision`` key at fp32 and no ``compile`` key when false: config.yaml and the manifest stay as
        they were before they existed (so a run started then still resumes)."""
        data = handler(self)
        if isinstance(data, dict) and self.precision == "fp32":
            data.pop("precision", None)
        if isinstance(data, dict) and not self.compile:
            data.pop("compile", None)
        return data

    @model_validator(mode="after")
    def _check_round_plan(self) -> TrainingConfig:
        draws = min(self.round_steps, self.steps) * self.batch_size
        if draws > MAX_ROUND_DRAWS:
            raise ValueError(
                f"a round plans min(round_steps, steps) × batch_size = {draws:,} draws (more than {MAX_ROUND_DRAWS:,}, "
                "about 1.6 GB); lower round_steps or batch_size"
            )
        return self


class MethodConfig(_Strict):
    policy: str | None = Field(None, description="registered policy; defaults to the method's name")
    params: dict[str, Any] = Field(default_factory=dict)
    wrappers: list[dict[str, Any]] = Field(default_factory=list, description="e.g. [{floor: 0.01}]")
    reference: str | None = Field(
        None, description="for policies that need reference losses (DoReMi): the method whose runs are the reference "
        "(default: stratified)"
    )


class WarmStartConfig(_Strict):
    """Train the model in-process on some skills before the compared runs, once per seed.

    Every method then starts from the same warm model (e.g. a small model "pre-trained" on other Natural
    Instructions categories before fine-tuning). The skills may lie outside ``task.train_skills``.
    """

    skills: list[str] = Field(min_length=1, description="task skills to pre-train on (stratified)")
    steps: int = Field(ge=1)
    batch_size: int | None = Field(None, ge=1, description="default: training.batch_size")
    lr: float | None = Field(None, gt=0, description="default: training.lr")


class GraphLearningConfig(_Strict):
    """How ``skillit graph CONFIG`` (and ``graph: learn`` in a method's params) learns the skills graph::

        graph_learning:
          method: probe
          params: {base_steps: 600, points: 3, steps: 25}
          seeds: 3

    The runs use the experiment's task, model and training settings. ``params`` are the learner's own
    (its ``Params`` model, ``skillit.graph_learners.params``; docs/graphs.md), checked against it: a field
    the learner does not take is an error naming the fields it takes. A field left out takes the run-scaled
    default (``skillit.experiment.graph_learning.run_scaled_defaults``), then the learner's default. The old
    flat spelling (the learner's fields beside ``method``) still loads, moved into ``params``, with a
    FutureWarning (:func:`upgrade_graph_learning`).
    """

    method: str = Field("probe", description="linear | brute-force | threshold | probe | tracin, or a registered learner")
    params: dict[str, Any] = Field(
        default_factory=dict, description="the learner's parameters (docs/graphs.md); unset: run-scaled, then the "
        "learner's defaults")
    seed: int | None = Field(None, description="seed of the base run and the runs' data; default: the first seed")
    seeds: int | list[int] | None = Field(
        None, description="learn at several seeds: N (seed, seed+1, ..., N of them) or a list; per-edge mean, "
        "t-interval and stable mask (docs/graphs.md)")
    level: float = Field(0.95, gt=0, lt=1, description="confidence level of the per-edge t-interval (with seeds)")
    stable_only: bool = Field(True, description="with seeds: the policies' graph keeps only stable edges "
                              "(false: the mean over seeds)")
    jobs: int | None = Field(None, ge=1, description="parallel worker processes; default min(2, cores)")

    def learner_params(self) -> dict[str, Any]:
        """The learner's parameters the section sets (``params``; unset ones are not listed)."""
        return dict(self.params)

    @model_validator(mode="before")
    @classmethod
    def _flat_form(cls, data: Any) -> Any:
        return upgrade_graph_learning(data) if isinstance(data, dict) else data

    @field_validator("method")
    @classmethod
    def _check_method(cls, method: str) -> str:
        try:
            learner_params_model(method)  # an unknown name: the closest names and how to register a learner
        except SkillitError as exc:
            raise ValueError(str(exc)) from None
        return method

    @field_validator("params")
    @classmethod
    def _check_params(cls, params: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """The given fields, checked by the learner's Params and kept as it reads them (``steps: 25.0`` is 25)."""
        method = info.data.get("method")
        if method is None:  # the method was refused: its error says so
            return params
        model = learner_params_model(method)
        try:
            checked = model.model_validate(params)
        except ValidationError as exc:
            raise _learner_params_error(method, model, exc) from None
        return checked.model_dump(exclude_unset=True)

    @field_validator("seeds")
    @classmethod
    def _check_graph_seeds(cls, seeds: int | list[int] | None) -> int | list[int] | None:
        if isinstance(seeds, int) and not 1 <= seeds <= MAX_GRAPH_SEEDS:
            raise ValueError(f"seeds: N must be from 1 to {MAX_GRAPH_SEEDS} (learner seeds), got {seeds}")
        if isinstance(seeds, list):
            if not 1 <= len(seeds) <= MAX_GRAPH_SEEDS:
                raise ValueError(f"seeds: give 1 to {MAX_GRAPH_SEEDS} seeds, got {len(seeds)}")
            bad = [s for s in seeds if not 0 <= s <= MAX_SEED]
            if bad:
                raise ValueError(f"seed {bad[0]} is not an integer from 0 to {MAX_SEED}")
            repeated = sorted({s for s in seeds if seeds.count(s) > 1})
            if repeated:
                raise ValueError(f"seeds {repeated} appear more than once; a repeated seed repeats the same graph "
                                 "and makes its interval too narrow")
        return seeds

    @field_validator("seed")
    @classmethod
    def _check_graph_seed(cls, seed: int | None) -> int | None:
        if seed is not None and not 0 <= seed <= MAX_SEED:
            raise ValueError(f"seed {seed} is not an integer from 0 to {MAX_SEED}; give a seed in that range, as in "
                             "the experiment's seeds")
        return seed

    @model_validator(mode="after")
    def _check_seed_and_seeds(self) -> GraphLearningConfig:
        if isinstance(self.seeds, list) and self.seed is not None:
            raise ValueError("give either seed (with seeds: N, the first of N seeds) or a seeds list, not both")
        return self


def _learner_params_error(method: str, model: type[BaseModel], exc: ValidationError) -> ValidationError:
    """The learner's own errors, each at ``params.<field>`` (its file and line) and naming the learner; a field
    it does not take lists the fields it takes and the learners that take it."""
    takes = ", ".join(model.model_fields)
    details: list[InitErrorDetails] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            name = str(loc[-1])
            others = [other for other, params in LEARNER_PARAMS.items() if other != method and name in params.model_fields]
            close = difflib.get_close_matches(name, list(model.model_fields), n=1)
            if others:
                advice = f" ({', '.join(others)} {'takes' if len(others) == 1 else 'take'} it); remove it, or choose that method"
            elif close:
                advice = f" (did you mean {close[0]!r}?)"
            else:
                advice = "; remove it or check its spelling"
            message = f"graph learner {method!r} takes no parameter {name!r}{advice}; {method} takes: {takes}"
        else:  # at a field: its message; at the model (loc ()): the fields its check names
            message = f"graph learner {method!r}: {pydantic_message(error)}"
        details.append({"type": PydanticCustomError("learner_params", "{message}", {"message": message}),
                        "loc": loc, "input": error.get("input")})
    return ValidationError.from_exception_data("params", details)


def upgrade_graph_learning(section: dict[str, Any], *, where: str | None = None, warn: bool = True) -> dict[str, Any]:
    """A ``graph_learning`` section in the current form: the old flat form's learner fields (``{method: probe,
    base_steps: 500}``) moved into ``params`` (``{method: probe, params: {base_steps: 500}}``), with one
    FutureWarning naming the new spelling (``where``: the file and line, when known; ``warn=False``: none).

    Keys of the section (``method``, ``seed``, ``seeds``, ``level``, ``stable_only``, ``jobs``) stay; every
    other key is a learner field. A null learner field of a built-in learner (what the old schema wrote into
    a run's ``config.yaml`` and manifest for unset fields) is dropped, as it meant "not set". A section already
    in the new form comes back unchanged; learner fields both in ``params`` and beside it are a ValueError."""
    keys = set(GraphLearningConfig.model_fields)
    flat = {key: value for key, value in section.items() if key not in keys}
    if not flat:
        return section
    known = {name for params in LEARNER_PARAMS.values() for name in params.model_fields}
    moved = {key: value for key, value in flat.items() if not (value is None and key in known)}
    given = section.get("params")
    if given is not None and not isinstance(given, dict):
        return section  # the schema names what is wrong with params
    if moved and given:
        clash = sorted(set(moved) & set(given))
        if clash:
            raise ValueError(f"{', '.join(clash)} given both in params and beside it (the old flat form); keep "
                             "the one in params")
    upgraded = {key: value for key, value in section.items() if key in keys}
    upgraded["params"] = {**(given or {}), **moved}
    if moved and warn:
        method = section.get("method", "probe")
        spelled = ", ".join(f"{key}: {_yaml_scalar(value)}" for key, value in upgraded["params"].items())
        warnings.warn(
            f"{where + ': ' if where else ''}graph_learning: learner fields beside method ({', '.join(moved)}) "
            f"are the old, deprecated spelling; put them under params: graph_learning: {{method: {method}, "
            f"params: {{{spelled}}}}}",
            FutureWarning, stacklevel=3)
    return upgraded


def _yaml_scalar(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


class ExperimentConfig(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=200)
    description: str = ""
    tags: list[str] = Field(default_factory=list, description="e.g. [benchmark]: listed by `skillit bench`")
    imports: list[ModuleName] = Field(
        default_factory=list, description="modules imported before the config is checked, in every process (your "
        "own policies and graph learners; a my_policies.py in the config's folder or the current folder works)")
    reference: dict[str, Any] | None = Field(None, description="the paper's figures, shown beside a benchmark")
    warm_start: WarmStartConfig | None = None
    graph_learning: GraphLearningConfig | None = Field(
        None, description="how `skillit graph` and `graph: learn` learn the skills graph (docs/graphs.md)"
    )
    task: TaskConfig
    setting: Literal["pretrain", "finetune", "out-of-domain"] = "pretrain"
    target_skills: list[str] | None = None
    target_loss: float | None = Field(None, gt=0, description="loss threshold for steps_to_target")
    objective_weights: dict[str, float] | None = Field(
        None, description="{objective skill: weight}: the objective is the weighted mean loss, in the summary and "
        "for the policies that read the objective (the rest weigh 0; normalised to sum 1; docs/policies.md); default "
        "the plain mean")
    model: AnyModelConfig = Field(default_factory=ModelConfig)
    training: TrainingConfig
    methods: dict[str, MethodConfig]
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    device: str = Field("cpu", description="cpu, cuda, cuda:N, mps or auto")

    @model_serializer(mode="wrap")
    def _without_empty_imports(self, handler: Any) -> Any:
        """No ``imports`` key when there are none: config.yaml and the manifest stay as they were before it existed."""
        data = handler(self)
        if isinstance(data, dict) and not self.imports:
            data.pop("imports", None)
        return data

    @field_validator("device")
    @classmethod
    def _check_device(cls, device: str) -> str:
        if not re.fullmatch(r"cpu|auto|mps|cuda(:[0-9]+)?", device):
            raise ValueError(f"device {device!r} is not cpu, cuda, cuda:N (e.g. cuda:0), mps or auto")
        return device

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        if not name.strip("."):
            raise ValueError(f"name {name!r} is a path (the default output runs/<name> would be {name!r}); use a word")
        return name

    @field_validator("seeds", mode="before")
    @classmethod
    def _check_seeds(cls, seeds: Any) -> Any:
        if isinstance(seeds, list):
            for seed in seeds:
                if isinstance(seed, bool) or (isinstance(seed, int) and not 0 <= seed <= MAX_SEED):
                    raise ValueError(f"seed {seed!r} is not an integer from 0 to {MAX_SEED}")
            repeated = sorted({seed for seed in seeds if isinstance(seed, int) and seeds.count(seed) > 1})
            if repeated:
                raise ValueError(f"seeds {repeated} appear more than once; a repeated seed repeats the same run "
                                 "and makes the std over seeds wrong")
        return seeds

    @model_validator(mode="after")
    def _check_memory(self, info: ValidationInfo) -> ExperimentConfig:
        """A ``kind: hf`` model's relative ``path`` is read from ``config_dir`` in the validation context (the
        config file's folder: :func:`parse_config`), else from the current folder."""
        estimate = memory_estimate(self, (info.context or {}).get("config_dir"))
        available = physical_memory_bytes()
        if available and estimate.bytes > available:
            t = self.training
            raise ValueError(
                f"this model and batch need about {estimate.bytes / 2**30:,.1f} GiB ({estimate.model}, "
                f"training.batch_size={t.batch_size}, precision={t.precision}), more than the machine's "
                f"{available / 2**30:,.1f} GiB; lower the batch size, block size or model size"
            )
        return self

    @field_validator("methods")
    @classmethod
    def _check_methods(cls, methods: dict[str, MethodConfig]) -> dict[str, MethodConfig]:
        if not methods:
            raise ValueError("at least one method is needed")
        return methods

    @model_validator(mode="after")
    def _check_setting(self) -> ExperimentConfig:
        if self.setting == "finetune" and not self.target_skills:
            raise ValueError("setting 'finetune' needs target_skills")
        return self

    def policy_of(self, method: str) -> str:
        return self.methods[method].policy or method


def physical_memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX
        return None


class MemoryEstimate(typing.NamedTuple):
    """:func:`memory_estimate`'s answer: ``bytes`` needed, the model's ``parameters`` (None: not known here) and the
    ``model`` in words (for the refusal)."""

    bytes: int
    parameters: int | None
    model: str


def memory_estimate(config: ExperimentConfig, config_dir: str | Path | None = None) -> MemoryEstimate:
    """A lower bound on training memory: the parameters P in float32 with their gradient and AdamW's two moments
    (16·P bytes; bf16/fp16 autocast adds its half-precision copy of the weights, 2·P) plus one micro-batch's
    activations: per token per layer ≈ 8·d + 2·I values (residual stream, attention and the MLP of inner size I;
    I = 4·d for skillit's GPT) and the attention scores 2·h·T, at 4 bytes each (fp32) or 2 (autocast). A Hugging
    Face model (``kind: hf``) adds its logits and their gradient (2·V floats per token); its sizes come from its
    HF config (:mod:`skillit.experiment.hf_size`: ``path``'s config.json, read from ``config_dir`` when relative;
    ``config:`` through transformers). Unknown sizes count 0: skillit's GPT leaves its vocabulary out, and an
    unset ``block_size`` (longest example + 8, known once the data is read) leaves the activations out.
    """
    m, t = config.model, config.training
    batch = max(t.batch_size // t.gradient_accumulation_steps, 1)
    half = t.precision != "fp32"
    value_bytes = 2 if half else 4
    per_parameter = 16 + (2 if half else 0)
    block = m.block_size or 0
    if isinstance(m, ModelConfig):
        params = 12 * m.n_layer * m.n_embd**2 + block * m.n_embd
        activations = value_bytes * batch * block * m.n_layer * (16 * m.n_embd + 2 * m.n_head * block)  # I = 4·d
        described = f"model.n_layer={m.n_layer}, n_embd={m.n_embd}, block_size={m.block_size}"
        return MemoryEstimate(per_parameter * params + activations, params, described)
    hf = hf_config_dict(m, config_dir, m.block_size)
    dims = hf_dimensions(hf) if hf is not None else None
    params = hf_parameter_count(hf) if hf is not None else None
    if dims is None or params is None:
        return MemoryEstimate(0, None, "a Hugging Face model whose config is not readable here")
    tokens = batch * block
    activations = (value_bytes * tokens * dims["L"] * (8 * dims["d"] + 2 * dims["I"] + 2 * dims["H"] * block)
                   + 2 * 4 * tokens * dims["V"])
    source = f"model.path {m.path!r}" if m.path is not None else "model.config"
    described = (f"{hf.get('model_type')} of {source}: {params:,} parameters, {dims['L']} layers × {dims['d']}, "
                 f"vocabulary {dims['V']:,}, block_size={m.block_size}")
    return MemoryEstimate(per_parameter * params + activations, params, described)


def estimated_memory_bytes(config: ExperimentConfig, config_dir: str | Path | None = None) -> int:
    """Bytes of :func:`memory_estimate` (a lower bound on training memory)."""
    return memory_estimate(config, config_dir).bytes


def semantic_errors(config: ExperimentConfig) -> list[tuple[tuple[Any, ...], str]]:
    """Checks that need the registries (task and policy names, their parameters), with their key paths."""
    errors: list[tuple[tuple[Any, ...], str]] = []
    if config.training.precision == "fp16" and config.device == "cpu":
        errors.append((("training", "precision"), "fp16 runs on a GPU (device: cuda), not on the CPU, where float16 "
                       "is slow and its narrow range needs loss scaling; use precision: bf16 (CPU autocast) or fp32"))
    try:
        get_task(config.task.name)
    except SkillitError as exc:
        errors.append((("task", "name"), str(exc)))
    else:
        try:
            parse_task_params(config.task.name, config.task.params)
        except SkillitError as exc:
            errors.append((("task", "params"), str(exc)))
    for name, method in config.methods.items():
        policy = method.policy or name
        loc = ("methods", name, "policy") if method.policy else ("methods", name)
        try:
            get_policy_spec(policy)
        except SkillitError as exc:
            errors.append((loc, f"method {name!r}: {exc}"))
            continue
        try:
            validate_params(policy, method.params)
        except SkillitError as exc:
            errors.append((("methods", name, "params"), f"method {name!r}: {exc}"))
    return errors


def check_config(config: ExperimentConfig, node: yaml.Node | None = None, source: str = "<config>") -> ExperimentConfig:
    """Raise one :class:`ConfigError` listing every semantic problem, each with its file and line."""
    errors = semantic_errors(config)
    if errors:
        lines = []
        for loc, message in errors:
            line = _line_of(node, list(loc))
            where = f"{source}:{line}" if line else source
            lines.append(f"{where}: {'.'.join(str(p) for p in loc)}: {message}")
        raise ConfigError("invalid config\n  " + "\n  ".join(lines))
    return config


# ---- loading -------------------------------------------------------------------------------------
def shipped_config_names() -> list[str]:
    folder = resources.files("skillit") / "configs"
    return sorted(entry.name[: -len(".yaml")] for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def benchmark_names() -> list[str]:
    """Shipped configs tagged ``benchmark`` (what ``skillit bench`` runs)."""
    names = []
    for name in shipped_config_names():
        data = yaml.safe_load((Path(str(resources.files("skillit") / "configs")) / f"{name}.yaml").read_text())
        if "benchmark" in (data or {}).get("tags", []):
            names.append(name)
    return names


def shipped_config_path(name: str) -> Path:
    names = shipped_config_names()
    if name not in names:
        raise ConfigError(f"no config file or shipped config named {name!r}; {did_you_mean(name, names)}")
    return Path(str(resources.files("skillit") / "configs" / f"{name}.yaml"))


def resolve_config_path(spec: str | Path) -> Path:
    """A path to an existing file, or the name of a shipped config (``skillit configs`` lists them)."""
    path = Path(spec)
    if path.is_file():
        return path
    if path.is_dir():
        raise ConfigError(f"config {str(path)!r} is a folder, not a file; give a YAML file or a shipped config name")
    if path.suffix in (".yaml", ".yml") or path.parent != Path("."):
        raise ConfigError(f"config file {str(path)!r} does not exist")
    return shipped_config_path(str(spec))


def import_config_modules(config: ExperimentConfig, config_dir: str | Path | None = None) -> None:
    """Import the config's ``imports`` (once per process), looking also in ``config_dir`` and the current
    folder: what every process that builds the config's policies does first (``--jobs`` workers included)."""
    where = f"imports of the config in {config_dir}" if config_dir is not None else "the config's imports"
    import_modules(config.imports, config_dir=config_dir, where=where)


def load_config(spec: str | Path, *, check_data: bool = True) -> ExperimentConfig:
    """Load and validate a YAML config (a path or a shipped config name); its ``imports`` are imported first.

    With ``check_data``, a data file the config names that does not exist is a :class:`DataError` naming
    the config's file and line and, for a data set skillit knows, how to get it (``skillit data fetch``)."""
    path = resolve_config_path(spec)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: byte {exc.start} is not UTF-8 text; save the config as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"config file {str(path)!r} cannot be read ({exc.strerror})") from None
    config = with_resolved_paths(parse_config(text, source=str(path), config_dir=path.parent), path.parent)
    absent = missing_model_folders(config) if check_data else []
    if absent:  # a model folder that is not there: the config's file and line, before anything runs
        _, node = load_yaml(text, str(path))
        raise ConfigError("\n".join(
            f"{path}:{_line_of(node, ['model', key])}: {missing_model_folder(value, f'model.{key}')}"
            for key, value in absent))
    if check_data and config.task.name == "data":
        missing = missing_files(config.task.params)
        if missing:
            _, node = load_yaml(text, str(path))
            raise DataError("\n".join(
                f"{path}:{_line_of(node, ['task', 'params', key])}: {missing_file_message(key, value)}"
                for key, value in missing))
    return config


def config_needs(config: ExperimentConfig) -> str:
    """What a (loaded) config needs to run, in words: ``generated by skillit`` (a synthetic task), ``shipped``
    (data in the package), ``skillit data fetch NAME`` (a data set generated on this machine) or your files."""
    if config.task.name != "data":
        return "generated by skillit"
    return data_needs(config.task.params)


def with_resolved_paths(config: ExperimentConfig, base_dir: Path) -> ExperimentConfig:
    """The config with the task's relative data paths, and a Hugging Face model's folders (``model.path``,
    ``model.tokenizer``), made absolute against ``base_dir`` (its file's folder)."""
    params = resolve_task_paths(config.task.name, config.task.params, Path(base_dir))
    if params != config.task.params:
        config = config.model_copy(update={"task": config.task.model_copy(update={"params": params})})
    model = config.model
    if isinstance(model, HFModelConfig):
        folders = {key: str(Path(base_dir) / Path(value).expanduser()) for key in ("path", "tokenizer")
                   if isinstance(value := getattr(model, key), str) and not Path(value).expanduser().is_absolute()}
        if folders:
            config = config.model_copy(update={"model": model.model_copy(update=folders)})
    return config


def missing_model_folders(config: ExperimentConfig) -> list[tuple[str, str]]:
    """``(key, value)`` of each folder a ``kind: hf`` model section names that is not a folder on this machine."""
    model = config.model
    if not isinstance(model, HFModelConfig):
        return []
    return [(key, value) for key in ("path", "tokenizer")
            if isinstance(value := getattr(model, key), str) and not Path(value).expanduser().is_dir()]


class ConfigLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses duplicate keys (the last would silently win) with both lines."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base`; explicit keys may override merged ones
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: SafeLoader reports it below
                break
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {first}); a key may appear once per mapping",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: yaml.Node, limit: int) -> int:
    """How many values ``node`` expands to, aliases counted at every use (memoised: linear in distinct nodes)."""
    sizes: dict[int, int] = {}
    entered: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, children_done = stack.pop()
        if id(current) in sizes or (not children_done and id(current) in entered):
            continue
        if isinstance(current, yaml.MappingNode):
            children = [part for pair in current.value for part in pair]
        elif isinstance(current, yaml.SequenceNode):
            children = list(current.value)
        else:
            sizes[id(current)] = 1
            continue
        if children_done:
            sizes[id(current)] = min(limit + 1, 1 + sum(sizes.get(id(child), 1) for child in children))
        else:
            entered.add(id(current))
            stack.append((current, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
    return sizes[id(node)]


def load_yaml(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """The data and the node tree of a YAML text; a ConfigError with the line on any problem."""
    try:
        node = yaml.compose(text, Loader=ConfigLoader)
        if node is not None and _expanded_size(node, MAX_YAML_VALUES) > MAX_YAML_VALUES:
            raise ConfigError(
                f"{source}: the YAML expands to more than {MAX_YAML_VALUES:,} values through its aliases (&anchor / "
                "*alias), which looks like an alias bomb; write the values out or use fewer aliases"
            )
        data = yaml.load(text, Loader=ConfigLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise ConfigError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:
        raise ConfigError(f"{source}: the YAML is nested too deeply to read; flatten it") from None
    return data, node


def parse_config(text: str, source: str = "<config>", *, config_dir: str | Path | None = None) -> ExperimentConfig:
    """Parse and check a config's text. Its ``imports`` are imported before the checks (they may register the
    policies and graph learners it names), looked for also in ``config_dir`` (its file's folder) and the cwd."""
    data, node = load_yaml(text, source)
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a config must be a YAML mapping (key: value), got {type(data).__name__}")
    imports = data.get("imports")
    if isinstance(imports, list) and all(module_name_problem(name) is None for name in imports):
        for index, name in enumerate(imports):  # a malformed entry is left to the schema, which names its line
            line = _line_of(node, ["imports", index])
            import_modules([name], config_dir=config_dir, where=f"{source}:{line}: imports.{index}" if line else
                           f"{source}: imports.{index}")
    section = data.get("graph_learning")
    if isinstance(section, dict):  # the old flat form: moved here, so that its warning names the file and line
        where = f"{source}:{_line_of(node, ['graph_learning'])}"
        try:
            data = {**data, "graph_learning": upgrade_graph_learning(section, where=where)}
        except ValueError:  # both forms at once: the schema refuses it below, with its line
            pass
    methods = data.get("methods")
    if isinstance(methods, dict):  # renamed policy parameters: here, so that the warning names the file and line
        data = {**data, "methods": upgrade_method_params(methods, where=lambda name: (
            f"{source}:{_line_of(node, ['methods', name, 'params'])}"))}
    try:
        config = ExperimentConfig.model_validate(data, context={"config_dir": config_dir})
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc, node, source)) from None
    return check_config(config, node, source)


def upgrade_method_params(methods: dict[str, Any], *, where: Callable[[str], str] | None = None,
                          warn: bool = True) -> dict[str, Any]:
    """``methods`` with each renamed parameter of a method's policy (its ``Params.renamed``, e.g. Aioli's
    ``normalize`` → ``normalise``) in the new spelling, with a FutureWarning naming ``where(method)`` unless
    ``warn=False``. A method whose policy is unknown, or that gives both spellings, is left as it is (the
    schema's checks name it)."""
    out = dict(methods)
    for name, method in methods.items():
        if not isinstance(method, dict) or not isinstance(method.get("params"), dict):
            continue
        policy = method.get("policy") or name
        params_model = getattr(POLICIES.get(policy) if isinstance(policy, str) else None, "Params", None)
        if params_model is None or not getattr(params_model, "renamed", None):
            continue
        try:
            params = rename_params(params_model, method["params"], where=where(name) if where else "",
                                   policy=policy, warn=warn)
        except ValueError:
            continue
        out[name] = {**method, "params": params}
    return out


def _format_validation(exc: ValidationError, node: yaml.Node | None, source: str) -> str:
    lines = []
    for error in exc.errors():
        tagged = [part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
        loc = [part for i, part in enumerate(tagged) if not (i and part in UNION_TAGS.get(str(tagged[i - 1]), ()))]
        line = _line_of(node, loc)
        key = ".".join(str(part) for part in loc) or "(top level)"
        where = f"{source}:{line}" if line else source
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            known = _known_keys(ExperimentConfig, tagged[:-1])
            hint = f"; {did_you_mean(str(loc[-1]), known)}" if known else ""
            message = f"unknown key {loc[-1]!r}; remove it or check its spelling{hint}"
        elif error["type"] == "missing":
            message = "required key is missing"
        ctx_error = error.get("ctx", {}).get("error")
        if ctx_error is not None and hasattr(ctx_error, "args") and ctx_error.args:
            message = str(ctx_error.args[0])
        lines.append(f"{where}: {key}: {message}")
    return "invalid config\n  " + "\n  ".join(lines)


def _known_keys(model: type[BaseModel], loc: list[Any]) -> list[str]:
    """The keys the pydantic model nested at ``loc`` accepts ([] where ``loc`` leaves the typed models); ``loc``
    names a tagged union's member by its tag (``model.hf.path``), as pydantic's error locations do."""
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        field_info = model.model_fields.get(str(part)) if isinstance(part, str) else None
        if field_info is None:
            return []
        nested = _nested_models(field_info.annotation)
        if parts and parts[0] in nested:  # a tagged union's member
            model = nested[parts.pop(0)]
        elif nested:
            model = next(iter(nested.values()))
        else:
            return []
    return list(model.model_fields)


def _nested_models(annotation: Any, tag: str | None = None) -> dict[str | None, type[BaseModel]]:
    """The pydantic models inside a field's annotation (through Optional, unions and ``Annotated``), by their
    union ``Tag`` (None when untagged)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {tag: annotation}
    tag = next((meta.tag for meta in getattr(annotation, "__metadata__", ()) if isinstance(meta, Tag)), tag)
    found: dict[str | None, type[BaseModel]] = {}
    for arg in typing.get_args(annotation):
        for key, value in _nested_models(arg, tag).items():
            found.setdefault(key, value)
    return found


def _line_of(node: yaml.Node | None, loc: list[Any]) -> int | None:
    """1-based line of the YAML node at ``loc`` (or of its deepest existing parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                break
            key_node, node = match
            line = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def dump_config(config: ExperimentConfig) -> str:
    """The resolved config as YAML (what a run directory's ``config.yaml`` holds)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
