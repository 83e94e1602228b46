"""Learning a graph at several seeds: `graph_learning.seeds`, `skillit graph --seeds`, the stable graph."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from skillit.errors import ConfigError
from skillit.experiment import graph_learning
from skillit.experiment.config import parse_config
from skillit.experiment.graph_learning import (
    graph_seeds,
    learn_graph,
    seeds_label,
    with_graph_seed,
    with_graph_seeds,
)
from skillit.experiment.runner import parse_seeds
from skillit.graph import SkillsGraph
from skillit.graph_learners import LearnerParams

from .test_learn_experiment import TINY

T_975_2 = 4.302652729911275  # t_{0.975, 2}
NAMES = ["var1", "var2", "var3"]
# the fake learner's graph at each seed (rows: training skills, columns: evaluation skills)
MATRICES = {
    0: [[1.0, 0.2, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    1: [[1.0, 0.3, 2.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.8]],
    2: [[1.0, 0.4, 3.0], [0.0, 1.0, 0.0], [0.0, 0.0, -0.1]],
}


class FakeLearner:
    """Stands in for a learner: ``fit`` at seed s returns MATRICES[s] with a cost of 10 + s steps, and counts."""

    name = "fake"
    calls: list[int] = []

    def __init__(self):
        self.params = LearnerParams(steps=1)

    def check(self, skillset):
        pass

    def planned_steps(self, skillset):
        return 10

    def fit(self, skillset, builder, tokenizer, training, *, workdir, jobs, seed, device, progress):
        FakeLearner.calls.append(seed)
        cost = {"train_steps": 10 + seed, "eval_examples": 100, "wall_seconds": 1.0, "train_examples": 80,
                "runs": 3, "base_steps": 2, "run_steps": 8 + seed}
        return SkillsGraph(MATRICES[seed], NAMES, NAMES, {"method": "fake", "params": self.params.model_dump(),
                                                          "cost": cost, "seed": seed, "details": {}})


@pytest.fixture
def fake(monkeypatch):
    FakeLearner.calls = []
    monkeypatch.setattr(graph_learning, "learner_for", lambda config, method=None: FakeLearner())
    return FakeLearner


def test_graph_seeds_from_the_config():
    base = parse_config(TINY)
    assert graph_seeds(base) == [0]
    assert graph_seeds(parse_config(TINY.replace("jobs: 1}", "jobs: 1, seeds: 3}"))) == [0, 1, 2]
    assert graph_seeds(parse_config(TINY.replace("jobs: 1}", "jobs: 1, seeds: 2, seed: 4}"))) == [4, 5]
    assert graph_seeds(parse_config(TINY.replace("jobs: 1}", "jobs: 1, seeds: [3, 7]}"))) == [3, 7]
    assert graph_seeds(parse_config(TINY.replace("seeds: [0]", "seeds: [5, 6]"))) == [5]  # the first run seed
    with pytest.raises(ConfigError, match="either seed .* or a seeds list"):
        parse_config(TINY.replace("jobs: 1}", "jobs: 1, seeds: [1, 2], seed: 1}"))
    with pytest.raises(ConfigError, match=r"seeds \[1\] appear more than once"):
        parse_config(TINY.replace("jobs: 1}", "jobs: 1, seeds: [1, 2, 1]}"))
    with pytest.raises(ConfigError, match="seeds: N must be from 1"):
        parse_config(TINY.replace("jobs: 1}", "jobs: 1, seeds: 0}"))
    with pytest.raises(ConfigError, match="level"):
        parse_config(TINY.replace("jobs: 1}", "jobs: 1, level: 1.5}"))
    # the learner itself does not see seeds, level or stable_only
    config = parse_config(TINY.replace("jobs: 1}", "jobs: 1, seeds: 3, level: 0.9, stable_only: false}"))
    assert config.graph_learning.learner_params() == {"steps": 3, "base_steps": 2}
    # --seed N is one seed, whatever the config's seeds say
    assert graph_seeds(with_graph_seed(config, 4)) == [4]
    assert graph_seeds(with_graph_seeds(config, [1])) == [1]
    with pytest.raises(ConfigError, match=r"graph learner seed -2 \(--seed\) is not an integer from 0 to 4294967295"):
        with_graph_seed(config, -2)
    with pytest.raises(ConfigError, match="<config>:5: graph_learning.seed: seed -1 is not an integer from 0"):
        parse_config(TINY.replace("jobs: 1}", "jobs: 1, seed: -1}"))


def test_cli_seed_lists_parse_alike():
    assert parse_seeds("0-2") == parse_seeds("0,1,2") == parse_seeds("3") == [0, 1, 2]
    config = parse_config(TINY)
    assert graph_seeds(with_graph_seeds(config, parse_seeds("0-2"))) == [0, 1, 2]
    assert graph_seeds(with_graph_seeds(config, parse_seeds("2,5"))) == [2, 5]
    assert (seeds_label([0, 1, 2]), seeds_label([0, 2, 5, 6]), seeds_label([3])) == ("0-2", "0_2_5-6", "3")
    with pytest.raises(ConfigError, match="--seeds: the range '2-0' must go up"):
        parse_seeds("2-0")


def test_three_seeds_give_the_hand_computed_interval_and_the_stable_graph(tmp_path, fake):
    config = parse_config(TINY.replace("jobs: 1}", "jobs: 1, seeds: 3}"))
    graph = learn_graph(config, tmp_path / "g", jobs=1, plots=False)
    assert fake.calls == [0, 1, 2]
    data = json.loads((tmp_path / "g" / "graph.json").read_text())
    u = data["uncertainty"]
    assert u["seeds"] == [0, 1, 2] and u["n"] == 3 and u["level"] == 0.95 and u["stable_only"] is True
    half = T_975_2 / math.sqrt(3)
    # var1 → var2: 0.2, 0.3, 0.4: mean 0.3, std 0.1, [0.3 − 0.1·4.303/√3, ...] = [0.0516, 0.548]: stable
    assert u["mean"][0][1] == pytest.approx(0.3) and u["std"][0][1] == pytest.approx(0.1)
    assert u["low"][0][1] == pytest.approx(0.3 - 0.1 * half) and u["high"][0][1] == pytest.approx(0.3 + 0.1 * half)
    # var1 → var3: 1, 2, 3: mean 2, std 1, [2 − 2.484, 2 + 2.484] contains 0: not stable
    assert u["low"][0][2] == pytest.approx(2 - half) and u["high"][0][2] == pytest.approx(2 + half)
    assert u["stable"] == [[True, True, False], [False, True, False], [False, False, False]]
    # the policies' matrix: unstable edges 0; the unstable self-edge var3 → var3 (1, 0.8, -0.1) keeps its mean 0.5667
    assert np.allclose(graph.matrix, [[1.0, 0.3, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.7 / 3]])
    assert data["matrix"] == graph.matrix.tolist()
    assert np.allclose(u["per_seed"], [MATRICES[s] for s in (0, 1, 2)])
    # N seeds cost N learnings
    assert data["cost"]["train_steps"] == 10 + 11 + 12 and data["cost"]["seeds"] == 3
    assert data["cost"]["per_seed_train_steps"] == [10, 11, 12]
    seed_walls = [json.loads((tmp_path / "g" / f"seed{s}" / "graph.json").read_text())["cost"]["wall_seconds"]
                  for s in (0, 1, 2)]
    assert data["cost"]["eval_examples"] == 300 and data["cost"]["wall_seconds"] == pytest.approx(sum(seed_walls))
    assert data["cost"]["ratio_to_training_run"] == pytest.approx(33 / 8)
    assert data["targets"] == NAMES and data["task"]["seeds"] == [0, 1, 2]
    for seed in (0, 1, 2):  # each seed is the one single-seed learning, in its own folder
        assert json.loads((tmp_path / "g" / f"seed{seed}" / "graph.json").read_text())["task"]["seed"] == seed


def test_each_seed_set_is_cached_and_seeds_are_reused(tmp_path, fake):
    config = parse_config(TINY.replace("jobs: 1}", "jobs: 1, seeds: 3}"))
    learn_graph(config, tmp_path / "g", jobs=1, plots=False)
    stamp = (tmp_path / "g" / "graph.json").stat().st_mtime_ns
    learn_graph(config, tmp_path / "g", jobs=1, plots=False)
    assert fake.calls == [0, 1, 2] and (tmp_path / "g" / "graph.json").stat().st_mtime_ns == stamp  # as is
    # another reading (the mean, not the stable graph) or another seed set: no seed is learned again
    mean = learn_graph(with_graph_seeds(parse_config(TINY.replace("jobs: 1}", "jobs: 1, stable_only: false}")),
                                        [0, 1, 2]), tmp_path / "g", jobs=1, plots=False)
    assert fake.calls == [0, 1, 2]
    assert np.allclose(mean.matrix, np.mean([MATRICES[s] for s in (0, 1, 2)], axis=0))
    two = learn_graph(with_graph_seeds(config, [0, 1]), tmp_path / "g", jobs=1, plots=False)
    assert fake.calls == [0, 1, 2] and two.provenance["uncertainty"]["seeds"] == [0, 1]
    # the folder's combined graph is not taken for a single-seed request at its first seed
    single = learn_graph(with_graph_seed(config, 0), tmp_path / "g", jobs=1, plots=False)
    assert fake.calls == [0, 1, 2, 0] and "uncertainty" not in single.provenance


def test_console_lines_name_stable_helpers_and_warn_without_one(tmp_path, fake):
    from skillit.report.graph_plots import graph_lines

    config = parse_config(TINY.replace("jobs: 1}", "jobs: 1, seeds: 3}"))
    lines = graph_lines(learn_graph(config, tmp_path / "g", jobs=1, plots=False))
    text = "\n".join(lines)
    assert "3 learner seeds (0, 1, 2), 95% t-interval per edge; 1 of 6 off-diagonal edges stable" in text
    assert "var2: stable helpers var1 0.3 [0.052, 0.55]" in lines
    assert "var3: stable helpers none; not stable: var1 2 [-0.48, 4.5]" in lines
    assert any(line.startswith("warning: target var3 has no stable helper at 3 seeds: no other skill gains weight "
                               "from its loss; Skill-It reaches var3 through its self-edge only") for line in lines)
    assert not any("warning: target var2" in line for line in lines)
    single = learn_graph(parse_config(TINY), tmp_path / "one", jobs=1, plots=False)
    assert any("one learner seed: no per-edge interval" in line for line in graph_lines(single))


def test_finetune_targets_are_the_reported_columns(tmp_path, fake):
    config = parse_config(TINY.replace("jobs: 1}", "jobs: 1, seeds: 3}").replace(
        "methods:", "setting: finetune\ntarget_skills: [var3]\nmethods:"))
    graph = learn_graph(config, tmp_path / "g", jobs=1, plots=False)
    assert graph.provenance["targets"] == ["var3"]


def skillit(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "skillit", *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_skillit_graph_seeds_end_to_end(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    result = skillit("graph", str(config), "--seeds", "0-1", "--jobs", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "runs" / "tiny-graph" / "graph-seeds"
    data = json.loads((out / "graph.json").read_text())
    assert data["uncertainty"]["seeds"] == [0, 1] and data["cost"]["seeds"] == 2
    assert data["cost"]["train_steps"] == 2 * (2 + 3 * 3)  # two learnings of base + k runs of h steps
    for seed in (0, 1):
        assert json.loads((out / f"seed{seed}" / "graph.json").read_text())["task"]["seed"] == seed
    assert "at seeds 0-1" in result.stdout and "2 learner seeds (0, 1)" in result.stdout
    assert "stable helpers" in result.stdout
    report = (out / "report.html").read_text()
    assert "stable helpers" in report and "learner seeds" in report
    both = skillit("graph", str(config), "--seeds", "0-1", "--seed", "1", cwd=tmp_path)
    assert both.returncode == 2 and "not both" in both.stderr


def test_run_with_graph_learn_at_two_seeds_reports_both_learnings(tmp_path):
    from skillit.experiment.runner import run_experiment

    config = parse_config(TINY.replace("jobs: 1}", "jobs: 1, seeds: 2}"))
    summary = run_experiment(config, tmp_path / "run", jobs=1)
    cost = summary["graph_cost"]["skill-it"]
    assert cost["source"] == "learned" and cost["seeds"] == 2 and cost["train_steps"] == 2 * 11
    learned = json.loads((tmp_path / "run" / "graph" / "graph.json").read_text())
    assert learned["uncertainty"]["seeds"] == [0, 1]
    assert (tmp_path / "run" / "graph" / "seed1" / "graph.json").is_file()
    report = (tmp_path / "run" / "report.html").read_text()
    assert "22 train steps at 2 learner seeds (2× one learning)" in report and "stable helpers" in report


def test_a_folder_with_a_one_seed_graph_takes_a_seed_set_and_old_files_read_as_before(tmp_path, fake):
    from skillit.graph.uncertainty import uncertainty_of

    old = learn_graph(parse_config(TINY), tmp_path / "g", jobs=1, plots=False)  # graph.json as written before
    assert uncertainty_of(SkillsGraph.load(tmp_path / "g" / "graph.json")) is None
    assert old.matrix.tolist() == MATRICES[0] and fake.calls == [0]
    several = learn_graph(parse_config(TINY.replace("jobs: 1}", "jobs: 1, seeds: 2}")), tmp_path / "g", jobs=1,
                          plots=False)
    assert fake.calls == [0, 0, 1] and several.provenance["uncertainty"]["seeds"] == [0, 1]


def test_graph_difference_takes_a_new_seed_set_but_not_one_seed_for_several(tmp_path, fake):
    from skillit.experiment.graph_learning import graph_difference
    from skillit.experiment.run_dir import claim_graph_folder

    config = parse_config(TINY.replace("jobs: 1}", "jobs: 1, seeds: 3}"))
    learn_graph(config, tmp_path / "g", jobs=1, plots=False)
    assert graph_difference(with_graph_seeds(config, [0, 1]), tmp_path / "g") is None  # seeds reused, not refused
    assert graph_difference(with_graph_seed(config, 0), tmp_path / "g").startswith("seeds ([0, 1, 2] there, 0 now)")
    assert graph_difference(with_graph_seed(config, 1), tmp_path / "g" / "seed1") is None
    assert "seed (1 there, 2 now)" in graph_difference(with_graph_seed(config, 2), tmp_path / "g" / "seed1")
    # --overwrite deletes the seed folders too, so no seed of the other set-up is reused
    claim_graph_folder(tmp_path / "g", "learner", overwrite=True)
    assert not list((tmp_path / "g").iterdir())
