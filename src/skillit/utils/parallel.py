"""Run independent jobs in spawn worker processes, one torch thread each, with progress reports.

    run_in_workers(train_one, items, jobs=2, on_result=save, on_progress=show)

``function(item, report)`` runs once per item; ``report(key, value)`` forwards progress (e.g. a run id and
the steps it has done) to ``on_progress`` in the parent process. ``on_result(item, result)`` is called in the
parent as each job finishes, so a caller can persist every finished job at once (that is what makes an
interrupted batch resumable: the finished jobs' files are already written).

With ``jobs=1`` everything runs in this process (no pickling, easy to debug), also with one torch thread
(:func:`torch_threads`; the caller's thread count is restored afterwards). With more, workers are
started with the ``spawn`` method (safe with torch) and call ``torch.set_num_threads(1)``: two torch
processes that each use every core spin-wait on each other and run ~15× slower. ``function`` and the items
must then be picklable (module-level functions, plain data).

No orphans: a worker whose parent dies (``kill -9``, an OOM kill) notices within
``ORPHAN_CHECK_SECONDS`` that it was re-parented and exits, instead of finishing its run for nobody; a
parent stopped by SIGTERM (``kill PID``) or Ctrl-C terminates its workers before it exits.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, TypeVar

import torch

Item = TypeVar("Item")
Result = TypeVar("Result")
Report = Callable[[str, Any], None]

_QUEUE: Any = None
_SHARED: Any = None  # a worker's copy of run_in_workers(shared=...), unpickled once per process
_NOT_SHARED: Any = object()  # run_in_workers without shared=
ORPHAN_CHECK_SECONDS = 1.0


def _exit_when_orphaned(parent: int) -> None:
    # A dead parent re-parents us (to init or a subreaper): the pid changes. os._exit skips cleanup that
    # would block on the parent's now-closed pipes.
    while True:
        time.sleep(ORPHAN_CHECK_SECONDS)
        if os.getppid() != parent:
            os._exit(1)


def _worker_init(progress_queue: Any, parent: int, shared: Any = None) -> None:
    global _QUEUE, _SHARED
    _QUEUE, _SHARED = progress_queue, shared
    torch.set_num_threads(1)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True, name="orphan-check").start()


class _Terminated(BaseException):
    """SIGTERM in the parent, raised so that the workers are stopped before it exits."""


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Terminated(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    # concurrent.futures has no public way to stop running jobs before Python 3.14's terminate_workers().
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        process.terminate()


@contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads, then restore the previous count.

    Every training process of a run uses one thread, in workers and in-process alike, so ``--jobs N``
    means N busy cores and a run's timings do not depend on how many jobs ran beside it.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _worker_report(key: str, value: Any) -> None:
    _QUEUE.put((key, value))


def _worker_call(function: Callable[..., Any], item: Any, with_shared: bool) -> Any:
    if with_shared:
        return function(_SHARED, item, _worker_report)
    return function(item, _worker_report)


def run_in_workers(
    function: Callable[[Item, Report], Result],
    items: Sequence[Item],
    *,
    jobs: int = 1,
    on_result: Callable[[Item, Result], None] | None = None,
    on_progress: Report | None = None,
    shared: Any = _NOT_SHARED,
) -> list[Result]:
    """Run ``function(item, report)`` for every item with at most ``jobs`` processes; results in item order.

    ``shared``: what every job reads (e.g. an experiment plan); given, ``function(shared, item, report)`` is
    called instead, and each worker process receives ``shared`` once (pickled with the worker's start, not with
    every job), so what it builds and caches serves every job that process runs. In-process (``jobs=1``) the
    jobs get ``shared`` itself.

    An exception in a job is re-raised here (after the pool is shut down); results already handed to
    ``on_result`` stay handed.
    """
    items = list(items)
    progress = on_progress or (lambda key, value: None)
    results: list[Any] = [None] * len(items)
    jobs = max(1, min(int(jobs), len(items)))
    with_shared = shared is not _NOT_SHARED
    if jobs == 1:
        with torch_threads(1):
            for index, item in enumerate(items):
                results[index] = function(shared, item, progress) if with_shared else function(item, progress)
                if on_result is not None:
                    on_result(item, results[index])
        return results

    context = multiprocessing.get_context("spawn")
    # A SimpleQueue writes straight into a pipe (no feeder thread, so nothing is still in flight when a job's
    # result arrives) and needs no Manager server process, which would outlive a parent killed with -9.
    progress_queue = context.SimpleQueue()
    try:
        with _sigterm_raises(), ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_init,
                                                    initargs=(progress_queue, os.getpid(), shared if with_shared else None)) as pool:
            index_of = {pool.submit(_worker_call, function, item, with_shared): index for index, item in enumerate(items)}
            pending = set(index_of)
            try:
                while pending:
                    finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    _drain(progress_queue, progress)
                    for future in finished:
                        index = index_of[future]
                        results[index] = future.result()
                        if on_result is not None:
                            on_result(items[index], results[index])
                _drain(progress_queue, progress)
            except BaseException as error:
                for future in pending:
                    future.cancel()
                if isinstance(error, (KeyboardInterrupt, _Terminated)):
                    _terminate_workers(pool)  # else leaving the with-block waits for the running jobs
                if isinstance(error, _Terminated):
                    raise SystemExit(128 + signal.SIGTERM) from None
                raise
    finally:
        progress_queue.close()
    return results


def _drain(progress_queue: Any, progress: Report) -> None:
    # The parent is the only reader, so a queue that is not empty has an item that get() returns at once.
    while True:
        try:
            if progress_queue.empty():
                return
            key, value = progress_queue.get()
        except (EOFError, OSError):
            return
        progress(key, value)


__all__ = ["run_in_workers", "torch_threads"]
