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


def ordered_sum_product(a: SparseMatrix, x: np.ndarray) -> np.ndarray:
    """A @ x written out: each row adds value · x[column] from 0.0, in the stored (row, column) order."""
    out = [0.0] * a.shape[0]
    for i, j, v in zip(a.rows.tolist(), a.cols.tolist(), a.values.tolist()):
        out[i] += v * float(x[j])
    return np.array(out)


def layered(a: SparseMatrix) -> SparseMatrix:
    a.LAYER_MIN_ENTRIES = 1  # an instance setting: always the layered product
    return a


def test_the_layered_product_is_hand_computed():
    a = layered(sparse_a())  # rows [0, 0, 2, 2], cols [0, 2, 0, 1], values [1, 2, 0.5, 1]
    plan = a._layer_plan()
    # layer 0: the first entry of rows 0 and 2 (row 1 has none); layer 1: their second entry
    assert [(r.tolist(), c.tolist(), v.tolist()) for r, c, v in plan] == [([0, 2], [0, 0], [1.0, 0.5]),
                                                                         ([0, 2], [2, 1], [2.0, 1.0])]
    assert (a @ np.array([1.0, 2.0, 3.0])).tolist() == [7.0, 0.0, 2.5]  # 1+6, 0, 0.5+2
    full = layered(SparseMatrix([0, 1, 1], [1, 0, 1], [2.0, 3.0, 4.0], (2, 2)))
    assert full._layer_plan()[0][0] is None  # layer 0 covers every row: added without indexing
    assert (full @ np.array([1.0, 10.0])).tolist() == [20.0, 43.0]  # 2·10, 3·1 + 4·10


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.integers(1, 30), st.floats(0.0, 1.0), st.integers(0, 10_000))
def test_layered_and_bincount_products_equal_the_ordered_sum_bit_for_bit(k, m, density, seed):
    rng = np.random.default_rng(seed)
    mask = rng.random((k, m)) < density
    mask[rng.integers(k), :] = rng.random(m) < 0.9  # one long row: uneven row lengths, partial layers
    values = rng.normal(size=(k, m)) * 10.0 ** rng.integers(-8, 9, size=(k, m))  # magnitudes far apart
    a = SparseMatrix(*np.nonzero(mask), values[mask], (k, m))
    x = rng.normal(size=m) * 10.0 ** rng.integers(-8, 9, size=m)
    x[rng.random(m) < 0.2] = -0.0
    expected = ordered_sum_product(a, x).tobytes()
    assert a._matvec_by_bincount(x).tobytes() == expected
    assert (layered(a) @ x).tobytes() == expected


def test_the_product_picks_layers_for_even_rows_and_the_bincount_for_a_hub():
    k = 10_000
    rng = np.random.default_rng(0)
    rows = np.concatenate([np.arange(k), np.repeat(np.arange(k), 10)])  # the scale benchmark's graph
    even = SparseMatrix(rows, np.concatenate([np.arange(k), rng.integers(0, k, 10 * k)]), rng.random(11 * k), (k, k))
    hub = SparseMatrix(np.zeros(k, dtype=int), np.arange(k), rng.random(k), (k, k))  # one row with every edge
    assert len(even._layer_plan()) == 11 and hub._layer_plan() is None
    x = rng.random(k)
    assert (even @ x).tobytes() == even._matvec_by_bincount(x).tobytes()
    assert (even @ x).tobytes() == ordered_sum_product(even, x).tobytes()
    empty = SparseMatrix([], [], [], (3, 2))
    assert empty._layer_plan() is None and (empty @ np.ones(2)).dtype == float


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.integers(1, 30), st.floats(0.0, 1.0), st.integers(0, 10_000))
def test_the_csr_product_and_the_numpy_fallback_equal_the_ordered_sum_bit_for_bit(k, m, density, seed):
    rng = np.random.default_rng(seed)
    mask = rng.random((k, m)) < density
    mask[rng.integers(k), :] = rng.random(m) < 0.9  # one long row
    values = rng.normal(size=(k, m)) * 10.0 ** rng.integers(-8, 9, size=(k, m))  # magnitudes far apart
    a = SparseMatrix(*np.nonzero(mask), values[mask], (k, m))
    x = rng.normal(size=m) * 10.0 ** rng.integers(-8, 9, size=m)
    x[rng.random(m) < 0.2] = -0.0
    expected = ordered_sum_product(a, x).tobytes()
    assert a._csr() is not None and (a @ x).tobytes() == expected  # scipy's CSR mat-vec: the product used
    csr = a._csr()
    assert csr.indptr.tolist() == np.concatenate([[0], np.cumsum(np.bincount(a.rows, minlength=k))]).tolist()
    assert csr.indices.tolist() == a.cols.tolist() and csr.data.tolist() == a.values.tolist()  # the stored order
    without_scipy = SparseMatrix(a.rows, a.cols, a.values, a.shape)
    without_scipy._csr_matrix = False  # as when scipy.sparse cannot be imported: the numpy products
    assert without_scipy._csr() is None and (without_scipy @ x).tobytes() == expected
