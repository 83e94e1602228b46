"""The size of a ``model: {kind: hf}`` section's model, known before it is built: for the memory check of a config.

No weights are read or drawn. ``path: DIR``: the checkpoint's ``config.json`` is read as JSON (nothing imported);
``config: {model_type, ...}``: transformers fills the architecture's defaults (``AutoConfig.for_model``, imported
here, lazily: it imports torch, so only a ``kind: hf`` config with ``config:`` pays for it when it is read).

The parameter count (:func:`hf_parameter_count`) is the sum of the weight shapes of the two layouts transformers
uses for small decoders, with d = hidden size, L layers, V vocabulary, I the MLP's inner size, H heads of
``head_dim`` h_d and K key/value heads:

* ``gpt2`` (learned positions P, LayerNorm, biases, a 4·d MLP by default, head tied to the embedding):
  V·d + P·d + L·(4d² + 4d + 2dI + I + d + 4d) + 2d  (+ V·d when the head is not tied)
* every other ``model_type`` in the Llama layout (rotary positions, RMSNorm, a gated MLP, no biases unless
  ``attention_bias`` / ``mlp_bias``): V·d + L·(d·H·h_d + 2·d·K·h_d + H·h_d·d + 3dI + 2d) + d  (+ V·d untied)

Exact for GPT-2 and Llama (tests/model/test_hf_model.py compares it with ``sum(p.numel())`` of the built model);
for the other Llama-like types (Mistral, Qwen2, ...) within their few biases and extra norms. A vocabulary that
is not known yet (``config:`` whose tokenizer is a folder without ``tokenizer.json``) counts as 0, so the
estimate stays a lower bound.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

POSITION_KEYS = ("max_position_embeddings", "n_positions", "n_ctx")


def _folder(value: str, base_dir: str | Path | None) -> Path:
    folder = Path(value).expanduser()
    return folder if folder.is_absolute() or base_dir is None else Path(base_dir) / folder


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def tokenizer_vocab_size(tokenizer: Any, base_dir: str | Path | None = None) -> int | None:
    """The vocabulary of a ``model.tokenizer`` value without loading it: ``{train: bpe, vocab_size: N}`` → N; a
    folder → the ids in its ``tokenizer.json`` (model vocabulary and added tokens); None when unknown."""
    size = getattr(tokenizer, "vocab_size", None)
    if isinstance(size, int):
        return size
    if not isinstance(tokenizer, str):
        return None
    data = _read_json(_folder(tokenizer, base_dir) / "tokenizer.json")
    if not isinstance(data, dict):
        return None
    vocab = (data.get("model") or {}).get("vocab")
    ids = set(vocab.values()) if isinstance(vocab, dict) else set(range(len(vocab))) if isinstance(vocab, list) else set()
    ids |= {token.get("id") for token in data.get("added_tokens") or [] if isinstance(token, dict)}
    ids = {i for i in ids if isinstance(i, int)}
    return max(ids) + 1 if ids else None


def hf_config_dict(model: Any, base_dir: str | Path | None = None, block_size: int | None = None) -> dict[str, Any] | None:
    """The HF config of a ``model: {kind: hf}`` section as a dict, or None where it cannot be read here (a folder
    that is not there, transformers missing or refusing the fields: the model's build says why, by name).

    ``path``: ``DIR/config.json`` (relative to ``base_dir``, the config file's folder). ``config``: the fields with
    the architecture's defaults, ``vocab_size`` the tokenizer's when left out (0 when that is unknown) and the
    position table ``block_size`` (0 when unknown) unless given, as the model is built
    (:func:`skillit.model.hf.architecture_config`).
    """
    if model.path is not None:
        data = _read_json(_folder(model.path, base_dir) / "config.json")
        return data if isinstance(data, dict) else None
    params = dict(model.config or {})
    model_type = params.pop("model_type", None)
    try:
        from transformers import AutoConfig
    except ImportError:
        return None
    vocab = params.get("vocab_size")
    if vocab is None:
        params["vocab_size"] = tokenizer_vocab_size(model.tokenizer, base_dir) or 1
    try:
        data = AutoConfig.for_model(model_type, **params).to_dict()
    except Exception:  # noqa: BLE001 - any refusal is reported with its reason when the model is built
        return None
    if vocab is None and tokenizer_vocab_size(model.tokenizer, base_dir) is None:
        data["vocab_size"] = 0
    if not any(key in params for key in POSITION_KEYS):
        for key in POSITION_KEYS:
            if key in data:
                data[key] = block_size or 0
    return data


def _first(config: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def hf_dimensions(config: Mapping[str, Any]) -> dict[str, int] | None:
    """d (hidden), L (layers), H (heads), K (key/value heads), h_d (head size), I (MLP inner size), V (vocabulary)
    and P (learned positions, GPT-2 only) of an HF config dict, under its own names or GPT-2's; None without d or L."""
    d = _first(config, "hidden_size", "n_embd", "d_model")
    layers = _first(config, "num_hidden_layers", "n_layer", "num_layers")
    if not d or not layers:
        return None
    heads = _first(config, "num_attention_heads", "n_head") or 1
    return {
        "d": d, "L": layers, "H": heads,
        "K": _first(config, "num_key_value_heads") or heads,
        "h_d": _first(config, "head_dim") or d // heads,
        "I": _first(config, "intermediate_size", "n_inner", "ffn_dim") or 4 * d,
        "V": _first(config, "vocab_size") or 0,
        "P": (_first(config, "n_positions", "max_position_embeddings") or 0) if config.get("model_type") == "gpt2" else 0,
    }


def hf_parameter_count(config: Mapping[str, Any]) -> int | None:
    """Parameters of the causal LM an HF config dict describes (module docstring); None when its sizes are not there."""
    dims = hf_dimensions(config)
    if dims is None:
        return None
    d, L, H, K, hd, inner, V, P = (dims[k] for k in ("d", "L", "H", "K", "h_d", "I", "V", "P"))
    gpt2 = config.get("model_type") == "gpt2"
    tied = config.get("tie_word_embeddings", gpt2)  # GPT-2 ties its head by default, Llama does not
    head = 0 if tied else V * d
    if gpt2:
        layer = (3 * d * d + 3 * d) + (d * d + d) + (d * inner + inner) + (inner * d + d) + 2 * 2 * d
        return V * d + P * d + L * layer + 2 * d + head
    attention = d * H * hd + 2 * d * K * hd + H * hd * d
    if config.get("attention_bias"):
        attention += H * hd + 2 * K * hd + d
    mlp = 3 * d * inner + (2 * inner + d if config.get("mlp_bias") else 0)
    return V * d + L * (attention + mlp + 2 * d) + d + head


__all__ = ["hf_config_dict", "hf_dimensions", "hf_parameter_count", "tokenizer_vocab_size"]
