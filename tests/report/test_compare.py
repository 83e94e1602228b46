"""`skillit compare`: the leaderboard of hand-built run directories against hand-computed figures.

Benchmark A (seeds 0-2): stratified 1.0 1.2 1.1; m1 0.8 1.0 1.0; m2 1.1 1.1 1.2.
  m1 − stratified = −0.2 −0.2 −0.1: mean −1/6, s_d = 0.057735, se = 0.033333, t(0.975, 2) = 4.302653,
  half-width 0.143422 → [−0.310088, −0.023245], a win.
  m2 − stratified = 0.1 −0.1 0.1: mean 1/30, s_d = 0.115470, se = 0.066667, half-width 0.286844
  → [−0.253510, 0.320177], a tie. Mean losses 1.1 / 0.9333 / 1.1333 → ranks stratified 2, m1 1, m2 3.
Benchmark B (seeds 0-2): stratified 2.0 2.0 2.0; m1 2.3 2.4 2.5; m2 2.0 2.0 2.0.
  m1: d = 0.3 0.4 0.5, mean 0.4, s_d = 0.1, half-width 0.248414 → [0.151586, 0.648414], a loss.
  m2: d = 0 0 0 → [0, 0], contains 0: a tie. Ranks stratified 1.5, m2 1.5, m1 3.
Overall: stratified mean rank 1.75; m1 1 / 0 / 1 and (1 + 3) / 2 = 2.0; m2 0 / 2 / 0 and 2.25.
Wins by more than the seed sd: m1 on A, |−1/6| > max(sd m1 0.115470, sd stratified 0.1); m2 none (A: Δ > 0).
"""

from __future__ import annotations

import json
import math

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from skillit.cli import app
from skillit.errors import DataError
from skillit.report.compare import (
    average_ranks,
    build_leaderboard,
    compare_runs,
    load_run_dir,
    mean_std,
    merge_benchmarks,
    paired_difference,
    to_markdown,
)


