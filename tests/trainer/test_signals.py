"""Open signals and schedule control: what the Mixer computes for policies that ask, checked by hand.

* The SignalTap's per-skill training loss on a hand-made batch (values computed by hand).
* Its closed-form output-layer gradient equals autograd's per-example gradient, and gram/sqnorm/var
  follow from those gradients; the projected statistics are those of R·g exactly.
* A policy that needs per-skill training loss is one class plus one ``register_policy`` line, passes
  ``check_policy``, and gets the training losses in the loop (NaN for a skill it never drew).
* A policy that needs gradient statistics gets them; one that needs nothing gets no signal.
* A policy that plans probe sub-rounds gets them, with their evaluations counted as overhead.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from skillit.errors import ConfigError, PolicyError
from skillit.model import CharTokenizer
from skillit.policy import MixingPolicy, RoundPlan, build_policy, register_policy
from skillit.policy.registry import POLICIES
from skillit.testing import check_policy
from skillit.trainer import TrainConfig, train
from skillit.trainer.mixer import RecordedReference
from skillit.trainer.signals import SignalTap, grad_stats_from_sums


# ---- the tap, by hand ------------------------------------------------------------------------------------
def test_train_loss_per_skill_by_hand():
    # two skills; logits over V = 2; CE(z, y) = log(1 + e^{z_other - z_y})
    logits = torch.tensor([[[0.0, 0.0], [0.0, math.log(3.0)]],    # row 0 (skill 0): tokens ln 2, ln 4 (target 0)
                           [[math.log(3.0), 0.0], [0.0, 0.0]]])   # row 1 (skill 1): token ln 4 (target 1); pad
    targets = torch.tensor([[0, 0], [1, 0]])
    mask = torch.tensor([[True, True], [True, False]])
    tap = SignalTap(["a", "b"], train_loss=True)
    tap.observe([0, 1], logits, targets, mask)
    tap.observe([1], logits[:1], targets[:1], mask[:1])  # skill b again: tokens ln 2, ln 4
    out = tap.round_signals()
    assert out["train_loss"]["a"] == pytest.approx((math.log(2) + math.log(4)) / 2)
    assert out["train_loss"]["b"] == pytest.approx((math.log(4) + math.log(2) + math.log(4)) / 3)
    assert out["train_tokens"] == {"a": 2, "b": 3}
    assert out["round_examples"] == {"a": 1, "b": 2}


def _tiny_head(seed=0, V=5, d=3):
    torch.manual_seed(seed)
    return torch.nn.Linear(d, V, bias=False)


def test_closed_form_gradient_equals_autograd_per_example():
    head = _tiny_head()
    B, T, d, V = 4, 3, 3, 5
    h = torch.randn(B, T, d)
    targets = torch.randint(0, V, (B, T))
    mask = torch.tensor([[1, 1, 1], [1, 1, 0], [1, 0, 0], [1, 1, 1]], dtype=torch.bool)
    skills = [0, 1, 0, 1]

    grads = []
    for e in range(B):  # autograd: gradient of example e's mean per-token loss w.r.t. W
        head.zero_grad()
        z = head(h[e : e + 1])
        per_token = torch.nn.functional.cross_entropy(z.transpose(1, 2), targets[e : e + 1], reduction="none")
        ((per_token * mask[e : e + 1]).sum() / mask[e].sum()).backward()
        grads.append(head.weight.grad.detach().clone().reshape(-1).double().numpy())
    grads = np.array(grads)  # (B, V·d)

    tap = SignalTap(["a", "b"], grad_stats=True, projection=0)
    tap._hidden = h
    tap.observe(skills, head(h).detach(), targets, mask)
    stats = tap.round_signals()["grad"]
    means = np.array([grads[[0, 2]].mean(axis=0), grads[[1, 3]].mean(axis=0)])
    np.testing.assert_allclose(stats.gram, means @ means.T, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(stats.sqnorm, (means**2).sum(axis=1), rtol=1e-5)
    var = [np.mean([((grads[e] - means[s]) ** 2).sum() for e in (s, s + 2)]) for s in (0, 1)]
    np.testing.assert_allclose(stats.var, var, rtol=1e-4, atol=1e-10)
    assert stats.dim == V * d and not stats.projected and stats.counts.tolist() == [2, 2]

    projected = SignalTap(["a", "b"], grad_stats=True, projection=2, seed=3)
    projected._hidden = h
    projected.observe(skills, head(h).detach(), targets, mask)
    pstats = projected.round_signals()["grad"]
    R = projected._R.double().numpy()  # (2, V)
    pg = np.array([(R @ g.reshape(V, d)).reshape(-1) for g in grads])  # g_e projected: (B, 2·d)
    pmeans = np.array([pg[[0, 2]].mean(axis=0), pg[[1, 3]].mean(axis=0)])
    np.testing.assert_allclose(pstats.gram, pmeans @ pmeans.T, rtol=1e-5, atol=1e-9)
    assert pstats.dim == 2 * d and pstats.projected


def test_grad_stats_of_an_unseen_skill_are_nan():
    stats = grad_stats_from_sums(["a", "b"], np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([5.0, 0.0]), np.array([1.0, 0.0]))
    assert stats.sqnorm[0] == pytest.approx(5.0) and stats.var[0] == pytest.approx(0.0)
    assert np.isnan(stats.sqnorm[1]) and np.isnan(stats.gram[0, 1])


# ---- policies that ask for signals, in the loop --------------------------------------------------------
class TrainLossGreedy(MixingPolicy):
    """p ∝ exp(train loss of the last round): more of the skills with the highest training loss."""

    name = "test-train-loss-greedy"
    requires = frozenset({"val_loss", "train_loss"})

    def init(self, context):
        return {"logits": [0.0] * context.k, "train_skills": list(context.train_skills), "seen": []}

    def update(self, state, observation):
        losses = observation.train_loss_vector(state["train_skills"])
        return {**state, "logits": np.nan_to_num(losses, nan=0.0).tolist(),
                "seen": state["seen"] + [[None if np.isnan(v) else float(v) for v in losses]]}

    def weights(self, state):
        z = np.asarray(state["logits"])
        return np.exp(z - z.max()) / np.exp(z - z.max()).sum()


@pytest.fixture
def registered():
    cls = register_policy(TrainLossGreedy)  # a class with a name (or @register_policy("name") above it)
    yield cls
    POLICIES.pop(cls.name)


def test_a_training_loss_policy_is_one_class_and_one_registry_line(registered, tiny_lego, tiny_model_factory):
    policy = build_policy("test-train-loss-greedy")
    check_policy(policy)
    tokenizer = CharTokenizer(tiny_lego.metadata["alphabet"])
    result = train(tiny_model_factory(tokenizer), tokenizer, tiny_lego, policy,
                   TrainConfig(steps=6, batch_size=8, round_steps=3, eval_every=3, lr=3e-3, warmup_steps=1))
    seen = result.policy_state["seen"]
    assert len(seen) == 2 and all(v is not None and 0 < v < 10 for row in seen for v in row)
    assert set(result.records[-1]["signal_seconds"]) == {"train_loss"}
    with pytest.raises(PolicyError, match="already registered"):
        register_policy(type("Another", (registered,), {}))  # another class under the same name


class RecordsSignals(MixingPolicy):
    name = "records-signals"

    def __init__(self, requires, weights=None):
        self.requires = frozenset(requires)
        self._weights = weights

    def init(self, context):
        return {"k": context.k, "observed": []}

    def update(self, state, observation):
        grad = observation.grad
        return {**state, "observed": state["observed"] + [{
            "train_loss": dict(observation.train_loss), "ref": dict(observation.ref_losses),
            "gram": None if grad is None else grad.gram.tolist(), "tokens": dict(observation.train_tokens),
            "kind": observation.kind, "steps": observation.steps}]}

    def weights(self, state):
        w = np.ones(state["k"]) if self._weights is None else np.asarray(self._weights, dtype=float)
        return w / w.sum()


def _train(tiny_lego, factory, policy, steps=6, **kwargs):
    tokenizer = CharTokenizer(tiny_lego.metadata["alphabet"])
    return train(factory(tokenizer), tokenizer, tiny_lego, policy,
                 TrainConfig(steps=steps, batch_size=8, round_steps=3, eval_every=3, lr=3e-3, warmup_steps=1), **kwargs)


def test_gradient_statistics_reach_the_policy_and_unused_signals_cost_nothing(tiny_lego, tiny_model_factory):
    asked = _train(tiny_lego, tiny_model_factory, RecordsSignals({"val_loss", "grad_stats"}, [1, 1, 0]))
    first = asked.policy_state["observed"][0]
    gram = np.array(first["gram"], dtype=float)
    assert gram.shape == (3, 3) and np.isfinite(gram[:2, :2]).all() and np.isnan(gram[2]).all()  # skill 3 never drawn
    assert np.all(np.diag(gram)[:2] > 0) and first["train_loss"] == {}
    assert first["tokens"]["var3"] == 0 and first["tokens"]["var1"] > 0
    assert set(asked.records[-1]["signal_seconds"]) == {"grad_stats"}

    plain = _train(tiny_lego, tiny_model_factory, RecordsSignals({"val_loss"}))
    observed = plain.policy_state["observed"][0]
    assert observed["gram"] is None and observed["train_loss"] == {} and observed["ref"] == {}
    assert "signal_seconds" not in plain.records[-1]


def test_reference_losses_come_from_a_recorded_run(tiny_lego, tiny_model_factory):
    with pytest.raises(ConfigError, match="requires reference losses"):
        _train(tiny_lego, tiny_model_factory, RecordsSignals({"val_loss", "ref_loss"}))
    reference = [{"step": 0, "losses": {"var1": 9.0, "var2": 9.0, "var3": 9.0}},
                 {"step": 3, "losses": {"var1": 1.0, "var2": 2.0, "var3": 3.0}}]
    reference.append({"step": 12, "losses": {"var1": 0.5, "var2": 0.5, "var3": 0.5}})
    result = _train(tiny_lego, tiny_model_factory, RecordsSignals({"val_loss", "ref_loss"}),
                    reference=RecordedReference(reference, at="same_step"))
    refs = [o["ref"] for o in result.policy_state["observed"]]
    assert refs == [{"var1": 1.0, "var2": 2.0, "var3": 3.0}] * 2  # steps 3 and 6: the last record at or before
    trained = _train(tiny_lego, tiny_model_factory, RecordsSignals({"val_loss", "ref_loss"}),
                     reference=RecordedReference(reference))  # default: the trained reference model's losses
    assert [o["ref"] for o in trained.policy_state["observed"]] == [{"var1": 0.5, "var2": 0.5, "var3": 0.5}] * 2


class Probing(RecordsSignals):
    """Alternates a 1-step probe of one skill (evaluated at its end) with a 3-step training round."""

    name = "probing"

    def init(self, context):
        return {**super().init(context), "rounds": 0}

    def update(self, state, observation):
        return {**super().update(state, observation), "rounds": state["rounds"] + 1}

    def plan(self, state, round_steps):
        if state["rounds"] % 2 == 0:
            probe = np.zeros(state["k"])
            probe[(state["rounds"] // 2) % state["k"]] = 1.0
            return RoundPlan(steps=1, weights=probe, kind="probe", evaluate=True)
        return RoundPlan(steps=round_steps)


def test_probe_sub_rounds_count_against_the_budget_and_their_evaluations_as_overhead(tiny_lego, tiny_model_factory):
    result = _train(tiny_lego, tiny_model_factory, Probing({"val_loss"}), steps=9)
    kinds = [(o["kind"], o["steps"]) for o in result.policy_state["observed"]]
    # probe 1 step, train 3, probe 1, train 3, probe 1 = 9 steps
    assert kinds == [("probe", 1), ("train", 3), ("probe", 1), ("train", 3), ("probe", 1)]
    assert result.steps == 9
    last = result.records[-1]
    # probe ends at steps 1, 5, 9; 9 is on the eval grid (the last step), 1 and 5 are extra
    assert last["probe_steps"] == 3 and last["probe_evaluations"] == 2
    assert last["probe_eval_examples"] == 2 * sum(len(s.validation) for s in tiny_lego.skills if s.validation)
    assert [r["step"] for r in result.records] == [0, 1, 3, 5, 6, 9]
    probe_records = [r for r in result.records if r["step"] in (1, 5)]
    assert probe_records[0]["weights"]["var1"] == 1.0 and probe_records[1]["weights"]["var2"] == 1.0
