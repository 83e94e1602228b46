"""Epochs per skill in the summary: examples seen at the end of a run / pool size, mean over seeds."""

from skillit.records.metrics import RunRecord
from skillit.records.summary import epochs_per_skill


def _run(seed, seen):
    return RunRecord("m", seed, {}, [{"step": 0, "examples_seen": {k: 0 for k in seen}},
                                     {"step": 10, "examples_seen": seen}], 10, 1.0, 0.1, 5)


def test_epochs_are_examples_seen_over_pool_size_averaged_over_seeds():
    runs = [_run(0, {"small": 30, "big": 50}), _run(1, {"small": 50, "big": 30})]
    # small: (30/10 + 50/10) / 2 = 4.0; big: (50/100 + 30/100) / 2 = 0.4; a stream has no epochs
    assert epochs_per_skill(runs, {"small": 10, "big": 100, "stream": None}) == {"small": 4.0, "big": 0.4,
                                                                                 "stream": None}
