"""The gradient probe (``grad_probe``, DGA): full-model alignments, checked against autograd; cost in the records.

* ``GradientProbe.measure`` gives ⟨g_i, g_target⟩ and ‖g_i‖² equal to autograd's gradients of the same
  batches' mean loss, leaves the optimiser's ``.grad`` buffers, the train/eval mode and the torch RNG as they were.
* In a run, a policy that requires ``grad_probe`` gets one probe per round (k + 1 passes), counted in the
  records; the probe never trains (the same run with and without it ends with the same model).
* ``dga`` trains end to end in fine-tuning and moves its mixture.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skillit.errors import ConfigError
from skillit.model import CharTokenizer
from skillit.policy import DGA, MixingPolicy
from skillit.trainer import TrainConfig, TrainerCallback, train
from skillit.trainer.batching import collate, logits_of, loss_mask
from skillit.trainer.probe import GradientProbe


def _tokenizer(tiny_lego):
    return CharTokenizer(tiny_lego.metadata["alphabet"])


def _probe(tiny_lego, tokenizer, targets=("var3",), examples=4):
    names = list(tiny_lego.train_names)
    return GradientProbe(names, [tiny_lego[n].train for n in names], list(targets), tokenizer, examples=examples,
                         train_loss="text", seed=0)


def _autograd(model, tokenizer, examples):
    """The reference: mean per-token loss over the batch's trained positions, backward, gradients flattened."""
    batch = collate(tokenizer, examples)
    mask = loss_mask(batch, "text").float()
    logits = logits_of(model(input_ids=batch.input_ids, attention_mask=batch.attention_mask))
    loss = (torch.nn.functional.cross_entropy(logits.transpose(1, 2), batch.targets, reduction="none") * mask).sum()
    model.zero_grad(set_to_none=True)
    (loss / mask.sum()).backward()
    flat = torch.cat([p.grad.reshape(-1).double() for p in model.parameters()])
    model.zero_grad(set_to_none=True)
    return flat


def test_alignment_equals_autograd_and_leaves_the_model_alone(tiny_lego, tiny_model_factory):
    tokenizer = _tokenizer(tiny_lego)
    model = tiny_model_factory(tokenizer)
    model.train()
    probe = _probe(tiny_lego, tokenizer)
    rng_before = torch.get_rng_state()
    measured = probe.measure(model, round_index=2)
    assert torch.equal(torch.get_rng_state(), rng_before) and model.training
    assert all(p.grad is None for p in model.parameters())  # the optimiser's buffers are untouched
    model.eval()  # the reference in eval mode, as the probe measures
    target = _autograd(model, tokenizer, probe.target_batch(2))
    for i in range(3):
        g = _autograd(model, tokenizer, probe.skill_batch(i, 2))
        assert measured.alignment[i] == pytest.approx(float(g @ target), rel=1e-6)
        assert measured.sqnorm[i] == pytest.approx(float(g @ g), rel=1e-6)
    assert measured.target_sqnorm == pytest.approx(float(target @ target), rel=1e-6)
    assert measured.skills == ("var1", "var2", "var3") and measured.examples == 4
    assert probe.passes == 4 and probe.examples_used == 16  # k + 1 batches of 4


def test_batches_are_fresh_per_round_and_the_target_batch_is_drawn_apart(tiny_lego, tiny_model_factory):
    probe = _probe(tiny_lego, _tokenizer(tiny_lego), targets=("var2", "var3"), examples=5)
    texts = lambda examples: [e.text for e in examples]  # noqa: E731
    assert texts(probe.skill_batch(0, 0)) == texts(probe.skill_batch(0, 0))  # deterministic
    assert texts(probe.skill_batch(0, 0)) != texts(probe.skill_batch(0, 1))  # fresh each round
    target = probe.target_batch(0)
    assert [e.skill for e in target] == ["var2"] * 3 + ["var3"] * 2  # 5 examples round-robin over 2 targets
    assert texts(target[3:]) != texts(probe.skill_batch(2, 0)[:2])  # var3's target examples ≠ its own batch


