"""Run a process tree (torchrun and its workers) with a hard timeout and no stragglers.

torchrun starts each worker in a session of its own, so killing torchrun's process group misses them, and a
worker left alive keeps any output pipe open forever. Here output goes to files (nothing waits for a pipe's
end), every process of the tree is tagged with an environment variable, and at the end, whatever happened,
every process still carrying the tag is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import uuid
from pathlib import Path


def _tagged(tag: str) -> list[int]:
    pids = []
    needle = f"SKILLIT_TEST_TREE={tag}".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "environ").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def run_tree(command: list[str], *, cwd=None, env=None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``command`` to completion; on timeout kill the whole tree and raise ``AssertionError`` with its output."""
    tag = uuid.uuid4().hex
    env = {**(env if env is not None else os.environ), "SKILLIT_TEST_TREE": tag}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err, text=True, start_new_session=True)
        timed_out = False
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            for pid in _tagged(tag) + ([process.pid] if process.poll() is None else []):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            process.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if timed_out:
        raise AssertionError(f"{command[:6]} did not finish in {timeout} s:\n{stdout[-2000:]}\n{stderr[-2000:]}")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
