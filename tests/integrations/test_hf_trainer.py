"""A stock transformers.Trainer trains with a skillit policy: SkillMixingDataset + SkillMixingCallback.

Tiny random GPT-2 (1 layer, 32 dims), a BPE tokenizer trained in-process, LEGO k=3, CPU.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import Trainer, TrainerCallback

from skillit.errors import CheckpointError, ConfigError, DataError
from skillit.integrations.hf import LazyBatch, SkillMixingCallback, SkillMixingDataset, hf_batch
from skillit.policy import PolicyContext, Static, Stratified, build_policy
from skillit.tasks.lego import prerequisite_graph
from skillit.trainer import TrainConfig, token_losses, train
from skillit.trainer.batching import collate, loss_mask
from skillit.trainer.mixer import Mixer, MixerConfig

ROUND, EVAL = 4, 2


def skill_it():
    return build_policy("skill-it", {"graph": "prerequisites", "eta": 0.3, "window": 2},
                        resolve_graph=lambda s: prerequisite_graph(3))


def run_trainer(skills, tok, model, args, *, policy=None, extra_callbacks=(), resume_from=None, draws=None):
    """Train; returns the callback and this run's draws (also appended to ``draws`` as they happen)."""
    draws = [] if draws is None else draws
    dataset = SkillMixingDataset(skills, tok, seed=0, max_length=64, on_draw=lambda n, r, p: draws.append((n, r, p)))
    mixing = SkillMixingCallback(dataset, policy or skill_it(), round_steps=ROUND, eval_every=EVAL)
    trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=dataset.collate,
                      callbacks=[mixing, *extra_callbacks])
    trainer.train(resume_from_checkpoint=resume_from)
    return mixing, draws


def strip(records):
    return [{k: v for k, v in r.items() if not k.endswith("seconds")} for r in records]