def test_a_target_without_training_data_is_refused(tiny_lego):
    with pytest.raises(ConfigError, match="target 'nope' has no training data"):
        _probe(tiny_lego, _tokenizer(tiny_lego), targets=("nope",))


class Fixed(MixingPolicy):
    """Uniform, never moves; requires what it is given and keeps the probes it saw."""

    name = "fixed-probe"

    def __init__(self, requires):
        self.requires = frozenset(requires)
        self.probe_examples = 2

    def init(self, context):
        return {"k": context.k, "probes": []}

    def update(self, state, observation):
        probe = observation.probe
        return {**state, "probes": state["probes"] + [None if probe is None else probe.alignment.tolist()]}

    def weights(self, state):
        return np.full(state["k"], 1.0 / state["k"])


def _run(tiny_lego, factory, policy, steps=6, round_steps=3):
    tokenizer = _tokenizer(tiny_lego)
    model = factory(tokenizer)
    result = train(model, tokenizer, tiny_lego, policy,
                   TrainConfig(steps=steps, batch_size=8, round_steps=round_steps, eval_every=3, lr=3e-3, warmup_steps=1),
                   setting="finetune", target_skills=["var3"])
    return result, model


def test_the_probe_is_counted_and_never_trains(tiny_lego, tiny_model_factory):
    probed, probed_model = _run(tiny_lego, tiny_model_factory, Fixed({"val_loss", "grad_probe"}))
    plain, plain_model = _run(tiny_lego, tiny_model_factory, Fixed({"val_loss"}))
    assert len(probed.policy_state["probes"]) == 2 and all(len(p) == 3 for p in probed.policy_state["probes"])
    assert plain.policy_state["probes"] == [None, None]
    last = probed.records[-1]
    assert last["probe_grad_passes"] == 2 * 4 and last["probe_grad_examples"] == 2 * 4 * 2  # 2 rounds × (k+1) × 2
    assert "grad_probe" in last["signal_seconds"] and "probe_grad_passes" not in plain.records[-1]
    for a, b in zip(probed_model.parameters(), plain_model.parameters()):
        assert torch.equal(a, b)  # the same training, example for example
    assert probed.records[-1]["losses"] == plain.records[-1]["losses"]


def test_dga_trains_in_finetuning_and_moves_its_mixture(tiny_lego, tiny_model_factory):
    result, _ = _run(tiny_lego, tiny_model_factory, DGA(eta=50.0, period=2, probe_examples=2), steps=6)
    weights = np.asarray(result.policy_state["weights"])
    assert result.policy_state["round"] == 3  # T_r = 2: three updates in 6 steps
    assert result.records[-1]["probe_grad_passes"] == 3 * 4
    assert weights.sum() == pytest.approx(1.0) and not np.allclose(weights, 1 / 3)


def test_a_resumed_dga_run_equals_an_uninterrupted_one(tiny_lego, tiny_model_factory, tmp_path):
    """Probe batches depend on (seed, round, skill) only and the probe consumes no torch RNG: resuming is exact."""
    tokenizer = _tokenizer(tiny_lego)
    config = TrainConfig(steps=8, batch_size=8, round_steps=2, eval_every=2, lr=3e-3, warmup_steps=1, checkpoint_every=3)
    kwargs = {"setting": "finetune", "target_skills": ["var3"]}
    policy = DGA(eta=50.0, probe_examples=2)
    full = train(tiny_model_factory(tokenizer), tokenizer, tiny_lego, policy, config, **kwargs)

    class Stop(TrainerCallback):
        def on_step_end(self, step, loss):
            if step == 5:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tiny_model_factory(tokenizer), tokenizer, tiny_lego, policy, config, callbacks=[Stop()],
              checkpoint_dir=tmp_path, **kwargs)
    resumed = train(tiny_model_factory(tokenizer, seed=99), tokenizer, tiny_lego, policy, config,
                    checkpoint_dir=tmp_path, resume=True, **kwargs)
    strip = lambda rs: [{k: v for k, v in r.items() if not k.endswith("seconds")} for r in rs]  # noqa: E731
    assert strip(resumed.records) == strip(full.records)
    assert resumed.policy_state == full.policy_state and full.records[-1]["probe_grad_passes"] == 4 * 4


