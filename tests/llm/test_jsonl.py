"""Resumable JSONL: created on the first record, whole lines only, a cut last line dropped on resume."""

from __future__ import annotations

import pytest

from skillit.errors import DataError
from skillit.llm.jsonl import JsonlAppender, read_jsonl


def test_file_appears_with_the_first_record(tmp_path):
    path = tmp_path / "sub" / "out.jsonl"
    writer = JsonlAppender(path)
    assert not path.exists() and writer.done_ids == set()
    writer.append({"id": 1, "text": "é"})
    writer.extend([{"id": "2"}])
    assert path.read_text(encoding="utf-8") == '{"id": 1, "text": "é"}\n{"id": "2"}\n'
    assert JsonlAppender(path).done_ids == {"1", "2"}


def test_a_line_cut_by_a_crash_is_dropped_and_redone(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "c", "te')
    writer = JsonlAppender(path)
    assert writer.done_ids == {"a", "b"} and path.read_text() == '{"id": "a"}\n{"id": "b"}\n'
    writer.append({"id": "c"})
    assert [r["id"] for r in read_jsonl(path)] == ["a", "b", "c"]


def test_refusing_to_resume_and_corrupt_lines(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text('{"id": 1}\nnot json\n')
    with pytest.raises(DataError, match=r"out.jsonl:2: not a JSON line"):
        read_jsonl(path)
    with pytest.raises(DataError, match="--resume"):
        JsonlAppender(path, resume=False)
    path.write_text("[1]\n")
    with pytest.raises(DataError, match="must be a JSON object"):
        read_jsonl(path)
    with pytest.raises(DataError, match="does not exist"):
        read_jsonl(tmp_path / "none.jsonl")
