"""Hugging Face causal LMs in skillit's own loop: ``model: {kind: hf, ...}`` in a config (docs/stacks.md).

Two ways to name the model, one way to train it (the one loop, the one Mixer):

* ``path: DIR``: a local checkpoint that ``save_pretrained`` wrote (``config.json`` + weights), loaded with
  ``AutoModelForCausalLM.from_pretrained(DIR, dtype=float32)``; its tokenizer from the same folder
  (``AutoTokenizer``) unless ``tokenizer:`` names another.
* ``config: {model_type: gpt2 | llama | ..., ...}``: a randomly initialised architecture,
  ``AutoModelForCausalLM.from_config(AutoConfig.for_model(**config))`` under ``torch.manual_seed(seed)``;
  ``vocab_size`` defaults to the tokenizer's size and the position table (``max_position_embeddings``) to the
  run's block size. Its tokenizer: ``tokenizer: DIR``, or ``{train: bpe, vocab_size: N}``, a byte-level BPE
  trained in-process on the run's prompts and answers (:func:`train_bpe_tokenizer`, deterministic).

:class:`HFCausalLM` is the thin adapter: ``forward(input_ids, attention_mask) -> CausalLMOutput(logits)``,
the contract of skillit's GPT (``skillit.model.gpt``), and ``get_output_embeddings()`` for the gradient
statistics. Like the GPT it ignores the attention mask: batches are right-padded, so under causal
attention a real token never attends a pad, and the logits of real tokens equal those of the unpadded
sequence (the HF model then takes its fast causal path instead of building a 4-D padding mask).

Every check that can fail on bad input runs before training (and before a run directory exists):
the folder exists and holds a ``config.json``; the architecture has a causal-LM head
(:func:`causal_lm_problem`); the tokenizer's vocabulary fits the model's embedding (token ids ≥ its rows
would index past it); the run's context fits the model's positions. Each is one :class:`ConfigError`
saying what, where and how to fix it. ``transformers`` and ``tokenizers`` (the ``hf`` extra) are imported
only here, inside the functions that need them.

``lora: {r, alpha, dropout, target_modules}`` trains low-rank adapters instead of the model (:func:`apply_lora`,
peft's LoRA, the ``lora`` extra; Hu et al. 2021): every targeted layer computes ``W x + (alpha / r) B A x`` with
W frozen and only A (r × d_in) and B (d_out × r, zero at the start) trainable. The loop's optimiser takes
only parameters that require gradients, so it holds AdamW moments for the adapters alone; checkpoints hold
the whole state dict (the frozen weights too), so resume is exact. The setting is checked before anything is
written on the architecture built on the meta device (:func:`lora_parameters`, no weights allocated).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from skillit.errors import ConfigError, DataError, did_you_mean, missing_model_folder
from skillit.model.gpt import CausalLMOutput
from skillit.model.tokenizer import HFTokenizer

BPE_SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>")
BPE_ALPHABET = 256  # byte-level: every byte is a token before any merge
HF_EXTRA = "the hf extra (pip install -e '.[hf]' in a skillit clone)"
LORA_EXTRA = "pip install 'skillit-mix[lora]' (in a skillit clone: pip install -e '.[lora]')"


def _transformers() -> Any:
    try:
        import transformers
    except ImportError:
        raise ConfigError(f"model.kind: hf needs transformers and tokenizers: install {HF_EXTRA}") from None
    transformers.logging.set_verbosity_error()  # load reports (e.g. tied weights) are not the user's problem
    transformers.logging.disable_progress_bar()  # skillit's own progress display runs meanwhile
    return transformers


def _peft() -> Any:
    try:
        import peft
    except ImportError:
        raise ConfigError(f"model.lora needs peft, which is not installed: {LORA_EXTRA}; or leave model.lora "
                          "out to train the whole model") from None
    return peft


class HFCausalLM(nn.Module):
    """A Hugging Face causal LM with the call contract of skillit's GPT (module docstring).

    ``config`` is the model's ``PretrainedConfig`` (the loop reads ``max_position_embeddings`` from it);
    ``model`` the wrapped ``*ForCausalLM`` (``save_pretrained`` it to use the trained model elsewhere). Under
    ``model.lora`` it is peft's ``PeftModelForCausalLM``: ``save_pretrained`` writes the adapter,
    ``merge_and_unload()`` gives the HF model with the adapters merged into its weights.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.config = model.config

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> CausalLMOutput:
        del attention_mask  # right padding + causal attention: pads never precede real tokens
        return CausalLMOutput(logits=self.model(input_ids=input_ids, use_cache=False).logits)  # (B, T, V)

    def get_output_embeddings(self) -> nn.Module:
        return self.model.get_output_embeddings()

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)


