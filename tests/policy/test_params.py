"""Each policy's parameters are declared once, by its ``Params`` model (issue 27): a parameter a config leaves
out means the class's default, the constructor has no defaults of its own, and ``describe()`` reports the same.

The registry once held its own parameter models beside the classes, and skill-it-plus's eta drifted between
them (configs ran at 1.0 while the class said 4.0). Here every registered policy is built with only its required
parameters, and every method of every shipped config is built as the config says: each parameter the config does
not give must equal the ``Params`` default on the built policy (its ``params``, the attribute of that name that
the policy computes with, and its ``describe()``).
"""

from __future__ import annotations

from typing import Any

import pytest

from skillit.experiment.config import load_config, shipped_config_names
from skillit.graph import SkillsGraph
from skillit.policy import POLICIES, MixingPolicy, Staged, Wrapper, build_policy
from skillit.policy.base import describe_value

SKILLS = ["a", "b"]
REQUIRED = {"graph": "identity", "weights": [0.5, 0.5], "stages": [{"steps": 1, "policy": "random"}]}


def resolve(spec: str) -> SkillsGraph:
    return SkillsGraph.identity(SKILLS)  # the graph's content does not matter for the defaults


def unwrapped(policy: MixingPolicy) -> MixingPolicy:
    while isinstance(policy, Wrapper):  # e.g. skill-it-static is Frozen(SkillIt(...))
        policy = policy.inner
    return policy


def check_defaults(policy: MixingPolicy, given: dict[str, Any]) -> int:
    """Assert that each parameter not in ``given`` has its ``Params`` default; returns how many were checked."""
    described, checked = policy.describe(), 0
    for field, info in type(policy).Params.model_fields.items():
        if field in given or info.is_required():
            continue
        default = info.get_default(call_default_factory=True)
        where = f"{policy.name}.{field}"
        assert getattr(policy.params, field) == default, where
        assert described[field] == describe_value(default), where
        if field in vars(policy):  # the attribute the policy computes with (not a method such as weights)
            value = vars(policy)[field]
            assert (value is None and default is None) or value == default or list(value) == default, where
        checked += 1
    return checked


@pytest.mark.parametrize("name", sorted(set(POLICIES) - {"staged"}))
def test_a_policy_built_without_parameters_has_its_params_defaults(name):
    cls = POLICIES[name]
    required = {field: REQUIRED[field] for field, info in cls.Params.model_fields.items() if info.is_required()}
    policy = unwrapped(build_policy(name, required, resolve_graph=resolve))
    check_defaults(policy, required)
    # the constructor called directly, with the required parameters only, is the same policy
    direct = type(policy)(**{field: resolve(v) if field == "graph" else v for field, v in required.items()})
    assert direct.describe() == policy.describe()


def test_a_default_changed_in_params_changes_the_built_policy(monkeypatch):
    """The test above can fail: a class whose constructor kept a default of its own would disagree."""
    from skillit.policy.doremi import DoReMiOnline

    field = DoReMiOnline.Params.model_fields["eta"]
    monkeypatch.setattr(field, "default", 3.0)
    DoReMiOnline.Params.model_rebuild(force=True)
    try:
        policy = build_policy("doremi-online")
        assert policy.eta == 3.0 and policy.describe()["eta"] == 3.0
    finally:
        monkeypatch.undo()
        DoReMiOnline.Params.model_rebuild(force=True)
    assert build_policy("doremi-online").eta == 1.0


def test_staged_stage_policies_get_their_own_defaults():
    policy = build_policy("staged", {"stages": [{"steps": 5, "policy": "skill-it", "params": {"graph": "identity",
                                                                                             "eta": 2.0}},
                                                {"steps": 5, "policy": "odm"}]}, resolve_graph=resolve)
    assert isinstance(policy, Staged)
    first, second = (stage.policy for stage in policy.stages)
    assert first.eta == 2.0 and check_defaults(first, {"graph": 0, "eta": 2.0}) == 5
    assert check_defaults(second, {}) == 3


def methods_of(config_name: str):
    config = load_config(config_name, check_data=False)
    for method_name, method in config.methods.items():
        yield method_name, config.policy_of(method_name), dict(method.params or {}), method.wrappers


@pytest.mark.parametrize("config_name", shipped_config_names())
def test_every_shipped_configs_methods_rest_on_their_class_defaults(config_name):
    checked = 0
    for method_name, name, params, wrappers in methods_of(config_name):
        policy = unwrapped(build_policy(name, params, resolve_graph=resolve, wrappers=wrappers,
                                        where=f"{config_name}: method {method_name!r}"))
        if isinstance(policy, Staged):
            for stage, spec in zip(policy.stages, params["stages"]):
                checked += check_defaults(unwrapped(stage.policy), spec.get("params") or {})
        else:
            checked += check_defaults(policy, params)
    assert checked > 0 or config_name.endswith("graph")  # a config whose methods set every parameter is rare


def test_the_constructor_validates_by_params_and_reads_positional_arguments_in_field_order():
    from skillit.errors import PolicyError
    from skillit.policy import Frozen, SkillIt, SkillItStatic, Static
    from skillit.policy.registry import parameter_summary

    assert Static([1.0, 3.0]).params.weights == [1.0, 3.0]  # the first field
    with pytest.raises(PolicyError, match="static takes at most 1 positional parameters"):
        Static([1.0], [2.0])
    with pytest.raises(PolicyError, match="static: parameter 'weights' given twice"):
        Static([1.0], weights=[2.0])
    with pytest.raises(PolicyError, match="invalid parameters for policy 'skill-it': eta: Input should be a finite"):
        SkillIt(resolve("identity"), eta=float("inf"))
    lego = SkillIt("builtin:lego")  # a graph string is loaded (builtin:NAME or a path)
    assert lego.graph.train_skills == ("var1", "var2", "var3", "var4", "var5")
    assert lego.describe()["graph"]["train_skills"] == list(lego.graph.train_skills)
    static = SkillItStatic(resolve("identity"), eta=2.0)  # skill-it-static is SkillIt, frozen
    assert isinstance(static, Frozen) and static.inner.eta == 2.0
    assert parameter_summary(SkillIt.Params) == ("graph, eta=0.5, window=3, aggregate=auto, initial_loss=ones, "
                                                 "prior=null, targets=null")
