"""Skill-It's update, against values computed by hand from p ∝ exp(η · A · L̃)."""

import json
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillit.errors import GraphError, PolicyError
from skillit.graph import SkillsGraph
from skillit.graph.skills_graph import SparseMatrix
from skillit.policy import EvalResult, Frozen, Observation, PolicyContext, SkillIt

from .helpers import context, observe


def two_way(x: float) -> list[float]:
    """softmax([0, x]) written out: [1/(1+e^x), e^x/(1+e^x)]."""
    return [1 / (1 + math.exp(x)), math.exp(x) / (1 + math.exp(x))]


def test_pretraining_sums_the_window_of_evaluations():
    # A = [[1, 0], [0.5, 1]], η = 0.5, window w = 2 evaluations, sum (continual pre-training)
    graph = SkillsGraph([[1, 0], [0.5, 1]], ["a", "b"])
    policy = SkillIt(graph, eta=0.5, window=2)
    state = policy.init(context(train=("a", "b"), initial={"a": 2.0, "b": 1.0}))
    # first mixture from L̃ = 1: A·1 = [1, 1.5], η·A·1 = [0.5, 0.75]
    assert policy.weights(state) == pytest.approx(two_way(0.75 - 0.5))
    # round 0 evaluation (a=1.5, b=0.8): window = step 0 and step 10 → L̃ = [3.5, 1.8]
    # A·L̃ = [3.5, 0.5·3.5 + 1.8] = [3.5, 3.55]; η·A·L̃ = [1.75, 1.775]
    state = policy.update(state, observe(0, {"a": 1.5, "b": 0.8}))
    assert policy.weights(state) == pytest.approx(two_way(1.775 - 1.75))
    # round 1 makes two evaluations; the window keeps only the last two: L̃ = [1.0+0.5, 0.2+0.1] = [1.5, 0.3]
    # A·L̃ = [1.5, 0.75 + 0.3] = [1.5, 1.05]; η·A·L̃ = [0.75, 0.525]
    state = policy.update(state, observe(1, {"a": 1.0, "b": 0.2}, {"a": 0.5, "b": 0.1}))
    assert policy.weights(state) == pytest.approx(two_way(0.525 - 0.75))
    assert state["history"] == [[1.0, 0.2], [0.5, 0.1]]


def test_finetuning_uses_the_target_column_and_the_window_mean():
    # LEGO-style fine-tuning: train a, b, c; target c; A[:, c] = [0, 0.5, 1]; η = 1; window 3; mean
    graph = SkillsGraph([[1, 0, 0], [0.5, 1, 0.5], [0, 0, 1]], ["a", "b", "c"])
    policy = SkillIt(graph, eta=1.0, window=3)
    ctx = context(targets=("c",), setting="finetune", initial={"a": 9.0, "b": 9.0, "c": 3.0})
    state = policy.init(ctx)
    assert state["aggregate"] == "mean" and state["columns"] == ["c"]
    e = [1.0, math.exp(0.5), math.exp(1.0)]
    assert policy.weights(state) == pytest.approx([v / sum(e) for v in e])
    # losses of a and b do not matter; L̃_c = mean(3.0, 2.0) = 2.5 → logits [0, 1.25, 2.5]
    state = policy.update(state, observe(0, {"a": 0.1, "b": 7.0, "c": 2.0}))
    e = [1.0, math.exp(1.25), math.exp(2.5)]
    assert policy.weights(state) == pytest.approx([v / sum(e) for v in e])
    # three more evaluations: window = (1.0, 0.5, 0.3) → mean 0.6 → logits [0, 0.3, 0.6]
    state = policy.update(state, observe(1, {"c": 1.0}, {"c": 0.5}, {"c": 0.3}))
    e = [1.0, math.exp(0.3), math.exp(0.6)]
    assert policy.weights(state) == pytest.approx([v / sum(e) for v in e])


def test_out_of_domain_rectangular_graph():
    # train a, b; evaluation skills x, y only; A = [[1, 0], [0.2, 2]]; η = 0.1; sum over window 1
    graph = SkillsGraph([[1, 0], [0.2, 2]], ["a", "b"], ["x", "y"])
    policy = SkillIt(graph, eta=0.1, window=1)
    ctx = context(train=("a", "b"), evals=("x", "y"), setting="out-of-domain", initial={"x": 4.0, "y": 1.0})
    state = policy.init(ctx)
    assert policy.weights(state) == pytest.approx(two_way(0.1 * (2.2 - 1.0)))
    state = policy.update(state, observe(0, {"x": 3.0, "y": 5.0}))
    # A·L = [3, 0.6 + 10] → η·A·L = [0.3, 1.06]
    assert policy.weights(state) == pytest.approx(two_way(1.06 - 0.3))


