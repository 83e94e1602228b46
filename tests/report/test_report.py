"""The comparison table, the lines beside the paper's figures, and the plots of runs and graphs."""

from rich.console import Console

from skillit.graph import SkillsGraph
from skillit.records.metrics import RunRecord
from skillit.records.summary import summarize
from skillit.report import comparison_table, plot_run
from skillit.report.graph_plots import draw_graph, plot_heatmap
from skillit.report.table import reference_lines

PNG = b"\x89PNG\r\n\x1a\n"


def runs():
    out = []
    for method, final, weights in (("target-only", 0.25, [1.0, 0.0]), ("skill-it", 0.1, [0.3, 0.7])):
        for seed in (0, 1):
            records = [
                {"step": 0, "losses": {"a": 1.0, "b": 1.0}, "accuracies": {"a": 0.0, "b": 0.0},
                 "weights": {"a": 0.5, "b": 0.5}},
                {"step": 50, "losses": {"a": 0.5, "b": 0.5}, "accuracies": {"a": 0.5, "b": 0.5},
                 "weights": {"a": weights[0], "b": weights[1]}},
                {"step": 100, "losses": {"a": final, "b": final},
                 "accuracies": {"a": 1 - final, "b": 0.5}, "weights": {"a": weights[0], "b": weights[1]}},
            ]
            if method == "skill-it":  # reaches the 0.3 target at step 50; target-only at step 100
                records[1]["losses"] = {"a": 0.2, "b": 0.5}
            out.append(RunRecord(method, seed, {}, records, 100, 3.0, 1.0, 10))
    return out


def summary(target_loss=0.3):
    return summarize(runs(), task="t", setting="finetune", steps=100, objective_skills=["a"], target_loss=target_loss)


def render(table) -> str:
    console = Console(width=200, record=True)
    console.print(table)
    return console.export_text()


def test_table_has_a_row_per_method_with_the_best_loss_starred():
    text = render(comparison_table(summary()))
    assert "skill-it *" in text and "target-only *" not in text
    assert "0.100±0.000" in text and "90.0±0.0" in text  # skill-it: loss 0.1, accuracy 0.9 on a
    body = text.split("loss: final")[0]  # the table, above its legend
    assert "→target" in body and "never" not in body
    assert "→target" not in render(comparison_table(summary(target_loss=None)))


def test_reference_lines_compare_steps_to_target_and_paper_figures():
    result = summary()  # skill-it reaches 0.3 at step 50, target-only at step 100
    lines = reference_lines(result, {"source": "paper X", "steps_reduction_vs_target_only": {"skill-it": 0.381},
                                     "mean_loss": {"skill-it": 0.012, "random": 0.5}, "note": "relative only"})
    assert lines[0] == "skill-it reached the target loss in 50% of target-only's steps (50.0% fewer)"
    assert "paper: paper X" in lines
    assert "  skill-it: 38.1% fewer steps than target-only in the paper; ours 50.0% fewer" in lines
    assert "  mean_loss skill-it: paper 0.012, ours 0.100" in lines
    assert "  mean_loss random: paper 0.500, ours n/a" in lines
    assert lines[-1] == "  note: relative only"
    assert reference_lines(summary(target_loss=None), None) == []
    slower = summary()
    slower["methods"]["skill-it"]["steps_to_target"] = 250.0  # target-only: 100
    assert reference_lines(slower, None) == ["skill-it reached the target loss in 250% of target-only's steps (150.0% more)"]


def test_plots_are_written_as_png_and_weights_only_for_changing_mixtures(tmp_path):
    written = plot_run(tmp_path, runs())
    assert [p.name for p in written] == ["accuracy.png", "loss.png", "weights.png"]
    assert all(p.read_bytes().startswith(PNG) for p in written)
    static = [r for r in runs() if r.method == "target-only"]
    for r in static:  # a mixture that never changes has no weights plot
        for rec in r.records:
            rec["weights"] = {"a": 1.0, "b": 0.0}
    assert [p.name for p in plot_run(tmp_path / "static", static)] == ["accuracy.png", "loss.png"]
    assert not list(tmp_path.glob("**/.*.tmp"))  # atomic writes leave no temp files


def test_methods_curves_differ_in_line_style_and_marker_so_none_hides_another():
    from skillit.report.plots import method_style, metric_figure

    three = runs() + [RunRecord("random", seed, {}, [dict(r) for r in run.records], 100, 3.0, 1.0, 10)
                      for seed, run in enumerate(runs()[:2])]  # random's curves lie exactly on target-only's
    fig = metric_figure(three, "losses", "loss")
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["target-only", "skill-it", "random"]
    assert [line.get_linestyle() for line in lines] == ["-", "--", "-."]
    assert [line.get_marker() for line in lines] == ["o", "s", "^"]
    assert [line.get_zorder() for line in lines] == [3, 4, 5]  # each later method thinner and on top: the wider
    assert [line.get_linewidth() for line in lines] == [2.0, 1.6, 1.2]  # line beneath shows around it
    # 40 evaluations: a marker every 5 points, method 1 of 3 starting at point 5 // 3 = 1, method 2 at 10 // 3 = 3
    assert [method_style(i, 40, 3)["markevery"] for i in range(3)] == [(0, 5), (1, 5), (3, 5)]
    assert method_style(0, 3, 1)["markevery"] == (0, 1) and method_style(0, 3, 1)["linewidth"] == 1.5


def test_graph_pictures_are_png(tmp_path):
    graph = SkillsGraph([[1.0, 0.5], [0.0, 1.0]], ["a", "b"])
    for path in (plot_heatmap(graph, tmp_path / "heat.png"), draw_graph(graph, tmp_path / "draw.png", threshold=0.1)):
        assert path.read_bytes().startswith(PNG)
