"""A renamed policy parameter (Aioli's ``normalize`` → ``normalise``): a config under the old name loads with a
FutureWarning naming its file and line, and a run started under it resumes under the new one."""

from __future__ import annotations

import json
import warnings

import pytest

from skillit.errors import ConfigError
from skillit.experiment.config import parse_config
from skillit.experiment.run_dir import RunDirectory

CONFIG = """\
name: tiny
task: {name: lego, params: {k: 3}}
training: {steps: 40}
methods:
  aioli:
    params:
      lp_rounds: 1
      {key}: false
seeds: [0]
"""


def parse_quietly(text: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return parse_config(text, source="c.yaml")


def test_a_config_under_the_old_name_loads_with_a_warning_naming_its_line():
    with pytest.warns(FutureWarning, match=r"c\.yaml:6: policy 'aioli': parameter 'normalize' is the old, "
                      r"deprecated spelling; write 'normalise' \(normalise: False\)") as caught:
        old = parse_config(CONFIG.replace("{key}", "normalize"), source="c.yaml")
    assert len([w for w in caught if issubclass(w.category, FutureWarning)]) == 1  # once, not again when checked
    assert old.methods["aioli"].params == {"lp_rounds": 1, "normalise": False}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = parse_config(CONFIG.replace("{key}", "normalise"), source="c.yaml")
    assert new.model_dump() == old.model_dump()


def test_both_spellings_at_once_are_refused_with_the_line():
    text = CONFIG.replace("{key}: false", "normalize: false\n      normalise: true")
    with pytest.raises(ConfigError, match=r"c\.yaml:\d+: .*'normalize' is the old spelling of 'normalise'; give only "
                       "'normalise'"):
        parse_quietly(text)


def test_a_run_started_under_normalize_resumes_and_a_changed_value_is_refused(tmp_path):
    config = parse_quietly(CONFIG.replace("{key}", "normalise"))
    described = {"name": "aioli", "eta": 0.2, "lp_rounds": 1, "lp_steps": 4, "one_hot_factor": 0.625, "ema": None,
                 "normalise": False, "diagonal": False, "prior": None}
    RunDirectory.create(tmp_path / "run", config, policies={"aioli": described}).close()
    manifest_path = tmp_path / "run" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    # as a skillit before the rename wrote it: the config's params and the policy's describe() say normalize
    manifest["config"]["methods"]["aioli"]["params"] = {"lp_rounds": 1, "normalize": False}
    manifest["policies"]["aioli"] = {("normalize" if k == "normalise" else k): v for k, v in described.items()}
    manifest_path.write_text(json.dumps(manifest))
    run = RunDirectory(tmp_path / "run")
    assert run.difference(config, policies={"aioli": described}) is None
    old_yaml = parse_quietly(CONFIG.replace("{key}", "normalize"))  # the unchanged old config file
    assert run.difference(old_yaml, policies={"aioli": described}) is None
    flipped = parse_quietly(CONFIG.replace("{key}: false", "normalise: true"))
    found = run.difference(flipped, policies={"aioli": {**described, "normalise": True}})
    assert found is not None and "normalise" in found[0]
    found = run.difference(config, policies={"aioli": {**described, "normalise": True}})
    assert found is not None and found[0].startswith("method 'aioli' now builds a different policy (normalise: run "
                                                     "directory has False, now True)")