def test_prior_observed_initial_loss_and_explicit_targets():
    graph = SkillsGraph(np.eye(2), ["a", "b"])
    policy = SkillIt(graph, eta=1.0, window=1, initial_loss="observed", prior={"a": 3.0, "b": 1.0})
    state = policy.init(context(train=("a", "b"), initial={"a": 1.0, "b": 2.0}))
    # p ∝ prior · exp(L) = [3e, e²]
    expected = np.array([3 * math.e, math.e**2])
    assert policy.weights(state) == pytest.approx(expected / expected.sum())
    only_b = SkillIt(SkillsGraph([[1, 0], [1, 1]], ["a", "b"]), eta=1.0, targets=["b"])
    state = only_b.init(context(train=("a", "b")))
    assert policy.weights(state).shape == (2,) and only_b.weights(state) == pytest.approx(two_way(1.0))


def test_static_variant_and_identity_ablation():
    graph = SkillsGraph([[1, 0], [0.5, 1]], ["a", "b"])
    frozen = Frozen(SkillIt(graph, eta=0.5))
    state = frozen.init(context(train=("a", "b")))
    first = frozen.weights(state)
    state = frozen.update(state, observe(0, {"a": 9.0, "b": 0.0}))
    assert np.array_equal(frozen.weights(state), first)
    assert first == pytest.approx(two_way(0.25))
    identity = SkillIt(SkillsGraph.identity(["a", "b"]), eta=1.0, window=1)
    state = identity.update(identity.init(context(train=("a", "b"))), observe(0, {"a": 0.0, "b": 1.0}))
    assert identity.weights(state) == pytest.approx(two_way(1.0))


def test_huge_signals_stay_finite():
    policy = SkillIt(SkillsGraph(np.eye(3), ["a", "b", "c"]), eta=100.0, window=3)
    state = policy.update(policy.init(context()), observe(0, {"a": 1e6, "b": 1e6 - 1, "c": 0.0}))
    w = policy.weights(state)
    assert np.isfinite(w).all() and w.sum() == pytest.approx(1.0) and w[0] == pytest.approx(1.0)


def test_bad_set_up_is_reported_clearly():
    graph = SkillsGraph(np.eye(2), ["a", "b"])
    with pytest.raises(GraphError, match="'c' is not a row"):
        SkillIt(graph).init(context(train=("a", "b", "c"), evals=("a", "b")))
    with pytest.raises(PolicyError, match="eta"):
        SkillIt(graph, eta=-1)
    with pytest.raises(PolicyError, match="window"):
        SkillIt(graph, window=0)
    policy = SkillIt(graph)
    state = policy.init(context(train=("a", "b")))
    with pytest.raises(PolicyError, match="validation loss of skill 'b'"):
        policy.update(state, observe(0, {"a": 1.0}))


@pytest.mark.parametrize("name", ["skill-it", "skill-it-plus"])
def test_a_window_that_is_not_a_whole_number_is_refused_with_the_numbers_near_it(name):
    from skillit.policy.registry import validate_params
    from skillit.policy.skill_it_plus import SkillItPlus

    graph = SkillsGraph(np.eye(2), ["a", "b"])
    cls = SkillIt if name == "skill-it" else SkillItPlus
    # the constructor and a config are checked by the same model (cls.Params), with the same messages
    with pytest.raises(PolicyError, match=f"invalid parameters for policy '{name}': window: expected a whole number, "
                                          r"got 2.5; give 2 or 3"):
        cls(graph, window=2.5)  # int(2.5) used to make it a window of 2, silently
    with pytest.raises(PolicyError, match=r"window: expected a number, got true \(true/false is not a number\)"):
        cls(graph, window=True)
    assert cls(graph, window=3.0).window == 3
    with pytest.raises(PolicyError, match=f"method 'fast': invalid parameters for policy '{name}': window: expected a "
                                          "whole number, got 2.5; give 2 or 3"):
        validate_params(name, {"graph": "identity", "window": 2.5}, where="method 'fast'")
    with pytest.raises(PolicyError, match=r"window: expected a number, got true \(true/false is not a number\)"):
        validate_params(name, {"graph": "identity", "window": True})

def straightforward_skill_it(a: SparseMatrix, eta: float, window: int, mode: str, log_prior: np.ndarray,
                             columns: list[str], initial: dict, rounds: list[list[dict]]) -> list[tuple]:
    """Skill-It written out, round by round: (history, signal, weights) with L̃ = 1 first.

    Losses by one lookup per name; the window as a (≤w, m) array summed or averaged over axis 0; A·L̃ as
    each row's ordered sum of value · L̃[column] from 0.0 (the stored order); softmax as exp(z - max z) / Σ.
    """
    def mixture(signal):
        product = [0.0] * a.shape[0]
        for i, j, v in zip(a.rows.tolist(), a.cols.tolist(), a.values.tolist()):
            product[i] += v * signal[j]
        z = eta * np.array(product) + log_prior
        e = np.exp(z - z.max())
        return e / e.sum()

    history = [[float(initial[name]) for name in columns]][-window:]
    signal = [1.0] * len(columns)
    out = [(history, signal, mixture(signal))]
    for evaluations in rounds:
        history = (history + [[float(losses[name]) for name in columns] for losses in evaluations])[-window:]
        if history:
            stacked = np.asarray(history)
            signal = (stacked.mean(axis=0) if mode == "mean" else stacked.sum(axis=0)).tolist()
        out.append((history, signal, mixture(signal)))
    return out


