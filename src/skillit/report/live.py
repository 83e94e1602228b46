"""Progress while an experiment trains: a live table on a terminal, plain periodic lines in a log.

:class:`LiveView` takes the runner's two callbacks (``skillit.experiment.runner.run_experiment``):
``progress(done_steps, total_steps)`` for the whole experiment (graph learning, warm starts and runs) and
``event(run_id, event)`` per run — ``{"step"}`` as it advances and ``{"step", "losses", "weights"}`` at each
evaluation. On a terminal it redraws a rich table (one row per method × seed: step, the mixture's top
skills, the latest per-skill loss, ETA) under an overall bar. Anywhere else (output redirected to a file, CI)
it prints plain lines every ``interval`` seconds and when a run finishes, and flushes them at once, so a log
shows progress while the run is going.

ETA = elapsed × remaining steps ÷ steps done since this view started (a resumed run's earlier steps do not
count as speed).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from skillit.records.layout import parse_run_id

DEFAULT_INTERVAL = 30.0  # seconds between plain progress lines (SKILLIT_PROGRESS_SECONDS overrides)


def _clock_text(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = round(max(0.0, seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@dataclass
class RunState:
    """What the view knows of one run."""

    run_id: str
    total: int
    step: int = 0
    first_step: int | None = None  # the step this view first saw (a resumed run starts past 0)
    first_time: float | None = None
    last_time: float | None = None
    losses: dict[str, float | None] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    announced: bool = False  # the plain view printed its "done" line

    @property
    def method(self) -> str:
        return parse_run_id(self.run_id)[0]

    @property
    def seed(self) -> str:
        return parse_run_id(self.run_id)[1]

    @property
    def done(self) -> bool:
        return self.step >= self.total

    @property
    def running(self) -> bool:
        return self.first_time is not None and not self.done

    def eta(self) -> float | None:
        if self.first_time is None or self.last_time is None or self.first_step is None:
            return None
        advanced = self.step - self.first_step
        if advanced <= 0:
            return None
        return (self.last_time - self.first_time) * (self.total - self.step) / advanced

    def top_weights(self, n: int = 3) -> str:
        ranked = sorted(self.weights.items(), key=lambda item: -item[1])[:n]
        return " ".join(f"{name} {weight:.2f}" for name, weight in ranked) or "-"

    def loss_text(self, n: int = 4) -> str:
        """All skills' latest losses when there are at most ``n``, else their mean and the worst skill."""
        values = {k: v for k, v in self.losses.items() if v is not None}
        if not values:
            return "-"
        if len(values) <= n:
            return " ".join(f"{name} {value:.3f}" for name, value in values.items())
        worst = max(values, key=values.__getitem__)
        return f"mean {sum(values.values()) / len(values):.3f}, worst {worst} {values[worst]:.3f}"


