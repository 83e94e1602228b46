"""Gradient accumulation gives the one-batch gradient; the draw log records every step once, across restarts."""

from __future__ import annotations

import json

import pytest
import torch

from skillit.errors import ConfigError, DataError
from skillit.model import CharTokenizer
from skillit.policy import build_policy
from skillit.tasks.lego import prerequisite_graph
from skillit.trainer import Distributed, TrainConfig, TrainerCallback, train
from skillit.trainer.draw_log import DrawLog, read_draw_log


def skill_it():
    return build_policy("skill-it", {"graph": "prerequisites", "eta": 0.3}, resolve_graph=lambda s: prerequisite_graph(3))


class Record(TrainerCallback):
    def __init__(self):
        self.batches = []

    def on_batch(self, step, round_index, pairs):
        self.batches.append((step, round_index, list(pairs)))


def run(tiny_lego, tiny_model_factory, **overrides):
    tok = CharTokenizer(tiny_lego.metadata["alphabet"])
    model = tiny_model_factory(tok)
    config = TrainConfig(**{"steps": 8, "batch_size": 8, "round_steps": 4, "eval_every": 2, "lr": 3e-3,
                            "warmup_steps": 1, **overrides})
    recorder = Record()
    result = train(model, tok, tiny_lego, skill_it(), config, callbacks=[recorder])
    return result, model, recorder


def test_accumulation_matches_one_batch(tiny_lego, tiny_model_factory):
    whole, model_a, draws_a = run(tiny_lego, tiny_model_factory)
    split, model_b, draws_b = run(tiny_lego, tiny_model_factory, gradient_accumulation_steps=4)
    assert draws_a.batches == draws_b.batches  # the same examples, micro-batched
    for a, b in zip(whole.records, split.records):
        assert a["weights"] == pytest.approx(b["weights"], abs=1e-9)
        assert list(a["losses"].values()) == pytest.approx(list(b["losses"].values()), rel=1e-5)
    # summation order differs (4 micro-batches of 2): parameters agree to float32 rounding amplified by
    # Adam on near-zero gradients (measured max 1.2e-6 absolute), not bit for bit
    for p, q in zip(model_a.parameters(), model_b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)


def test_batch_must_split_over_ranks_and_micro_batches(tiny_lego, tiny_model_factory):
    with pytest.raises(ConfigError, match="batch_size 8 must split evenly over 1 rank"):
        run(tiny_lego, tiny_model_factory, gradient_accumulation_steps=3)
    tok = CharTokenizer(tiny_lego.metadata["alphabet"])
    with pytest.raises(ConfigError, match="needs an all_reduce"):
        train(tiny_model_factory(tok), tok, tiny_lego, skill_it(), TrainConfig(steps=1, batch_size=8),
              distributed=Distributed(rank=0, world_size=2))


def test_on_batch_reports_the_rank_share_with_rounds(tiny_lego, tiny_model_factory):
    _, _, recorder = run(tiny_lego, tiny_model_factory)
    assert [(s, r) for s, r, _ in recorder.batches] == [(1, 0), (2, 0), (3, 0), (4, 0), (5, 1), (6, 1), (7, 1), (8, 1)]
    assert all(len(pairs) == 8 and {name for name, _ in pairs} <= {"var1", "var2", "var3"} for _, _, pairs in recorder.batches)


def test_draw_log_keeps_each_step_once_across_a_restart(tmp_path):
    path = tmp_path / "draws.jsonl"
    log = DrawLog(path)
    log.on_train_begin({"step": 0})
    for step in (1, 2, 3, 4):
        log.on_batch(step, 0, [("a", step)])
    log.close()
    with open(path, "a") as handle:
        handle.write('{"step": 5, "rou')  # a writer killed mid-line
    restarted = DrawLog(path)
    restarted.on_train_begin({"step": 2})  # the checkpoint was at step 2: steps 3.. are redone
    restarted.on_batch(3, 0, [("a", 3)])
    restarted.on_train_end(None)
    assert [e["step"] for e in read_draw_log(path)] == [1, 2, 3]
    assert read_draw_log(path)[2] == {"step": 3, "round": 0, "draws": [["a", 3]]}


def test_a_corrupt_draw_log_line_is_an_error(tmp_path):
    path = tmp_path / "draws.jsonl"
    path.write_text('{"step": 1}\nnot json\n{"step": 3}\n')
    with pytest.raises(DataError, match="draws.jsonl:2: corrupt draw-log line"):
        read_draw_log(path, drop_partial_tail=True)
    assert json.loads(path.read_text().splitlines()[0]) == {"step": 1}
