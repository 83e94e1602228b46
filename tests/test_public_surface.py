"""The public surface (issue 27): a small ``skillit`` top level, every policy in ``skillit.policies``, and the
names that moved kept for a release as deprecated aliases that warn with their new import."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import skillit
import skillit.policies
import skillit.policy
from skillit.policy.base import MixingPolicy
from skillit.policy.registry import POLICIES, WRAPPERS, build_policy

REPO = Path(__file__).resolve().parents[1]

# the least parameters that build each shipped policy that needs some (the rest build from {})
NEEDS = {
    "static": {"weights": [1.0]},
    "skill-it": {"graph": "builtin:lego"},
    "skill-it-static": {"graph": "builtin:lego"},
    "skill-it-plus": {"graph": "builtin:lego"},
    "staged": {"stages": [{"steps": 1, "policy": "random"}]},
}
WRAPPER_VALUES = {"frozen": True, "floor": 0.01, "smoothed": 0.5, "tokens": True, "pacing": "linear", "fresh": 2.0}


def layers(policy: MixingPolicy) -> list[type]:
    """The policy's class and, through wrappers and stages, the classes inside it."""
    found = [type(policy)]
    for inner in [getattr(policy, "inner", None)] + [stage.policy for stage in getattr(policy, "stages", ())]:
        if isinstance(inner, MixingPolicy):
            found += layers(inner)
    return found


def registered_classes() -> dict[str, type]:
    """Registry name -> the class a config of that name builds (a registry that maps names to classes
    directly is read as it is)."""
    classes = {}
    for name, entry in POLICIES.items():
        classes[name] = entry if isinstance(entry, type) else type(build_policy(name, NEEDS.get(name, {})))
    for name in WRAPPERS:
        inner = "curriculum" if name == "pacing" else "random"  # pacing wraps the example-level curricula only
        wrapped = build_policy(inner, {}, wrappers=[{name: WRAPPER_VALUES[name]}])
        classes[f"wrapper {name}"] = type(wrapped)
    return classes


def test_the_top_level_is_small_and_every_name_imports():
    assert len(skillit.__all__) <= 30
    assert len(set(skillit.__all__)) == len(skillit.__all__)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of the current names is deprecated
        for name in skillit.__all__:
            assert getattr(skillit, name) is not None, name
    assert set(skillit.__all__) <= set(dir(skillit))
    assert not set(skillit.__all__) & set(skillit._MOVED)


@pytest.mark.parametrize("name", sorted(skillit._MOVED))
def test_each_moved_name_warns_with_its_new_import_and_is_the_same_object(name):
    home = skillit._MOVED[name]
    with pytest.warns(DeprecationWarning, match=rf"skillit\.{name} is deprecated.*from {home} import {name}"):
        value = getattr(skillit, name)
    assert value is getattr(importlib.import_module(home), name)
    assert name not in dir(skillit)  # dir() shows the current surface only


def test_from_import_of_a_moved_name_warns_once():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec("from skillit import SkillIt, Static", {})
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(messages) == 2, messages  # one per name, although importlib also probes each with hasattr
    assert "from skillit.policies import SkillIt" in messages[0]
    assert "from skillit.policies import Static" in messages[1]


def test_policies_lists_every_registered_policy_and_wrapper_class():
    public = {getattr(skillit.policies, name) for name in skillit.policies.__all__}
    missing = {name: cls.__name__ for name, cls in registered_classes().items() if cls not in public}
    assert not missing, f"registered but not in skillit.policies: {missing}"
    # the same objects as where they are defined
    from skillit.policy.skill_it import SkillIt
    from skillit.policy.wrappers import MinimumProbability

    assert skillit.policies.SkillIt is SkillIt and skillit.policies.MinimumProbability is MinimumProbability


def test_policies_lists_every_public_policy_class_the_policy_package_defines():
    defined = set()
    for module in pkgutil.iter_modules(skillit.policy.__path__):
        for name, value in vars(importlib.import_module(f"skillit.policy.{module.name}")).items():
            if (inspect.isclass(value) and issubclass(value, MixingPolicy) and not name.startswith("_")
                    and value.__module__ == f"skillit.policy.{module.name}"):
                defined.add(name)
    assert defined - set(skillit.policies.__all__) == set()
    for name in skillit.policies.__all__:
        assert getattr(skillit.policies, name) is not None, name
    assert set(skillit.policies.__all__) <= set(dir(skillit.policies))


def test_importing_skillit_policies_loads_no_policy_module():
    script = ("import sys, skillit.policies\n"
              "print(sorted(m for m in sys.modules if m.startswith('skillit.policy.') or m in ('torch', 'scipy')))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_graph_learners_lists_every_registered_learner_class():
    import skillit.graph_learners
    from skillit.graph_learners import LEARNERS

    public = [getattr(skillit.graph_learners, name) for name in skillit.graph_learners.__all__]
    assert {name: cls for name, cls in LEARNERS.items() if not any(cls is value for value in public)} == {}
    assert len(LEARNERS) == 5
