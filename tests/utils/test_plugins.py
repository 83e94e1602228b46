"""Plug-ins: modules imported by name (config folder, cwd) and entry points of installed packages."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from skillit.errors import ConfigError, PolicyError
from skillit.graph_learners import LEARNERS, get_learner
from skillit.policy import build_policy, get_policy_spec, policy_names
from skillit.policy.registry import installed_policy_names, load_policy_entry_points
from skillit.utils.plugins import import_modules, module_name_problem, split_modules
from tests.plugin_helpers import isolated_plugins

POLICY_MODULE = """\
from pydantic import Field

from skillit.policy import Static, register_policy
from skillit.policy.base import Weights


@register_policy("{name}")
class OneToThree(Static):
    class Params(Static.Params):
        weights: Weights = Field([1.0, 3.0])

    description = "one to three"
"""


@pytest.fixture(autouse=True)
def _isolated(tmp_path):
    with isolated_plugins(tmp_path):
        yield


def test_split_modules_takes_repeats_and_commas_in_order():
    assert split_modules(["a", "b, c", "a,,d"]) == ["a", "b", "c", "d"]
    assert split_modules(None) == []


def test_a_module_next_to_the_config_is_imported_and_registers_its_policy(tmp_path, monkeypatch):
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "plug_next_to_config.py").write_text(POLICY_MODULE.format(name="one-to-three"))
    monkeypatch.chdir(tmp_path)  # not the config's folder
    assert "one-to-three" not in policy_names()
    import_modules(["plug_next_to_config"], config_dir=folder)
    policy = build_policy("one-to-three")
    assert policy.describe() == {"name": "one-to-three", "weights": [1.0, 3.0]}
    assert sys.path.index(str(folder.resolve())) > sys.path.index(str(Path(pytest.__file__).parents[1]))  # appended


def test_a_module_in_the_current_folder_is_imported(tmp_path, monkeypatch):
    (tmp_path / "plug_in_cwd.py").write_text("VALUE = 7\n")
    monkeypatch.chdir(tmp_path)
    import_modules(["plug_in_cwd"], config_dir=tmp_path / "elsewhere")
    assert sys.modules["plug_in_cwd"].VALUE == 7


def test_a_missing_module_names_itself_the_folders_searched_and_a_close_file(tmp_path, monkeypatch):
    (tmp_path / "my_policies.py").write_text("")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        import_modules(["my_polices"], config_dir=tmp_path, where="lego.yaml:2: imports.0")
    message = str(caught.value)
    assert message.startswith("lego.yaml:2: imports.0: cannot import module 'my_polices': no module named 'my_polices'")
    assert str(tmp_path.resolve()) in message and "did you mean 'my_policies'?" in message


def test_a_module_that_raises_names_the_line_and_the_exception(tmp_path):
    (tmp_path / "plug_raises.py").write_text("import math\nraise RuntimeError('no licence key')\n")
    with pytest.raises(ConfigError, match=r"--import: importing module 'plug_raises' failed \(at .*plug_raises.py:2\): "
                                          r"RuntimeError: no licence key"):
        import_modules(["plug_raises"], config_dir=tmp_path, where="--import")
    (tmp_path / "plug_syntax.py").write_text("def broken(:\n")
    with pytest.raises(ConfigError, match="importing module 'plug_syntax' failed: SyntaxError: .*plug_syntax.py, line 1"):
        import_modules(["plug_syntax"], config_dir=tmp_path)


def test_a_module_that_imports_something_missing_is_not_reported_as_missing_itself(tmp_path):
    (tmp_path / "plug_needs.py").write_text("import no_such_dependency_xyz\n")
    with pytest.raises(ConfigError, match="importing module 'plug_needs' failed .*ModuleNotFoundError: No module "
                                          "named 'no_such_dependency_xyz'"):
        import_modules(["plug_needs"], config_dir=tmp_path)


def test_registering_a_taken_name_is_an_import_error_naming_the_module(tmp_path):
    (tmp_path / "plug_taken.py").write_text(POLICY_MODULE.format(name="stratified"))
    with pytest.raises(ConfigError, match="importing module 'plug_taken' failed .*policy 'stratified' is already "
                                          "registered"):
        import_modules(["plug_taken"], config_dir=tmp_path)


def test_file_paths_are_not_module_names_and_say_which_name_to_use():
    assert module_name_problem("my_pkg.my_policies") is None
    assert module_name_problem("plugins/my_policies.py") == (
        "'plugins/my_policies.py' is not a module name; name modules like my_pkg.my_policies (a file "
        "my_policies.py in the config's folder or the current folder is module 'my_policies')")
    with pytest.raises(ConfigError, match="--import: '1abc' is not a module name"):
        import_modules(["1abc"], where="--import")


# ---- entry points ---------------------------------------------------------------------------------
def fake_distribution(folder: Path, entry_points: str, modules: dict[str, str]) -> None:
    """An installed package as importlib.metadata finds it: a *.dist-info with entry_points.txt on sys.path."""
    info = folder / "fake_skillit_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-skillit-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    for name, text in modules.items():
        (folder / f"{name}.py").write_text(text)
    sys.path.insert(0, str(folder))


def test_an_installed_policy_is_loaded_the_first_time_its_name_is_asked_for(tmp_path):
    fake_distribution(tmp_path, "[skillit.policies]\none-to-three = plug_ep_policy:OneToThree\n",
                      {"plug_ep_policy": POLICY_MODULE.format(name="one-to-three")})
    assert "one-to-three" in installed_policy_names() and "one-to-three" not in policy_names()
    assert "plug_ep_policy" not in sys.modules  # lazily: nothing loaded yet
    assert get_policy_spec("one-to-three").description == "one to three"
    assert build_policy("one-to-three").describe()["weights"] == [1.0, 3.0]


def test_an_installed_policy_class_is_registered_from_the_entry_point_alone(tmp_path):
    module = ("from skillit.policy import Static\n"
              "class TwoThirds(Static):\n    name = 'two-thirds'\n    description = 'thirds'\n")
    fake_distribution(tmp_path, "[skillit.policies]\ntwo-thirds = plug_ep_class:TwoThirds\n", {"plug_ep_class": module})
    load_policy_entry_points()  # what `skillit policies` does before listing
    assert "two-thirds" in policy_names()
    assert build_policy("two-thirds", {"weights": [2.0, 1.0]}).describe() == {"name": "two-thirds",
                                                                              "weights": [2.0, 1.0]}


def test_an_installed_policy_spec_is_registered_from_the_entry_point_alone(tmp_path):
    """The older form: a PolicySpec (parameter model + factory) is still accepted."""
    module = ("from skillit.policy import PolicySpec, Static\nfrom skillit.policy.registry import NoParams\n"
              "SPEC = PolicySpec('two-halves', NoParams, lambda p, r: Static([1.0, 1.0]), 'halves', False)\n")
    fake_distribution(tmp_path, "[skillit.policies]\ntwo-halves = plug_ep_spec:SPEC\n", {"plug_ep_spec": module})
    load_policy_entry_points()  # what `skillit policies` does before listing
    assert "two-halves" in policy_names()


def test_an_entry_point_that_fails_to_load_names_itself_and_its_package(tmp_path):
    fake_distribution(tmp_path, "[skillit.policies]\nbroken = plug_ep_broken:SPEC\n",
                      {"plug_ep_broken": "raise ImportError('needs scipy')\n"})
    with pytest.raises(PolicyError, match=r"the entry point 'broken' = 'plug_ep_broken:SPEC' \(group "
                                          r"'skillit.policies'\) of package fake-skillit-plugin 0.1 failed to load "
                                          r"\(at .*plug_ep_broken.py:1\): ImportError: needs scipy; fix or uninstall"):
        get_policy_spec("broken")


def test_an_unknown_policy_says_how_to_make_one_known_and_keeps_did_you_mean(tmp_path):
    fake_distribution(tmp_path, "[skillit.policies]\nlagging = plug_ep_unused:SPEC\n", {"plug_ep_unused": ""})
    with pytest.raises(PolicyError) as caught:
        get_policy_spec("stratifed")
    message = str(caught.value)
    assert message.startswith("unknown policy 'stratifed'; did you mean 'stratified'? (choices: ado, aioli")
    assert "random, stratified" in message  # every registered policy, in the order they were registered
    assert "lagging" in message  # installed names are choices too, before they are loaded
    assert ("A policy of your own is known once its module is imported: name the module in the config "
            "(imports: [my_policies]; a my_policies.py next to the config works) or on the command line "
            "(skillit run --import my_policies), or install a package that declares it under the entry-point "
            "group 'skillit.policies'") in message


def test_an_installed_graph_learner_is_loaded_by_name(tmp_path):
    module = ("from skillit.graph_learners import LinearApproximation\n"
              "class Mine(LinearApproximation):\n    name = 'mine'\n")
    fake_distribution(tmp_path, "[skillit.graph_learners]\nmine = plug_ep_learner:Mine\n", {"plug_ep_learner": module})
    assert "mine" not in LEARNERS
    assert get_learner("mine").__name__ == "Mine"
    with pytest.raises(ConfigError, match="unknown graph learning method 'mne'; did you mean 'mine'.*--import my_module"):
        get_learner("mne")