class LiveView:
    """Live table on a terminal, periodic plain lines elsewhere; use as a context manager.

    Args:
        console: where to draw or print.
        run_ids: ``METHOD__seedS`` of every run, in order (rows of the table).
        steps_per_run: each run's training steps (for its ETA).
        interactive: draw the live table (default: ``console.is_terminal``).
        interval: seconds between plain lines (default ``SKILLIT_PROGRESS_SECONDS`` or 30).
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self,
        console: Console,
        run_ids: Sequence[str],
        steps_per_run: int,
        *,
        interactive: bool | None = None,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_rows: int = 12,
    ):
        self.console = console
        self.interactive = console.is_terminal if interactive is None else interactive
        if interval is None:
            try:
                interval = float(os.environ.get("SKILLIT_PROGRESS_SECONDS", DEFAULT_INTERVAL))
            except ValueError:
                interval = DEFAULT_INTERVAL
        self.interval = interval
        self.clock = clock
        self.max_rows = max_rows
        self.runs: dict[str, RunState] = {run_id: RunState(run_id, steps_per_run) for run_id in run_ids}
        self.done_steps = 0
        self.total_steps = 0
        self.started = clock()
        self.first_done: int | None = None
        self.last_print: float = self.started
        self._live: Live | None = None

    # ---- the runner's callbacks ------------------------------------------------------------------
    def progress(self, done: int, total: int) -> None:
        now = self.clock()
        if self.first_done is None:
            self.first_done, self.started = done, now
        self.done_steps, self.total_steps = done, total
        self._tick(now)

    def event(self, run_id: str, event: dict[str, Any]) -> None:
        now = self.clock()
        state = self.runs.get(run_id)
        if state is None:  # a warm start or another run outside the table: overall progress covers it
            return
        step = int(event.get("step") or 0)
        if state.first_time is None:
            state.first_step, state.first_time = step, now
        state.step = max(state.step, step)
        state.last_time = now
        if event.get("losses") is not None:
            state.losses = dict(event["losses"])
        if event.get("weights") is not None:
            state.weights = dict(event["weights"])
        # the last step's training event comes just before its evaluation: announce the run with that evaluation's
        # losses, so the line shows the final ones (the last step always evaluates)
        if not self.interactive and state.done and event.get("losses") is not None and not state.announced:
            state.announced = True
            self._print(f"done {state.method} seed {state.seed}: {state.total} steps, "
                        f"{self._elapsed_since(state)} (last losses: {state.loss_text()})")
        if self.interactive:  # plain lines are timed by progress(), which the runner calls right after
            self._tick(now)

    # ---- rendering -------------------------------------------------------------------------------
    def eta(self) -> float | None:
        if self.first_done is None or self.total_steps <= 0:
            return None
        advanced = self.done_steps - self.first_done
        if advanced <= 0:
            return None
        return (self.clock() - self.started) * (self.total_steps - self.done_steps) / advanced

    def overall_text(self) -> str:
        percent = 100.0 * self.done_steps / self.total_steps if self.total_steps else 0.0
        return (f"{self.done_steps}/{self.total_steps} steps ({percent:.0f}%), elapsed "
                f"{_clock_text(self.clock() - self.started)}, ETA {_clock_text(self.eta())}")

    def run_line(self, state: RunState) -> str:
        return (f"  {state.method} seed {state.seed}: step {state.step}/{state.total}, loss {state.loss_text()}, "
                f"top weights {state.top_weights()}, ETA {_clock_text(state.eta())}")

    def plain_lines(self) -> list[str]:
        """The periodic plain report: the overall line, then one line per running run."""
        finished = sum(state.done for state in self.runs.values())
        lines = [f"progress: {self.overall_text()}" + (f"; {finished}/{len(self.runs)} run(s) done" if self.runs else "")]
        lines += [self.run_line(state) for state in self.runs.values() if state.running]
        return lines

    def table(self) -> Table:
        table = Table(title="runs", title_justify="left", expand=False)
        table.add_column("method", style="bold", no_wrap=True)
        table.add_column("seed", justify="right", no_wrap=True)
        table.add_column("step", justify="right", no_wrap=True)
        table.add_column("mixture (top skills)", overflow="fold")
        table.add_column("latest loss", overflow="fold")
        table.add_column("ETA", justify="right", no_wrap=True)
        states = list(self.runs.values())
        if len(states) > self.max_rows:
            states = [s for s in states if s.running]
        for state in states:
            status = "done" if state.done else (_clock_text(state.eta()) if state.running else "waiting")
            table.add_row(state.method, state.seed, f"{state.step}/{state.total}", state.top_weights(),
                          state.loss_text(), status)
        return table

    def renderable(self) -> Group:
        bar = ProgressBar(total=max(self.total_steps, 1), completed=self.done_steps, width=40)
        parts = [Text(f"training {self.overall_text()}"), bar]
        return Group(*parts, self.table()) if self.runs else Group(*parts)

    # ---- plumbing --------------------------------------------------------------------------------
    def _elapsed_since(self, state: RunState) -> str:
        if state.first_time is None or state.last_time is None:
            return "?"
        return _clock_text(state.last_time - state.first_time)

    def _print(self, line: str) -> None:
        self.console.print(line, highlight=False, markup=False, soft_wrap=True)
        self.console.file.flush()  # a redirected stdout is block-buffered: the log must show it now

    def _tick(self, now: float) -> None:
        if self.interactive:
            if self._live is not None:
                self._live.update(self.renderable())
            return
        if now - self.last_print >= self.interval:
            self.last_print = now
            for line in self.plain_lines():
                self._print(line)

    def __enter__(self) -> LiveView:
        if self.interactive:
            self._live = Live(self.renderable(), console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._live is not None:
            self._live.update(self.renderable())
            self._live.__exit__(*exc_info)
            self._live = None
        elif exc_info[0] is None:
            self._print(f"finished: {self.overall_text()}")


__all__ = ["LiveView", "RunState"]
