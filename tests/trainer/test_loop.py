"""The one training loop on a tiny LEGO set: records, mixture bookkeeping, determinism and resume."""

import numpy as np
import pytest
import torch

from skillit.errors import CheckpointError, SkillError
from skillit.model import CharTokenizer
from skillit.policy import Static, Stratified, build_policy
from skillit.trainer import TrainConfig, TrainerCallback, answer_metrics, collate, train
from skillit.trainer.batching import loss_mask, token_losses


def tokenizer_for(skills):
    return CharTokenizer(skills.metadata["alphabet"])


def run(tiny_lego, tiny_model_factory, policy, **overrides):
    tok = tokenizer_for(tiny_lego)
    config = TrainConfig(**{"steps": 12, "batch_size": 8, "round_steps": 4, "eval_every": 2, "lr": 1e-3,
                            "warmup_steps": 2, **overrides})
    return train(tiny_model_factory(tok), tok, tiny_lego, policy, config)


def test_records_bookkeeping(tiny_lego, tiny_model_factory):
    policy = build_policy("skill-it", {"graph": "prerequisites", "eta": 1.0},
                          resolve_graph=lambda s: __import__("skillit.tasks.lego", fromlist=["x"]).prerequisite_graph(3))
    result = run(tiny_lego, tiny_model_factory, policy)
    steps = [r["step"] for r in result.records]
    assert steps == [0, 2, 4, 6, 8, 10, 12]
    assert [r["round"] for r in result.records] == [0, 0, 0, 1, 1, 2, 2]
    final = result.final
    assert set(final["losses"]) == {"var1", "var2", "var3"}
    assert sum(final["examples_seen"].values()) == 12 * 8
    for r in result.records:
        assert sum(r["weights"].values()) == pytest.approx(1.0)
    # within a round the weights in force do not change; the first mixture is softmax(η · row sums)
    assert result.records[1]["weights"] == result.records[2]["weights"] == result.records[0]["weights"]
    row_sums = np.array([3.0, 2.0, 1.0])
    expected = np.exp(row_sums - row_sums.max()) / np.exp(row_sums - row_sums.max()).sum()
    assert list(result.records[0]["weights"].values()) == pytest.approx(expected)
    assert result.eval_examples == 7 * 3 * 8  # 7 evaluations × 3 skills × 8 validation examples
    assert final["train_seconds"] > 0 and final["eval_seconds"] > 0


def test_examples_seen_follow_the_quota(tiny_lego, tiny_model_factory):
    result = run(tiny_lego, tiny_model_factory, Static({"var1": 1.0, "var3": 3.0}))
    assert result.final["examples_seen"] == {"var1": 24, "var2": 0, "var3": 72}


def test_same_seed_same_run_and_training_reduces_loss(tiny_lego, tiny_model_factory):
    a = run(tiny_lego, tiny_model_factory, Stratified())
    b = run(tiny_lego, tiny_model_factory, Stratified())
    assert [r["losses"] for r in a.records] == [r["losses"] for r in b.records]
    assert np.mean(list(a.final["losses"].values())) < np.mean(list(a.records[0]["losses"].values()))


def test_resume_from_checkpoint_matches_an_uninterrupted_run(tiny_lego, tiny_model_factory, tmp_path):
    full = run(tiny_lego, tiny_model_factory, Stratified())

    class Stop(TrainerCallback):
        def on_step_end(self, step, loss):
            if step == 6:
                raise KeyboardInterrupt

    tok = tokenizer_for(tiny_lego)
    config = TrainConfig(steps=12, batch_size=8, round_steps=4, eval_every=2, lr=1e-3, warmup_steps=2, checkpoint_every=3)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_model_factory(tok), tok, tiny_lego, Stratified(), config, callbacks=[Stop()], checkpoint_dir=tmp_path)
    resumed = train(tiny_model_factory(tok, seed=99), tok, tiny_lego, Stratified(), config, checkpoint_dir=tmp_path, resume=True)
    strip = lambda rs: [{k: v for k, v in r.items() if not k.endswith("seconds")} for r in rs]  # noqa: E731
    assert strip(resumed.records) == strip(full.records)


def test_resume_errors(tiny_lego, tiny_model_factory, tmp_path):
    tok = tokenizer_for(tiny_lego)
    config = TrainConfig(steps=4, batch_size=4, round_steps=2, eval_every=2, checkpoint_every=2)
    with pytest.raises(CheckpointError, match="nothing to resume"):
        train(tiny_model_factory(tok), tok, tiny_lego, Stratified(), config, checkpoint_dir=tmp_path, resume=True)
    train(tiny_model_factory(tok), tok, tiny_lego, Stratified(), config, checkpoint_dir=tmp_path)
    other = TrainConfig(steps=4, batch_size=8, round_steps=2, eval_every=2, checkpoint_every=2)
    with pytest.raises(CheckpointError, match="batch_size=4"):
        train(tiny_model_factory(tok), tok, tiny_lego, Stratified(), other, checkpoint_dir=tmp_path, resume=True)
    # the checkpoint records the policy: another policy (or the same one with other hyper-parameters) is refused
    with pytest.raises(CheckpointError, match=r"saved with policy=\{'name': 'stratified'.*this run has \{'name': 'static'"):
        train(tiny_model_factory(tok), tok, tiny_lego, Static([1, 1, 1]), config, checkpoint_dir=tmp_path, resume=True)
    with pytest.raises(CheckpointError, match="sampling='quota'.*'iid'"):
        iid = TrainConfig(steps=4, batch_size=4, round_steps=2, eval_every=2, checkpoint_every=2, sampling="iid")
        train(tiny_model_factory(tok), tok, tiny_lego, Stratified(), iid, checkpoint_dir=tmp_path, resume=True)
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot be read.*delete it"):
        train(tiny_model_factory(tok), tok, tiny_lego, Stratified(), config, checkpoint_dir=tmp_path, resume=True)


