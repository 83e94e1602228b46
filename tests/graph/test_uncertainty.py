"""Per-edge uncertainty of a graph learned at several seeds (skillit.graph.uncertainty), by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skillit.errors import GraphError
from skillit.graph import SkillsGraph
from skillit.graph.uncertainty import EdgeUncertainty, edge_uncertainty, uncertainty_of

T_975_2 = 4.302652729911275  # t_{0.975, 2}: the 95 % two-sided quantile with 3 seeds (tables: 4.303)
NAMES = ["a", "b", "t"]

# three seeds' matrices (rows: training skills a, b, t; columns: evaluation skills a, b, t); each entry's
# three values are chosen so that its mean, std and interval are easy to compute by hand
SEED_MATRICES = [
    [[1.0, 1.0, 0.2], [0.0, 0.5, 1.0], [-1.0, 0.0, 0.9]],
    [[1.0, 2.0, 0.3], [0.0, 0.5, 0.0], [-1.1, 0.0, -0.1]],
    [[1.0, 3.0, 0.4], [0.0, 0.5, 0.0], [-0.9, 0.0, 0.1]],
]


def _graphs():
    return [SkillsGraph(m, NAMES, NAMES) for m in SEED_MATRICES]


def test_mean_std_and_t_interval_by_hand():
    u = edge_uncertainty(_graphs(), [0, 1, 2])
    assert u.n == 3 and u.seeds == (0, 1, 2) and u.level == 0.95
    # a → b: 1, 2, 3: mean 2, std 1, half-width t·1/√3 = 2.4841: [-0.484, 4.484] contains 0
    half = T_975_2 / math.sqrt(3)
    assert (u.mean[0, 1], u.std[0, 1]) == pytest.approx((2.0, 1.0))
    assert (u.low[0, 1], u.high[0, 1]) == pytest.approx((2 - half, 2 + half))
    # a → t: 0.2, 0.3, 0.4: mean 0.3, std 0.1, half 0.248414: [0.051586, 0.548414] excludes 0
    assert (u.mean[0, 2], u.std[0, 2]) == pytest.approx((0.3, 0.1))
    assert u.low[0, 2] == pytest.approx(0.3 - 0.1 * half) and u.low[0, 2] == pytest.approx(0.051586, abs=1e-6)
    # t → a: -1, -1.1, -0.9: mean -1, interval [-1.248, -0.752] below 0: a stable (harmful) edge
    assert u.high[2, 0] == pytest.approx(-1 + 0.1 * half)
    # b → t: 1, 0, 0: mean 1/3, std 1/√3, half = t/3 = 1.434: not stable
    assert u.std[1, 2] == pytest.approx(1 / math.sqrt(3)) and u.low[1, 2] == pytest.approx(1 / 3 - T_975_2 / 3)
    expected_stable = [
        [True, False, True],  # a → a: 1, 1, 1 (std 0, mean ≠ 0): stable
        [False, True, False],  # b → a: 0, 0, 0 (std 0, mean 0): not stable; b → b: 0.5 three times: stable
        [True, False, False],  # t → t: 0.9, -0.1, 0.1: mean 0.3, std 0.529, half 1.31: not stable
    ]
    assert u.stable.tolist() == expected_stable


def test_the_interval_level_is_used():
    wide = edge_uncertainty(_graphs(), [0, 1, 2], level=0.99)
    narrow = edge_uncertainty(_graphs(), [0, 1, 2], level=0.5)
    half_99 = 9.924843200918276 / math.sqrt(3) * 0.1  # t_{0.995, 2} = 9.925
    half_50 = 0.8164965809277263 / math.sqrt(3) * 0.1  # t_{0.75, 2} = 0.8165
    assert wide.low[0, 2] == pytest.approx(0.3 - half_99) and not wide.stable[0, 2]  # 0.3 − 0.573 < 0
    assert narrow.low[0, 2] == pytest.approx(0.3 - half_50) and narrow.stable[0, 1]  # 2 ± 0.47 excludes 0


def test_stable_matrix_zeroes_unstable_off_diagonal_edges_and_keeps_self_edges():
    u = edge_uncertainty(_graphs(), [0, 1, 2])
    stable = u.stable_matrix()
    expected = [
        [1.0, 0.0, 0.3],  # a → b (unstable) zeroed, a → t kept at its mean
        [0.0, 0.5, 0.0],  # b → t (unstable) zeroed
        [-1.0, 0.0, 0.3],  # t → t is unstable but a self-edge: kept at its mean, so the target keeps its row
    ]
    assert stable == pytest.approx(np.array(expected))
    # helpers of t: a (stable, 0.3) and b (mean 1/3 > 0.3, not stable), largest mean first
    assert [(h[0], h[4]) for h in u.helpers("t")] == [("b", False), ("a", True)]
    assert u.stable_helpers("t") == ["a"] and u.stable_helpers("a") == []  # t → a is stable but harmful
    with pytest.raises(GraphError, match="'x' is not a column"):
        u.helpers("x")


def test_rectangular_graph_has_no_self_edges_to_keep():
    graphs = [SkillsGraph([[0.1 * s, 1.0]], ["a"], ["x", "y"]) for s in (1, 2, 3)]
    u = edge_uncertainty(graphs, [0, 1, 2])
    assert not u.self_edges().any()
    # a → x: 0.1, 0.2, 0.3: 0.2 ± 0.248 contains 0, zeroed (no self-edge keeps it); a → y: 1, 1, 1: stable
    assert u.stable_matrix().tolist() == [[0.0, 1.0]]


def test_round_trip_through_graph_json_and_old_files_have_none(tmp_path):
    u = edge_uncertainty(_graphs(), [4, 5, 6])
    graph = SkillsGraph(u.stable_matrix(), NAMES, NAMES, {"uncertainty": u.to_dict()})
    loaded = SkillsGraph.load(graph.save(tmp_path / "graph.json"))
    again = uncertainty_of(loaded)
    assert isinstance(again, EdgeUncertainty) and again.seeds == (4, 5, 6)
    for key in ("mean", "std", "low", "high", "stable", "per_seed"):
        assert np.array_equal(getattr(again, key), getattr(u, key))
    assert uncertainty_of(SkillsGraph(SEED_MATRICES[0], NAMES)) is None  # a single-seed (or hand-made) graph
    broken = SkillsGraph(u.stable_matrix(), NAMES, NAMES, {"uncertainty": {**u.to_dict(), "low": [[0.0]]}})
    with pytest.raises(GraphError, match=r"uncertainty \['low'\] do not match the 3x3 matrix"):
        uncertainty_of(broken)


def test_needs_two_seeds_and_matching_names():
    with pytest.raises(GraphError, match="at least 2 seeds"):
        edge_uncertainty(_graphs()[:1], [0])
    other = SkillsGraph(SEED_MATRICES[0], ["a", "b", "u"], NAMES)
    with pytest.raises(GraphError, match="the graph of seed 1 names other skills than the graph of seed 0"):
        edge_uncertainty([_graphs()[0], other], [0, 1])
