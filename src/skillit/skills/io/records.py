"""Rows from a data source, and the rule that turns a row into an :class:`~skillit.skills.Example`.

A *source* is a JSONL file (optionally ``.gz`` or ``.xz``), a Parquet file, a Hugging Face ``datasets.Dataset``
(map-style) or ``datasets.IterableDataset`` (streaming), or any iterable of mappings. :func:`open_rows`
wraps each in a :class:`Rows` that yields ``(where, row)`` pairs, ``where`` being the place a message
should name ("data/train.jsonl:17", "data/x.parquet row 4", "dataset row 9").

:class:`Fields` is the mapping from a row to an example: the skill comes from a column or a function;
the text from ``prompt``/``answer`` fields or a single plain ``text`` field (then ``prompt == ""`` and the
whole text is the answer, i.e. the LM loss covers all of it).
"""

from __future__ import annotations

import difflib
import gzip
import json
import lzma
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from skillit.errors import DataError
from skillit.skills.example import Example

Format = Literal["auto", "jsonl", "parquet"]
SkillRule = str | Callable[[Mapping[str, Any]], Any]

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz", ".ndjson.gz", ".jsonl.xz", ".json.xz", ".ndjson.xz")
PARQUET_SUFFIXES = (".parquet", ".pq")


# ---- row sources -------------------------------------------------------------------------------------
class Rows:
    """An iterable of ``(where, row)`` pairs plus what is known about the source up front.

    Attributes:
        name: how messages name the source (a path, or "dataset").
        columns: the column names when the source declares them (Parquet schema, ``Dataset.column_names``),
            else ``None`` (JSONL rows may differ line by line; they are checked row by row).
        path: the file, for file sources (used to key the streaming shard cache), else ``None``.
        map_style: whether rows can be fetched by position (``rows.row(i)``) without reading them all.
    """

    name: str = "data"
    columns: list[str] | None = None
    path: Path | None = None
    map_style: bool = False

    def __iter__(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        raise NotImplementedError


class JsonlRows(Rows):
    """One JSON object per line; blank lines are skipped. A ``.gz`` (gzip) or ``.xz`` (xz/LZMA) file is
    decompressed as it is read; line numbers are those of the decompressed text.

    Every problem is a :class:`DataError` at ``path:line`` that says what to do: invalid JSON, bytes that
    are not UTF-8, a ``.gz``/``.xz`` name on a file that is not compressed that way, a truncated or corrupt
    compressed stream, nesting too deep for the parser, or an integer too long to convert.
    """

    def __init__(self, path: Path):
        self.path = path
        self.name = str(path)

    def __iter__(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        kind = {".gz": "gzip", ".xz": "xz"}.get(self.path.suffix)
        number = 0
        try:
            with _open_binary(self.path, kind) as handle:
                for number, raw in enumerate(handle, start=1):
                    where, row = self._row(raw, number)
                    if row is not None:  # a blank line
                        yield where, row
        except DataError:
            raise
        except gzip.BadGzipFile:
            raise DataError(
                f"{self.name}: not a gzip file although its name ends in .gz; rename it without .gz if it is plain "
                "JSONL, or compress it with gzip"
            ) from None
        except lzma.LZMAError as exc:
            if number == 0 and "format" in str(exc).lower():
                raise DataError(
                    f"{self.name}: not an xz file although its name ends in .xz; rename it without .xz if it is "
                    "plain JSONL, or compress it with xz"
                ) from None
            raise DataError(
                f"{self.name}:{number + 1}: the xz stream is truncated or corrupt after line {number} ({exc}); "
                "copy or download the file again (xz -t checks it)"
            ) from None
        except (EOFError, zlib.error) as exc:
            raise DataError(
                f"{self.name}:{number + 1}: the {kind or 'gzip'} stream is truncated or corrupt after line {number} "
                f"({exc}); copy or download the file again ({'xz' if kind == 'xz' else 'gzip'} -t checks it)"
            ) from None
        except OSError as exc:
            raise DataError(f"{self.name}: cannot be read ({exc.strerror or exc})") from None

    def _row(self, raw: bytes, number: int) -> tuple[str, Mapping[str, Any]] | tuple[str, None]:
        where = f"{self.name}:{number}"
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{where}: byte {exc.start + 1} of the line ({raw[exc.start:exc.start + 1]!r}) is not UTF-8; save "
                "the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 FILE)"
            ) from None
        if not line.strip():
            return where, None
        try:
            row = json.loads(line, parse_constant=_refuse_constant)
        except _NonStandardConstant as exc:
            raise DataError(
                f"{where}: {exc.args[0]} is not JSON (the standard has no NaN or Infinity; Python's json module alone accepts them); write "
                "the value as a string or a number, or delete the line"
            ) from None
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{where}: invalid JSON ({exc.msg} at column {exc.colno}); every line of a JSONL file "
                "must be one JSON object: fix or delete that line"
            ) from None
        except RecursionError:
            raise DataError(f"{where}: the JSON is nested too deeply to read; flatten that line or delete it") from None
        except ValueError as exc:  # an integer of more than sys.get_int_max_str_digits() (4300) digits
            what = "an integer is too long to read (over 4300 digits)" if "digits" in str(exc) else f"unreadable value ({exc})"
            raise DataError(f"{where}: {what}; write long numbers as strings, or delete the line") from None
        if not isinstance(row, dict):
            raise DataError(f"{where}: expected a JSON object {{...}}, got a {type(row).__name__}")
        return where, row


