"""The learners' parameter models (skillit.graph_learners.params, torch-free) are the learners' own."""

from __future__ import annotations

import pytest

from skillit.errors import ConfigError
from skillit.graph_learners import LEARNERS, build_learner
from skillit.graph_learners.params import LEARNER_PARAMS, check_learner_params, learner_names


def test_every_learner_takes_its_parameters_from_the_torch_free_table():
    assert learner_names() == list(LEARNERS) == ["linear", "brute-force", "threshold", "probe", "tracin"]
    for name, learner in LEARNERS.items():
        assert learner.name == name and learner.Params is LEARNER_PARAMS[name]


@pytest.mark.parametrize("name, params", [("tracin", {"lr": 0.1}), ("linear", {"steps": 0}), ("probe", {"mix": 2}),
                                          ("linear", {"points": 3}), ("lineal", {})])
def test_the_config_check_refuses_what_building_the_learner_refuses_with_the_same_message(name, params):
    with pytest.raises(ConfigError) as built:
        build_learner(name, params)
    with pytest.raises(ConfigError) as checked:
        check_learner_params(name, params)
    assert str(checked.value) == str(built.value)
    assert ("did you mean 'linear'" in str(checked.value)) == (name == "lineal")


def test_valid_parameters_get_the_learners_defaults():
    assert check_learner_params("probe", {"points": 2}).model_dump() == build_learner("probe", points=2).params.model_dump()
    assert check_learner_params("probe", {}).base_steps == 300


def test_a_learner_built_in_python_refuses_a_boolean_or_infinite_count_as_the_config_does():
    with pytest.raises(ConfigError, match="graph learner 'probe': invalid parameters: steps: expected a number, got true"):
        build_learner("probe", steps=True)
    with pytest.raises(ConfigError, match="lr: Input should be a finite number"):
        build_learner("linear", lr=float("inf"))
    assert build_learner("probe", steps=3).params.steps == 3
