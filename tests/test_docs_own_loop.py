"""docs/stacks.md "Your own loop": the script runs as written, and its Mixer did the mixing."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tests.plugin_helpers import DOCS, code_blocks, section


def test_the_own_loop_script_runs_as_written(capsys):
    blocks = code_blocks(section(DOCS / "stacks.md", "Your own loop"), "python")
    assert len(blocks) == 1
    assert len(blocks[0].splitlines()) <= 40  # a short, complete script
    namespace: dict = {"__name__": "stacks_md_own_loop"}
    exec(compile(blocks[0], "docs/stacks.md", "exec"), namespace)
    mixer, state = namespace["mixer"], namespace["state"]
    records = mixer.records
    assert [r["step"] for r in records] == [0, 10, 20, 30, 40]  # eval_every=10, total_steps=40
    assert [r["round"] for r in records] == [0, 0, 1, 2, 3]  # the step-10 evaluation ends round 0, ...
    assert sum(records[-1]["examples_seen"].values()) == 40 * 32  # steps × batch: every step drew once
    assert all(math.isfinite(r["train_loss"]) for r in records[1:])
    assert records[-1]["train_loss"] < records[1]["train_loss"]  # the user's model learned
    # round 0's mixture is Skill-It's softmax(η · A·1) on the built-in LEGO graph: var2 has three 0.5 edges
    # besides its diagonal 1, every other row only its diagonal
    row_sums = np.array([1.0, 2.5, 1.0, 1.0, 1.0])
    expected = np.exp(0.5 * row_sums) / np.exp(0.5 * row_sums).sum()
    assert list(records[0]["weights"].values()) == pytest.approx(expected)
    # later rounds follow the observed losses: the mixture moved
    assert not np.allclose(list(records[2]["weights"].values()), expected, atol=1e-3)
    printed = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in printed] == ["step 10", "step 20", "step 30", "step 40"]
    # the state it ends with is plain JSON, and a fresh Mixer takes it back
    from skillit import Mixer

    again = Mixer(mixer.skillset, mixer.tokenizer, namespace["policy"], mixer.config)
    again.load_state_dict(json.loads(json.dumps(state)))
    assert json.dumps(again.records) == json.dumps(records) and again.finished  # (lr: NaN, not passed)
