"""Skill-It's fast paths at scale give the formula's weights; the evaluator's array-backed results, by hand."""

import dataclasses
import json
import pickle

import numpy as np
import pytest

from skillit.errors import PolicyError
from skillit.graph.skills_graph import SkillsGraph, SparseMatrix
from skillit.policy import EvalResult, Observation, PolicyContext, SkillIt
from skillit.policy.skill_it_plus import SkillItPlus


def formula_weights(dense: np.ndarray, eta: float, log_prior: np.ndarray, signal: list[float]) -> np.ndarray:
    """p_i ∝ exp(η Σ_j A_ij L̃_j + log prior_i), by a dense product and exp / Σ exp (the paper's Algorithm 1)."""
    logits = eta * (dense @ np.asarray(signal)) + log_prior
    e = np.exp(logits - logits.max())
    return e / e.sum()


@pytest.mark.parametrize("aggregate", ["sum", "mean"])
@pytest.mark.parametrize("made_by", ["evaluator", "dict in order", "dict shuffled"])
def test_the_fast_path_gives_the_formulas_weights_on_a_random_sparse_graph_of_2000_skills(aggregate, made_by):
    k, edges, eta, window = 2000, 10, 0.7, 3
    rng = np.random.default_rng(11)
    names = [f"skill{i}" for i in range(k)]
    rows = np.concatenate([np.arange(k), np.repeat(np.arange(k), edges)])  # the scale benchmark's shape of graph
    cols = np.concatenate([np.arange(k), rng.integers(0, k, size=k * edges)])
    values = np.concatenate([np.ones(k), rng.normal(size=k * edges)])
    dense = np.zeros((k, k))
    np.add.at(dense, (rows, cols), values)  # SparseMatrix sums duplicate entries too
    prior = rng.random(k) + 0.05
    log_prior = np.log(prior / prior.sum() + 1e-300)
    policy = SkillIt(SkillsGraph(SparseMatrix(rows, cols, values, (k, k)), names, names), eta=eta, window=window,
                     aggregate=aggregate, prior=prior.tolist())

    def evaluation(step: int) -> tuple[EvalResult, list[float]]:
        losses = (rng.random(k) * 4).tolist()
        if made_by == "evaluator":
            return EvalResult.from_arrays(step, names, np.array(losses)), losses
        order = rng.permutation(k) if made_by == "dict shuffled" else np.arange(k)
        return EvalResult(step, {names[i]: losses[i] for i in order}), losses

    initial, initial_losses = evaluation(0)
    state = policy.init(PolicyContext(train_skills=tuple(names), eval_skills=tuple(names), initial_eval=initial))
    history, signal = [initial_losses], [1.0] * k  # L̃ = 1 for the first mixture (Algorithm 1, line 3)
    np.testing.assert_allclose(policy.weights(state), formula_weights(dense, eta, log_prior, signal), rtol=1e-12, atol=0)
    for r, n_evals in enumerate([1, 2, 0, 1, 3, 1]):
        made = [evaluation(10 * r + e) for e in range(n_evals)]
        state = policy.update(state, Observation(r, 10 * (r + 1), tuple(result for result, _ in made)))
        history = (history + [losses for _, losses in made])[-window:]  # the last w evaluations
        if made:  # a round without an evaluation keeps L̃
            signal = [sum(column) / (len(history) if aggregate == "mean" else 1) for column in zip(*history)]
        expected = formula_weights(dense, eta, log_prior, signal)
        assert state["history"] == history
        np.testing.assert_allclose(state["signal"], signal, rtol=1e-12, atol=0)
        np.testing.assert_allclose(policy.weights(state), expected, rtol=1e-12, atol=0)
        resumed = json.loads(json.dumps(state))  # a state read back from a checkpoint: the same mixture, bit for bit
        assert policy.weights(resumed).tobytes() == policy.weights(state).tobytes()


