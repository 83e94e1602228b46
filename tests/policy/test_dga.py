"""DGA: α ← softmax(log α + η·a/s), a_i = ⟨g_i, g_target⟩, by hand (last-layer and full-model probe variants)."""

import math

import numpy as np
import pytest

from skillit.errors import PolicyError
from skillit.policy import DGA, DGALastLayer, GradProbe, GradStats, Observation, RoundPlan

from .helpers import context

SKILLS = ("a", "b", "c")
GRAM = [[4.0, 1.0, 2.0], [1.0, 2.0, -1.0], [2.0, -1.0, 3.0]]  # diag = ‖ḡ‖² = [4, 2, 3], mean 3
NAN = float("nan")


def with_gram(round_index, gram, skills=SKILLS, var=None, counts=None):
    gram = np.asarray(gram, dtype=float)
    k = len(skills)
    var = np.zeros(k) if var is None else np.asarray(var, dtype=float)
    counts = np.ones(k) if counts is None else np.asarray(counts, dtype=float)
    stats = GradStats(tuple(skills), gram, np.diag(gram).copy(), var, counts)
    return Observation(round=round_index, step=10 * (round_index + 1), evals=(), grad=stats)


def with_probe(round_index, alignment, sqnorm, skills=SKILLS):
    probe = GradProbe(tuple(skills), np.asarray(alignment, dtype=float), np.asarray(sqnorm, dtype=float), 1.0, 8)
    return Observation(round=round_index, step=5 * (round_index + 1), evals=(), probe=probe)


def softmax(values):
    e = [math.exp(v) for v in values]
    return [v / sum(e) for v in e]


def finetune(targets=("c",)):
    return context(targets=targets, setting="finetune")


def test_last_layer_step_on_the_target_column():
    policy = DGALastLayer(eta=1.5)
    state = policy.init(finetune())
    assert policy.weights(state) == pytest.approx([1 / 3] * 3)  # uniform before any gradient
    # a = G[:, c] = [2, −1, 3]; s = mean diag = 3; log α = log ⅓ (a constant) + 1.5·[⅔, −⅓, 1] = [1, −0.5, 1.5]
    state = policy.update(state, with_gram(0, GRAM))
    assert policy.weights(state) == pytest.approx(softmax([1.0, -0.5, 1.5]))
    assert state["alignment"] == pytest.approx([2 / 3, -1 / 3, 1.0])
    # the mirror step compounds: the same round again adds the same [1, −0.5, 1.5]
    state = policy.update(state, with_gram(1, GRAM))
    assert policy.weights(state) == pytest.approx(softmax([2.0, -1.0, 3.0]))


def test_the_targets_self_alignment_is_debiased_by_its_batch_noise():
    policy = DGALastLayer(eta=1.0)
    # c drawn 5 times with per-example variance var = 2: G_cc = 3 − 2/(5 − 1) = 2.5; b's var does not matter
    # (b is not a target: its diagonal is not read); a's counts = 1: nothing to correct
    state = policy.update(policy.init(finetune()), with_gram(0, GRAM, var=[7.0, 4.0, 2.0], counts=[1, 5, 5]))
    # a = [2, −1, 2.5]; s = mean of the raw ‖ḡ‖² = 3
    assert policy.weights(state) == pytest.approx(softmax([2 / 3, -1 / 3, 2.5 / 3]))


def test_raw_alignment_without_normalising():
    policy = DGALastLayer(eta=0.5, normalise="none")
    state = policy.update(policy.init(finetune()), with_gram(0, GRAM))
    assert policy.weights(state) == pytest.approx(softmax([1.0, -0.5, 1.5]))  # 0.5·[2, −1, 3]


def test_several_targets_use_the_mean_of_their_columns():
    policy = DGALastLayer(eta=1.0)
    state = policy.init(finetune(targets=("b", "c")))
    assert state["target"] == [0.0, 0.5, 0.5]
    # a = (G[:, b] + G[:, c]) / 2 = [1.5, 0.5, 1]; s = 3 → [0.5, 1/6, 1/3]
    state = policy.update(state, with_gram(0, GRAM))
    assert policy.weights(state) == pytest.approx(softmax([0.5, 1 / 6, 1 / 3]))