def _open_binary(path: Path, kind: str | None) -> Any:
    if kind == "gzip":
        return gzip.open(path, "rb")
    if kind == "xz":
        return lzma.open(path, "rb")
    return open(path, "rb")


class _NonStandardConstant(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    """``json.loads`` hook for ``NaN``, ``Infinity`` and ``-Infinity``, which the JSON standard does not have."""
    raise _NonStandardConstant(name)


class ParquetRows(Rows):
    """A Parquet file read in record batches (never the whole table at once)."""

    BATCH = 4096

    def __init__(self, path: Path):
        pq = _pyarrow_parquet()
        self.path = path
        self.name = str(path)
        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid / OSError for a non-Parquet file
            raise DataError(f"{self.name}: not a readable Parquet file ({exc})") from None
        self.columns = list(self._file.schema_arrow.names)

    def __iter__(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        index = 0
        for batch in self._file.iter_batches(batch_size=self.BATCH):
            for row in batch.to_pylist():
                yield f"{self.name} row {index}", row
                index += 1


class DatasetRows(Rows):
    """A map-style Hugging Face ``datasets.Dataset`` (Arrow-backed, memory-mapped, random access)."""

    map_style = True

    def __init__(self, dataset: Any, name: str = "dataset"):
        self.dataset = dataset
        self.name = name
        self.columns = list(dataset.column_names)

    def __len__(self) -> int:
        return len(self.dataset)

    def row(self, index: int) -> Mapping[str, Any]:
        return self.dataset[int(index)]

    def column(self, name: str) -> list[Any]:
        return list(self.dataset[name])

    def where(self, index: int) -> str:
        return f"{self.name} row {index}"

    def __iter__(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for index, row in enumerate(self.dataset):
            yield self.where(index), row


class IterableRows(Rows):
    """A streaming ``datasets.IterableDataset`` or any iterable of mappings, read once front to back."""

    def __init__(self, iterable: Iterable[Mapping[str, Any]], name: str = "stream", columns: Sequence[str] | None = None):
        self.iterable = iterable
        self.name = name
        self.columns = list(columns) if columns is not None else None

    def __iter__(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for index, row in enumerate(self.iterable):
            where = f"{self.name} example {index}"
            if not isinstance(row, Mapping):
                raise DataError(f"{where}: expected a mapping of column -> value, got a {type(row).__name__}")
            yield where, row


class ListRows(IterableRows):
    """An in-memory list of mappings (map-style, for tests and small data)."""

    map_style = True

    def __init__(self, rows: Sequence[Mapping[str, Any]], name: str = "rows"):
        super().__init__(rows, name)
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def row(self, index: int) -> Mapping[str, Any]:
        return self.rows[int(index)]

    def where(self, index: int) -> str:
        return f"{self.name} example {index}"


def open_rows(source: Any, *, format: Format = "auto", name: str | None = None) -> Rows:
    """Wrap a path, a ``datasets`` object or an iterable of mappings as :class:`Rows`.

    A path's format comes from its suffix (``.jsonl``/``.json``/``.ndjson`` [``.gz``, ``.xz``], ``.parquet``/``.pq``)
    unless ``format`` says otherwise. Missing files are a :class:`DataError` naming the path.
    """
    if isinstance(source, Rows):
        return source
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            raise DataError(f"data path {str(path)!r} is a folder; give a .jsonl (.gz, .xz) or .parquet file")
        if not path.is_file():
            raise DataError(f"data file {str(path)!r} does not exist")
        kind = format if format != "auto" else _format_of(path)
        return JsonlRows(path) if kind == "jsonl" else ParquetRows(path)
    kind = _datasets_kind(source)
    if kind == "dataset":
        return DatasetRows(source, name or "dataset")
    if kind == "iterable":
        features = getattr(source, "features", None)
        columns = list(features) if features else getattr(source, "column_names", None)
        return IterableRows(source, name or "stream", columns)
    if isinstance(source, Sequence) and not isinstance(source, (str, bytes)):
        return ListRows(source, name or "rows")
    if isinstance(source, Iterable):
        return IterableRows(source, name or "stream")
    raise DataError(
        f"cannot read data from a {type(source).__name__}; give a .jsonl or .parquet path, a datasets.Dataset, "
        "a datasets.IterableDataset or an iterable of dicts"
    )


def _format_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    raise DataError(
        f"data file {str(path)!r}: unknown format (suffix {path.suffix!r}); use .jsonl, .json, .ndjson (optionally "
        ".gz or .xz) or .parquet, or set the format explicitly (format: jsonl | parquet)"
    )


def _datasets_kind(source: Any) -> str | None:
    """``"dataset"`` / ``"iterable"`` for Hugging Face datasets objects, without importing ``datasets``."""
    module = type(source).__module__ or ""
    if not module.startswith("datasets"):
        return None
    import datasets

    if isinstance(source, datasets.IterableDataset):
        return "iterable"
    if isinstance(source, datasets.Dataset):
        return "dataset"
    if isinstance(source, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        raise DataError(
            f"got a {type(source).__name__} with splits {list(source)}; pass one split as the training data "
            "(e.g. ds['train']) and another as validation"
        )
    return None


def _pyarrow_parquet():
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow ships with the hf extra
        raise DataError("reading Parquet needs pyarrow: pip install pyarrow (or the hf extra: "
                        "pip install -e '.[hf]' in a skillit clone)") from None
    return pq


# ---- row -> example ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fields:
    """How a row becomes an example.

    Attributes:
        skill: the column holding the skill name, or a function ``row -> skill name``.
        prompt, answer: the prompt and answer columns (the loss/accuracy are measured on the answer).
        text: a plain-text column; when set, ``prompt``/``answer`` are ignored and the example is
            ``Example(prompt="", answer=row[text])`` (the whole text is scored).
        separator: appended to a non-empty prompt, e.g. ``" "`` for ``"...Answer:"`` + ``"72"``, or
            ``"\\nOutput: "`` when the prompt column is a bare input.
    """

    skill: SkillRule = "skill"
    prompt: str | None = "prompt"
    answer: str | None = "answer"
    text: str | None = None
    separator: str = ""
    # skill name -> (integer or string, where first seen): 1 and "1" are refused, not merged
    _kinds: dict[str, tuple[str, str]] = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.text is None and self.answer is None:
            raise DataError("say which column holds the answer (answer_field) or the plain text (text_field)")
        if not (isinstance(self.skill, str) and self.skill) and not callable(self.skill):
            raise DataError(f"the skill must be a column name or a function of the row, got {self.skill!r}")

    @property
    def skill_label(self) -> str:
        """How messages name the skill rule."""
        if isinstance(self.skill, str):
            return f"skill column {self.skill!r}"
        return f"skill function {getattr(self.skill, '__name__', repr(self.skill))}"

    def required_columns(self) -> list[str]:
        cols = [self.skill] if isinstance(self.skill, str) else []
        if self.text is not None:
            cols.append(self.text)
        else:
            cols += [c for c in (self.prompt, self.answer) if c is not None]
        return cols

    def check_columns(self, columns: Sequence[str] | None, where: str) -> None:
        """Fail early, naming the columns that exist, when a source declares its columns."""
        if columns is None:
            return
        for column in self.required_columns():
            if column not in columns:
                raise DataError(_missing_column(column, list(columns), where, self))

    def skill_of(self, row: Mapping[str, Any], where: str) -> str:
        if isinstance(self.skill, str):
            if self.skill not in row:
                raise DataError(_missing_column(self.skill, list(row), where, self))
            value = row[self.skill]
        else:
            try:
                value = self.skill(row)
            except Exception as exc:
                raise DataError(f"{where}: the {self.skill_label} failed on this row: {type(exc).__name__}: {exc}") from None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise DataError(
                f"{where}: the {self.skill_label} gave {value!r} ({type(value).__name__}); a skill name must be a "
                "non-empty string (or an integer)"
            )
        name = str(value)
        if not name.strip():
            raise DataError(f"{where}: empty skill name from the {self.skill_label}; every example needs a skill")
        kind = "string" if isinstance(value, str) else "integer"
        first_kind, first_where = self._kinds.setdefault(name, (kind, where))
        if first_kind != kind:
            raise DataError(
                f"{where}: the {self.skill_label} gives the {kind} {value!r}, but {first_where} gave the {first_kind} "
                f"{name if first_kind == 'integer' else repr(name)}; they would merge into one skill. Write every skill "
                "name the same way (all strings, e.g. \"1\")"
            )
        return name

    def example(self, row: Mapping[str, Any], skill: str, where: str) -> Example:
        """The example of ``row`` (empty answers are allowed here; callers decide whether they are an error)."""
        if self.text is not None:
            return Example(prompt="", answer=self._value(row, self.text, where), skill=skill)
        prompt = self._value(row, self.prompt, where) if self.prompt is not None else ""
        answer = self._value(row, self.answer, where)  # type: ignore[arg-type]
        if prompt:
            prompt += self.separator
        return Example(prompt=prompt, answer=answer, skill=skill)

    def _value(self, row: Mapping[str, Any], column: str, where: str) -> str:
        if column not in row:
            raise DataError(_missing_column(column, list(row), where, self))
        value = row[column]
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise DataError(
            f"{where}: column {column!r} holds a {type(value).__name__} ({str(value)[:60]}); prompt, answer and "
            "text columns must hold strings (or numbers)"
        )


def _missing_column(column: str, existing: list[str], where: str, fields: Fields) -> str:
    role = "skill" if column == fields.skill else "text" if column == fields.text else (
        "prompt" if column == fields.prompt else "answer")
    option = {"skill": "skill_column (--skill-column)", "text": "text_field", "prompt": "prompt_field",
              "answer": "answer_field"}[role]
    names = [str(c) for c in existing]
    close = difflib.get_close_matches(column, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    plain = ""
    if role in ("prompt", "answer") and fields.text is None:
        # a file of plain text has no prompt/answer pair: text_field scores the whole text (language modelling)
        others = [n for n in names if n != fields.skill and n not in (fields.prompt, fields.answer)]
        textual = [n for n in others if n.lower() in ("text", "content", "document", "body")] or others
        if textual:
            plain = (f"; or, for plain text (language modelling: the whole text is scored), set "
                     f"text_field: {textual[0]} (--text-field)")
    return (
        f"{where}: no {role} column {column!r}; the columns are: {', '.join(names) or '(none)'}. "
        f"Set {option} to one of them{hint}{plain}"
    )
