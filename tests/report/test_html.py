"""report.html from run directories: every section, hand-known figures, self-contained, atomic."""

import re

import pytest

from skillit.errors import DataError
from skillit.graph import SkillsGraph
from skillit.report.html import load_run_directory, write_graph_report, write_report
from tests.report.rundirs import make_run_dir

IMG = re.compile(r'<img class="figure" alt="([^"]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def test_one_run_directory_has_every_section_with_hand_known_figures(tmp_path):
    path = write_report(make_run_dir(tmp_path / "run"))
    assert path == tmp_path / "run" / "report.html"
    text = path.read_text()
    # the method table: mean ± std over seeds and the paired difference to stratified with its t-interval
    assert "0.700 ± 0.216" in text  # skill-it: mean of 0.5, 1.0, 0.6; population std 0.2160
    assert "-0.400 [-0.830, +0.030]" in text and "Student-t interval" in text
    assert "steps to target" in text and "12.5 s" in text  # target 2.0 is reached at step 5
    # figures: loss, accuracy, mixture (all methods) and the learned graph's heatmap, inline PNGs
    alts = [alt for alt, _ in IMG.findall(text)]
    assert alts == ["per-skill loss curves", "per-skill accuracy curves", "mixture weights over time",
                    "skills graph heatmap"]
    # examples and epochs (pool a = 100; b has no fixed pool)
    assert "64 (0.64 ep)" in text and "40 (0.40 ep)" in text and "∞" in text
    assert "cost: 30 train steps (3.00× one training run), 900 evaluated examples" in text
    assert "train time ÷ stratified" in text and "1.50×" in text  # skill-it trains 1.5 s vs 1.0 s
    assert "name: fixture" in text  # the resolved config


def test_self_contained_no_script_no_network(tmp_path):
    text = write_report(make_run_dir(tmp_path / "run")).read_text()
    assert "<script" not in text and "@import" not in text and "url(" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text)


def test_several_run_directories_are_compared(tmp_path):
    first = make_run_dir(tmp_path / "one", name="first")
    second = make_run_dir(tmp_path / "two", name="second", graph=False)
    text = write_report([first, second], tmp_path / "cmp.html").read_text()
    assert "Comparison" in text and text.count("-0.400 [-0.830, +0.030]") == 4  # 2 in the comparison, 2 per run
    assert 'href="#run0"' in text and 'id="run1"' in text
    assert "comparison of mean objective loss" in text


def test_without_stratified_there_is_no_difference_column(tmp_path):
    run = make_run_dir(tmp_path / "run")
    summary = (run / "summary.json").read_text().replace('"stratified"', '"uniform"')
    (run / "summary.json").write_text(summary)
    text = write_report(run).read_text()
    assert "Δ loss vs" not in text and "no 'stratified' method" in text


def test_not_a_run_directory_is_a_clear_error_and_leaves_the_old_report(tmp_path):
    out = tmp_path / "report.html"
    out.write_text("old")
    with pytest.raises(DataError, match="no summary.json"):
        write_report(tmp_path / "missing", out)
    assert out.read_text() == "old"


def test_load_groups_metrics_per_method_and_seed_in_summary_order(tmp_path):
    run = load_run_directory(make_run_dir(tmp_path / "run"))
    assert [(r.method, r.seed) for r in run.runs][:4] == [("skill-it", 0), ("skill-it", 1), ("skill-it", 2), ("stratified", 0)]
    assert [rec["step"] for rec in run.runs[0].records] == [0, 5, 10] and run.graph is not None


def test_graph_report_has_heatmap_matrix_and_cost(tmp_path):
    cost = {"train_steps": 30, "eval_examples": 900, "wall_seconds": 4.0}
    graph = SkillsGraph([[1.0, 0.25], [0.0, 1.0]], ["a", "b"], ["a", "b"], {"method": "probe", "cost": cost})
    text = write_graph_report(graph, tmp_path).read_text()
    assert [alt for alt, _ in IMG.findall(text)] == ["skills graph heatmap"]
    assert "<td>0.25</td>" in text and "cost: 30 train steps" in text


