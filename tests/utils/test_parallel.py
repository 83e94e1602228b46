"""run_in_workers: results in item order, each handed over as it finishes, progress forwarded, errors raised,
no worker outliving its parent."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from skillit.utils.parallel import run_in_workers
from tests.processes import _tagged


def square(item, report):
    report(f"job{item}", item)
    if item < 0:
        raise ValueError(f"negative item {item}")
    return item * item


@pytest.mark.parametrize("jobs", [1, 2])
def test_results_progress_and_handover(jobs):
    finished, progress = [], []
    results = run_in_workers(square, [3, 1, 2], jobs=jobs, on_result=lambda item, result: finished.append((item, result)),
                             on_progress=lambda key, value: progress.append((key, value)))
    assert results == [9, 1, 4]
    assert sorted(finished) == [(1, 1), (2, 4), (3, 9)]
    assert sorted(progress) == [("job1", 1), ("job2", 2), ("job3", 3)]


def served(shared, item, report):
    """Records the item in the shared object this process holds; returns (pid, every item it has served)."""
    shared.append(item)
    return os.getpid(), list(shared)


@pytest.mark.parametrize("jobs", [1, 2])
def test_shared_is_sent_to_each_process_once(jobs):
    shared: list[int] = []
    results = run_in_workers(served, [1, 2, 3, 4], jobs=jobs, shared=shared)
    by_process: dict[int, list[int]] = {}
    for pid, seen in results:
        by_process.setdefault(pid, []).append(seen[-1])
    for pid, seen in results:  # one copy per process: a job sees the items its process served before it too
        assert seen == by_process[pid][: len(seen)]
    assert sorted(item for items in by_process.values() for item in items) == [1, 2, 3, 4]
    if jobs == 1:
        assert shared == [1, 2, 3, 4] and list(by_process) == [os.getpid()]  # in-process: the object itself
    else:
        assert shared == [] and max(len(items) for items in by_process.values()) >= 2


def test_errors_are_raised_in_the_parent():
    with pytest.raises(ValueError, match="negative item -1"):
        run_in_workers(square, [1, -1], jobs=2)
    assert run_in_workers(square, [], jobs=2) == []


def torch_thread_count(item, report):
    import torch

    return torch.get_num_threads()


def test_one_job_runs_in_process_with_one_torch_thread_and_restores_the_count():
    """--jobs 1 used torch's default thread count (every core); workers use one thread (issue 14, item 10)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert run_in_workers(torch_thread_count, [0, 1], jobs=1) == [1, 1]
        assert torch.get_num_threads() == 2  # the caller's setting is back
    finally:
        torch.set_num_threads(before)


SLEEPER = '''
import os, sys, time
from pathlib import Path
from skillit.utils.parallel import run_in_workers

def sleep_forever(folder, report):
    Path(folder, f"worker-{os.getpid()}").write_text("")
    time.sleep(300)

if __name__ == "__main__":
    Path(sys.argv[1], f"parent-{os.getpid()}").write_text("")
    run_in_workers(sleep_forever, [sys.argv[1]] * 2, jobs=2)
'''


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status  # a zombie has exited; only its entry waits to be reaped


def _start_sleepers(tmp_path, tag):
    script = tmp_path / "sleeper.py"
    script.write_text(SLEEPER)
    folder = tmp_path / "pids"
    folder.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "SKILLIT_TEST_TREE": tag}
    parent = subprocess.Popen([sys.executable, str(script), str(folder)], env=env)
    deadline = time.monotonic() + 120
    while len(list(folder.glob("worker-*"))) < 2:
        assert time.monotonic() < deadline and parent.poll() is None, "the workers did not start"
        time.sleep(0.2)
    workers = [int(path.name.split("-")[1]) for path in folder.glob("worker-*")]
    return parent, workers


def _wait_gone(pids, seconds=20.0):
    deadline = time.monotonic() + seconds
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return [pid for pid in pids if _alive(pid)]


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_workers_do_not_outlive_their_parent(tmp_path, how):
    """`kill -9` of the parent: workers notice the new parent pid and exit; `kill`: the parent stops them."""
    tag = uuid.uuid4().hex
    parent, workers = _start_sleepers(tmp_path, tag)
    try:
        parent.send_signal(getattr(signal, how))
        code = parent.wait(timeout=30)
        assert code == (-signal.SIGKILL if how == "SIGKILL" else 128 + signal.SIGTERM)
        assert _wait_gone(workers) == []
        # nor any other process of the tree (a multiprocessing Manager's server, the resource tracker)
        assert _wait_gone([pid for pid in _tagged(tag) if pid != os.getpid()]) == []
    finally:
        for pid in {parent.pid, *workers, *_tagged(tag)} - {os.getpid()}:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
