"""Every shipped benchmark config runs end to end for a handful of steps, so none of them rots."""

import pytest

from skillit.experiment.build import build_skillset
from skillit.experiment.config import benchmark_names, load_config, shipped_config_path
from skillit.experiment.runner import apply_overrides, run_experiment
from skillit.records.budget import drawn_per_round, read_budget
from skillit.records.layout import RunLayout
from skillit.report.table import reference_lines
from tests.conftest import skip_without_generated_data

# one method per kind of signal or schedule: validation loss, the improved rule, probe sub-rounds,
# training loss, gradient statistics, a reference run, a graph learned before the runs, a full-model gradient probe
# (the peers' update rules are tested in tests/policy)
SMOKE_METHODS = ("skill-it", "skill-it-plus", "skill-it-plus-learned", "aioli", "odm", "rb-balance", "doremi-online",
                 "dga")


# of the pre-training regimes (issue 29), the one whose code paths are not all in the arena's: the junk skills and
# an objective that leaves training skills out; objective weights, `natural` and `fresh` are tested in tests/records
# and tests/policy, and the others load in the test below
REGIMES_SMOKE = "real-text-junk"


def _smoke_names() -> list[str]:
    """Every benchmark, except that of the six scarce-target configs (the same methods and code paths, differing
    only in the target and its pool) one runs, on the cheaper maths data (`real-text-finetune` runs the text
    path), and of the pre-training regimes one (:data:`REGIMES_SMOKE`); the others load in the tests below."""
    names, scarce = [], False
    for name in benchmark_names():
        config = load_config(shipped_config_path(name), check_data=False)
        if "scarce-target" in config.tags:
            if scarce or "math_skills" not in str(config.task.params.get("train")):
                continue
            scarce = True
        if "regimes" in config.tags and name != REGIMES_SMOKE:
            continue
        names.append(name)
    return names


def _loaded_only(tag: str) -> list[str]:
    smoke = _smoke_names()
    return [n for n in benchmark_names() if n not in smoke
            and tag in load_config(shipped_config_path(n), check_data=False).tags]


@pytest.mark.parametrize("name", _loaded_only("regimes"))
def test_the_other_regimes_configs_build_their_skills_and_objective(name):
    config = load_config(shipped_config_path(name), check_data=False)
    skip_without_generated_data(config)
    names = build_skillset(config, 0).names
    objective = config.target_skills or config.task.eval_skills or names
    assert set(objective) <= set(names) and len(names) >= 2


@pytest.mark.parametrize("name", _loaded_only("scarce-target"))
def test_the_other_scarce_target_configs_load_with_their_target_cut(name):
    config = load_config(shipped_config_path(name), check_data=False)
    skip_without_generated_data(config)
    skills = {s.name: s for s in build_skillset(config, 0).skills}
    cap = config.task.params["max_examples_per_skill"]
    (target,) = config.target_skills
    assert cap == {target: cap[target]} and skills[target].train.size == cap[target]
    assert all(s.train.size > cap[target] for n, s in skills.items() if n != target)


@pytest.mark.slow
@pytest.mark.parametrize("name", _smoke_names())
def test_benchmark_config_runs_a_few_steps(name, tmp_path):
    config = load_config(shipped_config_path(name), check_data=False)
    skip_without_generated_data(config)
    rounds = config.training.steps // config.training.round_steps
    if len(config.methods) > 6:  # the arena configs: one method of each kind keeps the smoke run short
        kinds = [m for m in SMOKE_METHODS if m in config.methods]
        config = apply_overrides(config, methods=[m for m in config.methods if m in kinds or m == "stratified"])
    per_round = 2
    if any(config.policy_of(method).startswith("aioli") for method in config.methods):
        per_round = len(build_skillset(config, 0).train_names) + 2  # one 1-step probe per skill, then training
    small = apply_overrides(config, seeds=1, steps=per_round * max(rounds, 2))
    data = small.model_dump()
    params = data["task"]["params"]
    if "validation_size" in params:  # keep the smoke run small; the real sizes are checked by loading above
        params["validation_size"] = min(params["validation_size"], 8)
    if params.get("train_pool_size"):  # curricula score the whole pool at start-up
        params["train_pool_size"] = min(params["train_pool_size"], 2000)
    if data["task"]["name"] == "data":  # real data: a few examples per skill is enough to run every code path
        params["max_examples"] = min(params.get("max_examples") or 200, 200)
        params["max_validation"] = min(params.get("max_validation") or 4, 4)
        # and a few per batch: real-text chunks are ~520 tokens long (the code paths do not depend on the size)
        data["training"]["batch_size"] = min(data["training"]["batch_size"], 4)
        data["training"]["eval_batch_size"] = min(data["training"].get("eval_batch_size") or 16, 16)
    learns = data.get("graph_learning") is not None or any(
        (m.get("params") or {}).get("graph") == "learn" for m in data["methods"].values())
    if learns:  # a learned graph: the learner's code path, at a few steps (its defaults train ~900 steps)
        learning = data.get("graph_learning") or {"method": "probe", "params": {}}
        learning["params"].update(steps=1 if learning["method"] == "tracin" else 2, base_steps=4)
        if learning["method"] in ("probe", "tracin"):
            learning["params"]["points"] = 1
        data["graph_learning"] = learning
    small = type(small).model_validate(data)
    summary = run_experiment(small, tmp_path / name, config_dir=shipped_config_path(name).parent, jobs=1)
    assert list(summary["methods"]) == list(config.methods)  # (the subset, for the arena configs)
    assert reference_lines(summary, config.reference)  # the paper's figures are shown beside ours
    declared = [junk["name"] for junk in config.task.params.get("junk") or []]
    assert summary.get("junk_skills", []) == declared  # recorded for the budget view (skillit.records.budget)
    if declared:  # stratified's quota sampling gives each of the k skills ⌊n/k⌋ or ⌈n/k⌉ of a round's n examples
        budget = read_budget(tmp_path / name)
        k = len(summary["pool_sizes"])
        lines = [line for line in RunLayout(tmp_path / name).read_metrics() if line["method"] == "stratified"]
        rounds = drawn_per_round(lines, budget.round_steps)
        assert len(rounds) == -(-small.training.steps // small.training.round_steps) >= 2  # every round, the last too
        for drawn in rounds.values():
            n = sum(drawn.values())
            assert all(drawn[junk] in (n // k, -(-n // k)) for junk in declared)
        after = [drawn for r, drawn in rounds.items() if r >= 1]
        spent = {found.method: found for found in budget.methods()}
        assert spent["stratified"].junk_after_first[0] == pytest.approx(
            sum(d[j] for d in after for j in declared) / sum(sum(d.values()) for d in after))


def test_reference_lines_compare_with_the_paper():
    summary = {
        "methods": {
            "target-only": {"final": {"mean_loss": 1.0}, "steps_to_target": 1000.0},
            "skill-it": {"final": {"mean_loss": 0.5, "mean_accuracy": 0.9}, "steps_to_target": 400.0},
        }
    }
    lines = reference_lines(
        summary,
        {"source": "Table X", "mean_accuracy": {"skill-it": 0.994}, "steps_reduction_vs_target_only": {"skill-it": 0.381}},
    )
    assert lines[0] == "skill-it reached the target loss in 40% of target-only's steps (60.0% fewer)"
    assert "paper: Table X" in lines
    assert "  mean_accuracy skill-it: paper 99.400%, ours 90.000%" in lines
    assert "  skill-it: 38.1% fewer steps than target-only in the paper; ours 60.0% fewer" in lines
