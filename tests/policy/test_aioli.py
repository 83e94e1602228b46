"""Aioli: probe sub-rounds via plan(), de-mixing, normalisation, EMA and the one-hot factor, by hand."""

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from skillit.errors import PolicyError
from skillit.policy import EvalResult, Observation
from skillit.policy.aioli import Aioli, AioliTrainLoss, estimate_mixing_matrix, probe_mixture
from skillit.testing import check_policy, example_context, example_observations

from .helpers import context

# probing a lowers the validation losses (a, b) by [1.0, 0.5]; probing b lowers them by [0.1, 0.5]
DROPS = {0: np.array([1.0, 0.5]), 1: np.array([0.1, 0.5])}


def run_round(policy, state, losses, round_index):
    """Drive one Aioli round as the Mixer would: follow plan() until a training sub-round has run."""
    while True:
        plan = policy.plan(state, 10)
        if plan.kind == "probe":
            assert plan.steps == 2 and plan.evaluate
            j = int(np.argmax(plan.weights))
            assert plan.weights == pytest.approx(probe_mixture(2, j, 0.75))
            losses = losses - DROPS[j]
            obs = Observation(round=round_index, step=0, evals=(EvalResult(0, dict(zip("ab", losses))),), kind="probe")
            state = policy.update(state, obs)
        else:
            assert plan.steps == 10 - 1 * 2 * 2 and plan.weights is None  # round minus the 4 probe steps
            obs = Observation(round=round_index, step=0, evals=(EvalResult(0, dict(zip("ab", losses))),))
            return policy.update(state, obs), losses


def test_probe_mixture_is_a_smoothed_one_hot():
    assert probe_mixture(3, 1, 0.6) == pytest.approx([0.2, 0.6, 0.2])
    assert probe_mixture(1, 0, 0.6) == pytest.approx([1.0])


def test_demix_and_normalise_by_hand():
    # Â (rows: measured a, b; columns: probed a, b) = [[1.0, 0.1], [0.5, 0.5]]; W = [[.75, .25], [.25, .75]]
    # W⁻¹ = [[1.5, −0.5], [−0.5, 1.5]] → A = [[1.45, −0.35], [0.5, 0.5]]
    raw = np.array([[1.0, 0.1], [0.5, 0.5]])
    assert estimate_mixing_matrix(raw, 1, 0.75, normalise=False) == pytest.approx(np.array([[1.45, -0.35], [0.5, 0.5]]))
    # normalise: + 0.35 → [[1.8, 0], [0.85, 0.85]], sum 3.5
    assert estimate_mixing_matrix(raw, 1, 0.75) == pytest.approx(np.array([[1.8, 0], [0.85, 0.85]]) / 3.5)
    # two sweeps are averaged; the diagonal variant keeps Â_ii / δ
    assert estimate_mixing_matrix(2 * raw, 2, 0.75, diagonal=True, normalise=False) == pytest.approx(
        np.array([[1.0 / 0.75, 0], [0, 0.5 / 0.75]]))


def test_one_round_plans_probes_then_trains_and_takes_the_egd_step():
    policy = Aioli(eta=1.0, lp_rounds=1, lp_steps=2, one_hot_factor=0.75)
    state = policy.init(context(train=("a", "b"), initial={"a": 3.0, "b": 3.0}))
    assert sorted(state["queue"]) == [0, 1] and policy.weights(state) == pytest.approx([0.5, 0.5])
    state, losses = run_round(policy, state, np.array([3.0, 3.0]), 0)
    # A as in test_demix_and_normalise_by_hand: column sums = [2.65, 0.85]/3.5 = [0.757143, 0.242857]
    # p ∝ ½·exp([0.757143, 0.242857]) → p_a = 1/(1 + e^(−0.514286))
    p_a = 1 / (1 + math.exp(-(1.8 + 0.85 - 0.85) / 3.5))
    assert policy.weights(state) == pytest.approx([p_a, 1 - p_a])
    assert state["queue"] and state["round"] == 1  # the next round starts with probes
    # without EMA the step is multiplicative: a second identical round doubles the logit gap
    state, _ = run_round(policy, state, losses, 1)
    p_a = 1 / (1 + math.exp(-2 * 1.8 / 3.5))
    assert policy.weights(state) == pytest.approx([p_a, 1 - p_a])


