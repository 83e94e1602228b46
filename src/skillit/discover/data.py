"""Reading a data set for discovery or regrouping, and writing it back with a skill column (atomically).

Rows come from a JSONL or Parquet file (``skillit.skills.io.open_rows``); each becomes an example through
``Fields`` (prompt/answer or a plain-text column). The known skill (``label_column``) is optional: when
every row has one, discovery scores its clusters against it. The output is JSONL: every input row,
unchanged, plus ``column`` holding the cluster name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillit.errors import DataError
from skillit.skills.example import Example
from skillit.skills.io.records import Fields, open_rows
from skillit.utils.io import atomic_write_text


@dataclass
class Table:
    """The rows of a data file, their examples, and their known skills (``None`` when unlabelled)."""

    source: str
    rows: list[dict[str, Any]]
    examples: list[Example]
    labels: list[str] | None


def read_table(path: Path | str, *, prompt_field: str | None = "prompt", answer_field: str | None = "answer",
               text_field: str | None = None, label_column: str | None = "skill",
               max_rows: int | None = None) -> Table:
    """Every row of ``path`` as an example; ``labels`` from ``label_column`` when every row has it."""
    fields = Fields(skill=lambda row: "", prompt=prompt_field, answer=answer_field, text=text_field)
    rows_source = open_rows(path)
    rows: list[dict[str, Any]] = []
    examples: list[Example] = []
    labels: list[str] = []
    labelled = label_column is not None
    for where, row in rows_source:
        if not isinstance(row, Mapping):
            raise DataError(f"{where}: a row must be a JSON object, got {type(row).__name__}")
        example = fields.example(row, "", where)
        if not example.answer:
            raise DataError(f"{where}: empty {'text' if text_field else 'answer'}; every example needs one")
        rows.append(dict(row))
        if labelled and row.get(label_column) not in (None, ""):
            labels.append(str(row[label_column]))
        else:
            labelled = False
        examples.append(Example(example.prompt, example.answer, labels[-1] if labelled else ""))
        if max_rows is not None and len(rows) >= max_rows:
            break
    if not rows:
        raise DataError(f"{rows_source.name}: no rows")
    return Table(rows_source.name, rows, examples, labels if labelled else None)


def write_with_column(path: Path | str, rows: Sequence[Mapping[str, Any]], column: str, values: Sequence[Any]) -> Path:
    """JSONL of ``rows`` with ``column`` set to ``values`` (one per row), written atomically."""
    if len(rows) != len(values):
        raise DataError(f"{len(values)} values for {len(rows)} rows")
    lines = [json.dumps({**row, column: value}, ensure_ascii=False) for row, value in zip(rows, values)]
    return atomic_write_text(path, "\n".join(lines) + "\n")


def check_output(path: Path | str, source: Path | str) -> Path:
    """Refuse to overwrite the input, and an output whose folder is a file."""
    out = Path(path)
    if out.resolve() == Path(source).resolve():
        raise DataError(f"--out {str(out)!r} is the input file; write the labelled data elsewhere")
    if out.suffix not in (".jsonl", ".json", ".ndjson"):
        raise DataError(f"--out {str(out)!r}: the labelled data is written as JSONL; give a .jsonl path")
    if out.exists() and out.is_dir():
        raise DataError(f"--out {str(out)!r} is a directory; give a .jsonl file path")
    return out
