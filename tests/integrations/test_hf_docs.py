"""docs/stacks.md's Hugging Face Trainer script runs as written: a tiny GPT-2 from a config, no download."""

from __future__ import annotations

import numpy as np
import pytest

from tests.plugin_helpers import DOCS, code_blocks, section


def test_the_stacks_page_trainer_script_runs_as_written(tmp_path, monkeypatch, capsys):
    blocks = code_blocks(section(DOCS / "stacks.md", "Hugging Face Trainer"), "python")
    assert len(blocks) == 1
    hub = [line.strip() for line in blocks[0].splitlines() if "from_pretrained" in line]
    assert len(hub) == 2 and all(line.startswith("#") for line in hub)  # the hub path: the commented alternative
    monkeypatch.chdir(tmp_path)  # output_dir="out"
    namespace: dict = {"__name__": "stacks_md"}
    exec(compile(blocks[0], "docs/stacks.md", "exec"), namespace)
    records = namespace["mixing"].records
    assert [r["step"] for r in records] == [0, 4, 8]  # eval_every=4, max_steps=8
    assert [r["round"] for r in records] == [0, 0, 1]  # the step-4 evaluation ends round 0 (round_steps=4)
    assert sum(records[-1]["examples_seen"].values()) == 8 * 8  # steps × per-device batch
    # the first round's mixture is Skill-It's softmax(η · A·1) on the built-in LEGO graph: var2 has three 0.5
    # edges (to var1, var3, var4) besides its diagonal 1, every other row only its diagonal
    row_sums = np.array([1.0, 2.5, 1.0, 1.0, 1.0])
    expected = np.exp(0.5 * row_sums) / np.exp(0.5 * row_sums).sum()
    assert list(records[0]["weights"]) == ["var1", "var2", "var3", "var4", "var5"]
    assert list(records[0]["weights"].values()) == pytest.approx(expected)
    assert "var1" in capsys.readouterr().out  # the last print