@settings(max_examples=40, deadline=None)
@given(k=st.integers(2, 25), extra=st.integers(0, 3), per_row=st.integers(0, 6), eta=st.floats(0.0, 4.0),
       window=st.integers(1, 4), mode=st.sampled_from(["sum", "mean"]), with_prior=st.booleans(),
       layers=st.booleans(), seed=st.integers(0, 10_000))
def test_skill_it_equals_the_straightforward_computation_on_a_random_sparse_graph(
        k, extra, per_row, eta, window, mode, with_prior, layers, seed):
    # the fast paths (cached arrays, the loss vector read off in key order, the layered product) change no bit
    rng = np.random.default_rng(seed)
    names = [f"s{i}" for i in range(k)]
    columns = names + [f"x{j}" for j in range(extra)]
    m = len(columns)
    rows = np.concatenate([np.arange(k), np.repeat(np.arange(k), per_row)])
    cols = np.concatenate([np.arange(k), rng.integers(0, m, size=k * per_row)])
    values = rng.normal(size=rows.size) * 10.0 ** rng.integers(-4, 5, size=rows.size)
    prior = rng.random(k) + 0.01 if with_prior else None
    with pytest.MonkeyPatch.context() as patch:
        if layers:
            patch.setattr(SparseMatrix, "LAYER_MIN_ENTRIES", 1)
        graph = SkillsGraph(SparseMatrix(rows, cols, values, (k, m)), names, columns)
        policy = SkillIt(graph, eta=eta, window=window, aggregate=mode, prior=prior)

        def losses():  # keys in the columns' order (read off) or shuffled (looked up)
            order = columns if rng.random() < 0.5 else rng.permutation(columns).tolist()
            return {name: float(v) for name, v in zip(order, rng.random(m) * 5)}

        initial = losses()
        rounds = [[losses() for _ in range(rng.integers(0, 3))] for _ in range(5)]
        log_prior = np.zeros(k) if prior is None else np.log(prior / prior.sum() + 1e-300)
        expected = straightforward_skill_it(graph.sparse, eta, window, mode, log_prior, columns, initial, rounds)
        state = policy.init(PolicyContext(train_skills=tuple(names), eval_skills=tuple(columns),
                                          initial_eval=EvalResult(0, initial)))
        for t, (history, signal, weights) in enumerate(expected):
            if t:
                evaluations = tuple(EvalResult(10 * t + e, row) for e, row in enumerate(rounds[t - 1]))
                state = policy.update(state, Observation(t - 1, 10 * t, evaluations))
            assert state["history"] == history and state["signal"] == signal
            assert policy.weights(state).tobytes() == weights.tobytes()
            assert policy.weights(json.loads(json.dumps(state))).tobytes() == weights.tobytes()
            if rng.random() < 0.3:
                state = json.loads(json.dumps(state))  # a resumed state: new lists, converted afresh


def test_cached_arrays_never_stand_in_for_other_values():
    graph = SkillsGraph([[1, 0], [0.5, 1]], ["a", "b"])
    policy = SkillIt(graph, eta=0.5, window=2)
    first = policy.init(context(train=("a", "b"), initial={"a": 2.0, "b": 1.0}))
    second = policy.update(first, observe(0, {"a": 1.5, "b": 0.8}))
    # second: L̃ = [3.5, 1.8] → η·A·L̃ = [1.75, 1.775]; first (L̃ = 1): [0.5, 0.75]
    assert policy.weights(second) == pytest.approx(two_way(0.025))
    assert policy.weights(first) == pytest.approx(two_way(0.25))  # an older state: its own values
    replaced = {**second, "signal": [1.0, 1.0]}  # a new list under the same key: read, not the cached one
    assert policy.weights(replaced) == pytest.approx(two_way(0.25))
    copy = pickle.loads(pickle.dumps(policy))  # caches are derived: not pickled, rebuilt on use
    assert copy._arrays == {} and copy._operators == []
    assert np.array_equal(copy.weights(second), policy.weights(second))
    # the restricted graph is built once per (rows, columns), found again by equal (not identical) lists
    assert policy._matrix(list(second["train_skills"]), list(second["columns"])) is policy._matrix(("a", "b"), ("a", "b"))
    assert len(policy._operators) == 1