# ---- a weighted objective: g_tgt = Σ_j w_j ∇L_j -------------------------------------------------------------
def test_weighted_target_gradient_is_the_weighted_sum_of_the_targets_gradients(tiny_lego, tiny_model_factory):
    tokenizer = _tokenizer(tiny_lego)
    model = tiny_model_factory(tokenizer)
    names = list(tiny_lego.train_names)
    probe = GradientProbe(names, [tiny_lego[n].train for n in names], ["var1", "var3"], tokenizer, examples=4,
                          train_loss="text", seed=0, target_weights=[0.75, 0.25])
    examples, groups = probe.target_draw(1)
    assert [e.skill for e in examples] == ["var1", "var1", "var3", "var3"] and groups == [0, 0, 1, 1]
    measured = probe.measure(model, round_index=1)
    model.eval()
    # by hand: g_tgt = 0.75·∇L(var1's 2 examples) + 0.25·∇L(var3's 2 examples), each a token-weighted mean
    target = 0.75 * _autograd(model, tokenizer, examples[:2]) + 0.25 * _autograd(model, tokenizer, examples[2:])
    plain = _autograd(model, tokenizer, examples)  # the unweighted target: one token mean over the 4 examples
    for i in range(3):
        g = _autograd(model, tokenizer, probe.skill_batch(i, 1))
        assert measured.alignment[i] == pytest.approx(float(g @ target), rel=1e-6)
        assert measured.alignment[i] != pytest.approx(float(g @ plain), rel=1e-3)  # the weights changed it
    assert measured.target_sqnorm == pytest.approx(float(target @ target), rel=1e-6)
    assert probe.passes == 4 and probe.examples_used == 16  # still one pass for the target


def test_a_zero_weight_target_draws_nothing(tiny_lego, tiny_model_factory):
    tokenizer = _tokenizer(tiny_lego)
    model = tiny_model_factory(tokenizer)
    names = list(tiny_lego.train_names)
    weighted = GradientProbe(names, [tiny_lego[n].train for n in names], ["var1", "var3"], tokenizer, examples=4,
                             train_loss="text", seed=0, target_weights=[1.0, 0.0])
    alone = _probe(tiny_lego, tokenizer, targets=("var1",))
    assert [e.text for e in weighted.target_batch(0)] == [e.text for e in alone.target_batch(0)]  # 4 of var1
    np.testing.assert_allclose(weighted.measure(model, 0).alignment, alone.measure(model, 0).alignment, rtol=1e-6)
    with pytest.raises(ConfigError, match="one finite, non-negative target weight per target skill"):
        GradientProbe(names, [tiny_lego[n].train for n in names], ["var1", "var3"], tokenizer, examples=4,
                      target_weights=[1.0])


def test_train_hands_the_objective_weights_to_the_policy_and_the_probe(tiny_lego, tiny_model_factory):
    tokenizer = _tokenizer(tiny_lego)
    policy = DGA(eta=50.0, probe_examples=2)
    result = train(tiny_model_factory(tokenizer), tokenizer, tiny_lego, policy,
                   TrainConfig(steps=2, batch_size=8, round_steps=2, eval_every=2, lr=3e-3, warmup_steps=1),
                   setting="finetune", target_skills=["var2", "var3"], objective_weights={"var2": 3.0, "var3": 1.0})
    assert result.policy_state["target"] == [0.0, 0.75, 0.25]  # PolicyContext.objective_weights, normalised
    with pytest.raises(ConfigError, match="objective_weights: 'var1' is not an objective skill"):
        train(tiny_model_factory(tokenizer), tokenizer, tiny_lego, policy,
              TrainConfig(steps=2, batch_size=8, round_steps=2, eval_every=2, lr=3e-3, warmup_steps=1),
              setting="finetune", target_skills=["var2", "var3"], objective_weights={"var1": 1.0})
