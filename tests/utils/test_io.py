"""Atomic writes: normal file modes, and an OS error is one OutputError with no temporary file left."""

from __future__ import annotations

import errno
import os

import pytest

from skillit.errors import OutputError
from skillit.utils.checkpoint import atomic_torch_save
from skillit.utils.io import atomic_write_text, atomic_write_with


def test_files_get_the_umask_mode_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(("code", "reason"), [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "read-only")])
def test_an_os_error_while_writing_leaves_no_tmp_file(tmp_path, code, reason):
    (tmp_path / "keep.txt").write_text("old")

    def fail(handle):
        handle.write(b"partial")
        raise OSError(code, os.strerror(code))

    with pytest.raises(OutputError, match=f"cannot write .*keep.txt.*{reason}"):
        atomic_write_with(tmp_path / "keep.txt", fail)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
    assert (tmp_path / "keep.txt").read_text() == "old"  # the previous file is intact


def test_torch_save_on_a_full_disk_leaves_no_tmp_file(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match="checkpoint.pt.*the disk is full"):
        atomic_torch_save(tmp_path / "checkpoint.pt", {"a": 1})
    assert list(tmp_path.iterdir()) == []


def test_a_path_below_a_file_is_one_message(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="a part of the path is a file"):
        atomic_write_text(tmp_path / "f" / "a.txt", "x")