def test_ema_restarts_from_the_prior():
    policy = Aioli(eta=1.0, lp_rounds=1, lp_steps=2, one_hot_factor=0.75, ema=0.5)
    state = policy.init(context(train=("a", "b"), initial={"a": 3.0, "b": 3.0}))
    state, losses = run_round(policy, state, np.array([3.0, 3.0]), 0)
    state, _ = run_round(policy, state, losses, 1)
    # Ā = 0.5·A + 0.5·A = A; p = p0 ⊙ exp(η·colsum Ā) → the same as after one round
    p_a = 1 / (1 + math.exp(-1.8 / 3.5))
    assert policy.weights(state) == pytest.approx([p_a, 1 - p_a])


def test_permutations_come_from_the_seed_and_survive_json():
    policy = Aioli(lp_rounds=3, lp_steps=1)
    ctx = context(initial={"a": 1.0, "b": 1.0, "c": 1.0})
    state = policy.init(ctx)
    assert state["queue"] == policy.init(ctx)["queue"] and sorted(state["queue"]) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    restored = json.loads(json.dumps(state))
    assert policy.plan(restored, 10).weights == pytest.approx(policy.plan(state, 10).weights)


def test_a_training_round_while_probes_are_pending_discards_them():
    policy = Aioli(lp_rounds=1, lp_steps=2)
    state = policy.init(context(train=("a", "b"), initial={"a": 3.0, "b": 3.0}))
    state = policy.update(state, Observation(round=0, step=10, evals=(EvalResult(10, {"a": 1.0, "b": 1.0}),)))
    assert policy.weights(state) == pytest.approx([0.5, 0.5]) and state["round"] == 1 and len(state["queue"]) == 2


def test_train_loss_variant_needs_no_evaluation():
    policy = AioliTrainLoss(eta=1.0, lp_rounds=1, lp_steps=2, one_hot_factor=0.75)
    assert policy.requires == frozenset({"train_loss"})
    state = policy.init(context(train=("a", "b")))
    losses = np.array([3.0, 3.0])
    # round 0: the first window has no baseline (zero drop); the second measures its drop
    first = None
    for _ in range(2):
        plan = policy.plan(state, 10)
        assert plan.kind == "probe" and not plan.evaluate
        j = int(np.argmax(plan.weights))
        first = j if first is None else first
        losses = losses - DROPS[j]
        state = policy.update(state, Observation(round=0, step=0, evals=(), kind="probe",
                                                 train_loss=dict(zip("ab", losses))))
    second = 1 - first
    # Â has only the second column: Â[:, second] = DROPS[second]
    raw = np.zeros((2, 2))
    raw[:, second] = DROPS[second]
    colsum = estimate_mixing_matrix(raw, 1, 0.75).sum(axis=0)
    expected = np.exp(colsum) / np.exp(colsum).sum()
    assert policy.weights(state) == pytest.approx(expected)


def test_rounds_too_short_for_the_probes():
    with pytest.raises(PolicyError, match="leaves no training after its probes"):
        Aioli(lp_rounds=4, lp_steps=4).init(context())
    with pytest.raises(PolicyError, match="must exceed 1/k"):
        Aioli(one_hot_factor=0.3, lp_rounds=1, lp_steps=1).init(context())


@pytest.mark.parametrize("policy", [Aioli(eta=1.0, lp_rounds=1, lp_steps=2, ema=0.1),
                                    AioliTrainLoss(eta=1.0, lp_rounds=1, lp_steps=2)])
