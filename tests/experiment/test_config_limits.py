"""Config values that would crash later are refused at load time, with file and line."""

from __future__ import annotations

import pytest

from skillit.errors import ConfigError
from skillit.experiment.config import parse_config

BASE = """\
name: tiny
task: {name: lego, params: {k: 3}}
training: {steps: 10}
methods: {stratified: {}}
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BASE + "seeds: [0, 0]\n", "appear more than once"),
        (BASE + "seeds: [-1]\n", "seed -1 is not an integer from 0"),
        (BASE + "seeds: [true]\n", "seed True is not an integer"),
        (BASE.replace("methods: {stratified: {}}", "methods: {fast: {policy: skill-it, params: {graph: identity, "
                      "window: 2.5}}}"), "c.yaml:4: methods.fast.params: method 'fast': invalid parameters for policy "
                                         "'skill-it': window: expected a whole number, got 2.5; give 2 or 3"),
        (BASE + "graph_learning: {seed: -3}\n", "c.yaml:5: graph_learning.seed: seed -3 is not an integer from 0 to"),
        (BASE + "graph_learning: {seed: 4294967296}\n", "graph_learning.seed: seed 4294967296 is not an integer from 0"),
        (BASE.replace("steps: 10", "steps: true"), "c.yaml:3: training.steps: expected a number, got true"),
        (BASE.replace("steps: 10", "steps: 10, lr: .nan"), "training.lr: Input should be a finite number"),
        (BASE + "device: cuda:x\n", "device 'cuda:x' is not cpu"),
        (BASE + "name: other\n", "c.yaml:5: invalid YAML: duplicate key 'name' (first at line 1)"),
        (BASE.replace("name: tiny", "name: ."), "name '.' is a path"),
        (BASE + "model: {block_size: 100000}\n", "model.block_size"),
        ("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(7)), "alias bomb"),
    ],
)
def test_refused(text, message):
    with pytest.raises(ConfigError, match=None) as caught:
        parse_config(text, source="c.yaml")
    assert message in str(caught.value)


def test_legitimate_yaml_features_still_work():
    text = BASE.replace("training: {steps: 10}", "base: &base {steps: 10}\ntraining: {<<: *base, steps: 12}")
    with pytest.raises(ConfigError, match="unknown key 'base'"):  # merge keys may override; unknown keys still fail
        parse_config(text, source="c.yaml")
    config = parse_config(BASE.replace("steps: 10", "steps: 10, log_draws: true") + "seeds: [0, 4294967295]\n")
    assert config.training.log_draws is True and config.seeds == [0, 4294967295]
