"""Config validation: every shipped YAML loads and builds; bad keys and values point at the file and line."""

import pytest

from skillit.errors import ConfigError
from skillit.experiment.config import load_config, parse_config, shipped_config_names, shipped_config_path
from skillit.experiment.runner import apply_overrides, parse_seeds, validate_experiment
from tests.conftest import skip_without_generated_data

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
    config = load_config(shipped_config_path(name), check_data=False)
    skip_without_generated_data(config)  # the math configs where `skillit data fetch math_skills` has not run
    validate_experiment(config, shipped_config_path(name).parent)  # skills, graphs and policies resolve


def test_minimal_config_and_defaults():
    config = parse_config(GOOD)
    assert config.setting == "pretrain" and config.seeds == [0] and config.model.n_layer == 2
    assert config.policy_of("stratified") == "stratified"
    validate_experiment(config)


@pytest.mark.parametrize(
    "edit, message",
    [
        (("  eval_every: 5\n", "  eval_every: 5\n  lrr: 0.1\n"), r"<config>:9: training.lrr: unknown key 'lrr'.*"
                                                                 r"did you mean 'lr'"),
        (("training:", "trainig:"), r"trainig: unknown key 'trainig'; remove it or check its spelling; did you mean "
                                    r"'training'"),
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


def test_steps_override_keeps_stage_boundaries_in_their_place():
    config = load_config(shipped_config_path("lego-two-stage"))  # 2000 steps: stages of 1000 and 1000
    short = apply_overrides(config, steps=200)  # scale 0.1
    assert [stage["steps"] for stage in short.methods["two-stage"].params["stages"]] == [100, 100]
    assert [stage["steps"] for stage in apply_overrides(config, steps=3).methods["two-stage"].params["stages"]] == [2, 2]
    assert short.methods["stratified"].params == {} and config.methods["two-stage"].params["stages"][0]["steps"] == 1000


@pytest.mark.parametrize("text, seeds", [("3", [0, 1, 2]), ("1", [0]), ("3-6", [3, 4, 5, 6]), ("0,2,5-6", [0, 2, 5, 6]),
                                         ("7", [0, 1, 2, 3, 4, 5, 6]), (" 4-4 ", [4]), ("9,1", [9, 1])])
def test_seeds_override_count_list_and_ranges(text, seeds):
    assert parse_seeds(text) == seeds
    assert apply_overrides(parse_config(GOOD), seeds=text).seeds == seeds


@pytest.mark.parametrize("text, message", [("0", "from 1 to 10000"), ("6-3", "must go up"), ("a", "not a seed or a range"),
                                           ("3-", "not a seed or a range"), ("1,,2", "not a seed or a range"),
                                           ("-1", "not a seed or a range"), ("1-3,2", r"seed\(s\) \[2\] twice"),
                                           ("0-10000", "more than 10000 seeds"), ("1-4294967296", "at most 4294967295")])
def test_seeds_override_refuses_bad_lists(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_seeds(text)


def test_seeds_override_keeps_the_integer_and_sequence_forms():
    config = parse_config(GOOD)
    assert apply_overrides(config, seeds=2).seeds == [0, 1]
    assert apply_overrides(config, seeds=[5, 8]).seeds == [5, 8]
    with pytest.raises(ConfigError, match="from 1 to 10000, got 0"):
        apply_overrides(config, seeds=0)
