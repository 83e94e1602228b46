"""The peers are registered by name, validate their parameters early, and build the right policy."""

import pytest

from skillit.errors import PolicyError
from skillit.graph import SkillsGraph
from skillit.policy import POLICIES, build_policy

PEERS = {
    "natural": "Natural", "temperature": "Temperature", "aioli": "Aioli", "aioli-train-loss": "AioliTrainLoss",
    "ado": "ADO", "odm": "ODM", "odm-smoothed-mean": "ODMSmoothedMean", "doremi-online": "DoReMiOnline",
    "rb-balance": "RBBalance", "pike": "PiKE", "velocitune": "Velocitune", "skill-it-plus": "SkillItPlus",
    "dga-lastlayer": "DGALastLayer", "dga": "DGA",
}


@pytest.mark.parametrize("name, cls", PEERS.items())
def test_registered_and_built(name, cls):
    params = {"graph": "identity"} if name == "skill-it-plus" else {}
    policy = build_policy(name, params, resolve_graph=lambda spec: SkillsGraph.identity(["a", "b"]))
    assert type(policy).__name__ == cls and policy.name == name and POLICIES[name].online


@pytest.mark.parametrize("name, params, message", [
    ("aioli", {"one_hot_factor": 1.5}, "one_hot_factor"),
    ("ado", {"min_prob": 1.0}, "min_prob"),
    ("odm", {"reward": "accuracy"}, "reward"),
    ("temperature", {"temperature": 0}, "temperature"),
    ("skill-it-plus", {"graph": "identity", "zero_rows": "floor"}, "zero_rows"),
    ("pike", {"zeta": 1.0}, "zeta"),
])
def test_bad_parameters_are_refused_before_anything_runs(name, params, message):
    with pytest.raises(PolicyError, match=f"invalid parameters for policy '{name}'.*{message}"):
        build_policy(name, params)


def test_ado_bounds_are_configurable():
    policy = build_policy("ado", {"e_min": -5.0, "alpha_max": 0.9})
    assert policy.bounds[1][0] == -5.0 and policy.bounds[2][1] == 0.9
