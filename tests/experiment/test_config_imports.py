"""`imports:` in a config: the modules are imported before the config is checked, from the config's folder."""

from __future__ import annotations

import sys

import pytest
import yaml

from skillit.errors import ConfigError
from skillit.experiment.config import dump_config, load_config, parse_config
from skillit.experiment.plan import ExperimentPlan
from skillit.experiment.runner import apply_overrides, validate_experiment
from tests.plugin_helpers import isolated_plugins

CONFIG = """\
name: own
imports: [{module}]
task: {{name: lego, params: {{k: 3, validation_size: 4}}}}
training: {{steps: 10, round_steps: 5, eval_every: 5}}
graph_learning: {{method: {learner}}}
methods:
  mine: {{policy: one-to-three}}
  stratified: {{}}
"""

MODULE = """\
from skillit.graph_learners import LinearApproximation, register_learner
from pydantic import Field

from skillit.policy import Static, register_policy
from skillit.policy.base import Weights


@register_policy("one-to-three")
class OneToThree(Static):
    class Params(Static.Params):
        weights: Weights = Field([1.0, 3.0, 0.0])


@register_learner
class MyLearner(LinearApproximation):
    name = "my-linear"
"""


@pytest.fixture(autouse=True)
def _isolated(tmp_path):
    with isolated_plugins(tmp_path):
        yield


def write(tmp_path, module="plug_cfg", learner="my-linear", text=CONFIG):
    folder = tmp_path / "experiments"
    folder.mkdir(exist_ok=True)
    (folder / "plug_cfg.py").write_text(MODULE)
    path = folder / "own.yaml"
    path.write_text(text.format(module=module, learner=learner))
    return path


def test_the_modules_register_the_policy_and_learner_the_config_names_before_it_is_checked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the module is found in the config's folder, not the current one
    config = load_config(write(tmp_path))
    assert config.imports == ["plug_cfg"] and config.graph_learning.method == "my-linear"
    validate_experiment(config)  # skills, graphs and policies resolve
    assert ExperimentPlan.build(config).described["mine"] == {"name": "one-to-three", "weights": [1.0, 3.0, 0.0]}


def test_a_module_that_cannot_be_imported_names_the_config_file_line_and_module(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, module="plug_cgf")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:2: imports.0: cannot import module 'plug_cgf': no module named "
                                        "'plug_cgf'")
    assert "did you mean 'plug_cfg'?" in str(caught.value)


def test_a_path_instead_of_a_module_name_is_a_schema_error_at_its_line(tmp_path):
    path = write(tmp_path, module="./plug_cfg.py")
    with pytest.raises(ConfigError, match=r"own.yaml:2: imports.0: '\./plug_cfg.py' is not a module name; name modules "
                                          r"like my_pkg.my_policies \(a file plug_cfg.py in the config's folder"):
        load_config(path)
    assert "plug_cfg" not in sys.modules  # nothing imported from a malformed list


def test_without_imports_the_unknown_policy_error_says_how_to_add_it(tmp_path):
    text = CONFIG.replace("imports: [{module}]\n", "").replace("graph_learning: {{method: {learner}}}\n", "")
    with pytest.raises(ConfigError, match=r"own.yaml:5: methods.mine.policy: method 'mine': unknown policy "
                                          r"'one-to-three'; choices: .*name the module in the config \(imports: "
                                          r"\[my_policies\]"):
        load_config(write(tmp_path, text=text))


def test_imports_survive_dump_and_overrides_and_no_imports_leaves_no_key(tmp_path):
    config = load_config(write(tmp_path))
    again = parse_config(dump_config(config), config_dir=tmp_path / "experiments")
    assert again.imports == ["plug_cfg"]
    assert apply_overrides(config, steps=4).imports == ["plug_cfg"]
    plain = parse_config("name: p\ntask: {name: lego, params: {k: 3}}\ntraining: {steps: 4}\nmethods: {stratified: {}}\n")
    assert "imports" not in yaml.safe_load(dump_config(plain)) and "imports" not in plain.model_dump()
