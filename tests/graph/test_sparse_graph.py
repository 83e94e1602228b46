"""Sparse skills graphs: hand-computed products, files, and Skill-It giving the dense graph's mixtures."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillit.errors import GraphError
from skillit.graph.skills_graph import SkillsGraph, SparseMatrix
from skillit.policy import EvalResult, Observation, PolicyContext, SkillIt

# A = [[1, 0, 2],
#      [0, 0, 0],
#      [0.5, 1, 0]]
DENSE = [[1.0, 0.0, 2.0], [0.0, 0.0, 0.0], [0.5, 1.0, 0.0]]


def sparse_a() -> SparseMatrix:
    # given out of order, with a duplicate (2 = 1.5 + 0.5) and an explicit zero
    return SparseMatrix([2, 0, 0, 2, 0, 1], [1, 2, 0, 0, 2, 1], [1.0, 1.5, 1.0, 0.5, 0.5, 0.0], (3, 3))


def test_triples_are_canonical_and_the_product_is_hand_computed():
    a = sparse_a()
    assert a.rows.tolist() == [0, 0, 2, 2] and a.cols.tolist() == [0, 2, 0, 1]
    assert a.values.tolist() == [1.0, 2.0, 0.5, 1.0] and a.nnz == 4
    assert (a @ np.array([1.0, 2.0, 3.0])).tolist() == [7.0, 0.0, 2.5]  # 1+6, 0, 0.5+2
    assert a.toarray().tolist() == DENSE
    assert a.take([2, 0], [1, 0]).toarray().tolist() == [[1.0, 0.5], [0.0, 1.0]]
    with pytest.raises(GraphError, match="outside the 3x3 matrix"):
        SparseMatrix([3], [0], [1.0], (3, 3))
    with pytest.raises(GraphError, match="cannot multiply"):
        a @ np.ones(2)


def test_a_sparse_graph_behaves_like_the_dense_one():
    names = ["a", "b", "c"]
    sparse, dense = SkillsGraph(sparse_a(), names), SkillsGraph(DENSE, names)
    assert sparse.is_sparse and not dense.is_sparse and sparse.shape == (3, 3)
    assert sparse.matrix.tolist() == DENSE and sparse == dense
    assert sparse.weight("c", "a") == 0.5 and sparse.weight("b", "c") == 0.0
    assert sparse.submatrix(["c", "a"], ["b", "c"]).tolist() == [[1.0, 0.0], [0.0, 2.0]]
    assert isinstance(sparse.operator(["c"], ["b"]), SparseMatrix)
    assert isinstance(dense.operator(["c"], ["b"]), np.ndarray)
    restricted = sparse.restrict(["a", "c"], ["a"])
    assert restricted.is_sparse and restricted.matrix.tolist() == [[1.0], [0.5]]
    with pytest.raises(GraphError, match="did you mean 'c'"):
        sparse.submatrix(["cc"], ["a"])
    with pytest.raises(GraphError, match="shape 3x3 but there are 2 training skills"):
        SkillsGraph(sparse_a(), ["a", "b"], names)
    with pytest.raises(GraphError, match=r"entry \['a', 'b'\] \(row 0, column 1\) is inf"):
        SkillsGraph(SparseMatrix([0], [1], [np.inf], (2, 2)), ["a", "b"])


def test_edges_files_identity_and_scipy_input(tmp_path):
    names = ["a", "b", "c"]
    graph = SkillsGraph.from_edges(names, None, {("c", "a"): 0.5, ("a", "c"): 2.0, ("c", "b"): 1.0, ("a", "a"): 1.0},
                                   diagonal=0.0, sparse=True)
    assert graph.is_sparse and graph.matrix.tolist() == DENSE
    assert graph == SkillsGraph(DENSE, names)
    path = graph.save(tmp_path / "g.json")
    data = json.loads(path.read_text())
    assert "matrix" not in data and data["edges"] == [["a", "a", 1.0], ["a", "c", 2.0], ["c", "a", 0.5], ["c", "b", 1.0]]
    loaded = SkillsGraph.load(path)
    assert loaded.is_sparse and loaded == graph
    data["edges"].append(["c", "x", 1.0])
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(GraphError, match="'x' is not a column"):
        SkillsGraph.load(tmp_path / "bad.json")
    identity = SkillsGraph.identity(names, sparse=True)
    assert identity.is_sparse and identity.matrix.tolist() == np.eye(3).tolist()
    scipy_sparse = pytest.importorskip("scipy.sparse")
    assert SkillsGraph(scipy_sparse.csr_matrix(np.array(DENSE)), names) == graph


def context_for(names, losses):
    return PolicyContext(train_skills=tuple(names), eval_skills=tuple(names),
                         initial_eval=EvalResult(0, dict(zip(names, losses))))


def test_skill_it_first_mixture_on_a_sparse_graph_is_hand_computed():
    names = ["a", "b", "c"]
    policy = SkillIt(SkillsGraph(sparse_a(), names), eta=1.0)
    weights = policy.weights(policy.init(context_for(names, [1.0, 1.0, 1.0])))
    # first round: softmax(η · A · 1) = softmax([3, 0, 1.5])
    expected = np.exp([3.0, 0.0, 1.5]) / np.exp([3.0, 0.0, 1.5]).sum()
    assert np.allclose(weights, expected)


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 12), st.integers(0, 10_000), st.floats(0.0, 3.0))
def test_skill_it_mixtures_match_between_sparse_and_dense_graphs(k, seed, eta):
    rng = np.random.default_rng(seed)
    matrix = rng.random((k, k)) * (rng.random((k, k)) < 0.3)
    names = [f"s{i}" for i in range(k)]
    dense = SkillIt(SkillsGraph(matrix, names), eta=eta, window=2)
    sparse = SkillIt(SkillsGraph(SparseMatrix(*np.nonzero(matrix), matrix[np.nonzero(matrix)], (k, k)), names),
                     eta=eta, window=2)
    context = context_for(names, rng.random(k).tolist())
    states = [dense.init(context), sparse.init(context)]
    for round_index in range(3):
        assert np.allclose(dense.weights(states[0]), sparse.weights(states[1]), atol=1e-12)
        evaluation = EvalResult(round_index + 1, dict(zip(names, rng.random(k).tolist())))
        observation = Observation(round_index, round_index + 1, (evaluation,))
        states = [dense.update(states[0], observation), sparse.update(states[1], observation)]
