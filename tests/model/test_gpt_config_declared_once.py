"""The GPT's architecture defaults are declared once (skillit.model.config.GPTConfig); the config schema's
``model:`` section (ModelConfig) takes them from there instead of repeating them."""

from __future__ import annotations

import ast
import dataclasses
import inspect

import pytest

import skillit.experiment.config as config_module
from skillit.experiment.config import ModelConfig
from skillit.model import GPTConfig
from skillit.model.config import gpt_default
from skillit.model.gpt import GPTConfig as ReExported

SHARED = ["n_layer", "n_head", "n_embd", "dropout", "init_std"]


def test_model_config_takes_the_gpt_defaults_and_repeats_no_literal():
    assert ReExported is GPTConfig
    assert {name: getattr(ModelConfig(), name) for name in SHARED} == {
        "n_layer": 2, "n_head": 4, "n_embd": 64, "dropout": 0.0, "init_std": 0.02}
    gpt = {field.name: field.default for field in dataclasses.fields(GPTConfig)}
    assert {name: gpt[name] for name in SHARED} == {name: getattr(ModelConfig(), name) for name in SHARED}
    tree = ast.parse(inspect.getsource(config_module))
    body = next(node for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == "ModelConfig").body
    for node in body:
        if isinstance(node, ast.AnnAssign) and node.target.id in gpt:
            if node.target.id == "block_size":  # None: derived from the data (longest example + 8)
                continue
            default = node.value.args[0]  # Field(<default>, ...)
            assert ast.unparse(default) == f"gpt_default({node.target.id!r})", node.target.id
    with pytest.raises(KeyError, match="vocab_size has no default"):
        gpt_default("vocab_size")
