"""Where the budget went (skillit.records.budget): junk and no-edge shares per round, against hand-computed values.

The synthetic run folder (``_run_dir``): training skills a, b (the objective), jk (declared junk) and x (neither),
rounds of 4 steps, evaluations at steps 0, 4, 8 and 12 (3 rounds). Examples drawn per round (a, b, jk, x):

    stratified seed 0: (4, 4, 2, 2) every round            junk 2/12 per round: total 1/6, after round 1 4/24 = 1/6
    stratified seed 1: (3, 3, 3, 3), (4, 4, 1, 3) twice   junk 3/12, 1/12, 1/12: total 5/36, after round 1 2/24 = 1/12
    skill-it   seed 0: (4, 4, 2, 2), (5, 5, 0, 2) twice   junk 2/12, 0, 0: total 2/36 = 1/18, after round 1 0
    static-x   seed 0: (3, 3, 3, 3) every round            junk 1/4; no edge (identity: jk and x) 1/2

stratified over its 2 seeds: total (1/6 + 5/36)/2 = 11/72, sd |1/6 − 5/36|/√2 = (1/36)/√2; after round 1
(1/6 + 1/12)/2 = 1/8, sd (1/12)/√2, largest seed 1/6; per round 5/24, 1/8, 1/8.

skill-it's graph (a file; the experiment's graph for stratified, which has none): rows a, b, jk, x, columns a, b,
A = [[1, .5], [.3, 1], [0, -.2], [.2, 0]]: jk has no entry > 0 into the objective (no edge), x has one (0.2 into
a), so the no-edge share of stratified and skill-it is their junk share.
"""

from __future__ import annotations

import json
import math

import pytest
import yaml
from typer.testing import CliRunner

from skillit.cli import app
from skillit.graph import SkillsGraph
from skillit.records.budget import (
    declared_junk,
    drawn_per_round,
    method_spend,
    no_edge_skills,
    read_budget,
    run_spend,
)
from skillit.records.metrics import RunRecord, write_metrics
from skillit.records.summary import summarize
from skillit.utils.io import atomic_write_json, atomic_write_text

SKILLS = ("a", "b", "jk", "x")
DRAWN = {  # (method, seed): examples drawn per round (a, b, jk, x)
    ("stratified", 0): [(4, 4, 2, 2)] * 3,
    ("stratified", 1): [(3, 3, 3, 3), (4, 4, 1, 3), (4, 4, 1, 3)],
    ("skill-it", 0): [(4, 4, 2, 2), (5, 5, 0, 2), (5, 5, 0, 2)],
    ("static-x", 0): [(3, 3, 3, 3)] * 3,
}


def _records(drawn: list[tuple[int, ...]], steps=(0, 4, 8, 12)) -> list[dict]:
    """Evaluation records with cumulative examples_seen (as the Mixer writes them)."""
    seen = [0, 0, 0, 0]
    out = []
    for index, step in enumerate(steps):
        if index:
            seen = [n + d for n, d in zip(seen, drawn[index - 1])]
        out.append({"step": step, "round": max(0, index - 1), "losses": {"a": 2.0, "b": 2.0},
                    "accuracies": {"a": 0.0, "b": 0.0}, "weights": {s: 0.25 for s in SKILLS},
                    "examples_seen": dict(zip(SKILLS, seen)), "train_loss": None, "lr": 0.001,
                    "train_seconds": float(step), "eval_seconds": 0.1, "eval_examples": 8})
    return out


