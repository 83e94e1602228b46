"""JSONL compressed with xz (how the shipped corpora are stored) or gzip reads as the plain file does, and its
problems name the line of the decompressed text."""

from __future__ import annotations

import gzip
import lzma

import pytest

from skillit.errors import DataError
from skillit.skills.io import load_skills
from skillit.skills.io.records import open_rows

LINES = [
    '{"skill": "add", "prompt": "1+1=", "answer": "2"}',
    '{"skill": "mul", "prompt": "2*3=", "answer": "6"}',
    "",
    '{"skill": "add", "prompt": "2+2=", "answer": "4"}',
]
TEXT = ("\n".join(LINES) + "\n").encode()
COMPRESS = {".jsonl": lambda b: b, ".jsonl.gz": gzip.compress, ".jsonl.xz": lzma.compress}


@pytest.mark.parametrize("suffix", sorted(COMPRESS))
def test_rows_and_their_line_numbers_are_those_of_the_plain_text(tmp_path, suffix):
    path = tmp_path / f"d{suffix}"
    path.write_bytes(COMPRESS[suffix](TEXT))
    rows = list(open_rows(path))
    assert [where for where, _ in rows] == [f"{path}:1", f"{path}:2", f"{path}:4"]  # line 3 is blank
    assert [row["answer"] for _, row in rows] == ["2", "6", "4"]
    skills = load_skills(path, holdout=0.5)
    assert skills.names == ["add", "mul"]


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.xz"])
def test_a_bad_line_inside_a_compressed_file_names_its_line(tmp_path, suffix):
    path = tmp_path / f"d{suffix}"
    path.write_bytes(COMPRESS[suffix](TEXT + b'{"skill": "add", "prompt": \n'))
    with pytest.raises(DataError, match=rf"{path}:5: invalid JSON"):
        list(open_rows(path))


def test_a_plain_file_named_xz_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "d.jsonl.xz"
    path.write_bytes(TEXT)
    with pytest.raises(DataError, match=r"d.jsonl.xz: not an xz file although its name ends in .xz; rename it without "
                                        r"\.xz if it is plain JSONL, or compress it with xz"):
        list(open_rows(path))


def test_a_truncated_xz_file_says_after_which_line(tmp_path):
    body = "".join(f'{{"skill": "a", "prompt": "x{i}", "answer": "y"}}\n' for i in range(5000)).encode()
    whole = lzma.compress(body)
    path = tmp_path / "d.jsonl.xz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match=r"d.jsonl.xz:\d+: the xz stream is truncated or corrupt after line \d+ .*"
                                        r"\(xz -t checks it\)"):
        list(open_rows(path))
