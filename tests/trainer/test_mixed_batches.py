"""MixedBatches: the Mixer in a user's own loop gives what skillit's loop gives, resumes exactly, and refuses
to draw out of order."""

from __future__ import annotations

import json
import math

import pytest
import torch

from skillit.errors import ConfigError, DataError
from skillit.graph import builtin_graph
from skillit.model import GPT, CharTokenizer, GPTConfig
from skillit.policy import SkillIt, build_policy
from skillit.tasks import build_task
from skillit.trainer import MixedBatches, Mixer, MixerConfig, TrainConfig, TrainerCallback, train
from skillit.trainer.optim import build_optimizer, linear_schedule

STEPS, ROUND, EVAL, BATCH = 12, 4, 4, 8


def setup(seed: int = 0):
    skills = build_task("lego", {"k": 3, "validation_size": 9, "train_pool_size": 500}, seed=0)
    tokenizer = CharTokenizer(skills.metadata["alphabet"])
    torch.manual_seed(seed)
    model = GPT(GPTConfig(tokenizer.vocab_size, 24, n_layer=1, n_head=2, n_embd=16))
    return skills, tokenizer, model


def mixer_for(skills, tokenizer, policy, **changes) -> Mixer:
    config = dict(total_steps=STEPS, round_steps=ROUND, eval_every=EVAL, batch_size=BATCH, train_loss="answer",
                  max_length=24)
    return Mixer(skills, tokenizer, policy, MixerConfig(**{**config, **changes}))


def own_loop(model, batches, optimizer, scheduler=None, *, until: int | None = None) -> list[list[tuple[str, int]]]:
    """A user's loop; returns the draws of every step (stops after step ``until`` if given)."""
    draws = []
    for batch in batches:
        loss = batch.loss(model(input_ids=batch.input_ids, attention_mask=batch.attention_mask))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        batches.end_step(model, lr=optimizer.param_groups[0]["lr"])
        draws.append(batch.draws)
        if until is not None and batches.step == until:
            break
    return draws


def without_timings(records):
    timing = {"train_seconds", "eval_seconds", "signal_seconds"}
    return [{k: v for k, v in r.items() if k not in timing} for r in records]


class Draws(TrainerCallback):
    def __init__(self):
        self.steps = []

    def on_batch(self, step, round_index, pairs):
        self.steps.append(list(pairs))


def test_own_loop_gives_skillits_loop_records_and_draws():
    skills, tokenizer, model = setup()
    policy = SkillIt(builtin_graph("lego"), eta=2.0, window=2)
    mixer = mixer_for(skills, tokenizer, policy)
    optimizer = build_optimizer(model, 3e-3, 0.01)
    scheduler = linear_schedule(optimizer, 2, STEPS)
    batches = MixedBatches(mixer)
    first = batches.start(model, lr=float(scheduler.get_last_lr()[0]))
    assert first is mixer.records[0] and first["step"] == 0
    mine = own_loop(model, batches, optimizer, scheduler)

    skills, tokenizer, model = setup()
    log = Draws()
    result = train(model, tokenizer, skills, SkillIt(builtin_graph("lego"), eta=2.0, window=2),
                   TrainConfig(steps=STEPS, batch_size=BATCH, round_steps=ROUND, eval_every=EVAL, lr=3e-3,
                               warmup_steps=2, train_loss="answer"),
                   callbacks=[log])
    assert mine == log.steps  # every step's (skill, example) draws
    assert without_timings(mixer.records) == without_timings(result.records)  # same losses, weights, train_loss
    assert [r["step"] for r in mixer.records] == [0, 4, 8, 12]
    assert [r["round"] for r in mixer.records] == [0, 0, 1, 2]
    assert all(math.isfinite(r["train_loss"]) for r in mixer.records[1:])
    assert mixer.records[1]["weights"] != mixer.records[2]["weights"]  # the mixture moved at round 0's end


@pytest.mark.parametrize("policy_name", ["skill-it", "ado"])  # ado: per-skill training losses, saved mid-round
def test_resuming_from_the_mixers_json_state_mid_round_continues_exactly(policy_name):
    def policy():
        if policy_name == "skill-it":
            return SkillIt(builtin_graph("lego"), eta=2.0, window=2)
        return build_policy("ado", {})

    skills, tokenizer, model = setup()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    batches = MixedBatches(mixer_for(skills, tokenizer, policy()))
    batches.start(model, lr=3e-3)
    straight = own_loop(model, batches, optimizer)
    records = batches.mixer.records

    skills, tokenizer, model = setup()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    batches = MixedBatches(mixer_for(skills, tokenizer, policy()))
    batches.start(model, lr=3e-3)
    before = own_loop(model, batches, optimizer, until=6)  # step 6: inside round 1 (steps 5-8)
    saved = json.loads(json.dumps(batches.mixer.state_dict()))  # plain JSON
    weights, moments = model.state_dict(), optimizer.state_dict()

    skills, tokenizer, model = setup(seed=1)  # another initialisation: the saved weights replace it
    model.load_state_dict(weights)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    optimizer.load_state_dict(moments)
    mixer = mixer_for(skills, tokenizer, policy())
    mixer.load_state_dict(saved)
    batches = MixedBatches(mixer)
    assert batches.start(model) is None and batches.step == 6  # attached, not evaluated again
    after = own_loop(model, batches, optimizer)
    assert before + after == straight
    assert without_timings(mixer.records) == without_timings(records)  # bit for bit, training losses included