# ---- the architecture -------------------------------------------------------------------------------
def causal_lm_classes() -> dict[str, str]:
    """model_type → the transformers class with a causal-LM head (``AutoModelForCausalLM``'s table)."""
    _transformers()
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    return {key: value if isinstance(value, str) else value[0] for key, value in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.items()}


def causal_lm_problem(hf_config: Any, where: str) -> str | None:
    """Why the model ``hf_config`` describes has no causal-LM head (None when it has one).

    Its ``model_type`` must have a class in ``AutoModelForCausalLM``'s table, and a checkpoint's
    ``architectures`` (config.json: the class that saved it) must be a causal LM: a base model (``GPT2Model``,
    ``LlamaModel``) or a classifier saved no output layer, so loading it for causal LM would train a head
    drawn at random on top of it.
    """
    classes = causal_lm_classes()
    model_type = getattr(hf_config, "model_type", None)
    if model_type not in classes:
        return (f"{where}: model_type {model_type!r} has no causal-LM class in transformers (AutoModelForCausalLM "
                f"cannot build it), so it cannot predict the next token; use a decoder with a language-modelling "
                f"head, e.g. model_type {', '.join(t for t in ('gpt2', 'llama', 'qwen2', 'gpt_neox') if t in classes)}")
    architectures = list(getattr(hf_config, "architectures", None) or [])
    known = set(classes.values())
    if architectures and not any(a in known or a.endswith(("ForCausalLM", "LMHeadModel")) for a in architectures):
        return (f"{where}: the checkpoint is a {', '.join(architectures)} (config.json 'architectures'), which has "
                f"no causal-LM head: its output layer was not saved, and training would start from a head drawn at "
                f"random. Give a causal-LM checkpoint (saved from AutoModelForCausalLM, e.g. a {classes[model_type]})")
    return None


