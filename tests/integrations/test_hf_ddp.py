"""A stock Trainer under torchrun (2 ranks, gloo, CPU) with SkillMixingCallback against 1 process.

Every rank draws its own share of each global micro-batch (slots rank, rank + W, ...) at the same weights;
per-skill evaluation sums are all-reduced, so both ranks make the same policy update. Weights and losses
are compared with a tolerance (the 2-rank run sums losses and gradients in another order; measured:
weights 4e-9, losses 2e-7 apart); the drawn examples exactly.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.integrations.hf_ddp_worker import main as reference_run
from tests.processes import run_tree

WORKER = Path(__file__).with_name("hf_ddp_worker.py")


@pytest.mark.slow
def test_two_trainer_ranks_split_every_micro_batch_and_agree_on_the_weights(tmp_path):
    (tmp_path / "ddp").mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parents[2])}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               str(WORKER), str(tmp_path / "ddp"), "4"]
    done = run_tree(command, env=env, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    (tmp_path / "one").mkdir()
    reference_run(str(tmp_path / "one"), 8)  # one process, the same global micro-batch of 8

    two = json.loads((tmp_path / "ddp" / "records.json").read_text())
    one = json.loads((tmp_path / "one" / "records.json").read_text())
    assert [r["step"] for r in two] == [r["step"] for r in one] == [0, 2, 4, 6, 8, 10, 12]
    for a, b in zip(two, one):
        assert a["examples_seen"] == b["examples_seen"] and a["round"] == b["round"]
        np.testing.assert_allclose(list(a["weights"].values()), list(b["weights"].values()), rtol=0, atol=1e-6)
        np.testing.assert_allclose(list(a["losses"].values()), list(b["losses"].values()), rtol=1e-5)
    assert len({tuple(r["weights"].values()) for r in one}) == 3  # three rounds, three mixtures

    ranks = [json.loads((tmp_path / "ddp" / f"draws.rank{r}.json").read_text()) for r in (0, 1)]
    single = json.loads((tmp_path / "one" / "draws.rank0.json").read_text())
    assert len(single) == len(ranks[0]) == len(ranks[1]) == 12
    for whole, r0, r1 in zip(single, *ranks):
        assert r0[:2] == r1[:2] == whole[:2]  # same micro-batch number, same round
        assert r0[2] == whole[2][0::2] and r1[2] == whole[2][1::2]
    drawn = [tuple(p) for entry in ranks[0] + ranks[1] for p in entry[2]]
    assert len(drawn) == len(set(drawn)) == 12 * 8  # no example drawn twice (pools of 1000 per skill)
