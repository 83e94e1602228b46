"""Progress while training: plain periodic lines when output is not a terminal, a live table when it is."""

import io

from rich.console import Console

from skillit.records.layout import parse_run_id
from skillit.report.live import LiveView


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def plain_view(interval=30.0):
    out = io.StringIO()
    clock = Clock()
    view = LiveView(Console(file=out, width=80), ["skill-it__seed0", "stratified__seed0"], 100,
                    interval=interval, clock=clock)
    return view, out, clock


def test_parse_run_id():
    assert parse_run_id("skill-it__seed12") == ("skill-it", "12") and parse_run_id("graph") == ("graph", "")


def test_not_a_terminal_prints_plain_lines_every_interval_with_method_seed_step_and_eta():
    view, out, clock = plain_view(interval=30.0)
    assert view.interactive is False  # a StringIO is not a terminal
    with view:
        view.progress(0, 200)
        view.event("skill-it__seed0", {"step": 0, "losses": {"a": 2.0, "b": 3.0}, "weights": {"a": 0.25, "b": 0.75}})
        clock.now += 10
        view.event("skill-it__seed0", {"step": 20})
        view.progress(20, 200)
        assert out.getvalue() == ""  # 10 s < 30 s: nothing yet
        clock.now += 20  # 30 s since the start: 40 of 200 steps done
        view.event("skill-it__seed0", {"step": 40})
        view.progress(40, 200)
        lines = out.getvalue().splitlines()
        # 40 steps in 30 s → 160 more take 120 s; the run: 40 steps in 30 s → 60 more take 45 s
        assert lines == [
            "progress: 40/200 steps (20%), elapsed 0:00:30, ETA 0:02:00; 0/2 run(s) done",
            "  skill-it seed 0: step 40/100, loss a 2.000 b 3.000, top weights b 0.75 a 0.25, ETA 0:00:45",
        ]
        clock.now += 5
        view.event("skill-it__seed0", {"step": 100})  # the last step trains, then evaluates: wait for its losses
        assert "done skill-it" not in out.getvalue()
        view.event("skill-it__seed0", {"step": 100, "losses": {"a": 1.0, "b": 1.5}})  # finished: said at once
        assert out.getvalue().splitlines()[-1] == "done skill-it seed 0: 100 steps, 0:00:35 (last losses: a 1.000 b 1.500)"
    assert out.getvalue().splitlines()[-1].startswith("finished: 40/200 steps")


def test_a_view_without_runs_reports_only_the_steps():
    out, clock = io.StringIO(), Clock()
    view = LiveView(Console(file=out, width=80), [], 100, interval=0.0, clock=clock)
    view.progress(0, 100)
    clock.now += 10
    view.progress(50, 100)
    assert out.getvalue().splitlines()[-1] == "progress: 50/100 steps (50%), elapsed 0:00:10, ETA 0:00:10"


def test_many_skills_show_mean_and_worst_loss():
    view, out, _ = plain_view(interval=0.0)
    losses = {f"s{i}": float(i) for i in range(6)}
    view.event("stratified__seed0", {"step": 0, "losses": losses, "weights": {k: 1 / 6 for k in losses}})
    view.progress(0, 100)
    assert "loss mean 2.500, worst s5 5.000" in out.getvalue()


def test_terminal_shows_a_live_table_of_every_run():
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=True)
    clock = Clock()
    with LiveView(console, ["skill-it__seed0", "stratified__seed0"], 100, clock=clock) as view:
        assert view.interactive
        view.progress(0, 200)
        view.event("skill-it__seed0", {"step": 0, "losses": {"a": 2.0}, "weights": {"a": 0.6, "b": 0.4}})
        clock.now += 10
        view.event("skill-it__seed0", {"step": 50})
        view.progress(50, 200)
    text = out.getvalue()
    assert "mixture (top skills)" in text and "a 0.60 b 0.40" in text and "50/100" in text and "waiting" in text