def test_the_trainer_follows_the_policy_round_by_round(lego_skills, lego_tokenizer, gpt2_factory, trainer_args):
    args = trainer_args(gradient_accumulation_steps=2, per_device_train_batch_size=4)
    mixing, draws = run_trainer(lego_skills, lego_tokenizer, gpt2_factory(lego_tokenizer), args)
    records = mixing.records
    assert [r["step"] for r in records] == [0, 2, 4, 6, 8, 10, 12]
    assert [r["round"] for r in records] == [0, 0, 0, 1, 1, 2, 2]
    assert sum(records[-1]["examples_seen"].values()) == 12 * 2 * 4  # steps × accumulation × micro-batch
    # every micro-batch of round t is drawn at round t's weights: micro-batch n (1-based) is in round
    # (n - 1) // (H · G) although the Trainer's loader reads one micro-batch ahead
    assert [(n, r) for n, r, _ in draws] == [(n, (n - 1) // (ROUND * 2)) for n in range(1, 25)]
    weights = [tuple(r["weights"].values()) for r in records]
    assert weights[0] == weights[1] == weights[2] != weights[3] == weights[4]  # fixed within a round
    row_sums = np.array([3.0, 2.0, 1.0])  # the first mixture: softmax(η · A·1), A = prerequisites of LEGO k=3
    expected = np.exp(0.3 * row_sums) / np.exp(0.3 * row_sums).sum()
    assert weights[0] == pytest.approx(expected)
    # the drawn counts follow each round's quota exactly (quota sampling: round(p · n) per skill)
    for round_index in range(3):
        drawn = [name for n, r, pairs in draws if r == round_index for name, _ in pairs]
        w = records[1 + 2 * round_index]["weights"]
        assert sum(drawn.count(name) - w[name] * ROUND * 2 * 4 for name in w) == pytest.approx(0)
        assert all(abs(drawn.count(name) - w[name] * 32) < 1 for name in w)
    assert mixing.policy_state is not None and records[-1]["losses"].keys() == {"var1", "var2", "var3"}


def test_resume_from_a_trainer_checkpoint_continues_the_mixture_exactly(
    lego_skills, lego_tokenizer, gpt2_factory, trainer_args, tmp_path
):
    full, full_draws = run_trainer(lego_skills, lego_tokenizer, gpt2_factory(lego_tokenizer),
                                   trainer_args(output_dir=str(tmp_path / "a")))

    class Crash(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 7:
                raise KeyboardInterrupt

    args = trainer_args(output_dir=str(tmp_path / "b"), save_strategy="steps", save_steps=5)  # step 5: mid-round 1
    first_attempt: list = []
    with pytest.raises(KeyboardInterrupt):
        run_trainer(lego_skills, lego_tokenizer, gpt2_factory(lego_tokenizer), args, extra_callbacks=[Crash()],
                    draws=first_attempt)
    resumed, resumed_draws = run_trainer(lego_skills, lego_tokenizer, gpt2_factory(lego_tokenizer, seed=9), args,
                                         resume_from=str(tmp_path / "b" / "checkpoint-5"))
    assert strip(resumed.records) == strip(full.records)
    assert [n for n, _, _ in resumed_draws] == list(range(6, 13))  # continues after the 5 trained micro-batches
    assert first_attempt[:5] + resumed_draws == full_draws  # nothing lost, nothing repeated, same order
    assert first_attempt[5:7] == resumed_draws[:2]  # the steps the crash threw away are redrawn identically
    assert gpt2_factory(lego_tokenizer).config.resid_pdrop > 0  # exact although dropout draws random numbers


def test_resume_refuses_other_settings(lego_skills, lego_tokenizer, gpt2_factory, trainer_args, tmp_path):
    args = trainer_args(output_dir=str(tmp_path / "c"), save_strategy="steps", save_steps=6)
    run_trainer(lego_skills, lego_tokenizer, gpt2_factory(lego_tokenizer), args)
    dataset = SkillMixingDataset(lego_skills, lego_tokenizer, max_length=64)
    mixing = SkillMixingCallback(dataset, skill_it(), round_steps=3, eval_every=EVAL)
    trainer = Trainer(model=gpt2_factory(lego_tokenizer), args=args, train_dataset=dataset,
                      data_collator=dataset.collate, callbacks=[mixing])
    with pytest.raises(CheckpointError, match="round_steps=4, this run has 3"):
        trainer.train(resume_from_checkpoint=str(tmp_path / "c" / "checkpoint-6"))


def test_missing_arguments_are_named(lego_skills, lego_tokenizer, gpt2_factory, trainer_args):
    args = trainer_args(ignore_data_skip=False, accelerator_config={})
    with pytest.raises(ConfigError, match=r"ignore_data_skip=True .*dispatch_batches"):
        run_trainer(lego_skills, lego_tokenizer, gpt2_factory(lego_tokenizer), args)
    dataset = SkillMixingDataset(lego_skills, lego_tokenizer)
    with pytest.raises(ConfigError, match="not bound: add SkillMixingCallback"):
        dataset.collate([object()] * 8)


def test_lazy_batches_draw_on_first_read_and_rebuild_resolved(lego_skills, lego_tokenizer):
    dataset = SkillMixingDataset(lego_skills, lego_tokenizer, max_length=64)
    mixer = Mixer(lego_skills, lego_tokenizer, Static([0.5, 0.5, 0.0]),
                  MixerConfig(total_steps=2, round_steps=2, eval_every=2, batch_size=4, max_length=64))
    mixer.policy_state = mixer.policy.init(PolicyContext(tuple(lego_skills.train_names)))  # no model needed to draw
    dataset.bind(mixer, 4)
    first, second = dataset.collate([None] * 4), dataset.collate([None] * 4)
    assert dataset.micro_batches_drawn == 0  # collated, not drawn
    assert set(first) == {"input_ids", "attention_mask", "labels"} and dataset.micro_batches_drawn == 1
    rebuilt = type(second)({k: v for k, v in second.items()})  # what the Trainer's _prepare_input does
    assert isinstance(rebuilt, LazyBatch) and torch.equal(rebuilt["input_ids"], second["input_ids"])
    with pytest.raises(DataError, match="did not end the round's last step"):
        dataset.collate([None] * 4)["input_ids"]


def test_labels_make_the_hf_loss_equal_skillits_training_loss(lego_skills, lego_tokenizer, gpt2_factory):
    model = gpt2_factory(lego_tokenizer).eval()
    examples = [lego_skills["var2"].validation[i] for i in range(5)] + [lego_skills["var3"].validation[0]]
    for train_loss in ("text", "answer", "completion"):
        inputs = hf_batch(lego_tokenizer, examples, train_loss=train_loss)
        with torch.no_grad():
            hf_loss = model(**inputs).loss
            batch = collate(lego_tokenizer, examples)
            per_token, _ = token_losses(model, batch)
            mask = loss_mask(batch, train_loss)
            ours = (per_token * mask).sum() / mask.sum()
        assert float(hf_loss) == pytest.approx(float(ours), rel=1e-5)
        trained = inputs["labels"][0][inputs["labels"][0] != -100].tolist()  # the ids trained in row 0
        answer, eos = lego_tokenizer.encode(examples[0].answer), lego_tokenizer.eos_id
        prompt = lego_tokenizer.encode(examples[0].prompt)
        assert trained == {"text": [*prompt, *answer, eos], "answer": answer, "completion": [*answer, eos]}[train_loss]


def test_a_hugging_face_model_trains_in_skillits_own_loop(lego_skills, lego_tokenizer, gpt2_factory, tmp_path):
    config = TrainConfig(steps=12, batch_size=8, round_steps=4, eval_every=4, lr=3e-3, warmup_steps=1, checkpoint_every=5)
    result = train(gpt2_factory(lego_tokenizer), lego_tokenizer, lego_skills, skill_it(), config, checkpoint_dir=tmp_path)
    assert [r["step"] for r in result.records] == [0, 4, 8, 12]
    assert np.mean(list(result.final["losses"].values())) < np.mean(list(result.records[0]["losses"].values()))
    resumed = train(gpt2_factory(lego_tokenizer, seed=5), lego_tokenizer, lego_skills, skill_it(), config,
                    checkpoint_dir=tmp_path, resume=True)  # from step 10
    assert strip(resumed.records) == strip(result.records)
    with pytest.raises(DataError, match="does not fit the model's context of 9"):
        train(gpt2_factory(lego_tokenizer, n_positions=8), lego_tokenizer, lego_skills, Stratified(),
              TrainConfig(steps=1, batch_size=4))


def test_dga_probes_a_hugging_face_model_under_the_trainer(lego_skills, lego_tokenizer, gpt2_factory, trainer_args):
    """The gradient probe (grad_probe) works on a transformers model driven by the stock Trainer: one probe per
    round, k + 1 passes each, counted in the records."""
    args = trainer_args(per_device_train_batch_size=4)
    dataset = SkillMixingDataset(lego_skills, lego_tokenizer, seed=0, max_length=64)
    mixing = SkillMixingCallback(dataset, build_policy("dga", {"eta": 50.0, "probe_examples": 2}), round_steps=ROUND,
                                 eval_every=EVAL, setting="finetune", target_skills=["var3"])
    Trainer(model=gpt2_factory(lego_tokenizer), args=args, train_dataset=dataset, data_collator=dataset.collate,
            callbacks=[mixing]).train()
    last = mixing.records[-1]
    rounds = -(-last["step"] // ROUND)
    assert last["probe_grad_passes"] == rounds * 4 and last["probe_grad_examples"] == rounds * 4 * 2
    assert mixing.policy_state["round"] == rounds and not np.allclose(mixing.policy_state["weights"], 1 / 3)


def test_the_callback_hands_the_objective_weights_to_the_policy(lego_skills, lego_tokenizer, gpt2_factory, trainer_args):
    """``objective_weights`` reach the policy under the stock Trainer as in skillit's loop (PolicyContext)."""
    args = trainer_args(per_device_train_batch_size=4, max_steps=2)
    dataset = SkillMixingDataset(lego_skills, lego_tokenizer, seed=0, max_length=64)
    with pytest.raises(ConfigError, match="objective_weights: 'var1' is not an objective skill"):
        SkillMixingCallback(dataset, build_policy("target-only"), round_steps=ROUND, eval_every=EVAL,
                            setting="finetune", target_skills=["var2", "var3"], objective_weights={"var1": 1.0})
    mixing = SkillMixingCallback(dataset, build_policy("target-only"), round_steps=ROUND, eval_every=EVAL,
                                 setting="finetune", target_skills=["var2", "var3"],
                                 objective_weights={"var2": 3.0, "var3": 1.0})
    Trainer(model=gpt2_factory(lego_tokenizer), args=args, train_dataset=dataset, data_collator=dataset.collate,
            callbacks=[mixing]).train()
    assert mixing.records[0]["weights"] == {"var1": 0.0, "var2": 0.75, "var3": 0.25}  # the objective's proportions
