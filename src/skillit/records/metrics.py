"""Per-run records and the ``metrics.jsonl`` file (one line per method, seed and evaluation)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from skillit.errors import DataError
from skillit.utils.io import atomic_write_json, atomic_write_text


def finite_or_none(value: Any) -> Any:
    """Replace NaN/inf floats (a diverged run) with None so the JSON stays standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite_or_none(v) for v in value]
    return value


@dataclass
class RunRecord:
    """One finished run: a method at a seed, with its evaluation records."""

    method: str
    seed: int
    policy: dict[str, Any]
    records: list[dict[str, Any]]
    steps: int
    train_seconds: float
    eval_seconds: float
    eval_examples: int
    parameters: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def save(self, path: str | Path) -> Path:
        return atomic_write_json(path, finite_or_none(asdict(self)))

    @classmethod
    def load(cls, path: str | Path) -> RunRecord:
        try:
            return cls(**json.loads(Path(path).read_text()))
        except (json.JSONDecodeError, TypeError) as exc:
            raise DataError(f"{path}: not a run record ({exc})") from None

    def metric_lines(self) -> Iterable[dict[str, Any]]:
        for record in self.records:
            yield {"method": self.method, "seed": self.seed, **record}


def write_metrics(path: str | Path, runs: Iterable[RunRecord]) -> Path:
    lines = [json.dumps(finite_or_none(line), allow_nan=False) for run in runs for line in run.metric_lines()]
    return atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    out = []
    with open(path) as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}:{number}: corrupt metrics line ({exc.msg})") from None
    return out
