"""An audit log of every example a rank drew: one JSON line per optimiser step.

    {"step": 7, "round": 1, "draws": [["var2", 131], ["var1", 40], ...]}

``training.log_draws: true`` writes ``draws/METHOD__seedS.jsonl`` (``.rankR.jsonl`` per rank under DDP).
The log follows the run across kills: when training (re)starts at step s, lines after step s (steps the
killed process drew but whose results were lost with it) are dropped, so the finished log holds each step
exactly once, and it equals the log of an uninterrupted run. That is how "no example lost or repeated" is
checked after a resume (tests/trainer/test_kill_resume.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from skillit.errors import DataError
from skillit.trainer.loop import TrainerCallback
from skillit.utils.io import atomic_write_text


def read_draw_log(path: str | Path, *, drop_partial_tail: bool = False) -> list[dict[str, Any]]:
    """The log's lines, oldest first. ``drop_partial_tail`` ignores a cut last line (a killed writer)."""
    path = Path(path)
    lines = path.read_text().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = []
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            if drop_partial_tail and number == len(lines):
                break
            raise DataError(f"{path}:{number}: corrupt draw-log line; the log cannot be trusted") from None
        out.append(entry)
    return out


class DrawLog(TrainerCallback):
    """Writes this rank's draws, one line per step, flushed as it goes (a kill loses at most one line)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._handle: IO[str] | None = None

    def on_train_begin(self, info: dict[str, Any]) -> None:
        start = int(info["step"])
        kept: list[dict[str, Any]] = []
        if self.path.is_file():
            kept = [e for e in read_draw_log(self.path, drop_partial_tail=True) if e["step"] <= start]
        atomic_write_text(self.path, "".join(json.dumps(e) + "\n" for e in kept))
        self._handle = open(self.path, "a", encoding="utf-8")

    def on_batch(self, step: int, round_index: int, pairs: Sequence[tuple[str, int]]) -> None:
        if self._handle is None:
            raise DataError("DrawLog.on_batch before on_train_begin")
        self._handle.write(json.dumps({"step": step, "round": round_index, "draws": [list(p) for p in pairs]}) + "\n")
        self._handle.flush()

    def on_train_end(self, result: Any) -> None:
        self.close()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


__all__ = ["DrawLog", "read_draw_log"]
