"""`skillit graph CONFIG`, the `graph_learning` config section and `graph: learn` in `skillit run`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from skillit.errors import CheckpointError, ConfigError
from skillit.experiment.config import parse_config
from skillit.experiment.runner import run_experiment

TINY = """\
name: tiny-graph
task: {name: lego, params: {k: 3, validation_size: 6, shuffle: false}}
model: {n_layer: 1, n_head: 2, n_embd: 16}
training: {steps: 8, batch_size: 8, round_steps: 4, eval_every: 4, warmup_steps: 0, lr: 0.01, train_loss: answer}
graph_learning: {method: linear, params: {steps: 3, base_steps: 2}, jobs: 1}
methods:
  skill-it: {params: {graph: learn, eta: 0.5}}
  stratified: {}
seeds: [0]
"""


def skillit(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "skillit", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_graph_learning_section_is_validated_with_file_and_line():
    with pytest.raises(ConfigError, match=r"<config>:5: graph_learning.params.points: graph learner 'linear' takes no "
                       r"parameter 'points' \(probe, tracin take it\)"):
        parse_config(TINY.replace("base_steps: 2}", "base_steps: 2, points: 3}"))
    with pytest.raises(ConfigError, match="unknown graph learning method 'linaer'; did you mean 'linear'"):
        parse_config(TINY.replace("method: linear", "method: linaer"))
    with pytest.raises(ConfigError, match="graph_learning.params.steps: graph learner 'linear': Input should be greater than or equal to 1"):
        parse_config(TINY.replace("steps: 3,", "steps: 0,"))
    config = parse_config(TINY)
    assert config.graph_learning.learner_params() == {"steps": 3, "base_steps": 2}


def test_skillit_graph_writes_graph_json_and_plots(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    out = tmp_path / "g"
    result = skillit("graph", str(config), "--out", str(out), "--jobs", "1")
    assert result.returncode == 0, result.stderr
    assert "precision" in result.stdout and "train steps" in result.stdout
    data = json.loads((out / "graph.json").read_text())
    assert data["train_skills"] == data["eval_skills"] == ["var1", "var2", "var3"]
    assert len(data["matrix"]) == 3 and all(len(row) == 3 for row in data["matrix"])
    assert data["method"] == "linear" and data["params"]["steps"] == 3
    assert set(data["cost"]) >= {"train_steps", "eval_examples", "wall_seconds"}
    assert data["cost"]["train_steps"] == 2 + 3 * 3  # base + k runs of h steps
    assert data["cost"]["ratio_to_training_run"] == pytest.approx(11 / 8)
    assert {"density", "vs_planted"} <= set(data["diagnostics"])
    assert (out / "graph_heatmap.png").stat().st_size > 0 and (out / "graph_drawing.png").stat().st_size > 0

    other = skillit("graph", str(config), "--out", str(tmp_path / "b"), "--method", "brute-force", "--jobs", "1")
    assert other.returncode == 0, other.stderr
    brute = json.loads((tmp_path / "b" / "graph.json").read_text())
    assert brute["method"] == "brute-force" and brute["params"]["base_steps"] == 2  # shared fields kept
    assert brute["cost"]["train_steps"] == 2 + 6 * 3  # 3 singles + 3 pairs of 3 steps


def test_skillit_graph_bad_input_exits_2_and_writes_nothing(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    result = skillit("graph", str(config), "--out", str(tmp_path / "x"), "--method", "brute")
    assert result.returncode == 2 and "did you mean 'brute-force'" in result.stderr
    assert not (tmp_path / "x").exists()
    ood = tmp_path / "ood.yaml"
    ood.write_text(TINY.replace("task: {name: lego, params: {k: 3, validation_size: 6, shuffle: false}}",
                                "task: {name: lego, params: {k: 3, validation_size: 6}, train_skills: [var1, var2]}"))
    result = skillit("graph", str(ood), "--out", str(tmp_path / "y"), "--method", "threshold")
    assert result.returncode == 2 and "S_eval ⊆ S_train" in result.stderr
    assert not (tmp_path / "y").exists()


def test_run_learns_the_graph_once_and_reports_its_cost(tmp_path):
    config = parse_config(TINY)
    summary = run_experiment(config, tmp_path / "run", jobs=1)
    learned = json.loads((tmp_path / "run" / "graph" / "graph.json").read_text())
    cost = summary["graph_cost"]["skill-it"]
    assert cost["source"] == "learned" and cost["method"] == "linear"
    assert cost["train_steps"] == learned["cost"]["train_steps"] == 11
    assert "graph_cost" not in summary["methods"]["stratified"]
    assert "learn" in (tmp_path / "run" / "config.yaml").read_text()  # the run directory keeps `graph: learn`
    stamp = (tmp_path / "run" / "graph" / "graph.json").stat().st_mtime_ns
    run_experiment(config, tmp_path / "run", jobs=1, resume=True)
    assert (tmp_path / "run" / "graph" / "graph.json").stat().st_mtime_ns == stamp  # learned once

    # a learned graph file given as a path is used as is and its cost is reported too
    path = tmp_path / "run" / "graph" / "graph.json"
    by_file = parse_config(TINY.replace("graph: learn", f"graph: {path}"))
    summary = run_experiment(by_file, tmp_path / "run2", jobs=1)
    assert summary["graph_cost"]["skill-it"]["source"] == str(path)
    assert not (tmp_path / "run2" / "graph").exists()


def test_graph_learn_defaults_are_the_documented_ones_scaled_to_the_run():
    """Without a graph_learning section the probe used base_steps 300 whatever the run and scale none; the
    docs' example (2000 steps) uses base_steps 600, steps 25, points 3, mix 0.5, scale max (issue 14, item 8)."""
    from skillit.experiment.graph_learning import learner_for

    bare = TINY.replace("graph_learning: {method: linear, params: {steps: 3, base_steps: 2}, jobs: 1}\n", "")
    long_run = parse_config(bare.replace("steps: 8,", "steps: 2000,"))
    params = learner_for(long_run).params.model_dump()
    assert learner_for(long_run).name == "probe"
    assert {k: params[k] for k in ("base_steps", "steps", "points", "mix", "scale")} == {
        "base_steps": 600, "steps": 25, "points": 3, "mix": None, "scale": "max"}
    # mix unset means the learner's default share: 0.5, or 0.75 with 2 training skills (0.5 = 1/k is singular)
    assert (learner_for(long_run).share(3), learner_for(long_run).share(2)) == (0.5, 0.75)
    short_run = learner_for(parse_config(bare.replace("steps: 8,", "steps: 200,"))).params
    assert (short_run.base_steps, short_run.steps, short_run.scale) == (60, 5, "max")  # h: at least 5 steps
    linear = learner_for(long_run, "linear").params
    assert (linear.base_steps, linear.steps, linear.scale) == (600, 100, "max")  # linear's own h
    explicit = learner_for(parse_config(TINY)).params  # a field the config sets wins
    assert (explicit.base_steps, explicit.steps, explicit.scale) == (2, 3, "max")
    kept = parse_config(TINY.replace("base_steps: 2}", "base_steps: 2, scale: none}"))
    assert learner_for(kept).params.scale == "none"