def test_a_graph_given_as_a_file_with_a_recorded_cost_is_drawn(tmp_path):
    import json

    run = make_run_dir(tmp_path / "run", graph=False)
    graph_file = SkillsGraph([[1.0, 0.5], [0.0, 1.0]], ["a", "b"], ["a", "b"], {"method": "linear"}).save(
        tmp_path / "learned.json")
    summary = json.loads((run / "summary.json").read_text())
    summary["graph_cost"] = {"skill-it": {"train_steps": 7, "method": "linear", "source": str(graph_file)}}
    (run / "summary.json").write_text(json.dumps(summary))
    text = write_report(run).read_text()
    assert 'alt="skills graph heatmap"' in text and "graph of skill-it: linear" in text


def test_a_run_directory_with_its_report_and_events_is_still_a_run_directory(tmp_path):
    from skillit.experiment.run_dir import RunDirectory

    run = make_run_dir(tmp_path / "run")
    write_report(run)
    (run / "tensorboard").mkdir()
    assert RunDirectory.check_output_path(run) == run  # a rerun into the same --out is not refused


def test_the_run_warnings_are_one_block_before_the_results(tmp_path):
    import json

    from skillit.graph.diagnostics import density

    run = make_run_dir(tmp_path / "run", graph=False)
    complete = SkillsGraph([[1.0, 0.5], [0.5, 1.0]], ["a", "b"], ["a", "b"])
    SkillsGraph(complete.matrix, ["a", "b"], ["a", "b"],
                {"method": "probe", "diagnostics": {"density": density(complete).to_dict()}}).save(run / "graph" / "graph.json")
    summary = json.loads((run / "summary.json").read_text())
    eta = "skill-it (seed 0): the exponent η·A·L̃ spans 40.0 nats across skills at step 5; try eta ≈ 0.05"
    summary["mixture_warnings"] = [eta]
    summary["divergence_warnings"] = ["skill-it (seed 2) diverged at step 10 <b>"]
    (run / "summary.json").write_text(json.dumps(summary))
    text = write_report(run).read_text()
    block = re.search(r'<div class="warnings"><h3>Warnings</h3><ul>(.*?)</ul></div>', text)
    assert block is not None and text.index(block.group(0)) < text.index("<h3>Methods</h3>")
    items = re.findall(r"<li>(.*?)</li>", block.group(1))
    assert items[:2] == [eta, "skill-it (seed 2) diverged at step 10 &lt;b&gt;"]  # escaped, as printed
    assert len(items) == 3 and items[2].startswith("the graph is nearly complete (2 of 2 off-diagonal edges")
    # a run without warnings has no block
    assert '<div class="warnings">' not in write_report(make_run_dir(tmp_path / "quiet")).read_text()


def test_the_report_shows_no_absolute_path(tmp_path):
    import json

    from skillit.report.html import shown_path

    run = make_run_dir(tmp_path / "runs" / "run")
    data, far = tmp_path / "data" / "train.jsonl", "/home/someone/corpora/real_text/train.jsonl"
    (run / "config.yaml").write_text(f"name: fixture\ntask:\n  name: data\n  params:\n    train: {data}\n"
                                     f"    validation: {far}\n    skill_column: skill\n")
    graph = SkillsGraph.load(run / "graph" / "graph.json")
    SkillsGraph(graph.matrix, graph.train_skills, graph.eval_skills,
                {**graph.provenance, "task": {"name": "data", "params": {"train": str(data)}}}).save(
        run / "graph" / "graph.json")
    summary = json.loads((run / "summary.json").read_text())
    summary["graph_cost"]["skill-it"]["source"] = str(run / "graph" / "graph.json")
    (run / "summary.json").write_text(json.dumps(summary))
    text = write_report(run).read_text()
    assert str(tmp_path) not in text and "/home/someone" not in text
    assert "train: ../../data/train.jsonl" in text  # the run folder is runs/run: two folders up
    assert "validation: &#x27;.../real_text/train.jsonl&#x27;" in text  # too far from the run folder: the last two parts
    assert "&quot;train&quot;: &quot;../../data/train.jsonl&quot;" in text  # the graph's provenance
    assert "(graph/graph.json)" in text  # the graph file's cost line
    assert "skill_column: skill" in text
    assert (run / "config.yaml").read_text().count(str(data)) == 1  # the run folder keeps its paths in full
    assert shown_path("data/x.jsonl", tmp_path) == "data/x.jsonl" and shown_path(run, run) == "."