def checkpoint_config(path: str | Path, where: str = "model.path") -> Any:
    """The ``PretrainedConfig`` of the checkpoint folder ``path`` (no weights read), checked for a causal-LM head."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ConfigError(missing_model_folder(str(path), where))
    if not (folder / "config.json").is_file():
        raise ConfigError(f"{where}: {str(folder)!r} holds no config.json, so it is not a model folder that "
                          "save_pretrained wrote; give the folder with config.json and the weights")
    transformers = _transformers()
    try:
        hf_config = transformers.AutoConfig.from_pretrained(str(folder))
    except (ValueError, OSError, KeyError) as exc:
        raise ConfigError(f"{where}: {str(folder)}/config.json cannot be read by transformers "
                          f"{transformers.__version__} ({str(exc).splitlines()[0]})") from None
    problem = causal_lm_problem(hf_config, f"{where} {str(folder)!r}")
    if problem:
        raise ConfigError(problem)
    return hf_config


def architecture_config(config: Mapping[str, Any], vocab_size: int, block_size: int | None,
                        where: str = "model.config") -> Any:
    """A randomly initialised model's ``PretrainedConfig`` from ``{model_type, ...}``; ``vocab_size`` (the
    tokenizer's) and ``max_position_embeddings`` (``block_size``) fill what the mapping leaves out."""
    transformers = _transformers()
    params = dict(config)
    model_type = params.pop("model_type", None)
    classes = causal_lm_classes()
    if model_type not in classes:
        raise ConfigError(f"{where}.model_type: {model_type!r} is not a transformers model type with a causal-LM "
                          f"head; {did_you_mean(str(model_type), sorted(classes))}")
    params.setdefault("vocab_size", vocab_size)
    try:
        hf_config = transformers.AutoConfig.for_model(model_type, **params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: transformers refused the {model_type} config ({str(exc).splitlines()[0]})") from None
    if block_size is not None and not any(key in params for key in ("max_position_embeddings", "n_positions", "n_ctx")):
        hf_config.max_position_embeddings = block_size  # a GPT-2 maps it to n_positions (its position table)
    problem = causal_lm_problem(hf_config, where)
    if problem:
        raise ConfigError(problem)
    return hf_config


# ---- the tokenizer ----------------------------------------------------------------------------------
_TRAINED: dict[str, HFTokenizer] = {}  # sha256 of (settings, texts) → the tokenizer trained on them (in-process)


def train_bpe_tokenizer(texts: Iterable[str], *, vocab_size: int = 512, min_frequency: int = 2) -> HFTokenizer:
    """A byte-level BPE tokenizer trained in-process with ``tokenizers`` (no download), wrapped for skillit.

    Byte-level: every string is encodable (no unknown token). Special tokens ``<pad>``, ``<bos>``, ``<eos>``
    get ids 0, 1, 2. Training is deterministic for the same texts; the same texts and settings again in one
    process return the tokenizer trained the first time.
    """
    texts = list(texts)
    if not texts:
        raise DataError("training a BPE tokenizer needs at least one text")
    digest = hashlib.sha256(f"{vocab_size} {min_frequency}".encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    key = digest.hexdigest()
    if key in _TRAINED:
        return _TRAINED[key]
    _transformers()
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(BPE_SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", bos_token="<bos>", eos_token="<eos>")
    _TRAINED[key] = HFTokenizer(fast)
    return _TRAINED[key]


def load_tokenizer(path: str | Path, where: str = "model.tokenizer") -> HFTokenizer:
    """``AutoTokenizer.from_pretrained(path)`` (a local folder) with skillit's tokenizer contract."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ConfigError(missing_model_folder(str(path), where))
    transformers = _transformers()
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    except (ValueError, OSError, KeyError, TypeError) as exc:
        raise ConfigError(f"{where}: no tokenizer could be loaded from {str(folder)!r} "
                          f"({str(exc).splitlines()[0]}); give the folder the tokenizer's save_pretrained wrote "
                          "(tokenizer.json or the vocabulary files), or train one: tokenizer: {train: bpe, "
                          "vocab_size: N}") from None
    try:
        return HFTokenizer(tokenizer)
    except DataError as exc:
        raise ConfigError(f"{where} {str(folder)!r}: {exc}") from None


def hf_tokenizer(spec: Any, texts: Callable[[], Iterable[str]]) -> HFTokenizer:
    """The tokenizer of a ``model: {kind: hf}`` section ``spec`` (duck-typed: ``path``, ``tokenizer``), its
    embedding checked against it (:func:`check_vocabulary`). ``texts()`` yields the run's texts (for
    ``{train: bpe}``)."""
    source = spec.tokenizer
    hf_config = checkpoint_config(spec.path) if spec.path is not None else None  # the model folder first
    if source is None:
        tokenizer = load_tokenizer(spec.path, "model.path")
    elif isinstance(source, str):
        tokenizer = load_tokenizer(source)
    else:
        tokenizer = train_bpe_tokenizer(texts(), vocab_size=source.vocab_size, min_frequency=source.min_frequency)
    if hf_config is not None:
        check_vocabulary(tokenizer, hf_config, spec)
    elif "vocab_size" in spec.config:
        check_vocabulary(tokenizer, architecture_config(spec.config, tokenizer.vocab_size, None), spec)
    else:
        architecture_config(spec.config, tokenizer.vocab_size, None)  # model_type and head checked here too
    return tokenizer


def check_vocabulary(tokenizer: HFTokenizer, hf_config: Any, spec: Any) -> None:
    """Every token id must index a row of the model's input embedding (and a logit): ``len(tokenizer) ≤
    vocab_size``. A smaller tokenizer is fine (GPT-2-style padded vocabularies)."""
    rows = int(getattr(hf_config, "vocab_size", 0) or 0)
    if tokenizer.vocab_size <= rows:
        return
    source = spec.tokenizer
    named = (f"the tokenizer of {spec.path!r}" if source is None else f"the tokenizer {source!r}"
             if isinstance(source, str) else f"the BPE tokenizer trained here (vocab_size {source.vocab_size})")
    model = f"the model of {spec.path!r}" if spec.path is not None else "model.config"
    fix = ("use the tokenizer saved with the model (leave model.tokenizer out), or one whose vocabulary it was "
           "trained with" if spec.path is not None else
           "leave vocab_size out of model.config (it follows the tokenizer), or raise it")
    raise ConfigError(
        f"model.tokenizer: {named} has {tokenizer.vocab_size:,} tokens but {model} has vocab_size {rows:,} "
        f"(rows of its embedding): token ids from {rows:,} up would index past it. The tokenizer and the model do "
        f"not belong together; {fix}"
    )


def check_context(spec: Any, block_size: int) -> None:
    """The run's context (longest example + slack, or ``model.block_size``) must fit a checkpoint's positions."""
    if spec.path is None:
        return  # a new architecture gets max_position_embeddings = block_size unless the config sets it
    limit = getattr(checkpoint_config(spec.path), "max_position_embeddings", None)
    if isinstance(limit, int) and block_size > limit:
        raise ConfigError(
            f"model: the run needs a context of {block_size:,} tokens (model.block_size, or the longest example "
            f"+ 8) but the model of {spec.path!r} takes at most {limit:,} (max_position_embeddings); drop or "
            "truncate long examples with task.params.max_length (too_long: drop | truncate), or set "
            f"model.block_size to at most {limit:,}"
        )


# ---- LoRA -------------------------------------------------------------------------------------------
def adaptable_layers(model: nn.Module) -> list[str]:
    """The short names (last part of the module path) of the layers LoRA can adapt: linear layers,
    GPT-2's ``Conv1D`` and embeddings, in model order, each once (what the messages suggest)."""
    kinds = (nn.Linear, nn.Embedding, nn.Conv1d)
    names = [name.rsplit(".", 1)[-1] for name, module in model.named_modules()
             if name and (isinstance(module, kinds) or type(module).__name__ == "Conv1D")]
    return list(dict.fromkeys(name for name in names if not name.isdigit()))  # not a Sequential's indices


def apply_lora(model: nn.Module, lora: Any, where: str = "model.lora") -> nn.Module:
    """``peft.get_peft_model(model, LoraConfig(r, lora_alpha=alpha, lora_dropout=dropout, target_modules))``:
    the model's own weights frozen, adapters W + (alpha / r) B A on the target layers (B = 0: the adapted model
    starts equal to the model; A drawn from the torch RNG, so seed before). ``lora``: duck-typed ``r``,
    ``alpha``, ``dropout``, ``target_modules`` (None: peft's default for the architecture). A target that
    names no layer, or an architecture without a default, is one :class:`ConfigError`."""
    peft = _peft()
    layers = adaptable_layers(model)
    model_type = getattr(getattr(model, "config", None), "model_type", "?")
    targets = list(lora.target_modules) if lora.target_modules is not None else None
    module_names = [name for name, _ in model.named_modules() if name]
    for target in targets or []:
        if not any(name == target or name.endswith("." + target) for name in module_names):
            raise ConfigError(f"{where}.target_modules: {target!r} names no layer of the {model_type} model "
                              f"(the layers LoRA can adapt are named); {did_you_mean(target, layers)}")
    config = peft.LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=targets,
                             bias="none", task_type="CAUSAL_LM")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*fan_in_fan_out.*")  # GPT-2's Conv1D: peft sets it itself
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")  # peft asks the old name
            return peft.get_peft_model(model, config)
    except (ValueError, TypeError, KeyError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if targets is None:
            raise ConfigError(f"{where}: peft has no default target_modules for model_type {model_type!r} ({first}); "
                              f"name the layers to adapt in {where}.target_modules, e.g. from: {', '.join(layers)}") from None
        raise ConfigError(f"{where}.target_modules {targets}: peft cannot adapt them ({first}); LoRA adapts linear "
                          f"layers and embeddings, here: {', '.join(layers)}") from None


def lora_parameters(spec: Any, tokenizer: HFTokenizer, block_size: int | None) -> tuple[int, int, list[str]]:
    """(trainable, total, target layers) of the ``model: {kind: hf, lora: ...}`` section ``spec``, from its
    architecture built on the meta device (no weights read or allocated), so a bad ``lora`` setting is refused
    before anything is written and at no cost. Raises :class:`ConfigError` as :func:`apply_lora` does."""
    transformers = _transformers()
    if spec.path is not None:
        hf_config = checkpoint_config(spec.path)
    else:
        hf_config = architecture_config(spec.config, tokenizer.vocab_size, block_size)
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(hf_config)
        model = apply_lora(model, spec.lora)
    params = list(model.parameters())
    targets = sorted(model.peft_config["default"].target_modules)
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params), targets


# ---- the model --------------------------------------------------------------------------------------
def build_hf_model(spec: Any, tokenizer: HFTokenizer, block_size: int, seed: int) -> HFCausalLM:
    """The model of a ``model: {kind: hf}`` section, in float32 (mixed precision is the loop's autocast):
    loaded from ``spec.path``, or built from ``spec.config`` with weights drawn under ``torch.manual_seed(seed)``.
    With ``spec.lora`` the model is wrapped by :func:`apply_lora` (adapters drawn under ``torch.manual_seed(seed)``):
    only the adapters' parameters require gradients, so the optimiser trains only them."""
    transformers = _transformers()
    if spec.path is not None:
        hf_config = checkpoint_config(spec.path)
        check_vocabulary(tokenizer, hf_config, spec)
        check_context(spec, block_size)
        try:
            model = transformers.AutoModelForCausalLM.from_pretrained(str(Path(spec.path).expanduser()),
                                                                      dtype=torch.float32)
        except (ValueError, OSError, KeyError, RuntimeError) as exc:
            raise ConfigError(f"model.path: the weights in {spec.path!r} cannot be loaded "
                              f"({str(exc).splitlines()[0]})") from None
    else:
        hf_config = architecture_config(spec.config, tokenizer.vocab_size, block_size)
        check_vocabulary(tokenizer, hf_config, spec)
        torch.manual_seed(seed)
        model = transformers.AutoModelForCausalLM.from_config(hf_config, dtype=torch.float32)
    model = model.float()
    if getattr(spec, "lora", None) is not None:
        torch.manual_seed(seed)
        model = apply_lora(model, spec.lora)
    return HFCausalLM(model)


__all__ = [
    "HFCausalLM",
    "adaptable_layers",
    "apply_lora",
    "architecture_config",
    "build_hf_model",
    "causal_lm_problem",
    "check_context",
    "check_vocabulary",
    "checkpoint_config",
    "hf_tokenizer",
    "load_tokenizer",
    "lora_parameters",
    "train_bpe_tokenizer",
]
