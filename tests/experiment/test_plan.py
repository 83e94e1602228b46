"""The experiment plan: built once, the task loaded once per seed and process, graph specs parsed once into a
typed union, and a method's graphs known from what its policy asked for (stages included)."""

import pickle

import pytest

import skillit.experiment.build as build
from skillit.errors import ConfigError, GraphError
from skillit.experiment.config import parse_config
from skillit.experiment.plan import ExperimentPlan
from skillit.experiment.runner import run_experiment
from skillit.graph.spec import BuiltinGraph, FileGraph, IdentityGraph, LearnGraph, PrerequisitesGraph, parse_graph_spec

CONFIG = """\
name: t
task: {name: lego, params: {k: 3, validation_size: 4}}
training: {steps: 2, round_steps: 1, eval_every: 1, batch_size: 4}
model: {n_layer: 1, n_head: 2, n_embd: 16}
methods:
  skill-it: {params: {graph: prerequisites}}
  plain: {policy: skill-it, params: {graph: identity}}
  two-stage:
    policy: staged
    params:
      stages:
        - {steps: 1, policy: stratified}
        - {steps: 1, policy: skill-it, params: {graph: "builtin:lego"}}
  stratified: {}
"""


@pytest.fixture
def loads(monkeypatch):
    """Every task load (``build_task``) of this process, as (task, seed)."""
    calls = []
    real = build.build_task

    def counting(name, params, seed):
        calls.append((name, seed))
        return real(name, params, seed)

    monkeypatch.setattr(build, "build_task", counting)
    return calls


def test_graph_specs_parse_into_the_typed_union(tmp_path):
    (tmp_path / "g.json").write_text("{}")
    assert parse_graph_spec("identity") == IdentityGraph()
    assert parse_graph_spec("learn") == LearnGraph()
    assert parse_graph_spec("prerequisites") == PrerequisitesGraph()
    assert parse_graph_spec("builtin:lego-finetune") == BuiltinGraph("lego-finetune")
    assert parse_graph_spec("g.json", tmp_path) == FileGraph(tmp_path / "g.json")  # relative: the config's folder
    assert str(parse_graph_spec("builtin:lego")) == "builtin:lego"
    with pytest.raises(GraphError, match="graph 'nope.json' is not 'identity', 'prerequisites', 'builtin:NAME' or an "
                                         "existing file"):
        parse_graph_spec("nope.json", tmp_path)


def test_a_method_s_graphs_are_what_its_policy_asked_for_stages_included(loads):
    plan = ExperimentPlan.build(parse_config(CONFIG))
    assert {name: method.graphs for name, method in plan.methods.items()} == {
        "skill-it": (PrerequisitesGraph(),), "plain": (IdentityGraph(),), "two-stage": (BuiltinGraph("lego"),),
        "stratified": (),
    }
    assert plan.learning_methods == [] and plan.graph_files() == {}
    assert plan.references == dict.fromkeys(plan.methods)
    assert plan.described["stratified"] == {"name": "stratified", "graph": None}
    assert loads == [("lego", 0)]  # the checks of four policies: one load


def test_seed_data_models_and_policies_come_from_one_load_per_seed(loads):
    plan = ExperimentPlan.build(parse_config(CONFIG.replace("methods:", "seeds: [0, 1]\nmethods:")))
    assert plan.seed(0) is plan.seed(0)
    for seed in (0, 1, 0, 1):
        plan.new_model(seed)
        for method in plan.methods:
            plan.policy(method, seed)
    assert loads == [("lego", 0), ("lego", 1)]
    assert plan.new_model(1).state_dict()["lm_head.weight"].equal(plan.new_model(1).state_dict()["lm_head.weight"])


def test_a_pickled_plan_travels_without_its_seed_data(loads):
    plan = ExperimentPlan.build(parse_config(CONFIG))
    copy = pickle.loads(pickle.dumps(plan))
    assert copy._seeds == {} and plan._seeds.keys() == {0}
    copy.seed(0)
    copy.seed(0)
    assert loads == [("lego", 0), ("lego", 0)]  # the copy (a worker's) loads once, for every run it trains


def test_a_learned_graph_in_a_stage_is_known_and_refused_until_learned():
    text = CONFIG.replace('params: {graph: "builtin:lego"}', "params: {graph: learn}")
    plan = ExperimentPlan.build(parse_config(text))
    assert plan.methods["two-stage"].graphs == (LearnGraph(),) and plan.learning_methods == ["two-stage"]
    with pytest.raises(ConfigError, match="method 'two-stage': graph 'learn' is learned by run_experiment once"):
        plan.policy("two-stage", 0)
    learned = plan.with_learned_graph("/somewhere/graph.json")
    assert learned.graph_spec("learn") == FileGraph(build.Path("/somewhere/graph.json"))
    assert plan.learned_graph is None and learned.methods is plan.methods
    assert learned.seed(0) is plan.seed(0)  # the runs after graph learning load nothing again


def test_an_in_process_experiment_loads_the_task_once(loads, tmp_path):
    config = parse_config(CONFIG).model_copy(update={"seeds": [3]})
    config = config.model_copy(update={"methods": {m: config.methods[m] for m in ("plain", "stratified")}})
    summary = run_experiment(config, tmp_path / "out", jobs=1)  # the plan, two runs, the summary
    assert loads == [("lego", 3)] and sorted(summary["methods"]) == ["plain", "stratified"]