def _run_dir(path, *, junk_in_summary=True):
    graph = SkillsGraph([[1.0, 0.5], [0.3, 1.0], [0.0, -0.2], [0.2, 0.0]], list(SKILLS), ["a", "b"])
    graph_file = graph.save(path.parent / f"{path.name}-graph.json")
    runs = [RunRecord(m, s, {}, _records(drawn), 12, 1.0, 0.1, 8) for (m, s), drawn in DRAWN.items()]
    summary = summarize(runs, task="data", setting="out-of-domain", steps=12, objective_skills=["a", "b"],
                        target_loss=None, methods=["stratified", "skill-it", "static-x"])
    summary.update(name="budget", pool_sizes={s: 100 for s in SKILLS})
    if junk_in_summary:
        summary["junk_skills"] = ["jk"]
    config = {"name": "budget", "task": {"name": "data", "params": {"train": "t.jsonl", "junk": [
                  {"name": "jk", "source": "a", "kind": "cipher"}]}},
              "training": {"steps": 12, "round_steps": 4, "eval_every": 4},
              "methods": {"stratified": {}, "skill-it": {"params": {"graph": str(graph_file)}},
                          "static-x": {"policy": "static", "params": {"graph": "identity"}}}}
    path.mkdir(parents=True)
    atomic_write_text(path / "config.yaml", yaml.safe_dump(config))
    write_metrics(path / "metrics.jsonl", runs)
    atomic_write_json(path / "summary.json", summary)
    return path


# ---- pure functions ----------------------------------------------------------------------------------------
def test_examples_drawn_per_round_on_the_round_grid():
    records = _records(DRAWN[("stratified", 1)])
    assert drawn_per_round(records, 4) == {0: dict(zip(SKILLS, (3, 3, 3, 3))), 1: dict(zip(SKILLS, (4, 4, 1, 3))),
                                           2: dict(zip(SKILLS, (4, 4, 1, 3)))}
    # evaluations off the grid (steps 3, 6, 12): (3, 6] ends in round 1 (⌈6/4⌉ − 1) and counts there wholly
    off = _records([(1, 1, 1, 0), (2, 0, 0, 0), (0, 0, 5, 0)], steps=(0, 3, 6, 12))
    assert drawn_per_round(off, 4) == {0: dict(zip(SKILLS, (1, 1, 1, 0))), 1: dict(zip(SKILLS, (2, 0, 0, 0))),
                                       2: dict(zip(SKILLS, (0, 0, 5, 0)))}
    # no round length: the records' own round labels (1 less than the index here)
    assert list(drawn_per_round(off, None)) == [0, 1, 2]
    assert drawn_per_round([{"step": 0, "losses": {}}], 4) == {}  # no examples_seen recorded


def test_run_spend_shares_per_round_in_all_and_after_the_first_round():
    found = run_spend(_records(DRAWN[("stratified", 1)]), ["jk"], ["jk", "x"], 4)
    assert [found.rounds[r].junk_share for r in (0, 1, 2)] == pytest.approx([3 / 12, 1 / 12, 1 / 12])
    assert [found.rounds[r].no_edge_share for r in (0, 1, 2)] == pytest.approx([6 / 12, 4 / 12, 4 / 12])
    assert (found.total.examples, found.total.junk, found.total.no_edge) == (36, 5, 14)
    assert (found.after_first.examples, found.after_first.junk) == (24, 2)
    assert found.after_first.junk_share == pytest.approx(1 / 12)
    no_graph = run_spend(_records(DRAWN[("stratified", 1)]), ["jk"], None, 4)
    assert no_graph.total.no_edge is None and no_graph.total.no_edge_share is None
    assert run_spend([{"step": 0}], ["jk"], None, 4) is None


def test_no_edge_skills_are_outside_the_objective_with_no_positive_entry_into_it():
    graph = SkillsGraph([[1.0, 0.5, 0.0], [0.0, 0.0, 0.0], [0.0, -0.2, 3.0], [0.2, 0.0, 0.0]], ["a", "b", "jk", "y"],
                        ["a", "b", "jk"])
    # b is an objective skill (never counted, even with an empty row); jk's only positive entry is into itself,
    # which is not an objective skill; y helps a; x has no row at all
    assert no_edge_skills(graph, ["a", "b", "jk", "y", "x"], ["a", "b"]) == ["jk", "x"]


