"""The comparison table in a log (not a terminal): COLUMNS is honoured and method, loss and accuracy never shrink."""

import io

import pytest
from rich.console import Console

from skillit.records.metrics import RunRecord
from skillit.records.summary import summarize
from skillit.report.table import comparison_tables, output_width

SKILLS = [f"a_rather_long_skill_name_{i}" for i in range(8)]  # 26 characters each


def summary():
    runs = []
    for method, loss in (("skill-it-with-a-long-name", 0.125), ("stratified", 0.25)):
        for seed in (0, 1):
            records = [{"step": 0, "losses": {s: 1.0 for s in SKILLS}, "accuracies": {s: 0.0 for s in SKILLS},
                        "weights": {s: 1 / 8 for s in SKILLS}},
                       {"step": 10, "losses": {s: loss for s in SKILLS},
                        "accuracies": {s: 0.5 + i / 100 for i, s in enumerate(SKILLS)}, "weights": {s: 1 / 8 for s in SKILLS}}]
            runs.append(RunRecord(method, seed, {}, records, 10, 3.0, 1.0, 10))
    return summarize(runs, task="t", setting="pretrain", steps=10, objective_skills=SKILLS, target_loss=0.5)


def render(width):
    # laid out for `width` but printed on a console 3× wider, so an overflowing table would show (not be cropped)
    console = Console(width=3 * width, record=True, file=io.StringIO())
    for table in comparison_tables(summary(), width):
        console.print(table)
    return console.export_text()


@pytest.mark.parametrize("width", [60, 80, 120])
def test_narrow_output_keeps_the_totals_whole_and_moves_skills_to_further_tables(width):
    text = render(width)
    assert max(len(line.rstrip()) for line in text.splitlines() if line.strip()[:1] in "┏┃┡│└") <= width
    for whole in ("skill-it-with-a-long-name", "0.125±0.000", "0.250±0.000", "53.5±0.0", "┃ →target ┃", "train s"):
        assert whole in text  # never collapsed to "…"
    assert "…" not in text
    assert text.count("final accuracy % per skill (") >= 1
    for i in range(8):
        assert f"{50 + i:.1f}" in text  # every skill's accuracy is shown somewhere
        assert f"_{i}" in text  # and its name (folded over header lines, never cut)


def test_wide_output_is_one_table_as_before():
    text = render(400)
    assert "(2/" not in text and "a_rather_long_skill_name_7" in text  # no continued table


def test_output_width_honours_columns_only_when_not_a_terminal():
    assert output_width(True, {"COLUMNS": "80"}) is None  # a terminal: rich asks the terminal
    assert output_width(False, {"COLUMNS": "80"}) == 80
    assert output_width(False, {}) == 120 and output_width(False, {"COLUMNS": "wide"}) == 120


@pytest.mark.parametrize("width", [80, 120, 400])
def test_the_legend_is_printed_at_the_console_width_under_the_last_table(width):
    # a caption would wrap to its table's width: under a narrow per-skill table each legend line folded in three
    console = Console(width=width, record=True, file=io.StringIO())
    for item in comparison_tables(summary(), width):
        console.print(item)
    lines = console.export_text().splitlines()
    legend = [i for i, line in enumerate(lines) if line.startswith("loss: final validation loss")]
    assert len(legend) == 1 and legend[0] > max(i for i, line in enumerate(lines) if line.startswith("└"))
    # the legend's lines fill the console's width where they are longer than it (not a narrow table's)
    assert max(len(line) for line in lines[legend[0]:]) >= min(width, 100)