def test_draws_per_step_batches_share_a_step_and_the_step_loss_is_token_weighted():
    skills, tokenizer, model = setup()
    batches = MixedBatches(mixer_for(skills, tokenizer, build_policy("stratified", {}), draws_per_step=2,
                                     total_steps=4, eval_every=2, round_steps=2))
    batches.start(model)
    seen, sums = [], [0.0, 0.0]
    for batch in batches:
        seen.append(batch.step)
        with torch.no_grad():
            loss = batch.loss(model(batch.input_ids))
        tokens = float(batch.loss_mask.sum())
        sums = [sums[0] + float(loss) * tokens, sums[1] + tokens]
        if len(seen) % 2 == 0:
            events = batches.end_step(model)
            if events.record is not None:
                assert events.record["train_loss"] == pytest.approx(sums[0] / sums[1])
                sums = [0.0, 0.0]
    assert seen == [1, 1, 2, 2, 3, 3, 4, 4]
    assert sum(batches.mixer.records[-1]["examples_seen"].values()) == 4 * 2 * BATCH


def test_out_of_order_use_is_refused():
    skills, tokenizer, model = setup()
    batches = MixedBatches(mixer_for(skills, tokenizer, build_policy("stratified", {})))
    with pytest.raises(ConfigError, match=r"before start\(model\)"):
        next(iter(batches))
    batches.start(model)
    iterator = iter(batches)
    next(iterator)
    with pytest.raises(DataError, match=r"batch of step 2 was asked for before end_step\(model\) of step 1"):
        next(iterator)  # a read-ahead: step 2's mixture is not decided yet

    batches = MixedBatches(mixer_for(skills, tokenizer, build_policy("stratified", {}), draws_per_step=2))
    batches.start(model)
    next(iter(batches))
    with pytest.raises(DataError, match="end_step after 1 of the step's 2 batch"):
        batches.end_step(model)
    with pytest.raises(ConfigError, match="train_loss must be one of"):
        MixedBatches(batches.mixer, train_loss="everything")


def test_a_model_whose_logits_do_not_match_the_batch_is_named():
    skills, tokenizer, model = setup()
    batches = MixedBatches(mixer_for(skills, tokenizer, build_policy("stratified", {})))
    batches.start(model)
    batch = next(iter(batches))
    with pytest.raises(DataError, match="one row of logits per input position"):
        batch.loss(torch.zeros(batch.input_ids.shape[0], 3))


def test_a_bf16_autocast_loop_gets_a_float32_loss_and_evaluates_under_autocast():
    skills, tokenizer, model = setup()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    batches = MixedBatches(mixer_for(skills, tokenizer, SkillIt(builtin_graph("lego"), eta=2.0), total_steps=4,
                                     eval_every=2, round_steps=2))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        batches.start(model)
        for batch in batches:
            output = model(batch.input_ids)
            assert output.logits.dtype == torch.bfloat16
            loss = batch.loss(output)
            assert loss.dtype == torch.float32
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            batches.end_step(model)
    records = batches.mixer.records
    assert [r["step"] for r in records] == [0, 2, 4]
    assert all(math.isfinite(v) for r in records for v in r["losses"].values())
    assert all(math.isfinite(r["train_loss"]) for r in records[1:])


@pytest.mark.slow
def test_two_ranks_of_an_own_loop_split_every_batch_and_agree_on_the_weights(tmp_path):
    import os
    import sys
    from pathlib import Path

    import numpy as np

    from tests.processes import run_tree
    from tests.trainer.own_loop_ddp_worker import main as reference_run

    worker = Path(__file__).with_name("own_loop_ddp_worker.py")
    (tmp_path / "ddp").mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).parents[2]), str(Path(__file__).parents[2] / "src"), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               str(worker), str(tmp_path / "ddp")]
    done = run_tree(command, env=env, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    (tmp_path / "one").mkdir()
    reference_run(str(tmp_path / "one"))

    two = json.loads((tmp_path / "ddp" / "records.json").read_text())
    one = json.loads((tmp_path / "one" / "records.json").read_text())
    assert [r["step"] for r in two] == [r["step"] for r in one] == [0, 2, 4, 6, 8]
    for a, b in zip(two, one):
        assert a["examples_seen"] == b["examples_seen"] and a["round"] == b["round"]
        np.testing.assert_allclose(list(a["weights"].values()), list(b["weights"].values()), rtol=0, atol=1e-6)
        np.testing.assert_allclose(list(a["losses"].values()), list(b["losses"].values()), rtol=1e-5)
        if b["train_loss"] is not None:  # all-reduced over the ranks: the global batch's token-weighted mean
            assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
    assert len({tuple(r["weights"].values()) for r in one}) >= 3  # the mixture moves round by round
    ranks = [json.loads((tmp_path / "ddp" / f"draws.rank{r}.json").read_text()) for r in (0, 1)]
    single = json.loads((tmp_path / "one" / "draws.rank0.json").read_text())
    assert len(single) == len(ranks[0]) == len(ranks[1]) == 8
    for whole, r0, r1 in zip(single, *ranks):
        assert r0[:2] == r1[:2] == whole[:2]  # same step, same round
        assert r0[2] == whole[2][0::2] and r1[2] == whole[2][1::2]  # rank r: slots r, r + 2, ...