def test_a_skill_not_drawn_gets_a_zero_step_and_keeps_its_last_alignment():
    policy = DGALastLayer(eta=1.0)
    state = policy.update(policy.init(finetune()), with_gram(0, GRAM))  # logits [⅔, −⅓, 1] (η = 1)
    # round 2: b not drawn (NaN row and column); s = mean(4, 3) = 3.5 over the drawn skills; b's step is 0
    gram = [[4.0, NAN, 2.0], [NAN, NAN, NAN], [2.0, NAN, 3.0]]
    state = policy.update(state, with_gram(1, gram))
    assert policy.weights(state) == pytest.approx(softmax([2 / 3 + 2 / 3.5, -1 / 3, 1.0 + 3 / 3.5]))
    assert state["alignment"] == pytest.approx([2 / 3.5, -1 / 3, 3 / 3.5])  # b: the value of round 1
    # round 3: the target c not drawn → no alignment for anyone → the mixture does not move
    before = policy.weights(state)
    state = policy.update(state, with_gram(2, [[4.0, 1.0, NAN], [1.0, 2.0, NAN], [NAN, NAN, NAN]]))
    assert policy.weights(state) == pytest.approx(before)


def test_zero_prior_weights_stay_zero_and_zero_gradients_do_not_move():
    policy = DGALastLayer(eta=1.0, prior={"b": 1.0, "c": 1.0})
    state = policy.update(policy.init(finetune()), with_gram(0, GRAM))
    # a (scaled) = [⅔, −⅓, 1]; a has weight 0 → stays 0; b, c ∝ ½·exp(−⅓), ½·exp(1)
    assert policy.weights(state) == pytest.approx([0.0, *softmax([-1 / 3, 1.0])])
    uniform = DGALastLayer(eta=1.0)
    state = uniform.update(uniform.init(finetune()), with_gram(0, np.zeros((3, 3))))  # s = 0: no step
    assert uniform.weights(state) == pytest.approx([1 / 3] * 3)


def test_no_target_among_the_training_skills_is_refused():
    ood = context(train=("a", "b"), evals=("x",), setting="out-of-domain")
    with pytest.raises(PolicyError, match="none of the objective skills.*is a training skill"):
        DGALastLayer().init(ood)


def test_bad_hyper_parameters_are_refused():
    with pytest.raises(PolicyError, match="eta"):
        DGALastLayer(eta=-1.0)
    with pytest.raises(PolicyError, match="normalise"):
        DGALastLayer(normalise="l2")  # type: ignore[arg-type]
    with pytest.raises(PolicyError, match="period"):
        DGA(period=0)
    with pytest.raises(PolicyError, match="probe_examples"):
        DGA(probe_examples=0)


def test_full_model_probe_step_matches_skills_by_name():
    policy = DGA(eta=2.0, period=5, probe_examples=4)
    state = policy.init(finetune())
    assert policy.plan(state, 10) == RoundPlan(steps=5)  # T_r = 5 steps, whatever round_steps is
    assert DGA().plan(state, 10) == RoundPlan(steps=10)  # period None: the run's round_steps
    assert policy.probe_examples == 4
    # probe reported in another order: (c, a, b); raw a = [0.2, −0.1, 0.4] in (a, b, c) → 2·a = [0.4, −0.2, 0.8]
    state = policy.update(state, with_probe(0, [0.4, 0.2, -0.1], [9.0, 1.0, 1.0], skills=("c", "a", "b")))
    assert policy.weights(state) == pytest.approx(softmax([0.4, -0.2, 0.8]))
    probe = with_probe(0, [0.4, 0.2, -0.1], [9.0, 1.0, 1.0]).probe
    again = GradProbe.from_dict(probe.to_dict())  # the probe's JSON form (records, checkpoints)
    assert again.skills == probe.skills and again.alignment.tolist() == probe.alignment.tolist()


def test_full_model_probe_normalised_by_the_mean_squared_norm():
    policy = DGA(eta=1.0, normalise="sqnorm")
    state = policy.update(policy.init(finetune()), with_probe(0, [2.0, -1.0, 3.0], [4.0, 2.0, 3.0]))
    assert policy.weights(state) == pytest.approx(softmax([2 / 3, -1 / 3, 1.0]))


def test_missing_signals_are_named():
    with pytest.raises(PolicyError, match="requires 'grad_probe'"):
        DGA().update(DGA().init(finetune()), with_gram(0, GRAM))
    with pytest.raises(PolicyError, match="no entry for training skill 'c'"):
        DGA().update(DGA().init(finetune()), with_probe(0, [1.0, 1.0], [1.0, 1.0], skills=("a", "b")))
    with pytest.raises(PolicyError, match="requires 'grad_stats'"):
        DGALastLayer().update(DGALastLayer().init(finetune()), with_probe(0, [1, 1, 1], [1, 1, 1]))