def test_method_spend_is_the_mean_and_sample_sd_over_seeds():
    runs = {seed: run_spend(_records(DRAWN[("stratified", seed)]), ["jk"], ["jk"], 4) for seed in (0, 1)}
    found = method_spend("stratified", runs, "g", ["jk"])
    assert found.junk[0] == pytest.approx(11 / 72)
    assert found.junk[1] == pytest.approx((1 / 36) / math.sqrt(2))
    assert found.junk_after_first[0] == pytest.approx(1 / 8)
    assert found.junk_after_first[1] == pytest.approx((1 / 12) / math.sqrt(2))
    assert found.junk_after_first_max == pytest.approx(1 / 6)
    assert found.rounds == (0, 1, 2)
    assert [m for m, _ in found.junk_per_round] == pytest.approx([5 / 24, 1 / 8, 1 / 8])
    one = method_spend("skill-it", {0: run_spend(_records(DRAWN[("skill-it", 0)]), ["jk"], None, 4)})
    assert one.junk == (pytest.approx(1 / 18), None) and one.junk_after_first == (0.0, None)
    assert one.no_edge == (None, None)


# ---- a run folder ------------------------------------------------------------------------------------------
def test_read_budget_of_a_run_folder(tmp_path):
    budget = read_budget(_run_dir(tmp_path / "run"))
    assert budget.junk_skills == ("jk",) and budget.round_steps == 4 and budget.shown
    assert budget.graphs["skill-it"].label.startswith("own: ") and budget.graphs["skill-it"].no_edge == ("jk",)
    assert budget.graphs["stratified"].label == "skill-it's (tmp_path0/run-graph.json)".replace(
        "tmp_path0", tmp_path.name) and budget.graphs["stratified"].no_edge == ("jk",)
    assert budget.graphs["static-x"].label == "own: identity" and budget.graphs["static-x"].no_edge == ("jk", "x")
    found = {m.method: m for m in budget.methods()}
    assert found["stratified"].junk[0] == pytest.approx(11 / 72)
    assert found["stratified"].no_edge_after_first[0] == pytest.approx(1 / 8)
    assert found["skill-it"].junk_after_first == (0.0, None)
    assert found["static-x"].junk[0] == pytest.approx(1 / 4) and found["static-x"].no_edge[0] == pytest.approx(1 / 2)


def test_junk_of_a_run_made_before_the_summary_recorded_it_comes_from_the_config(tmp_path):
    folder = _run_dir(tmp_path / "old", junk_in_summary=False)
    assert read_budget(folder).junk_skills == ("jk",)  # config.yaml's task.params.junk
    assert declared_junk({}, {"task": {"name": "lego", "params": {}}}) == ()
    assert declared_junk({"junk_skills": ["j2"]}, None) == ("j2",)


def test_a_graph_that_cannot_be_read_makes_the_share_na_naming_why(tmp_path):
    folder = _run_dir(tmp_path / "run")
    config = yaml.safe_load((folder / "config.yaml").read_text())
    config["methods"]["skill-it"]["params"]["graph"] = "gone.json"
    config["methods"]["static-x"]["params"]["graph"] = "learn"
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    budget = read_budget(folder)
    assert budget.graphs["skill-it"].no_edge is None
    assert "graph file 'gone.json' not found" in budget.graphs["skill-it"].label
    assert budget.graphs["static-x"].label == "n/a: graph/graph.json is missing"
    assert budget.graphs["stratified"].label == "n/a: no graph in the run"
    assert budget.shown  # the junk is still measured
    assert [m.no_edge for m in budget.methods()] == [(None, None)] * 3


def test_an_unreadable_config_leaves_the_records_rounds_and_no_graph(tmp_path):
    folder = _run_dir(tmp_path / "run")
    (folder / "config.yaml").write_text("methods: [unclosed\n")
    budget = read_budget(folder)
    assert budget.junk_skills == ("jk",) and budget.round_steps is None  # the summary's junk; rounds from records
    assert {g.label for g in budget.graphs.values()} == {"n/a: no graph in the run"}
    found = {m.method: m for m in budget.methods()}
    assert found["stratified"].junk_after_first[0] == pytest.approx(1 / 8)  # the records' rounds are the grid here


