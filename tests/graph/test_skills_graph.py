import json

import numpy as np
import pytest

from skillit.errors import GraphError
from skillit.graph import SkillsGraph, builtin_graph, builtin_graph_names
from skillit.policy import stable_softmax


def test_shape_names_and_finiteness_are_validated():
    with pytest.raises(GraphError, match="shape 2x3 but there are 2 training skills"):
        SkillsGraph(np.zeros((2, 3)), ["a", "b"])
    with pytest.raises(GraphError, match=r"entry \['a', 'b'\] \(row 0, column 1\) is nan"):
        SkillsGraph([[1, float("nan")], [0, 1]], ["a", "b"])
    with pytest.raises(GraphError, match="duplicate names"):
        SkillsGraph(np.eye(2), ["a", "a"])
    with pytest.raises(GraphError, match="2-dimensional"):
        SkillsGraph([1, 2], ["a", "b"])


def test_rectangular_graph_and_name_lookup():
    g = SkillsGraph([[1, 0, 2], [0.5, 1, 0]], ["a", "b"], ["x", "y", "z"])
    assert not g.is_square and g.shape == (2, 3)
    assert g.weight("b", "x") == 0.5
    assert g.submatrix(["b", "a"], ["z", "x"]).tolist() == [[0, 0.5], [2, 1]]
    with pytest.raises(GraphError, match="not a column"):
        g.submatrix(["a"], ["q"])
    with pytest.raises(GraphError, match="did you mean 'a'"):
        g.submatrix(["aa"], ["x"])


@pytest.mark.parametrize("array", [np.array([[1 + 2j, 0], [0, 1]]), np.array([["1", "0"], ["0", "1"]])])
def test_a_npy_graph_of_complex_or_text_values_is_refused(tmp_path, array):
    np.save(tmp_path / "g.npy", array)
    with pytest.raises(GraphError, match=rf"holds {array.dtype} values; a graph needs real numbers"):
        SkillsGraph.load(tmp_path / "g.npy", ["a", "b"])
    np.save(tmp_path / "b.npy", np.array([[True, False], [False, True]]))
    assert SkillsGraph.load(tmp_path / "b.npy", ["a", "b"]).matrix[0, 0] == 1.0


def test_json_and_npy_round_trip(tmp_path):
    g = SkillsGraph([[1, 0.25], [0, 1]], ["a", "b"], provenance={"method": "linear", "cost": {"train_steps": 5}})
    path = g.save(tmp_path / "g.json")
    data = json.loads(path.read_text())
    assert data["train_skills"] == ["a", "b"] and data["method"] == "linear"
    loaded = SkillsGraph.load(path)
    assert loaded == g and loaded.provenance["cost"] == {"train_steps": 5}
    g.save(tmp_path / "g.npy")
    assert SkillsGraph.load(tmp_path / "g.npy", ["a", "b"]) == g
    with pytest.raises(GraphError, match="pass train_skills"):
        SkillsGraph.load(tmp_path / "g.npy")


def test_bad_files_give_clear_errors(tmp_path):
    (tmp_path / "bad.json").write_text('{"train_skills": ["a"], "matrix": [[1], }')
    with pytest.raises(GraphError, match="invalid JSON at line 1"):
        SkillsGraph.load(tmp_path / "bad.json")
    (tmp_path / "nan.json").write_text('{"train_skills": ["a", "b"], "matrix": [[1, null], [0, 1]]}')
    with pytest.raises(GraphError, match="is nan"):
        SkillsGraph.load(tmp_path / "nan.json")
    with pytest.raises(GraphError, match="does not exist"):
        SkillsGraph.load(tmp_path / "missing.json")


def test_from_edges_and_identity():
    g = SkillsGraph.from_edges(["a", "b", "c"], None, {("b", "a"): 0.5})
    assert g.matrix.tolist() == [[1, 0, 0], [0.5, 1, 0], [0, 0, 1]]
    assert SkillsGraph.identity(["x", "y"]).matrix.tolist() == [[1, 0], [0, 1]]


def test_builtin_graphs_are_the_papers():
    assert set(builtin_graph_names()) >= {"lego", "lego-finetune", "addition"}
    lego = builtin_graph("lego")
    # the reference code's first LEGO mixture: p_1 = softmax(0.5 · row sums) ≈ [.163, .346, .163, .163, .163]
    p1 = stable_softmax(0.5 * lego.matrix.sum(axis=1))
    assert p1 == pytest.approx([0.1635, 0.3461, 0.1635, 0.1635, 0.1635], abs=5e-4)
    assert builtin_graph("lego-finetune").submatrix(["var1", "var2", "var3"], ["var3"]).ravel().tolist() == [0, 0.5, 1]
    assert builtin_graph("addition").weight("tens", "ones") == 0.5
    with pytest.raises(GraphError, match="unknown built-in graph"):
        builtin_graph("lgo")
