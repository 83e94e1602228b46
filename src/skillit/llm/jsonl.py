"""Resumable JSONL outputs: one record per line, appended whole, never a half-written line left behind.

A long generation (thousands of LLM calls) must keep what it has done when it stops — a crash, Ctrl-C, a
server that goes away — and continue from there. :class:`JsonlAppender`:

* creates the file only when the first record arrives, so a run that fails before producing anything (bad
  key, unreachable server, unknown skill) leaves no file at all;
* appends each record as one ``os.write`` of a complete ``json + "\\n"`` line, then fsyncs;
* on opening an existing file, keeps every complete line and drops a trailing partial line (rewriting the
  file atomically, temp + rename), so a line cut by a crash is redone rather than read half.

``done_ids`` tells a resumed run which records (by their ``id`` field) to skip.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from skillit.errors import DataError
from skillit.utils.io import atomic_write_bytes


def read_jsonl(path: str | Path, *, what: str = "records") -> list[dict[str, Any]]:
    """Every complete record of a JSONL file; a malformed complete line is a :class:`DataError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} file {str(path)!r} does not exist")
    return list(_complete_records(path, what))


def _complete_records(path: Path, what: str) -> Iterator[dict[str, Any]]:
    data = path.read_bytes()
    lines = data.split(b"\n")
    complete = lines[:-1]  # the last element is b"" if the file ends with a newline, else a partial line
    for number, raw in enumerate(complete, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: not a JSON line ({exc.msg}); fix or remove that line") from None
        if not isinstance(record, dict):
            raise DataError(f"{path}:{number}: each line of the {what} file must be a JSON object")
        yield record


class JsonlAppender:
    """Append records to a JSONL file, resuming an existing one (see the module docstring)."""

    def __init__(self, path: str | Path, *, resume: bool = True):
        self.path = Path(path)
        self.records: list[dict[str, Any]] = []
        if self.path.exists():
            if not resume:
                raise DataError(f"{self.path} exists; pass --resume to continue it or choose another --out")
            data = self.path.read_bytes()
            if data and not data.endswith(b"\n"):  # a line cut by a crash: drop it, keep the rest
                atomic_write_bytes(self.path, data[: data.rfind(b"\n") + 1])
            self.records = list(_complete_records(self.path, "output"))

    @property
    def done_ids(self) -> set[str]:
        return {str(r["id"]) for r in self.records if "id" in r}

    def append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(fd, line)
            if written != len(line):  # a short write (disk full): undo it so no partial line stays
                os.ftruncate(fd, os.fstat(fd).st_size - written)
                raise OSError(f"short write to {self.path}")
            os.fsync(fd)
        finally:
            os.close(fd)
        self.records.append(record)

    def extend(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            self.append(record)
