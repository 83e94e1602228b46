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
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, TypeVar

import torch

Item = TypeVar("Item")
Result = TypeVar("Result")
Report = Callable[[str, Any], None]

_QUEUE: Any = None


def _worker_init(progress_queue: Any) -> None:
    global _QUEUE
    _QUEUE = progress_queue
    torch.set_num_threads(1)


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


def _worker_call(function: Callable[[Any, Report], Any], item: Any) -> Any:
    return function(item, _worker_report)


def run_in_workers(
    function: Callable[[Item, Report], Result],
    items: Sequence[Item],
    *,
    jobs: int = 1,
    on_result: Callable[[Item, Result], None] | None = None,
    on_progress: Report | None = None,
) -> list[Result]:
    """Run ``function(item, report)`` for every item with at most ``jobs`` processes; results in item order.

    An exception in a job is re-raised here (after the pool is shut down); results already handed to
    ``on_result`` stay handed.
    """
    items = list(items)
    progress = on_progress or (lambda key, value: None)
    results: list[Any] = [None] * len(items)
    jobs = max(1, min(int(jobs), len(items)))
    if jobs == 1:
        with torch_threads(1):
            for index, item in enumerate(items):
                results[index] = function(item, progress)
                if on_result is not None:
                    on_result(item, results[index])
        return results

    context = multiprocessing.get_context("spawn")
    manager = context.Manager()
    progress_queue = manager.Queue()
    try:
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_init, initargs=(progress_queue,)) as pool:
            index_of = {pool.submit(_worker_call, function, item): index for index, item in enumerate(items)}
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
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
    finally:
        manager.shutdown()
    return results


def _drain(progress_queue: Any, progress: Report) -> None:
    while True:
        try:
            key, value = progress_queue.get_nowait()
        except (queue_module.Empty, EOFError, OSError):
            return
        progress(key, value)


__all__ = ["run_in_workers", "torch_threads"]
