"""run_in_workers: results in item order, each handed over as it finishes, progress forwarded, errors raised."""

import pytest

from skillit.utils.parallel import run_in_workers


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
