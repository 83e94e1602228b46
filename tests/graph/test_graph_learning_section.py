"""The `graph_learning: {method, params}` section: the learner's Params model is the one declaration of its
fields (issue 27); the old flat form still loads, moved into params, with a FutureWarning."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from pydantic import ValidationError

from skillit.errors import ConfigError
from skillit.experiment.config import (
    GraphLearningConfig,
    dump_config,
    load_config,
    parse_config,
    shipped_config_names,
    shipped_config_path,
    upgrade_graph_learning,
)
from skillit.experiment.graph_learning import graph_difference, learner_for
from skillit.experiment.run_dir import MANIFEST_FORMAT, RunDirectory
from skillit.graph.skills_graph import SkillsGraph

BASE = """\
name: tiny-graph
task: {name: lego, params: {k: 3}}
training: {steps: 200}
methods: {stratified: {}}
"""
NEW = BASE + "graph_learning: {method: probe, params: {points: 2, mix: 0.75}, jobs: 1}\n"
OLD = BASE + "graph_learning: {method: probe, points: 2, mix: 0.75, jobs: 1}\n"
# what skillit wrote into a run's manifest for OLD before params existed (the old schema's 19 learner fields,
# unset ones null), captured from that version
OLD_MANIFEST_SECTION = {
    "method": "probe", "steps": None, "base_steps": None, "lr": None, "batch_size": None, "eval_every": None,
    "warmup_steps": None, "normalise": None, "negative": None, "threshold": None, "weight": None, "points": 2,
    "mix": 0.75, "control": None, "eval_examples": None, "projection": None, "similarity": None, "relative": None,
    "compare": None, "scale": None, "seed": None, "seeds": None, "level": 0.95, "stable_only": True, "jobs": 1,
}


def parse_quietly(text: str):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new form warns about nothing
        return parse_config(text, source="c.yaml")


def test_the_new_form_loads_and_unset_params_take_the_run_scaled_then_the_learners_defaults():
    config = parse_quietly(NEW)
    assert config.graph_learning.method == "probe" and config.graph_learning.params == {"points": 2, "mix": 0.75}
    assert config.graph_learning.jobs == 1 and config.graph_learning.learner_params() == {"points": 2, "mix": 0.75}
    params = learner_for(config).params
    # training.steps 200: base_steps round(0.3 · 200) = 60, probe steps max(5, round(0.0125 · 200)) = 5, scale max;
    # the given points and mix; normalise and control: the probe's own defaults
    assert (params.base_steps, params.steps, params.scale, params.points, params.mix) == (60, 5, "max", 2, 0.75)
    assert (params.normalise, params.control, params.negative) == (True, False, "zero")
    # --method linear keeps the fields linear takes (none of points, mix) and its own h = 100
    linear = learner_for(config, "linear").params
    assert (linear.base_steps, linear.steps, linear.scale) == (60, 100, "max")
    # values as the learner reads them: 25.0 is the count 25
    assert parse_quietly(BASE + "graph_learning: {params: {steps: 25.0}}\n").graph_learning.params == {"steps": 25}


def test_the_old_flat_form_loads_with_one_warning_naming_the_new_spelling_and_equals_the_new():
    with pytest.warns(FutureWarning) as caught:
        old = parse_config(OLD, source="c.yaml")
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith("c.yaml:5: graph_learning: learner fields beside method (points, mix)")
    assert message.endswith("graph_learning: {method: probe, params: {points: 2, mix: 0.75}}")
    new = parse_quietly(NEW)
    assert old == new and dump_config(old) == dump_config(new)
    assert learner_for(old).params == learner_for(new).params and learner_for(old).name == "probe"
    # a programmatic section (a script's dict) takes the same way
    with pytest.warns(FutureWarning, match="put them under params"):
        section = GraphLearningConfig.model_validate({"method": "tracin", "eval_examples": 24})
    assert section.params == {"eval_examples": 24}


def test_a_graph_learned_from_the_old_form_is_reused_by_the_new(tmp_path):
    with pytest.warns(FutureWarning):
        old = parse_config(OLD)
    learner = learner_for(old)
    provenance = {"method": learner.name, "params": learner.params.model_dump(mode="json"),
                  "task": {"name": "lego", "params": {"k": 3}, "seed": 0}}
    SkillsGraph(np.eye(3), ["a", "b", "c"], ["a", "b", "c"], provenance).save(tmp_path / "graph.json")
    assert graph_difference(parse_quietly(NEW), tmp_path) is None
    other = parse_quietly(NEW.replace("points: 2", "points: 4"))
    assert graph_difference(other, tmp_path) == "learner parameters points (2 there, 4 now)"


def test_a_run_started_with_the_old_schema_resumes_under_the_new(tmp_path):
    config = parse_quietly(NEW)
    data = json.loads(json.dumps(config.model_dump(mode="json")))
    data["graph_learning"] = OLD_MANIFEST_SECTION
    (tmp_path / "manifest.json").write_text(json.dumps({"format": MANIFEST_FORMAT, "run_id": "x", "config": data}))
    run = RunDirectory(tmp_path)
    assert run.difference(config) is None
    changed = run.difference(parse_quietly(NEW.replace("points: 2", "points: 3")))
    assert changed is not None and changed[0].startswith("graph_learning.params.points differs (the run started "
                                                         "with 2, now 3)")


def test_an_unknown_param_names_the_learner_its_line_and_the_fields_it_takes():
    text = BASE + "graph_learning:\n  method: linear\n  params:\n    steps: 3\n    base_step: 2\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="c.yaml")
    assert str(caught.value) == (
        "invalid config\n  c.yaml:9: graph_learning.params.base_step: graph learner 'linear' takes no parameter "
        "'base_step' (did you mean 'base_steps'?); linear takes: steps, base_steps, lr, batch_size, eval_every, "
        "warmup_steps, scale, normalise, negative")
    with pytest.raises(ConfigError, match="c.yaml:5: graph_learning.params.bogus: graph learner 'probe' takes no "
                       "parameter 'bogus'; remove it or check its spelling; probe takes: steps, base_steps"):
        parse_config(BASE + "graph_learning: {params: {bogus: 1}}\n", source="c.yaml")


def test_a_param_of_another_learner_is_refused_naming_the_learners_that_take_it():
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE + "graph_learning: {method: tracin, params: {mix: 0.5, steps: 2}}\n", source="c.yaml")
    assert ("c.yaml:5: graph_learning.params.mix: graph learner 'tracin' takes no parameter 'mix' (probe takes it); "
            "remove it, or choose that method; tracin takes: steps, base_steps") in str(caught.value)
    # the old flat form is checked the same way, after its warning
    with pytest.warns(FutureWarning), pytest.raises(ConfigError, match="graph learner 'tracin' takes no parameter 'mix'"):
        parse_config(BASE + "graph_learning: {method: tracin, mix: 0.5}\n", source="c.yaml")
    # a learner's own cross-field check names the learner too
    with pytest.raises(ConfigError, match="c.yaml:5: graph_learning.params: graph learner 'tracin': lr: tracin "
                       "trains nothing besides the base run"):
        parse_config(BASE + "graph_learning: {method: tracin, params: {lr: 0.1}}\n", source="c.yaml")


def test_params_keep_the_config_schemas_strictness():
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE + "graph_learning: {params: {steps: true, lr: .inf}}\n", source="c.yaml")
    assert "c.yaml:5: graph_learning.params.steps: graph learner 'probe': expected a number, got true" in str(caught.value)
    assert "c.yaml:5: graph_learning.params.lr: graph learner 'probe': Input should be a finite number" in str(caught.value)
    with pytest.raises(ConfigError, match="c.yaml:5: graph_learning.method: unknown graph learning method 'prob'"):
        parse_config(BASE + "graph_learning: {method: prob, params: {steps: 3}}\n", source="c.yaml")
    with pytest.raises(ConfigError, match="c.yaml:5: graph_learning: steps given both in params and beside it"):
        parse_config(BASE + "graph_learning: {params: {steps: 3}, steps: 4}\n", source="c.yaml")
    with pytest.raises(ValidationError, match="valid dictionary"):
        GraphLearningConfig.model_validate({"params": [1]})
    with pytest.raises(ValidationError, match="valid dictionary"):  # with old-form nulls beside it too
        GraphLearningConfig.model_validate({"params": [1], "steps": None})


def test_upgrade_moves_a_flat_section_and_leaves_the_new_form_alone():
    # what a --section '{"method": "tracin", "eval_examples": 24}' of benchmarks/target_helpers.py goes through
    with pytest.warns(FutureWarning, match=r"^--section: graph_learning: learner fields beside method \(eval_examples\)"):
        moved = upgrade_graph_learning({"method": "tracin", "eval_examples": 24, "jobs": 2}, where="--section")
    assert moved == {"method": "tracin", "jobs": 2, "params": {"eval_examples": 24}}
    new = {"method": "tracin", "params": {"eval_examples": 24}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert upgrade_graph_learning(new) is new
        # the old schema's nulls meant "unset": dropped, silently (a run's config.yaml written before params)
        assert upgrade_graph_learning({"method": "linear", "steps": None, "scale": None}) == {"method": "linear",
                                                                                            "params": {}}


def test_shipped_configs_spell_the_new_form():
    for name in shipped_config_names():
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)
            config = load_config(shipped_config_path(name), check_data=False)
        if config.graph_learning is not None:
            assert config.graph_learning.params, name  # the shipped sections set the documented example's values


def test_the_docs_table_lists_every_learners_own_parameters():
    """docs/graphs.md's table names each built-in learner's Params fields (the shared ones in the text above it),
    so the docs follow the one declaration."""
    from pathlib import Path

    from skillit.graph_learners.params import LEARNER_PARAMS, LearnerParams

    text = (Path(__file__).resolve().parents[2] / "docs" / "graphs.md").read_text(encoding="utf-8")
    section = text[text.index("## The config section"):text.index("## Uncertainty")]
    rows = {line.split("|")[1].strip().strip("`"): line for line in section.splitlines() if line.startswith("| `")}
    assert list(rows) == list(LEARNER_PARAMS)
    shared = [name for name in LearnerParams.model_fields if name != "steps"]
    assert all(f"`{name}`" in section.split("| method |")[0] for name in shared)
    for method, model in LEARNER_PARAMS.items():
        own = [name for name in model.model_fields if name not in shared or name in model.__annotations__]
        missing = [name for name in own if f"`{name}`" not in rows[method]]
        assert not missing, (method, missing)