def test_settings_validate_targets(tiny_lego, tiny_model_factory):
    tok = tokenizer_for(tiny_lego)
    with pytest.raises(SkillError, match="needs target_skills"):
        train(tiny_model_factory(tok), tok, tiny_lego, Stratified(), TrainConfig(steps=1), setting="finetune")
    with pytest.raises(SkillError, match="unknown training skill 'var9'"):
        train(tiny_model_factory(tok), tok, tiny_lego, Stratified(), TrainConfig(steps=1), setting="finetune",
              target_skills=["var9"])


def test_answer_metrics_exact_match_equals_greedy_decoding(tiny_lego, tiny_model_factory):
    tok = tokenizer_for(tiny_lego)
    model = tiny_model_factory(tok)
    examples = tiny_lego["var2"].validation
    _, correct = answer_metrics(model, tok, examples)
    for example, ok in zip(examples, correct):
        ids = torch.tensor([[tok.bos_id, *tok.encode(example.prompt)]])
        with torch.no_grad():
            greedy = model(input_ids=ids).logits[0, -1].argmax().item()
        assert bool(ok) == (tok.decode([greedy]) == example.answer)


def test_collate_masks(tiny_lego):
    tok = tokenizer_for(tiny_lego)
    example = tiny_lego["var1"].validation[0]
    batch = collate(tok, [example, tiny_lego["var3"].validation[0]])
    answer_positions = batch.answer_mask[0].nonzero().ravel().tolist()
    assert answer_positions == [len(example.prompt)]  # bos + prompt: the last prompt token predicts the answer
    assert tok.decode([batch.targets[0, answer_positions[0]].item()]) == example.answer
    assert batch.text_mask[0].sum().item() == len(example.text) + 1  # every text token and eos


def test_loss_masks_by_hand(tiny_lego):
    # one example, prompt of P characters and a 1-character answer: ids [bos, p1..pP, a, eos], T = P + 2
    # positions 0..P+1 predict p1..pP, a, eos: text = all; answer = {P}; completion = {P, P + 1} (a and eos)
    tok = tokenizer_for(tiny_lego)
    example = tiny_lego["var1"].validation[0]
    longer = max(tiny_lego["var3"].validation, key=lambda e: len(e.prompt))  # pads the first row
    batch = collate(tok, [example, longer])
    P = len(example.prompt)
    positions = {mode: loss_mask(batch, mode)[0].nonzero().ravel().tolist() for mode in ("text", "answer", "completion")}
    assert positions == {"text": list(range(P + 2)), "answer": [P], "completion": [P, P + 1]}
    assert batch.targets[0, P + 1].item() == tok.eos_id  # the one position completion adds predicts eos
    assert loss_mask(batch, "completion")[1].sum().item() == len(longer.answer) + 1
    with pytest.raises(Exception, match="train_loss must be one of text, answer, completion"):
        loss_mask(batch, "prompt")
    with pytest.raises(Exception, match="train_loss must be one of"):
        TrainConfig(steps=1, train_loss="prompt")


def test_only_completion_and_text_training_teach_the_model_to_stop(tiny_lego, tiny_model_factory):
    # same seed, data and steps; only the trained positions differ. The eos loss after the answer falls only
    # when eos is trained (completion, text); with answer it stays where the untrained model put it or rises.
    tok = tokenizer_for(tiny_lego)
    batch = collate(tok, tiny_lego["var1"].validation)
    eos = loss_mask(batch, "completion") & ~loss_mask(batch, "answer")  # (B, T): the eos after each answer

    def eos_loss(model):
        with torch.no_grad():
            per_token, _ = token_losses(model, batch)
        return float(per_token[eos].mean())

    before = eos_loss(tiny_model_factory(tok))
    after = {}
    for mode in ("answer", "completion", "text"):
        model = tiny_model_factory(tok)
        config = TrainConfig(steps=40, batch_size=16, round_steps=40, eval_every=40, lr=1e-2, warmup_steps=0,
                             train_loss=mode)
        train(model, tok, tiny_lego, Stratified(), config)
        after[mode] = eos_loss(model)
    # measured: before 3.52; answer 7.28, completion 0.10, text 0.73
    assert after["completion"] < 0.25 * before and after["text"] < 0.5 * before
    assert after["answer"] > before