def test_a_run_without_junk_or_an_edgeless_skill_has_no_budget_view(tmp_path):
    from tests.report.rundirs import make_run_dir

    assert not read_budget(make_run_dir(tmp_path / "plain")).shown  # pre-training: every skill is the objective


# ---- compare and report.html -------------------------------------------------------------------------------
def test_compare_prints_where_the_budget_went(tmp_path):
    from skillit.report.compare import build_leaderboard, load_run_dir, to_markdown
    from tests.report.rundirs import make_run_dir

    text = to_markdown(build_leaderboard([load_run_dir(_run_dir(tmp_path / "run"))]))
    assert "Where the budget went (junk: jk; rounds of 4 steps)" in text
    # stratified: 11/72 = 15.3 %, sd 1.96 %; after round 1 1/8 ± 5.89 %, largest seed 1/6; per round 5/24, 1/8, 1/8
    assert ("| stratified | 15.3% ± 2.0 | 12.5% ± 5.9 (max 16.7%) | 15.3% ± 2.0 | 12.5% ± 5.9 | 21 · 12 · 12 | "
            "21 · 12 · 12 | skill-it's") in text
    assert "| skill-it | 5.6% | 0.0% | 5.6% | 0.0% | 17 · 0 · 0 | 17 · 0 · 0 | own: " in text
    assert "| static-x | 25.0% | 25.0% | 50.0% | 50.0% | 25 · 25 · 25 | 50 · 50 · 50 | own: identity (jk, x) |" in text
    plain = to_markdown(build_leaderboard([load_run_dir(make_run_dir(tmp_path / "plain"))]))
    assert "budget" not in plain  # nothing new where there is no junk and no skill without an edge
    printed = CliRunner().invoke(app, ["compare", str(tmp_path / "run")])  # what `skillit compare` prints
    assert printed.exit_code == 0 and "| static-x | 25.0% | 25.0% | 50.0% | 50.0% |" in printed.output


def test_report_html_has_the_budget_section(tmp_path):
    from skillit.report.html import load_run_directory, render_report
    from tests.report.rundirs import make_run_dir

    page = render_report([load_run_directory(_run_dir(tmp_path / "run"))])
    assert "<h3>Where the budget went</h3>" in page
    assert "<td>stratified</td><td>15.3% ± 2.0</td><td>12.5% ± 5.9</td>" in page
    assert 'alt="where the budget went per round"' in page
    assert "Where the budget went" not in render_report([load_run_directory(make_run_dir(tmp_path / "plain"))])


# ---- a real run of the data task with junk -------------------------------------------------------------------
def test_a_data_task_run_records_its_junk_and_the_shares_follow_the_sampler(tmp_path):
    from skillit.experiment.config import parse_config
    from skillit.experiment.runner import run_experiment

    rows = [{"skill": s, "text": f"{s} line {i}\nmore {i}"} for i in range(20) for s in ("a", "b")]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = parse_config(
        f"name: tj\ntask: {{name: data, params: {{train: {tmp_path / 'train.jsonl'}, holdout: 0.2, text_field: text, "
        "junk: [{name: jk, source: a, kind: repeat_line}]}}\nsetting: pretrain\ntarget_skills: [a, b]\n"
        "model: {n_layer: 1, n_head: 1, n_embd: 8, tokenizer: char}\n"
        "training: {steps: 8, batch_size: 3, round_steps: 4, eval_every: 4, eval_batch_size: 8}\n"
        "methods: {stratified: {}, clean: {policy: static, params: {weights: {a: 1, b: 1}}}}\nseeds: [0]\n")
    summary = run_experiment(config, tmp_path / "out", jobs=1)
    assert summary["junk_skills"] == ["jk"]
    found = {m.method: m for m in read_budget(tmp_path / "out").methods()}
    # quota sampling: a round of 4 steps × 3 examples gives each of 3 skills exactly 4 under stratified
    assert found["stratified"].junk_per_round == ((1 / 3, None), (1 / 3, None))
    assert found["stratified"].junk_after_first == (1 / 3, None)
    assert found["clean"].junk == (0.0, None)
    assert found["clean"].no_edge == (None, None)  # no graph in this run
