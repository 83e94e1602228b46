"""What the terminal table says to conclude: paired differences to stratified with their interval, a verdict
per method, no ± and no verdict on one seed, a best mark only beyond the seed noise, a legend line per column;
loss and bits per token instead of accuracy when the targets are whole texts."""

import io
import math

import pytest
from rich.console import Console

from skillit.records.metrics import RunRecord
from skillit.records.summary import summarize
from skillit.report.table import comparison_table, comparison_tables, legend_lines

# final loss of skill "a" per method and seed; hand-computed below
LOSSES = {
    "stratified": [1.0, 1.2, 1.1],
    "skill-it": [0.8, 1.1, 0.9],  # d = -0.2, -0.1, -0.2
    "random": [1.1, 1.1, 1.2],  # d = +0.1, -0.1, +0.1
}
T_975_2 = 4.302653  # Student t, 0.975 quantile, 2 degrees of freedom


def summary(losses=LOSSES, seeds=(0, 1, 2), whole_text=False):
    runs = []
    for method, values in losses.items():
        for seed in seeds:
            loss = values[seed]
            records = [{"step": 0, "losses": {"a": 2.0, "b": 2.0}, "accuracies": {"a": 0.0, "b": 0.0}},
                       {"step": 10, "losses": {"a": loss, "b": 2 * loss}, "accuracies": {"a": 0.5, "b": 0.25}}]
            runs.append(RunRecord(method, seed, {}, records, 10, 3.0, 1.0, 10))
    return summarize(runs, task="t", setting="pretrain", steps=10, objective_skills=["a"], target_loss=None,
                     whole_text=whole_text)


def render(result, width=240) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    for table in comparison_tables(result, width):
        console.print(table)
    return console.export_text()


def row(text: str, method: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"│ {method} "))
    return [cell.strip() for cell in line.strip("│").split("│")]


def test_three_seeds_hand_computed_intervals_and_verdicts():
    # skill-it: d = -0.2, -0.1, -0.2: mean -1/6, s_d = sqrt(1/300), half = t · s_d / sqrt 3
    half = T_975_2 * math.sqrt(1 / 300) / math.sqrt(3)
    assert half == pytest.approx(0.143422, abs=1e-6)
    text = render(summary())
    assert row(text, "skill-it")[3:5] == [f"{-1 / 6:+.3f} [{-1 / 6 - half:+.3f}, {-1 / 6 + half:+.3f}]", "better"]
    assert row(text, "skill-it")[3] == "-0.167 [-0.310, -0.023]"
    # random: d = +0.1, -0.1, +0.1: mean 1/30, s_d = sqrt(1/75), interval contains 0
    assert row(text, "random")[3:5] == ["+0.033 [-0.254, +0.320]", "tie"]
    assert row(text, "stratified")[3:5] == ["—", "baseline"]
    assert row(text, "skill-it")[1] == "0.933±0.125"  # ± population std over 3 seeds: sqrt(0.0467/3)
    # skill-it has the lowest loss, but against random (d = -0.3, 0, -0.3) the interval contains 0: no mark
    assert "*" not in text.split("loss: final")[0]
    assert ("no * (best) mark: the lowest loss (skill-it) is not below every other method's beyond the seed noise "
            "(its paired 95% interval against some method contains 0 or lies above it)") in " ".join(text.split())


def test_the_best_mark_needs_a_lead_beyond_the_noise_against_every_method():
    two = {m: LOSSES[m] for m in ("stratified", "skill-it")}
    text = render(summary(two))
    assert row(text, "skill-it *")[4] == "better"
    assert ("*: skill-it has the lowest loss, below every other method's beyond the seed noise (paired 95% interval "
            "of the difference below 0 against each)") in " ".join(text.split())


def test_one_seed_has_no_plus_minus_no_verdict_and_no_mark():
    text = render(summary(seeds=(0,)))
    assert "±" not in text.split("loss: final")[0]
    assert row(text, "skill-it")[1:5] == ["0.800", "50.0", "-0.200", "1 seed: no interval"]
    assert row(text, "random")[3:5] == ["+0.100", "1 seed: no interval"]
    assert "*" not in text.split("loss: final")[0]
    flat = " ".join(text.split())
    assert "1 seed: no ± (one run measures no spread between seeds)" in flat
    assert "(one seed gives no interval)" in flat


def test_a_legend_line_for_every_column_and_mark():
    lines = legend_lines(summary())
    assert lines == [
        "loss: final validation loss (nats per answer token), mean over the objective skills (a); acc %: exact-match "
        "accuracy on the same skills; ± std over the 3 seeds",
        "Δloss vs stratified: per seed, the method's loss − stratified's at the same seed (same initial model and "
        "evaluation data); mean over the seeds both ran [95% Student-t interval]; negative = lower loss",
        "vs stratified: better / worse = the interval lies wholly below / above 0 (a difference beyond the seed "
        "noise); tie = it contains 0 (the seeds do not resolve a difference); 1 seed: no interval = no verdict "
        "(run 2 or more seeds, e.g. --seeds 3)",
        "no * (best) mark: the lowest loss (skill-it) is not below every other method's beyond the seed noise (its "
        "paired 95% interval against some method contains 0 or lies above it)",
        "skill columns: final accuracy % per skill",
        "train s / eval s: wall-clock seconds per run spent training and evaluating (evaluation is counted apart; "
        "on a loaded machine they grow with the load: summary.json has cpu_seconds)",
    ]
    no_baseline = summary({m: LOSSES[m] for m in ("skill-it", "random")})
    assert ("no 'stratified' method in this run, so no paired differences (add stratified to the methods)"
            in legend_lines(no_baseline))
    assert [c.header for c in comparison_table(no_baseline).columns][:4] == ["method", "loss", "acc %", "a"]
    # another baseline: the differences are taken to it
    assert [c.header for c in comparison_table(summary(), baseline="random").columns][3:5] == [
        "Δloss vs random [95% CI]", "vs random"]


def test_whole_text_targets_show_loss_and_bits_per_token_not_accuracy():
    result = summary(whole_text=True)
    headers = [c.header for c in comparison_table(result).columns]
    assert headers[:3] == ["method", "loss", "bits/tok"] and "acc %" not in headers
    text = render(result)
    # skill-it seed mean loss 2.8/3 nats on a, twice that on b; bits = nats / ln 2
    cells = row(text, "skill-it")
    std = math.sqrt(((0.8 - 2.8 / 3) ** 2 + (1.1 - 2.8 / 3) ** 2 + (0.9 - 2.8 / 3) ** 2) / 3)  # population std
    assert cells[2] == f"{2.8 / 3 / math.log(2):.3f}±{std / math.log(2):.3f}" == "1.347±0.180"
    assert cells[5:7] == [f"{2.8 / 3:.3f} / {2.8 / 3 / math.log(2):.2f}", f"{5.6 / 3:.3f} / {5.6 / 3 / math.log(2):.2f}"]
    assert "50.0" not in text and "acc %" not in text
    flat = " ".join(text.split())
    assert "bits/tok: the same loss in bits per token (loss / ln 2)" in flat
    assert "skill columns: final loss / bits per token per skill" in flat
    narrow = " ".join(render(result, width=60).split())
    assert "final loss / bits per token per skill (" in narrow and "final accuracy" not in narrow
