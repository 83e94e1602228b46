"""Validation before any output: unknown skills in graphs and targets, shapes, NaN."""

import json

import pytest

from skillit.errors import GraphError, SkillError
from skillit.experiment.config import parse_config
from skillit.experiment.runner import validate_experiment

BASE = """\
name: t
task: {name: lego, params: {k: 3, validation_size: 4}}
training: {steps: 10, round_steps: 5, eval_every: 5}
methods:
  skill-it: {params: {graph: GRAPH}}
"""


def config_with_graph(tmp_path, graph):
    path = tmp_path / "g.json"
    path.write_text(json.dumps(graph))
    return parse_config(BASE.replace("GRAPH", str(path)))


def test_unknown_skill_in_graph(tmp_path):
    config = config_with_graph(tmp_path, {"train_skills": ["var1", "var2", "var9"], "matrix": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]})
    with pytest.raises(GraphError, match="method 'skill-it'.*'var3' is not a row"):
        validate_experiment(config)


def test_graph_shape_and_nan(tmp_path):
    config = config_with_graph(tmp_path, {"train_skills": ["var1", "var2", "var3"], "matrix": [[1, 0], [0, 1], [0, 0]]})
    with pytest.raises(GraphError, match="shape 3x2 but there are 3 training skills"):
        validate_experiment(config)
    config = config_with_graph(tmp_path, {"train_skills": ["var1", "var2", "var3"], "matrix": [[1, 0, 0], [0, None, 0], [0, 0, 1]]})
    with pytest.raises(GraphError, match=r"\['var2', 'var2'\].*is nan"):
        validate_experiment(config)


def test_a_built_in_graph_of_another_task_says_whose_it_is_and_which_fit():
    addition = parse_config(BASE.replace("{name: lego, params: {k: 3, validation_size: 4}}",
                                         "{name: addition, params: {k: 3, validation_size: 4}}")
                            .replace("GRAPH", "builtin:lego"))
    with pytest.raises(GraphError) as caught:
        validate_experiment(addition)
    assert str(caught.value) == (
        "graph 'builtin:lego' is the built-in graph of task lego, whose skills are var1, var2, var3, var4, var5; this "
        "config's task addition has skills ones, tens, hundreds, none of them in that graph. Built-in graphs for these "
        "skills: builtin:addition; or use graph: learn (learned before the runs, docs/graphs.md), graph: prerequisites "
        "(the task's planted graph) or graph: identity (no graph)")
    lego = parse_config(BASE.replace("GRAPH", "builtin:ni-stance"))
    with pytest.raises(GraphError, match="'builtin:ni-stance' is the built-in graph of task data \\(the Natural "
                                         "Instructions categories\\), whose skills are Stance Detection, Text Matching; "
                                         ".*Built-in graphs for these skills: builtin:lego, builtin:lego-finetune;"):
        validate_experiment(lego)
    validate_experiment(parse_config(BASE.replace("GRAPH", "builtin:lego")))  # LEGO k=3 inside the k=5 graph: fine

def test_unknown_target_skill():
    config = parse_config(BASE.replace("GRAPH", "prerequisites") + "setting: finetune\ntarget_skills: [var7]\n")
    with pytest.raises(SkillError, match="unknown training skill 'var7' in target_skills"):
        validate_experiment(config)


def test_npy_graph_relative_to_the_config(tmp_path):
    import numpy as np

    np.save(tmp_path / "A.npy", np.eye(3))
    config = parse_config(BASE.replace("GRAPH", "A.npy"))
    validate_experiment(config, tmp_path)


def test_warm_start_is_shared_by_every_method_and_reported(tmp_path):
    from skillit.experiment.runner import run_experiment

    text = BASE.replace("GRAPH", "prerequisites") + (
        "  stratified: {}\n"
        "model: {n_layer: 1, n_head: 2, n_embd: 16}\n"
        "task: {name: lego, params: {k: 3, validation_size: 4}, train_skills: [var2, var3]}\n"
        "warm_start: {skills: [var1], steps: 6}\n"
    )
    text = text.replace("task: {name: lego, params: {k: 3, validation_size: 4}}\n", "")
    config = parse_config(text)
    summary = run_experiment(config, tmp_path / "out")
    assert (tmp_path / "out" / "warm_start" / "seed0.pt").is_file()
    assert summary["warm_start"]["skills"] == ["var1"] and summary["warm_start"]["runs"][0]["steps"] == 6
    runs = {m: json.loads((tmp_path / "out" / "runs" / f"{m}__seed0.json").read_text()) for m in ("skill-it", "stratified")}
    first = [runs[m]["records"][0]["losses"] for m in runs]
    assert first[0] == first[1]  # both methods start from the same warm model
    cold = run_experiment(parse_config(text.replace("warm_start: {skills: [var1], steps: 6}\n", "")), tmp_path / "cold")
    cold_first = json.loads((tmp_path / "cold" / "runs" / "stratified__seed0.json").read_text())["records"][0]["losses"]
    assert cold_first != first[0] and "warm_start" not in cold


def test_warm_start_skills_must_exist():
    config = parse_config(BASE.replace("GRAPH", "prerequisites") + "warm_start: {skills: [var7], steps: 2}\n")
    with pytest.raises(SkillError, match="unknown training skill 'var7' in warm_start.skills"):
        validate_experiment(config)


def test_jobs_1_trains_with_one_torch_thread(tmp_path, monkeypatch):
    """`skillit run --jobs 1` runs in the main process: with one torch thread, as docs/usage.md says (issue 14, item 10)."""
    import torch

    import skillit.experiment.runner as runner
    from skillit.experiment.runner import run_experiment

    threads = []
    real_run_one = runner.run_one

    def recording_run_one(spec, progress=None, **kwargs):
        threads.append(torch.get_num_threads())
        return real_run_one(spec, progress, **kwargs)

    monkeypatch.setattr(runner, "run_one", recording_run_one)
    config = parse_config(BASE.replace("GRAPH", "prerequisites").replace("steps: 10, round_steps: 5, eval_every: 5",
                                                                         "steps: 2, round_steps: 1, eval_every: 1")
                          + "model: {n_layer: 1, n_head: 2, n_embd: 16}\n")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        summary = run_experiment(config, tmp_path / "out", jobs=1)
        assert threads == [1] and torch.get_num_threads() == 2
        # item 11: CPU seconds beside the wall-clock train/eval seconds, which a loaded machine stretches
        cpu = summary["methods"]["skill-it"]["cpu_seconds"]
        assert cpu > 0 and cpu == summary["methods"]["skill-it"]["per_seed"][0]["cpu_seconds"]
    finally:
        torch.set_num_threads(before)