def test_diagnostics_of_a_data_task_without_prerequisites_has_no_planted_comparison():
    # ni-stance is a data task with no prerequisites file: graph learning used to stop at the comparison
    from skillit.experiment.config import load_config, shipped_config_path
    from skillit.experiment.graph_learning import diagnostics_of
    from skillit.graph import SkillsGraph

    config = load_config(shipped_config_path("ni-stance"))
    out = diagnostics_of(config, SkillsGraph.identity(["Stance Detection", "Text Matching"]))
    assert set(out) == {"density"}
    # a data task with one (math-pretrain) is still compared with its planted graph
    math = load_config(shipped_config_path("math-pretrain"))
    names = ["arithmetic__add_or_sub", "arithmetic__mul"]
    assert "vs_planted" in diagnostics_of(math, SkillsGraph.identity(names))


def test_skillit_graph_seed_learns_at_that_seed_in_its_own_folder(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    first = skillit("graph", str(config), "--jobs", "1", cwd=tmp_path)
    again = skillit("graph", str(config), "--jobs", "1", "--seed", "1", cwd=tmp_path)
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    default = json.loads((tmp_path / "runs" / "tiny-graph" / "graph" / "graph.json").read_text())
    seeded = json.loads((tmp_path / "runs" / "tiny-graph" / "graph-seed1" / "graph.json").read_text())
    assert default["task"]["seed"] == 0 and seeded["task"]["seed"] == 1  # the run's folder keeps the config's seed
    assert seeded["matrix"] != default["matrix"]  # other data and initialisation: other measured transfer


def test_a_graph_learned_at_another_seed_is_not_taken_from_the_folder(tmp_path):
    from skillit.experiment.graph_learning import learn_graph, with_graph_seed

    config = parse_config(TINY)
    learn_graph(config, tmp_path / "g", jobs=1, plots=False)
    # the same folder at seed 1: not the cached seed-0 graph; the learner's work/ manifest refuses the mix-up
    with pytest.raises(CheckpointError, match=r"made for a different graph learning set-up \(differs in: .*seed"):
        learn_graph(with_graph_seed(config, 1), tmp_path / "g", jobs=1, plots=False)
    assert with_graph_seed(config, 1).graph_learning.seed == 1 and config.graph_learning.seed is None


def test_skillit_graph_refuses_another_set_ups_graph_unless_overwrite(tmp_path):
    from typer.testing import CliRunner

    from skillit.cli import app

    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    out = tmp_path / "g"

    def graph(*args):
        return CliRunner().invoke(app, ["graph", str(config), "--out", str(out), "--jobs", "1", *args])

    assert graph().exit_code == 0
    before = {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()}
    refused = graph("--method", "brute-force")
    assert refused.exit_code == 2
    assert (f"the graph folder {str(out)!r} holds a graph learned with another set-up: method ('linear' there, "
            "'brute-force' now). Nothing was written") in " ".join(refused.stderr.split())
    assert {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()} == before
    other_seed = graph("--seed", "1")
    assert other_seed.exit_code == 2 and "task seed (0 there, 1 now)" in " ".join(other_seed.stderr.split())
    again = graph()  # the same set-up: reused as is
    assert again.exit_code == 0 and (out / "graph.json").read_bytes() == before["graph.json"]
    replaced = graph("--method", "brute-force", "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert json.loads((out / "graph.json").read_text())["method"] == "brute-force"


def test_graph_learn_into_another_out_reuses_the_graph_skillit_graph_learned(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from skillit.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.yaml").write_text(TINY)
    assert CliRunner().invoke(app, ["graph", "tiny.yaml", "--jobs", "1"]).exit_code == 0  # runs/tiny-graph/graph
    shared = tmp_path / "runs" / "tiny-graph" / "graph" / "graph.json"
    summary = run_experiment(parse_config(TINY), tmp_path / "elsewhere", jobs=1)
    assert (tmp_path / "elsewhere" / "graph" / "graph.json").read_bytes() == shared.read_bytes()  # not learned again
    assert summary["graph_cost"]["skill-it"]["copied_from"] == str(Path("runs") / "tiny-graph" / "graph")
    assert summary["graph_cost"]["skill-it"]["train_steps"] == 11  # the learning's cost is still the method's
    # another learner's graph there is not this config's: learned afresh
    other = parse_config(TINY.replace("method: linear", "method: brute-force"))
    summary = run_experiment(other, tmp_path / "third", jobs=1)
    assert "copied_from" not in summary["graph_cost"]["skill-it"]
    assert json.loads((tmp_path / "third" / "graph" / "graph.json").read_text())["method"] == "brute-force"


def test_a_new_run_refuses_to_replace_another_set_ups_graph_in_its_folder(tmp_path):
    from typer.testing import CliRunner

    from skillit.cli import app
    from skillit.errors import OutputError

    (tmp_path / "tiny.yaml").write_text(TINY)
    graph_dir = tmp_path / "run" / "graph"  # `skillit graph`'s default folder for this run directory
    learned = CliRunner().invoke(app, ["graph", str(tmp_path / "tiny.yaml"), "--out", str(graph_dir), "--method",
                                       "brute-force", "--jobs", "1"])
    assert learned.exit_code == 0, learned.output
    before = {path: path.read_bytes() for path in (tmp_path / "run").rglob("*") if path.is_file()}
    with pytest.raises(OutputError, match=r"holds a graph learned with another set-up: method \('brute-force' there, "
                                          r"'linear' now\)"):
        run_experiment(parse_config(TINY), tmp_path / "run", jobs=1)
    assert {path: path.read_bytes() for path in (tmp_path / "run").rglob("*") if path.is_file()} == before
    summary = run_experiment(parse_config(TINY), tmp_path / "run", jobs=1, overwrite=True)
    assert summary["graph_cost"]["skill-it"]["method"] == "linear"


def test_a_graph_learned_on_another_model_is_not_reused(tmp_path, monkeypatch):
    """The graph is the skills' transfer *for a model*: changing the model's width (or its precision) makes the
    folder's graph another set-up's, refused by `skillit graph` and not copied by `graph: learn`."""
    from typer.testing import CliRunner

    from skillit.cli import app
    from skillit.experiment.graph_learning import graph_difference, learn_graph

    monkeypatch.chdir(tmp_path)
    wider = TINY.replace("n_embd: 16", "n_embd: 32")
    (tmp_path / "tiny.yaml").write_text(TINY)
    (tmp_path / "wider.yaml").write_text(wider)
    assert CliRunner().invoke(app, ["graph", "tiny.yaml", "--jobs", "1"]).exit_code == 0  # runs/tiny-graph/graph
    shared = tmp_path / "runs" / "tiny-graph" / "graph"
    learned = json.loads((shared / "graph.json").read_text())
    assert learned["model"]["n_embd"] == 16 and learned["training_precision"] == "fp32"
    before = (shared / "graph.json").read_bytes()

    refused = CliRunner().invoke(app, ["graph", "wider.yaml", "--jobs", "1"])
    assert refused.exit_code == 2
    assert (f"the graph folder {str(Path('runs') / 'tiny-graph' / 'graph')!r} holds a graph learned with another "
            "set-up: model n_embd (16 there, 32 now). Nothing was written") in " ".join(refused.stderr.split())
    assert (shared / "graph.json").read_bytes() == before
    bf16 = parse_config(TINY.replace("train_loss: answer", "train_loss: answer, precision: bf16"))
    assert graph_difference(bf16, shared) == "training.precision ('fp32' there, 'bf16' now)"
    assert graph_difference(parse_config(TINY), shared) is None

    # `graph: learn` in a run elsewhere: the shared graph is not copied, the wider model's own is learned
    summary = run_experiment(parse_config(wider), tmp_path / "elsewhere", jobs=1)
    assert "copied_from" not in summary["graph_cost"]["skill-it"]
    own = json.loads((tmp_path / "elsewhere" / "graph" / "graph.json").read_text())
    assert own["model"]["n_embd"] == 32 and own["matrix"] != learned["matrix"]

    # learning straight into the folder (no `skillit graph` claim): its work/ holds the other model's runs
    with pytest.raises(CheckpointError, match=r"holds the runs of another model \(model n_embd \(16 there, 32 now\)\)"):
        learn_graph(parse_config(wider), shared, jobs=1, plots=False)
    # a graph learned before graphs recorded their model is taken as it is
    (shared / "graph.json").write_text(json.dumps({k: v for k, v in learned.items()
                                                   if k not in ("model", "training_precision")}))
    assert graph_difference(parse_config(wider), shared) is None