def test_contract_holds_through_probe_sub_rounds(policy):
    # check_policy's own observations are all training rounds; here the kinds follow Aioli's plan
    # (3 probes, then the training sub-round), so states in the middle of LearnParams are checked too
    ctx = example_context(("a", "b", "c"))
    kinds = ["probe", "probe", "probe", "train"] * 3
    observations = [replace(o, kind=kind) for o, kind in zip(example_observations(ctx, rounds=len(kinds)), kinds)]
    check_policy(policy, ctx, observations)
    state = policy.init(ctx)
    for o in observations:
        state = policy.update(state, o)
    assert state["estimates"] == 3 and not np.allclose(policy.weights(state), 1 / 3)


# ---- `normalise` (the project's spelling) and its old spelling `normalize` --------------------------------
def test_normalize_is_the_old_spelling_of_normalise_and_warns():
    with pytest.warns(FutureWarning, match="policy 'aioli': parameter 'normalize' is the old, deprecated spelling; "
                      "write 'normalise'"):
        policy = Aioli(normalize=False)
    assert policy.params.normalise is False and policy.normalise is False
    assert "normalize" not in policy.describe() and policy.describe()["normalise"] is False
    with pytest.warns(FutureWarning, match="Aioli.Params: parameter 'normalize'"):
        assert Aioli.Params(normalize=False).normalise is False
    with pytest.raises(PolicyError, match="'normalize' is the old spelling of 'normalise'; give only 'normalise'"):
        Aioli(normalize=False, normalise=True)
    raw = np.array([[1.0, 0.1], [0.5, 0.5]])
    with pytest.warns(FutureWarning, match="write 'normalise'"):
        old = estimate_mixing_matrix(raw, 1, 0.75, normalize=False)
    assert old == pytest.approx(np.array([[1.45, -0.35], [0.5, 0.5]]))  # not normalised, as with normalise=False


def test_the_new_spelling_alone_does_not_warn():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Aioli(normalise=False).params.normalise is False
        assert Aioli().params.normalise is True


def test_an_old_description_reads_in_the_new_spelling_wrapped_or_not():
    from skillit.policy.registry import upgrade_description

    old = {"name": "aioli", "eta": 0.2, "normalize": False, "diagonal": False}
    assert upgrade_description(old) == {"name": "aioli", "eta": 0.2, "normalise": False, "diagonal": False}
    assert list(upgrade_description(old)) == ["name", "eta", "normalise", "diagonal"]  # same order
    wrapped = {"name": "floor", "inner": old, "floor": 0.01}
    assert upgrade_description(wrapped)["inner"] == upgrade_description(old)
    assert upgrade_description(wrapped)["floor"] == 0.01
    other = {"name": "stratified", "normalize": True}  # only a policy that renamed it is touched
    assert upgrade_description(other) == other


def test_a_checkpoint_saved_under_normalize_resumes(tiny_lego, tiny_model_factory):
    from skillit.errors import CheckpointError
    from skillit.model import CharTokenizer
    from skillit.trainer.mixer import Mixer, MixerConfig

    tokenizer = CharTokenizer(tiny_lego.metadata["alphabet"])
    config = MixerConfig(total_steps=8, round_steps=8, eval_every=8, batch_size=4)

    def mixer(**params):
        return Mixer(tiny_lego, tokenizer, Aioli(lp_rounds=1, lp_steps=1, **params), config)

    first = mixer(normalise=False)
    first.start(tiny_model_factory(tokenizer))
    saved = first.state_dict()
    described = saved["setup"]["policy"]
    saved["setup"]["policy"] = {("normalize" if key == "normalise" else key): value for key, value in described.items()}
    mixer(normalise=False).load_state_dict(saved)  # the same policy, written before the rename
    with pytest.raises(CheckpointError, match="saved with policy=.*'normalise': False.*this run has .*'normalise': True"):
        mixer(normalise=True).load_state_dict(saved)
