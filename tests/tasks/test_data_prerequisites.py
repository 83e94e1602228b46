"""The data task's known graph (``task.params.prerequisites``): the transitive closure of a JSON adjacency list."""

from __future__ import annotations

import json

import numpy as np
import pytest

from skillit.errors import ConfigError, GraphError
from skillit.experiment.build import graph_resolver
from skillit.experiment.config import load_config, parse_config
from skillit.tasks import build_task, parse_task_params
from skillit.tasks.data import closure_graph, prerequisite_graph

from ..conftest import SHARED_DATA


def test_closure_adds_transitive_edges_and_the_diagonal():
    # c needs b, b needs a; d needs e, which is named only as a prerequisite
    graph = closure_graph({"c": ["b"], "b": ["a"], "a": [], "d": ["e"]})
    assert graph.train_skills == ("c", "b", "a", "d", "e")
    expected = np.array([
        # c  b  a  d  e   (columns: the skill that needs the row)
        [1, 0, 0, 0, 0],  # c
        [1, 1, 0, 0, 0],  # b → c
        [1, 1, 1, 0, 0],  # a → b, and a → c through b
        [0, 0, 0, 1, 0],  # d
        [0, 0, 0, 1, 1],  # e → d
    ], dtype=float)
    assert np.array_equal(graph.matrix, expected)


def test_a_cycle_ends(tmp_path):
    graph = closure_graph({"a": ["b"], "b": ["a"]})
    assert np.array_equal(graph.matrix, np.ones((2, 2)))


def _config(tmp_path, prerequisites):
    rows = [{"skill": s, "prompt": "1+1", "answer": "2"} for s in ("a", "b", "c") for _ in range(3)]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    if prerequisites is not None:
        (tmp_path / "pre.json").write_text(prerequisites)
    text = (
        "name: t\ntask:\n  name: data\n  params: {train: d.jsonl, holdout: 0.34"
        + (", prerequisites: pre.json" if prerequisites is not None else "") + "}\n"
        "training: {steps: 2}\nmethods:\n  skill-it: {params: {graph: prerequisites}}\n"
    )
    (tmp_path / "c.yaml").write_text(text)
    return load_config(tmp_path / "c.yaml")


def test_graph_prerequisites_resolves_relative_to_the_config(tmp_path):
    config = _config(tmp_path, '{"c": ["b"], "b": ["a"], "a": []}')
    assert config.task.params["prerequisites"] == str((tmp_path / "pre.json").resolve())
    skills = build_task("data", config.task.params)
    graph = graph_resolver(config, skills, tmp_path)("prerequisites")
    assert graph.weight("a", "c") == 1.0 and graph.weight("c", "a") == 0.0


def test_missing_or_bad_prerequisites_are_clear_errors(tmp_path):
    config = _config(tmp_path, None)
    skills = build_task("data", config.task.params)
    with pytest.raises(GraphError, match="set task.params.prerequisites"):
        graph_resolver(config, skills, tmp_path)("prerequisites")
    with pytest.raises(GraphError, match="does not exist"):
        prerequisite_graph(parse_task_params("data", {"train": "x", "prerequisites": str(tmp_path / "no.json")}))
    (tmp_path / "bad.json").write_text('{"a": [1]}')
    with pytest.raises(GraphError, match="expected a JSON object"):
        prerequisite_graph(parse_task_params("data", {"train": "x", "prerequisites": str(tmp_path / "bad.json")}))
    (tmp_path / "broken.json").write_text('{\n"a": [')
    with pytest.raises(GraphError, match="broken.json:2"):
        prerequisite_graph(parse_task_params("data", {"train": "x", "prerequisites": str(tmp_path / "broken.json")}))
    with pytest.raises(ConfigError):
        parse_config("name: t\ntask: {name: data, params: {train: x, prerequisite: y}}\ntraining: {steps: 1}\n"
                     "methods: {stratified: {}}\n")


@pytest.mark.skipif(not (SHARED_DATA / "math_skills" / "prerequisites.json").is_file(), reason="no shared data")
def test_math_skills_graph_has_the_documented_transitive_edges():
    graph = prerequisite_graph(parse_task_params(
        "data", {"train": "x", "prerequisites": str(SHARED_DATA / "math_skills" / "prerequisites.json")}))
    assert len(graph.train_skills) == 11
    # composed sort needs mixed directly, and mul and div through mixed (README: "transitively, through mixed")
    for needed in ("comparison__sort", "arithmetic__mixed", "arithmetic__mul", "arithmetic__div"):
        assert graph.weight(needed, "comparison__sort_composed") == 1.0
    assert graph.weight("numbers__gcd", "comparison__sort_composed") == 0.0
    # ancestors: add_sub_multiple 1, mixed 3 (add_or_sub, mul, div), gcd_composed 6, linear_1d_composed 5,
    # sort_composed 6 → 21 edges, plus the diagonal of 11
    assert graph.matrix.sum() == 11 + 21
