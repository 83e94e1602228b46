"""Density and graph comparison, with hand-computed values."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillit.errors import GraphError
from skillit.graph import SkillsGraph, builtin_graph
from skillit.graph.diagnostics import compare_graphs, density, edges
from skillit.tasks.lego import prerequisite_graph


def test_edges_and_density_leave_the_diagonal_out():
    chain = prerequisite_graph(5)  # ancestors: 10 of the 20 off-diagonal pairs
    assert ("var1", "var5") in edges(chain) and ("var5", "var1") not in edges(chain)
    result = density(chain)
    assert (result.edges, result.possible, result.density, result.warning) == (10, 20, 0.5, None)
    paper = builtin_graph("lego")  # var2 -> var1, var3, var4
    assert edges(paper) == {("var2", "var1"), ("var2", "var3"), ("var2", "var4")}
    assert density(paper, threshold=0.5).edges == 0  # weights are 0.5: strictly above the threshold only


def test_density_warns_near_empty_and_near_complete():
    empty = density(SkillsGraph.identity(["a", "b", "c", "d"]))
    assert empty.density == 0 and "nearly empty" in empty.warning and "A = I" in empty.warning
    complete = density(SkillsGraph(np.ones((4, 4)), list("abcd")))
    assert complete.density == 1 and "nearly complete" in complete.warning
    rectangular = density(SkillsGraph([[1, 0], [0, 0]], ["a", "b"], ["a", "x"]))  # pairs a-x, b-a, b-x
    assert (rectangular.edges, rectangular.possible) == (0, 3)



def test_nearly_complete_advice_is_a_setting_the_default_learner_accepts():
    import re

    import yaml
    from pydantic import ValidationError

    from skillit.experiment.config import GraphLearningConfig

    warning = density(SkillsGraph(np.ones((4, 4)), list("abcd"))).warning
    advice = re.search(r"graph_learning: (\{params: \{[^}]*\}\})", warning)
    assert advice is not None and "probe" in warning
    section = GraphLearningConfig.model_validate(yaml.safe_load(advice.group(1)))  # the default method takes it
    assert section.method == "probe" and section.params == {"control": True}
    with pytest.raises(ValidationError, match="graph learner 'probe' takes no parameter 'threshold'"):  # advised once
        GraphLearningConfig.model_validate({"params": {"threshold": 0.5}})

def test_comparison_counts_precision_recall_and_correlation_by_hand():
    names = ["a", "b", "c"]
    reference = SkillsGraph([[1, 1, 1], [0, 1, 1], [0, 0, 1]], names)  # edges ab, ac, bc
    learned = SkillsGraph([[1, 0.8, 0], [0.3, 1, 0.5], [0, 0, 1]], names)  # edges ab, ba, bc
    result = compare_graphs(learned, reference)
    assert result.precision == pytest.approx(2 / 3) and result.recall == pytest.approx(2 / 3)
    assert result.f1 == pytest.approx(2 / 3)
    assert set(result.false_positive) == {("b", "a")} and set(result.false_negative) == {("a", "c")}
    assert result.pairs == 6
    ours = np.array([0.8, 0, 0.3, 0.5, 0, 0])  # ab ac ba bc ca cb
    theirs = np.array([1, 1, 0, 1, 0, 0])
    assert result.pearson == pytest.approx(np.corrcoef(ours, theirs)[0, 1])
    assert compare_graphs(learned, reference, threshold=0.4).precision == 1.0  # edges ab, bc only


def test_comparison_handles_empty_graphs_and_disjoint_names():
    names = ["a", "b"]
    none = compare_graphs(SkillsGraph.identity(names), SkillsGraph([[1, 1], [0, 1]], names))
    assert none.precision is None and none.recall == 0.0 and none.pearson is None
    with pytest.raises(GraphError, match="share no off-diagonal"):
        compare_graphs(SkillsGraph.identity(["a", "b"]), SkillsGraph.identity(["x", "y"]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1, 1), min_size=9, max_size=9))
def test_a_graph_agrees_perfectly_with_itself(values):
    graph = SkillsGraph(np.array(values).reshape(3, 3), ["a", "b", "c"])
    result = compare_graphs(graph, graph)
    assert result.precision in (None, 1.0) and result.recall in (None, 1.0)
    assert not result.false_positive and not result.false_negative
    assert 0.0 <= density(graph).density <= 1.0