def _write_run_dir(path, name, losses, *, seconds=None, graph_cost=None, signals=None, accuracy=0.5,
                   target_loss=None, steps_to_target=None, config=None, offline_cost=None, whole_text=None):
    """A finished run directory as `skillit run` leaves it (only the fields compare reads)."""
    seconds = seconds or {}
    steps_to_target = steps_to_target or {}
    methods = {}
    for method, per_seed in losses.items():
        train, evaluation = seconds.get(method, (10.0, 2.0))
        methods[method] = {
            "per_seed": [
                {"seed": seed, "mean_loss": loss, "mean_accuracy": accuracy, "train_seconds": train,
                 "eval_seconds": evaluation, "eval_examples": 100 * (seed + 1),
                 "steps_to_target": (steps_to_target.get(method) or [None] * len(per_seed))[seed]}
                for seed, loss in enumerate(per_seed)
            ],
            "epochs": {"a": 0.5, "b": 2.0},
        }
    summary = {"name": name, "task": "data", "setting": "pretrain", "steps": 300, "seeds": [0, 1, 2],
               "methods": methods, "wall_seconds": 99.0, "jobs": 2, "target_loss": target_loss}
    if graph_cost:
        summary["graph_cost"] = graph_cost
    if offline_cost:
        summary["offline_cost"] = offline_cost
    if whole_text is not None:
        summary["whole_text"] = whole_text
    path.mkdir(parents=True)
    (path / "summary.json").write_text(json.dumps(summary))
    if config is not None:
        (path / "config.yaml").write_text(yaml.safe_dump(config))
    lines = [json.dumps({"method": m, "seed": s, "step": i, **rec}) for (m, s), recs in (signals or {}).items()
             for i, rec in enumerate(recs)]
    (path / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def run_dirs(tmp_path):
    a = _write_run_dir(
        tmp_path / "a", "A",
        {"stratified": [1.0, 1.2, 1.1], "m1": [0.8, 1.0, 1.0], "m2": [1.1, 1.1, 1.2]},
        seconds={"m1": (10.0, 6.0)},
        signals={("m1", 0): [{"signal_seconds": 1.0}, {"signal_seconds": 2.0}],
                 ("m1", 1): [{"signal_seconds": {"train_loss": 1.0, "grad_stats": 3.0}}]},
    )
    b = _write_run_dir(
        tmp_path / "b", "B",
        {"stratified": [2.0, 2.0, 2.0], "m1": [2.3, 2.4, 2.5], "m2": [2.0, 2.0, 2.0]},
        graph_cost={"m2": {"method": "probe", "train_steps": 500, "eval_examples": 10}},
    )
    return a, b


def _row(board, benchmark, method):
    return next(r for r in board.rows if r.benchmark == benchmark and r.method == method)


def test_paired_intervals_outcomes_and_ranks_match_the_hand_computation(run_dirs):
    board = build_leaderboard([load_run_dir(d) for d in run_dirs])
    win = _row(board, "A", "m1").difference
    assert (win.mean, win.low, win.high, win.n) == pytest.approx((-1 / 6, -0.310088, -0.023245, 3), abs=1e-6)
    assert win.outcome == "win"
    tie = _row(board, "A", "m2").difference
    assert (tie.mean, tie.low, tie.high) == pytest.approx((1 / 30, -0.253510, 0.320177), abs=1e-6)
    assert tie.outcome == "tie"
    loss = _row(board, "B", "m1").difference
    assert (loss.low, loss.high) == pytest.approx((0.151586, 0.648414), abs=1e-6)
    assert loss.outcome == "loss"
    assert _row(board, "B", "m2").difference.outcome == "tie"  # [0, 0] contains 0
    assert _row(board, "A", "stratified").difference.outcome is None
    assert {m: _row(board, "A", m).rank for m in ("stratified", "m1", "m2")} == {"stratified": 2, "m1": 1, "m2": 3}
    assert {m: _row(board, "B", m).rank for m in ("stratified", "m1", "m2")} == {"stratified": 1.5, "m1": 3, "m2": 1.5}
    overall = {o.method: o for o in board.overall}
    assert [o.method for o in board.overall] == ["stratified", "m1", "m2"]  # by mean rank
    assert (overall["m1"].wins, overall["m1"].ties, overall["m1"].losses, overall["m1"].mean_rank) == (1, 0, 1, 2.0)
    assert (overall["m2"].wins, overall["m2"].ties, overall["m2"].losses, overall["m2"].mean_rank) == (0, 2, 0, 2.25)
    assert overall["stratified"].mean_rank == 1.75
    assert (overall["m1"].clear_wins, overall["m2"].clear_wins, overall["stratified"].clear_wins) == (1, 0, 0)
    assert _row(board, "A", "m1").clear_win and not _row(board, "B", "m2").clear_win


def test_headroom_captured_against_a_hindsight_oracle_matches_the_hand_computation(run_dirs):
    # A: stratified mean 1.1 (sd 0.1), oracle m1 mean 0.9333: headroom 1/6 > 0.1. m1's share −d̄/H = 1 with
    # interval −[high, low]/H = [0.023245, 0.310088] × 6; m2: −(1/30)/(1/6) = −0.2, [−0.320177, 0.253510] × 6.
    # B: the oracle m1 (2.4) is worse than stratified (2.0): headroom −0.4, none to capture, no shares.
    board = build_leaderboard([load_run_dir(d) for d in run_dirs], oracle=["m1"])
    a, b = board.oracles["A"], board.oracles["B"]
    assert (a.method, a.loss, a.headroom, a.has_headroom) == ("m1", pytest.approx(0.93333, abs=1e-5),
                                                              pytest.approx(1 / 6), True)
    assert (b.method, b.has_headroom) == ("stratified", False)
    assert _row(board, "A", "m1").headroom == pytest.approx((1.0, 0.139470, 1.860528), abs=1e-5)
    assert _row(board, "A", "m2").headroom == pytest.approx((-0.2, -1.921062, 1.521062), abs=1e-5)
    assert _row(board, "A", "stratified").headroom == (0.0, None, None)
    assert _row(board, "B", "m1").headroom is None
    overall = {o.method: o.mean_headroom for o in board.overall}
    assert overall == pytest.approx({"stratified": 0.0, "m1": 1.0, "m2": -0.2})
    text = to_markdown(board)
    assert "Oracle: `m1` (0.933); headroom +0.167 nats" in text
    assert "| 100% [14, 186] |" in text and "no headroom, no shares" in text
    assert "headroom captured (mean)" in text and "| 100% |" in text
    assert "headroom" not in to_markdown(build_leaderboard([load_run_dir(d) for d in run_dirs]))


def test_an_oracle_method_no_run_has_is_refused_with_a_suggestion(run_dirs):
    with pytest.raises(DataError, match=r"--oracle names method 'm11'.*did you mean 'm1'"):
        build_leaderboard([load_run_dir(d) for d in run_dirs], oracle=["m11"])


def test_extra_steps_add_a_learned_graph_and_an_offline_search(tmp_path):
    a = _write_run_dir(tmp_path / "a", "A", {"stratified": [1.0] * 3, "m1": [0.9] * 3, "m2": [1.0] * 3},
                       graph_cost={"m1": {"train_steps": 40}}, offline_cost={"m1": {"train_steps": 300, "runs": 1},
                                                                              "m2": {"train_steps": 7500}})
    board = build_leaderboard([load_run_dir(a)])
    assert {m: _row(board, "A", m).extra_steps for m in ("stratified", "m1", "m2")} == \
        {"stratified": 0, "m1": 340, "m2": 7500}


def test_extra_steps_of_a_graph_learned_at_several_seeds_say_so(tmp_path):
    # graph_cost.train_steps is already the sum over the learner seeds; the table says how many there were
    a = _write_run_dir(tmp_path / "a", "A", {"stratified": [1.0] * 3, "m1": [0.9] * 3, "m2": [1.0] * 3},
                       graph_cost={"m1": {"train_steps": 2925, "seeds": 3}, "m2": {"train_steps": 975}})
    board = build_leaderboard([load_run_dir(a)])
    assert (_row(board, "A", "m1").extra_steps, _row(board, "A", "m1").graph_seeds) == (2925, 3)
    assert _row(board, "A", "m2").graph_seeds == 1
    text = to_markdown(board)
    assert "| 2925 (graph at 3 seeds: 3× one learning) |" in text and "| 975 |" in text


def test_common_rank_reranks_each_benchmark_among_the_methods_run_on_all_of_them(tmp_path):
    # A: stratified 1, m1 2, m3 0.5 → own ranks m3 1, stratified 2, m1 3. B (no m3): m1 1, stratified 2 →
    # own ranks m1 1, stratified 2. Mean ranks: stratified 2.0, m1 2.0, m3 1.0 (one benchmark, the best).
    # Among the methods on both (stratified, m1): A stratified 1, m1 2; B m1 1, stratified 2 → 1.5 each; m3 none.
    a = _write_run_dir(tmp_path / "a", "A", {"stratified": [1.0] * 3, "m1": [2.0] * 3, "m3": [0.5] * 3})
    b = _write_run_dir(tmp_path / "b", "B", {"stratified": [2.0] * 3, "m1": [1.0] * 3})
    board = build_leaderboard([load_run_dir(a), load_run_dir(b)])
    overall = {o.method: (o.mean_rank, o.common_rank) for o in board.overall}
    assert overall == {"stratified": (2.0, 1.5), "m1": (2.0, 1.5), "m3": (1.0, None)}
    # sorted by the common rank, methods without one last, however good their own mean rank
    assert [o.method for o in board.overall] == ["m1", "stratified", "m3"]
    text = to_markdown(board)
    assert "| m3 | 1 | 1 / 0 / 0 | 1 | 0 | — | 1.00 |" in text
    assert "| m1 | 2 | 1 / 0 / 1 | 1 | 0 | 1.50 | 2.00 |" in text
    assert "only the 2 method(s) run on all 2 benchmarks" in text


def test_a_win_inside_the_seed_sd_is_not_a_clear_win(tmp_path):
    # Δ = −0.05 each seed: a win by the interval ([−0.05, −0.05]) but 0.05 is below both seed sds (0.1)
    a = _write_run_dir(tmp_path / "a", "A", {"stratified": [1.0, 1.1, 1.2], "m": [0.95, 1.05, 1.15]})
    board = build_leaderboard([load_run_dir(a)])
    row = _row(board, "A", "m")
    assert row.difference.outcome == "win" and not row.clear_win


def test_steps_to_target_and_faster_wins_match_the_hand_computation(tmp_path):
    # Run length 300. stratified 200, never, 250 → censored at the run's length: 200, 300, 250 (sd 50).
    # m1 100, 100, 150 (sd 28.87): savings 100, 200, 100, mean 133.3 > 50 → faster.
    # m2 150, 300, never: not reached on every seed → no mean, not faster. m3 190, 280, 240 (sd 45.09):
    # savings 10, 20, 10, mean 13.3 < 50 → not faster.
    steps = {"stratified": [200, None, 250], "m1": [100, 100, 150], "m2": [150, 300, None], "m3": [190, 280, 240]}
    c = _write_run_dir(tmp_path / "c", "C", {m: [0.0, 0.0, 0.0] for m in steps}, target_loss=0.1,
                       steps_to_target=steps)
    board = build_leaderboard([load_run_dir(c)])
    m1, m2, m3, base = (_row(board, "C", m) for m in ("m1", "m2", "m3", "stratified"))
    assert (m1.steps_to_target, m1.reached, m1.faster) == (pytest.approx(350 / 3), (3, 3), True)
    assert (m2.steps_to_target, m2.reached, m2.faster) == (None, (2, 3), False)
    assert (m3.steps_to_target, m3.reached, m3.faster) == (pytest.approx(710 / 3), (3, 3), False)
    assert (base.steps_to_target, base.reached, base.faster) == (None, (2, 3), False)
    overall = {o.method: o.faster_wins for o in board.overall}
    assert overall == {"m1": 1, "m2": 0, "m3": 0, "stratified": 0}
    text = to_markdown(board)
    assert "| steps to loss ≤ 0.1 |" in text
    assert "| 117 (faster) |" in text and "| 2/3 reached |" in text and "| 237 |" in text


def test_no_target_loss_means_no_steps_column(run_dirs):
    board = build_leaderboard([load_run_dir(d) for d in run_dirs])
    assert all(r.reached == (0, 0) and r.steps_to_target is None and not r.faster for r in board.rows)
    assert "steps to loss" not in to_markdown(board)


SETUP = {"name": "A", "task": {"name": "data", "params": {"max_examples": 10}}, "setting": "pretrain",
         "training": {"steps": 300, "lr": 0.003}, "methods": {"stratified": {}, "m1": {}}}


def test_a_method_run_later_merges_into_its_benchmark(tmp_path):
    # the first directory: stratified and m1; the second, run later with --methods: stratified again
    # (identical, it is seeded) and m3; its config names a training field the first does not (newer code)
    first = _write_run_dir(tmp_path / "a", "A", {"stratified": [1.0, 1.2, 1.1], "m1": [0.8, 1.0, 1.0]}, config=SETUP)
    later = {**SETUP, "training": {**SETUP["training"], "new_option": True}, "methods": {"m3": {}}}
    second = _write_run_dir(tmp_path / "b", "A", {"stratified": [1.0, 1.2, 1.1], "m3": [0.9, 1.1, 1.0]},
                            config=later)
    board = compare_runs([first, second], tmp_path / "out")
    assert len(board.benchmarks) == 1 and set(board.benchmarks[0].methods) == {"stratified", "m1", "m3"}
    assert board.benchmarks[0].wall_seconds == 198.0  # 99 + 99
    # m3 − stratified = −0.1 −0.1 −0.1: mean −0.1, s_d = 0 → the interval is [−0.1, −0.1], a win
    m3 = _row(board, "A", "m3").difference
    assert (m3.mean, m3.low, m3.high) == pytest.approx((-0.1, -0.1, -0.1)) and m3.outcome == "win"
    assert {r.method: r.rank for r in board.rows} == {"stratified": 3, "m1": 1, "m3": 2}


def test_merging_refuses_other_set_ups_and_differing_reruns(tmp_path):
    first = _write_run_dir(tmp_path / "a", "A", {"stratified": [1.0, 1.2, 1.1], "m1": [0.8, 1.0, 1.0]}, config=SETUP)
    other_lr = {**SETUP, "training": {"steps": 300, "lr": 0.01}}
    second = _write_run_dir(tmp_path / "b", "A", {"m3": [0.9, 1.1, 1.0]}, config=other_lr)
    out = tmp_path / "out"
    with pytest.raises(DataError, match="different set-ups .*'training.lr'"):
        compare_runs([first, second], out)
    other_data = _write_run_dir(tmp_path / "d", "A", {"m3": [0.9, 1.1, 1.0]}, config=SETUP)
    (first / "manifest.json").write_text(json.dumps({"data_fingerprint": {"train.jsonl": "aaa"}}))
    (other_data / "manifest.json").write_text(json.dumps({"data_fingerprint": {"train.jsonl": "bbb"}}))
    with pytest.raises(DataError, match=r"manifest.json field 'data_fingerprint.train.jsonl'"):
        compare_runs([first, other_data], out)
    third = _write_run_dir(tmp_path / "c", "A", {"m1": [0.8, 1.0, 0.9]}, config=SETUP)  # m1 differs on seed 2
    with pytest.raises(DataError, match="method 'm1' ran in .* with different losses"):
        merge_benchmarks([load_run_dir(first), load_run_dir(third)])
    assert not out.exists()
    # --replace: the later directory's m1 (0.8, 1.0, 0.9) replaces the earlier one's
    merged = merge_benchmarks([load_run_dir(first), load_run_dir(third)], replace=True)[0]
    assert merged.methods["m1"].loss == {0: 0.8, 1: 1.0, 2: 0.9}
    result = CliRunner().invoke(app, ["compare", str(first), str(third), "--replace", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "| m1 | 0.900 ± 0.100 |" in (out / "leaderboard.md").read_text()
    # the baseline is never replaced: a different stratified is an error even with --replace
    fourth = _write_run_dir(tmp_path / "e", "A", {"stratified": [1.0, 1.2, 1.0]}, config=SETUP)
    with pytest.raises(DataError, match="the baseline 'stratified' ran in .* never replaced"):
        merge_benchmarks([load_run_dir(first), load_run_dir(fourth)], replace=True)


MACHINE = {"cpu": "Xeon", "cpu_capability": "AVX512", "logical_cpus": 2, "torch": "2.13.0+cpu", "cuda": None,
           "python": "3.11.9", "os": "Linux x86_64"}


def _manifest(path, machine):
    (path / "manifest.json").write_text(json.dumps({"data_fingerprint": {}, "machine": machine}))


def test_a_refused_merge_says_when_the_directories_ran_on_different_machines(tmp_path):
    first = _write_run_dir(tmp_path / "a", "A", {"stratified": [1.0, 1.2, 1.1], "m1": [0.8, 1.0, 1.0]}, config=SETUP)
    here = _write_run_dir(tmp_path / "b", "A", {"stratified": [1.0, 1.2, 1.05]}, config=SETUP)
    elsewhere = _write_run_dir(tmp_path / "c", "A", {"stratified": [1.0, 1.2, 1.05]}, config=SETUP)
    _manifest(first, MACHINE)
    _manifest(here, dict(MACHINE))
    _manifest(elsewhere, {**MACHINE, "cpu_capability": "AVX2", "logical_cpus": 16})
    with pytest.raises(DataError) as same_machine:
        merge_benchmarks([load_run_dir(first), load_run_dir(here)])
    assert "different losses on the same seed (a different baseline spec or code)" in str(same_machine.value)
    assert "machine" not in str(same_machine.value)
    with pytest.raises(DataError, match=r"different machines \(cpu_capability: AVX512 / AVX2; logical_cpus: 2 / 16\)"
                                        r", and seeded runs repeat on one machine"):
        merge_benchmarks([load_run_dir(first), load_run_dir(elsewhere)])
    # a method (not the baseline) re-run elsewhere: the same clause; a directory without a machine: none
    moved_m1 = _write_run_dir(tmp_path / "d", "A", {"m1": [0.8, 1.0, 0.9]}, config=SETUP)
    _manifest(moved_m1, {**MACHINE, "torch": "2.12.0+cpu"})
    with pytest.raises(DataError, match=r"method 'm1' .* different machines \(torch: 2.13.0\+cpu / 2.12.0\+cpu\)"):
        merge_benchmarks([load_run_dir(first), load_run_dir(moved_m1)])
    (moved_m1 / "manifest.json").unlink()
    with pytest.raises(DataError) as unknown:
        merge_benchmarks([load_run_dir(first), load_run_dir(moved_m1)])
    assert "machine" not in str(unknown.value)


def test_a_benchmark_merged_from_two_machines_says_so_in_its_heading(tmp_path):
    first = _write_run_dir(tmp_path / "a", "A", {"stratified": [1.0, 1.2, 1.1]}, config=SETUP)
    later = _write_run_dir(tmp_path / "b", "A", {"m3": [0.9, 1.1, 1.0]}, config=SETUP)
    _manifest(first, MACHINE)
    _manifest(later, {**MACHINE, "cpu": "EPYC"})
    board = compare_runs([first, later], tmp_path / "out")
    assert "### A (3 seed(s), 300 steps; wall 198 s with 2 job(s); run on 2 different machines)" in to_markdown(board)
    markdown = to_markdown(board)
    assert ("Machines (seeded runs repeat on one machine, not across them):\n\n"
            "- Xeon (AVX512, 2 logical CPUs), torch 2.13.0+cpu, Python 3.11.9, Linux x86_64: A\n"
            "- EPYC (AVX512, 2 logical CPUs), torch 2.13.0+cpu, Python 3.11.9, Linux x86_64: A\n") in markdown
    _manifest(later, dict(MACHINE))
    board = compare_runs([first, later], tmp_path / "out2")
    markdown = to_markdown(board)
    assert "### A (3 seed(s), 300 steps; wall 198 s with 2 job(s))" in markdown
    assert "\nMachine: Xeon (AVX512, 2 logical CPUs), torch 2.13.0+cpu, Python 3.11.9, Linux x86_64.\n" in markdown
    (first / "manifest.json").unlink()
    (later / "manifest.json").unlink()
    assert "Machine" not in to_markdown(compare_runs([first, later], tmp_path / "out3"))  # none recorded


def test_mean_std_and_costs(run_dirs):
    board = build_leaderboard([load_run_dir(d) for d in run_dirs])
    m1 = _row(board, "A", "m1")
    assert (m1.loss, m1.loss_std) == pytest.approx((14 / 15, 0.115470), abs=1e-6)
    assert m1.accuracy == 0.5 and m1.accuracy_std == 0.0
    # signals: seed 0's last record 2.0, seed 1's 1 + 3 = 4.0, seed 2 reports none → mean 3.0 per run
    assert m1.signal_seconds == pytest.approx(3.0)
    assert m1.time_ratio == pytest.approx((10 + 6 + 3) / (10 + 2))
    assert m1.overhead_share == pytest.approx((6 + 3) / (10 + 6))
    assert m1.eval_examples == pytest.approx(200.0)  # 100, 200, 300
    assert _row(board, "A", "m2").signal_seconds is None
    assert _row(board, "B", "m2").extra_steps == 500 and _row(board, "B", "m1").extra_steps == 0


def test_markdown_holds_the_figures(run_dirs):
    text = to_markdown(build_leaderboard([load_run_dir(d) for d in run_dirs]))
    assert "| m1 | 2 | 1 / 0 / 1 | 1 | 0 | 2.00 |" in text
    assert "| m1 | 0.933 ± 0.115 | 50.0 ± 0.0 | -0.167 [-0.310, -0.023] | better | 1 |" in text
    assert "| m2 | 1.133 ± 0.058 | 50.0 ± 0.0 | +0.033 [-0.254, +0.320] | tie | 3 |" in text
    assert "| stratified | 1.100 ± 0.100 | 50.0 ± 0.0 | — | baseline | 2 |" in text
    assert "### A (3 seed(s), 300 steps; wall 99 s with 2 job(s))" in text
    assert "| 0.50–2.00 |" in text  # epochs min–max
    legend = text.splitlines()[-1]  # one paragraph under the tables, outside any table: the Markdown pastes
    assert legend.startswith("Per benchmark: loss: final objective loss (nats per answer token)") and "|" not in legend
    assert ("vs stratified: better / worse = the interval lies wholly below / above 0 (beyond the seed noise), tie = "
            "it contains 0, 1 seed: no interval = no verdict") in legend


def test_whole_text_benchmarks_show_bits_per_token_instead_of_accuracy(tmp_path):
    d = _write_run_dir(tmp_path / "t", "T", {"stratified": [1.0, 1.2, 1.1], "m1": [0.8, 1.1, 0.9]}, accuracy=0.0,
                       whole_text=True)
    text = to_markdown(build_leaderboard([load_run_dir(d)]))
    assert "| method | loss | bits/tok | Δloss vs stratified [95% CI] |" in text
    # 1.1 nats = 1.587 bits; sample std 0.1 nats = 0.144 bits
    assert "| stratified | 1.100 ± 0.100 | 1.587 ± 0.144 | — | baseline |" in text


def test_one_seed_has_no_interval_and_counts_in_no_column(tmp_path):
    d = _write_run_dir(tmp_path / "c", "C", {"stratified": [1.0], "m1": [0.5]})
    board = build_leaderboard([load_run_dir(d)])
    diff = _row(board, "C", "m1").difference
    assert diff.mean == -0.5 and diff.low is None and diff.outcome is None
    assert _row(board, "C", "m1").loss_std is None
    assert "| m1 | 0.500 | 50.0 | -0.500 | 1 seed: no interval | 1 |" in to_markdown(board)


def test_a_diverged_seed_is_left_out_of_the_pairs_and_ranks_last(tmp_path):
    d = _write_run_dir(tmp_path / "d", "D", {"stratified": [1.0, 1.0, 1.0], "m1": [None, None, None],
                                             "m2": [0.9, None, 0.7]})
    board = build_leaderboard([load_run_dir(d)])
    assert _row(board, "D", "m1").rank == 3 and _row(board, "D", "m1").difference.n == 0
    assert _row(board, "D", "m2").difference.n == 2  # seed 1 diverged
    assert _row(board, "D", "m2").difference.mean == pytest.approx(-0.2)


def test_missing_baseline_gives_no_difference(tmp_path):
    d = _write_run_dir(tmp_path / "e", "E", {"m1": [1.0, 2.0], "m2": [2.0, 3.0]})
    board = build_leaderboard([load_run_dir(d)])
    assert all(r.difference.mean is None for r in board.rows)
    assert [o.method for o in board.overall] == ["m1", "m2"]


def test_bad_input_is_one_error_and_writes_nothing(tmp_path, run_dirs):
    with pytest.raises(DataError, match="no summary.json"):
        load_run_dir(tmp_path / "nowhere")
    out = tmp_path / "out"
    with pytest.raises(DataError, match="given more than once"):
        compare_runs([run_dirs[0], run_dirs[0]], out)
    assert not out.exists()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "summary.json").write_text("{not json")
    with pytest.raises(DataError, match="not a skillit summary"):
        compare_runs([run_dirs[0], bad], out)
    assert not out.exists()


def test_cli_writes_markdown_and_png(run_dirs, tmp_path, monkeypatch):
    out = tmp_path / "board"
    result = CliRunner().invoke(app, ["compare", str(run_dirs[0]), str(run_dirs[1]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "| m1 | 2 | 1 / 0 / 1 | 1 | 0 | 2.00 |" in (out / "leaderboard.md").read_text()
    assert (out / "leaderboard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    failed = CliRunner().invoke(app, ["compare", str(tmp_path / "missing"), "--out", str(tmp_path / "x")])
    assert failed.exit_code == 2 and "no summary.json" in failed.output
    assert not (tmp_path / "x").exists()
    with_oracle = CliRunner().invoke(app, ["compare", str(run_dirs[0]), "--oracle", "m1,m2", "--out", str(out)])
    assert with_oracle.exit_code == 0, with_oracle.output
    assert "Oracle: `m1`" in (out / "leaderboard.md").read_text()
    monkeypatch.chdir(tmp_path)  # where the old default --out, runs/compare, would appear
    printed = CliRunner().invoke(app, ["compare", str(run_dirs[0]), str(run_dirs[1])], terminal_width=60)
    assert printed.exit_code == 0, printed.output
    assert "| m1 | 2 | 1 / 0 / 1 | 1 | 0 | 2.00 | 2.00 |" in printed.output.splitlines()  # one line, unwrapped
    assert "add --out DIR" in printed.output and not (tmp_path / "runs").exists()
    refused = CliRunner().invoke(app, ["compare", str(run_dirs[0]), "--oracle", "m9", "--out", str(tmp_path / "y")])
    assert refused.exit_code == 2 and "--oracle names method 'm9'" in refused.output
    assert not (tmp_path / "y").exists()


def test_average_ranks_share_ties_and_put_missing_last():
    assert average_ranks({"a": 1.0, "b": 1.0, "c": 0.5, "d": None}) == {"a": 2.5, "b": 2.5, "c": 1.0, "d": 4.0}
    # rounded to 3 decimals, 0.00001 and 0.00004 are the same loss (as the tables print them); exactly, they are not
    scores = {"a": 0.00004, "b": 0.00001, "c": 0.0012}
    assert average_ranks(scores, 3) == {"a": 1.5, "b": 1.5, "c": 3.0}
    assert average_ranks(scores) == {"a": 2.0, "b": 1.0, "c": 3.0}


def test_losses_equal_at_the_printed_decimals_share_a_rank_and_keep_their_order(tmp_path):
    # saturated: m1 5e-5, stratified 1e-5, m2 2e-3 → 0.000, 0.000, 0.002 at 3 decimals: ranks 1.5, 1.5, 3
    d = _write_run_dir(tmp_path / "s", "S", {"stratified": [1e-5] * 3, "m1": [5e-5] * 3, "m2": [2e-3] * 3})
    board = build_leaderboard([load_run_dir(d)])
    assert {m: _row(board, "S", m).rank for m in ("stratified", "m1", "m2")} == {"stratified": 1.5, "m1": 1.5, "m2": 3}
    exact = build_leaderboard([load_run_dir(d)], rank_decimals=None)
    assert {m: _row(exact, "S", m).rank for m in ("stratified", "m1", "m2")} == {"stratified": 1, "m1": 2, "m2": 3}
    text = to_markdown(board)
    assert text.index("| stratified | 0.000") < text.index("| m1 | 0.000")  # a shared rank lists the lower loss first
    assert "rank 1 = lowest mean loss of the benchmark at 3 decimals (as printed)" in text


def test_mean_std_uses_the_sample_std():
    assert mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert mean_std([None, 4.0]) == (4.0, None)
    assert mean_std([None]) == (None, None)


losses = st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=6)


@given(losses, st.data())
def test_interval_is_shift_invariant_and_antisymmetric(base, data):
    other = data.draw(st.lists(st.floats(-5, 5, allow_nan=False), min_size=len(base), max_size=len(base)))
    a, b = dict(enumerate(other)), dict(enumerate(base))
    shift = data.draw(st.floats(-3, 3, allow_nan=False))
    d = paired_difference(a, b)
    shifted = paired_difference({s: v + shift for s, v in a.items()}, {s: v + shift for s, v in b.items()})
    swapped = paired_difference(b, a)
    assert d.low <= d.mean <= d.high
    assert (shifted.mean, shifted.low, shifted.high) == pytest.approx((d.mean, d.low, d.high), abs=1e-9)
    assert (swapped.mean, swapped.low, swapped.high) == pytest.approx((-d.mean, -d.high, -d.low), abs=1e-9)
    assert {d.outcome, swapped.outcome} in ({"tie"}, {"win", "loss"})
    assert math.isfinite(d.high - d.low)
