"""The command line starts at once: --help, the listings and a config error import neither torch nor scipy.

Not timed (timings depend on the machine; docs/benchmarks.md has them): each check runs in a fresh Python and
looks at ``sys.modules`` afterwards. What pulls torch in is then named by the failing command.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

BAD_KEY = "name: bad\ntask: {name: lego, params: {k: 3}}\ntraining: {steps: 10}\nmethods: {stratified: {}}\nbogus: 1\n"
BAD_POLICY_PARAM = "name: bad\ntask: {name: lego}\ntraining: {steps: 10}\nmethods: {skill-it: {params: {eta: -1}}}\n"
BAD_LEARNER = ("name: bad\ntask: {name: lego}\ntraining: {steps: 10}\nmethods: {stratified: {}}\n"
               "graph_learning: {method: tracin, params: {lr: 0.1}}\n")


def fresh_python(script: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def test_help_listings_and_config_errors_import_neither_torch_nor_scipy(tmp_path):
    (tmp_path / "bad_key.yaml").write_text(BAD_KEY)
    (tmp_path / "bad_policy.yaml").write_text(BAD_POLICY_PARAM)
    (tmp_path / "bad_learner.yaml").write_text(BAD_LEARNER)
    result = fresh_python("""
        import sys
        from typer.testing import CliRunner
        from skillit.cli import app

        def heavy():
            return sorted(name for name in ("torch", "scipy") if name in sys.modules)

        assert heavy() == [], f"importing skillit.cli imports {heavy()}"
        runner = CliRunner()
        for args, code in ((["--help"], 0), (["policies"], 0), (["configs"], 0), (["bench"], 0),
                           (["run", "--help"], 0), (["run", "bad_key.yaml"], 2), (["run", "bad_policy.yaml"], 2),
                           (["run", "bad_learner.yaml"], 2)):
            result = runner.invoke(app, args)
            assert result.exit_code == code, (args, result.exit_code, result.output)
            assert heavy() == [], f"skillit {' '.join(args)} imports {heavy()}"
            print(" ".join(args), "|", " ".join(result.output.split()))
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" | ", 1) for line in result.stdout.splitlines())
    assert "skill-it" in lines["policies"] and "wrappers (methods.<name>.wrappers)" in lines["policies"]
    assert "lego-demo" in lines["configs"]
    assert "benchmarks (skillit bench NAME)" in lines["bench"]
    assert "bad_key.yaml:5: bogus: unknown key 'bogus'" in lines["run bad_key.yaml"]
    assert "eta" in lines["run bad_policy.yaml"] and "greater than or equal to 0" in lines["run bad_policy.yaml"]
    assert "lr, tracin trains nothing besides the base run" in lines["run bad_learner.yaml"].replace(":", ",")


def test_importing_skillit_imports_neither_torch_nor_scipy(tmp_path):
    result = fresh_python("""
        import sys
        import skillit
        from skillit import ConfigError, load_config, policy_names, ExperimentConfig
        from skillit.policies import SkillIt, Stratified
        from skillit.experiment.config import parse_config
        from skillit.graph_learners.params import check_learner_params
        print(sorted(name for name in ("torch", "scipy") if name in sys.modules))
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_every_public_name_imports_from_skillit():
    import skillit

    assert len(skillit.__all__) == len(set(skillit.__all__)) <= 30  # the curated surface (tests/test_public_surface.py)
    for name in skillit.__all__:
        assert getattr(skillit, name) is not None, name
    assert set(skillit.__all__) <= set(dir(skillit))
    from skillit import train
    from skillit.policies import SkillIt
    from skillit.policy.skill_it import SkillIt as defined
    from skillit.trainer.loop import train as defined_train

    assert SkillIt is defined and train is defined_train
    with pytest.raises(AttributeError, match="module 'skillit' has no attribute 'nonsense'"):
        skillit.nonsense  # noqa: B018


def test_lazy_packages_give_the_same_objects_as_their_modules():
    from skillit.experiment import RunDirectory
    from skillit.experiment.run_dir import RunDirectory as run_dir_class
    from skillit.graph_learners import LEARNERS, build_learner, learner_names

    module = importlib.import_module("skillit.discover.regroup")  # the submodule first, then the package's name:
    assert importlib.import_module("skillit.discover").regroup is module.regroup  # the function, as before
    assert RunDirectory is run_dir_class
    assert learner_names() == list(LEARNERS) == ["linear", "brute-force", "threshold", "probe", "tracin"]
    assert build_learner("linear").params.steps == 100
