"""Config validation: every shipped YAML loads and builds; bad keys and values point at the file and line."""

import pytest

from skillit.errors import ConfigError
from skillit.experiment.config import load_config, parse_config, shipped_config_names, shipped_config_path
from skillit.experiment.runner import apply_overrides, validate_experiment

GOOD = """\
name: t
task:
  name: lego
  params: {k: 3, validation_size: 4}
training:
  steps: 10
  round_steps: 5
  eval_every: 5
methods:
  skill-it:
    params: {graph: prerequisites, eta: 0.5}
  stratified: {}
"""


@pytest.mark.parametrize("name", shipped_config_names())
def test_every_shipped_config_loads_and_builds(name):
    config = load_config(shipped_config_path(name))
    validate_experiment(config, shipped_config_path(name).parent)  # skills, graphs and policies resolve


def test_minimal_config_and_defaults():
    config = parse_config(GOOD)
    assert config.setting == "pretrain" and config.seeds == [0] and config.model.n_layer == 2
    assert config.policy_of("stratified") == "stratified"
    validate_experiment(config)


@pytest.mark.parametrize(
    "edit, message",
    [
        (("  eval_every: 5\n", "  eval_every: 5\n  lrr: 0.1\n"), r"<config>:9: training.lrr: unknown key 'lrr'"),
        (("  steps: 10\n", "  steps: -1\n"), r"<config>:6: training.steps: Input should be greater than or equal to 1"),
        (("  stratified: {}\n", "  stratifed: {}\n"), r"<config>:12: methods.stratifed: .*did you mean 'stratified'"),
        (("eta: 0.5", "eta: 0.5, etaa: 1"), r"<config>:11: methods.skill-it.params: .*etaa: unknown key"),
        (("params: {k: 3, validation_size: 4}", "params: {k: 1}"), r"<config>:4: task.params: .*greater than or equal to 2"),
        (("name: lego", "name: legoo"), r"<config>:3: task.name: unknown task 'legoo'; did you mean 'lego'"),
        (("name: t\n", "name: t\nsetting: finetune\n"), r"setting 'finetune' needs target_skills"),
        (("training:", "training: [1]\nx:"), r"invalid YAML|training"),
        (("  eval_every: 5\n", "  eval_every: 5\n  train_loss: prompt\n"),
         r"<config>:9: training.train_loss: Input should be 'text', 'answer' or 'completion'"),
    ],
)
def test_bad_configs_name_the_key_and_line(edit, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(GOOD.replace(*edit))


def test_not_a_mapping_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="must be a YAML mapping"):
        parse_config("- a\n- b\n")
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="no config file or shipped config named 'lego-dmo'.*lego-demo"):
        load_config("lego-dmo")


def test_completion_training_loss_is_accepted():
    config = parse_config(GOOD.replace("  eval_every: 5\n", "  eval_every: 5\n  train_loss: completion\n"))
    assert config.training.train_loss == "completion"


def test_overrides():
    config = parse_config(GOOD)
    short = apply_overrides(config, seeds=3, steps=4, methods=["stratified"])
    assert short.seeds == [0, 1, 2] and list(short.methods) == ["stratified"]
    assert short.training.steps == 4 and short.training.round_steps == 2 and short.training.eval_every == 2
    with pytest.raises(ConfigError, match="unknown method 'rnd' in --methods"):
        apply_overrides(config, methods=["rnd"])