def test_an_evaluators_result_keeps_its_arrays_and_reads_like_the_plain_one():
    source = np.array([1.5, 2.0, 0.25])
    result = EvalResult.from_arrays(7, ("a", "b", "c"), source, [1, 0, 0.5])
    source[0] = 99.0  # the caller's array changing later does not change the result
    assert result.losses == {"a": 1.5, "b": 2.0, "c": 0.25} and result.accuracies == {"a": 1.0, "b": 0.0, "c": 0.5}
    assert result == EvalResult(7, {"a": 1.5, "b": 2.0, "c": 0.25}, {"a": 1.0, "b": 0.0, "c": 0.5})
    assert type(result.losses) is dict and json.loads(json.dumps(result.to_dict()))["losses"]["c"] == 0.25

    vector = result.loss_vector(["a", "b", "c"])
    assert vector.tolist() == [1.5, 2.0, 0.25]
    vector[0] = -1.0  # a copy, writable like every other path's result
    assert result.loss_vector(["a", "b", "c"]).tolist() == [1.5, 2.0, 0.25]
    values, array = result.loss_row(["a", "b", "c"])
    assert values == [1.5, 2.0, 0.25] and array.tolist() == values and not array.flags.writeable
    assert all(value is result.losses[name] for value, name in zip(values, "abc"))  # the dict's own floats
    values.append(3.0)  # a new list each time: a state that keeps it cannot change the result
    assert result.loss_row(("a", "b", "c"))[0] == [1.5, 2.0, 0.25]
    assert result.loss_row(["c", "a"])[0] == [0.25, 1.5]  # another order: looked up by name
    with pytest.raises(PolicyError, match="skill 'd', which was not evaluated at step 7"):
        result.loss_vector(["a", "b", "d"])

    changed = dataclasses.replace(result, losses={"a": 9.0, "b": 1.0, "c": 1.0})  # the arrays do not travel along
    assert changed.loss_vector(["a", "b", "c"]).tolist() == [9.0, 1.0, 1.0]
    copy = pickle.loads(pickle.dumps(result))
    assert copy == result and copy.loss_row(["a", "b", "c"])[0] == [1.5, 2.0, 0.25]
    assert EvalResult.from_dict(result.to_dict()) == result


def test_an_evaluators_result_refuses_a_wrong_shape_and_duplicate_names():
    with pytest.raises(PolicyError, match=r"\(2,\) losses given for 3 skills"):
        EvalResult.from_arrays(0, ["a", "b", "c"], [1.0, 2.0])
    with pytest.raises(PolicyError, match=r"\(3,\) accuracies given for 2 skills"):
        EvalResult.from_arrays(0, ["a", "b"], [1.0, 2.0], [1.0, 0.0, 1.0])
    with pytest.raises(PolicyError, match=r"duplicate skill names \['a'\]"):
        EvalResult.from_arrays(0, ["a", "b", "a"], [1.0, 2.0, 3.0])


def test_skill_it_refuses_a_non_finite_loss_from_an_evaluators_result():
    policy = SkillIt(SkillsGraph.identity(["a", "b"], sparse=True))
    state = policy.init(PolicyContext(train_skills=("a", "b"), eval_skills=("a", "b"),
                                      initial_eval=EvalResult.from_arrays(0, ["a", "b"], [2.0, 1.0])))
    with pytest.raises(PolicyError, match="diverged at step 10: the validation loss of skill 'b' is nan"):
        policy.update(state, Observation(0, 10, (EvalResult.from_arrays(10, ["a", "b"], [1.0, np.nan]),)))


def test_skill_it_plus_gives_its_formulas_weights_at_2000_skills_and_reads_its_matrix_once():
    k, edges, eta, window = 2000, 10, 4.0, 3
    rng = np.random.default_rng(5)
    names = [f"skill{i}" for i in range(k)]
    targets = names[:7]
    rows = np.repeat(np.arange(k), edges)
    cols = rng.integers(0, 40, size=k * edges)  # edges into the first 40 skills: some rows reach no target
    values = rng.normal(size=k * edges)
    dense = np.zeros((k, k))
    np.add.at(dense, (rows, cols), values)
    a0 = dense[:, :7].copy()
    for j in range(7):  # a target column with no positive entry: the skill helps itself (A_jj = 1)
        if not (a0[:, j] > 0).any():
            a0[j, j] = 1.0
    live = a0.sum(axis=1) > 0
    policy = SkillItPlus(SkillsGraph(SparseMatrix(rows, cols, values, (k, k)), names, names), eta=eta, window=window)
    first = rng.random(k) + 0.5
    state = policy.init(PolicyContext(train_skills=tuple(names), eval_skills=tuple(names), target_skills=tuple(targets),
                                      setting="finetune", initial_eval=EvalResult.from_arrays(0, names, first)))
    history = [first[:7].tolist()]
    for r in range(5):
        losses = rng.random(k) + 0.5
        state = policy.update(state, Observation(r, 10 * (r + 1), (EvalResult.from_arrays(10 * (r + 1), names, losses),)))
        history = (history + [losses[:7].tolist()])[-window:]
        signal = np.mean(history, axis=0) / first[:7]  # L̂_j = window mean / step-0 loss, eq. (1)
        logits = eta * (a0 @ signal)
        expected = np.where(live, np.exp(logits - logits[live].max()), 0.0)  # eq. (2): dead rows get 0
        expected /= expected.sum()
        np.testing.assert_allclose(policy.weights(state), expected, rtol=1e-12, atol=0)
        assert policy._arrays[id(state["matrix"])][0] is state["matrix"]  # the matrix is not converted each round
    resumed = json.loads(json.dumps(state))
    copy = pickle.loads(pickle.dumps(policy))
    assert "_arrays" not in copy.__dict__ and "_live_kept" not in copy.__dict__  # derived values: not pickled
    assert copy.weights(resumed).tobytes() == policy.weights(state).tobytes()
