"""The training settings are declared once (skillit.trainer.settings): the YAML's training section, the loop's
TrainConfig and the Mixer's MixerConfig are derived from that declaration, and a resume compares the settings
field by field except the ones named in MAY_DIFFER_ON_RESUME."""

from __future__ import annotations

import ast
import dataclasses
import inspect

import pytest

import skillit.experiment.config as config_module
import skillit.trainer.settings as settings_module
from skillit.errors import ConfigError
from skillit.experiment.config import TrainingConfig
from skillit.trainer import mixer as mixer_module
from skillit.trainer.mixer import MixerConfig
from skillit.trainer.settings import (
    FIELDS,
    MAY_DIFFER_ON_RESUME,
    SETTINGS,
    TrainConfig,
    TrainingSettings,
    resume_difference,
    training_default,
)


def _class_body(module, name: str) -> ast.ClassDef:
    tree = ast.parse(inspect.getsource(module))
    return next(node for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == name)


def test_the_yaml_section_is_the_settings_and_log_draws_with_the_same_defaults_and_bounds():
    assert list(TrainingConfig.model_fields) == [
        "steps", "batch_size", "round_steps", "eval_every", "lr", "warmup_steps", "weight_decay", "grad_clip",
        "train_loss", "sampling", "exhausted", "eval_batch_size", "checkpoint_every", "gradient_accumulation_steps",
        "log_draws", "grad_projection", "precision", "compile"]  # config.yaml's order, as before
    for name, info in SETTINGS.items():
        mine = TrainingConfig.model_fields[name]
        assert (mine.annotation, mine.default, mine.metadata, mine.description) == (
            info.annotation, info.default, info.metadata, info.description), name
    # the YAML model declares no setting itself: its fields come from SETTINGS
    body = _class_body(config_module, "TrainingConfig")
    assert not [node for node in body.body if isinstance(node, ast.AnnAssign)]


def test_the_loop_adds_only_the_seed_and_the_mixer_takes_its_shared_defaults_from_the_declaration():
    assert list(FIELDS) == [*SETTINGS, "seed"]
    assert [field.name for field in dataclasses.fields(TrainConfig)] == list(FIELDS)
    assert not [node for node in _class_body(settings_module, "TrainConfig").body
                if isinstance(node, ast.AnnAssign) and node.target.id != "seed"]
    # every MixerConfig field that the loop's settings also have is defaulted by training_default("<its name>"),
    # never by a second literal (which could drift from the declaration)
    shared = []
    for node in _class_body(mixer_module, "MixerConfig").body:
        if isinstance(node, ast.AnnAssign) and node.target.id in FIELDS and node.value is not None:
            shared.append(node.target.id)
            call = node.value
            assert isinstance(call, ast.Call) and getattr(call.func, "id", None) == "training_default", node.target.id
            assert [arg.value for arg in call.args] == [node.target.id]
    assert sorted(shared) == ["eval_batch_size", "exhausted", "grad_projection", "sampling", "seed", "train_loss"]
    defaults = {field.name: field.default for field in dataclasses.fields(MixerConfig)}
    assert {name: defaults[name] for name in shared} == {
        "eval_batch_size": 512, "exhausted": "cycle", "grad_projection": None, "sampling": "quota", "seed": 0,
        "train_loss": "text"}
    assert training_default("lr") == 1e-3


def test_train_config_from_the_yaml_section_and_the_mixer_config_from_the_train_config():
    section = TrainingConfig(steps=30, batch_size=8, round_steps=10, eval_every=5, lr=3e-3, log_draws=True,
                             sampling="iid", grad_projection=16, precision="bf16")
    config = TrainConfig.from_training(section, seed=7)
    assert config == TrainConfig(steps=30, batch_size=8, round_steps=10, eval_every=5, lr=3e-3, sampling="iid",
                                 grad_projection=16, precision="bf16", seed=7)
    assert config.n_rounds == 3
    mixer = MixerConfig.from_training(config, setting="finetune", target_skills=["a"], max_length=24)
    assert mixer == MixerConfig(total_steps=30, round_steps=10, eval_every=5, batch_size=8, draws_per_step=1, seed=7,
                                sampling="iid", exhausted="cycle", setting="finetune", target_skills=("a",),
                                eval_batch_size=512, max_length=24, grad_projection=16, train_loss="text")


@pytest.mark.parametrize(("settings", "message"), [
    ({"steps": 0}, "training.steps must be >= 1, got 0"),
    ({"steps": 1, "precision": "fp8"}, "training.precision must be one of fp32, bf16, fp16, got 'fp8'"),
    ({"steps": 1, "train_loss": "prompt"}, "training.train_loss must be one of text, answer, completion, got 'prompt'"),
    ({"steps": 1, "lr": 0.0}, "training.lr: Input should be greater than 0"),
    ({"steps": 1, "log_draws": True}, "training.log_draws: Unexpected keyword argument"),
])
def test_an_invalid_train_config_is_a_config_error_naming_the_setting(settings, message):
    with pytest.raises(ConfigError) as caught:
        TrainConfig(**settings)
    assert str(caught.value) == message


def test_resume_compares_every_setting_but_the_ones_allowed_to_differ():
    assert MAY_DIFFER_ON_RESUME == {"checkpoint_every", "eval_batch_size", "compile"}
    assert MAY_DIFFER_ON_RESUME <= set(SETTINGS)
    stored = dataclasses.asdict(TrainConfig(steps=12, batch_size=8, checkpoint_every=3, seed=1))
    now = TrainConfig(steps=12, batch_size=8, checkpoint_every=3, seed=1)
    assert resume_difference(stored, dataclasses.asdict(now)) is None
    # allowed to differ: how often checkpoints are written, the evaluation batch, torch.compile
    changed = dataclasses.replace(now, checkpoint_every=4, eval_batch_size=64, compile=True)
    assert resume_difference(stored, dataclasses.asdict(changed)) is None
    # every other field is compared, the first difference (declaration order) named with both values
    assert resume_difference(stored, dataclasses.asdict(dataclasses.replace(now, lr=2e-3, seed=2))) == (
        "lr", 1e-3, 2e-3)
    assert resume_difference(stored, dataclasses.asdict(dataclasses.replace(now, seed=2))) == ("seed", 1, 2)
    assert resume_difference(stored, dataclasses.asdict(dataclasses.replace(now, sampling="iid"))) == (
        "sampling", "quota", "iid")
    # a setting a checkpoint predates stands for its default (how that run trained)
    old = {key: value for key, value in stored.items() if key != "precision"}
    assert resume_difference(old, dataclasses.asdict(now)) is None
    assert resume_difference(old, dataclasses.asdict(dataclasses.replace(now, precision="bf16"))) == (
        "precision", "fp32", "bf16")


def test_the_declaration_is_a_dataclass_so_the_loop_config_keeps_its_dataclass_api():
    assert dataclasses.is_dataclass(TrainingSettings) and dataclasses.is_dataclass(TrainConfig)
    config = TrainConfig(steps=4, batch_size=4)
    assert dataclasses.replace(config, precision="bf16").precision == "bf16"
    with pytest.raises(ConfigError, match="training.batch_size must be >= 1"):
        dataclasses.replace(config, batch_size=0)
