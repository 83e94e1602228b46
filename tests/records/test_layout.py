"""records/layout.py: the run folder's names and run ids, spelled in that one module (a test holds the rest of
src/ and benchmarks/ to it, as tests/test_layering.py does for imports), and its read-only view."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from skillit.errors import DataError
from skillit.records import layout
from skillit.records.layout import RunLayout, parse_run_id, read_summary, run_id

ROOT = Path(__file__).resolve().parents[2]
LAYOUT_MODULE = ROOT / "src" / "skillit" / "records" / "layout.py"

# file names of a run folder: a string holding one of them is a spelling of the layout
FILE_NAMES = (layout.CONFIG, layout.MANIFEST, layout.LOCK, layout.METRICS, layout.SUMMARY, layout.REPORT, *layout.PLOTS)
# folder names of a run folder: common words ("runs" is a cost field too), so only ``path / "runs"`` counts
FOLDER_NAMES = (layout.RUNS, layout.CHECKPOINTS, layout.DRAWS, layout.WARM_START, layout.GRAPH, layout.TENSORBOARD)
# the same spellings naming another folder's files, each with where that folder is
OTHER_FOLDERS = {
    ("src/skillit/skills/io/shards.py", layout.MANIFEST): "a shard folder's manifest (skills/io)",
    ("src/skillit/graph_learners/runs.py", layout.MANIFEST): "a graph learner's work folder",
    ("src/skillit/graph_learners/base.py", layout.RUNS): "a graph learner's work folder",
    ("benchmarks/target_helpers.py", layout.RUNS): "a graph learner's work folder",
    ("benchmarks/regroup_arena.py", layout.RUNS): "the folder holding the script's run folders",
    ("benchmarks/ni_graph.py", layout.GRAPH): "the package's graph/builtin folder",
    # below records/ (tests/test_layering.py), so it cannot import the layout: a message's hint
    ("src/skillit/policy/doremi.py", layout.METRICS): "names the file in an error message",
}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _spellings(path: Path) -> list[tuple[int, str]]:
    """(line, name) of each run-folder name or run-id format spelled in ``path``'s code (docstrings aside)."""
    tree = ast.parse(path.read_text())
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            # a file name, not a dotted module path that ends like one (skillit.report.html)
            found += [(node.lineno, name) for name in FILE_NAMES
                      if re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", node.value)]
            if "__seed" in node.value:
                found.append((node.lineno, "__seed (the run id)"))
        elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Constant)
              and node.right.value in FOLDER_NAMES):
            found.append((node.lineno, node.right.value))
    return found


def test_the_run_folder_is_spelled_only_in_records_layout():
    files = sorted((ROOT / "src").rglob("*.py")) + sorted((ROOT / "benchmarks").rglob("*.py"))
    assert LAYOUT_MODULE in files
    spelled = []
    for path in files:
        if path == LAYOUT_MODULE:
            continue
        where = path.relative_to(ROOT).as_posix()
        spelled += [f"{where}:{line}: {name}" for line, name in _spellings(path) if (where, name) not in OTHER_FOLDERS]
    assert not spelled, ("run-folder names or run ids spelled outside src/skillit/records/layout.py (use its "
                         "constants, run_id/parse_run_id or RunLayout):\n" + "\n".join(spelled))


def test_the_check_finds_a_spelling(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""Writes metrics.jsonl."""\nA = f"{m}__seed{s}"\nB = out / "summary.json"\nC = out / "graph"\n'
                      'D = {"runs": 1}\n')
    assert sorted(_spellings(module)) == [(2, "__seed (the run id)"), (3, "summary.json"), (4, "graph")]


def test_run_ids_round_trip():
    assert run_id("skill-it", 12) == "skill-it__seed12"
    assert parse_run_id("skill-it__seed12") == ("skill-it", "12")
    assert parse_run_id("a__seed1__seed2") == ("a__seed1", "2")
    assert parse_run_id("graph") == ("graph", "")


def test_paths_of_a_run_folder(tmp_path):
    runs = RunLayout(tmp_path)
    assert runs.config == tmp_path / "config.yaml" and runs.manifest == tmp_path / "manifest.json"
    assert runs.metrics == tmp_path / "metrics.jsonl" and runs.summary == tmp_path / "summary.json"
    assert runs.report == tmp_path / "report.html" and runs.lock == tmp_path / ".skillit.lock"
    assert runs.record("static", 3) == tmp_path / "runs" / "static__seed3.json"
    assert runs.checkpoint_dir("static", 3) == tmp_path / "checkpoints" / "static__seed3"
    assert runs.draws("static", 3) == tmp_path / "draws" / "static__seed3.jsonl"
    assert runs.warm_start(3) == tmp_path / "warm_start" / "seed3.pt"
    assert runs.graph_dir == tmp_path / "graph" and runs.tensorboard_dir == tmp_path / "tensorboard"
    assert not any(tmp_path.iterdir())  # a view: nothing written


def test_readers(tmp_path):
    runs = RunLayout(tmp_path)
    assert runs.read_manifest() == {} and runs.read_config() is None
    (tmp_path / "summary.json").write_text(json.dumps({"methods": {"static": {}}}))
    (tmp_path / "metrics.jsonl").write_text('{"method": "static", "seed": 0, "step": 0}\n\n')
    (tmp_path / "manifest.json").write_text('{"run_id": "x"}')
    (tmp_path / "config.yaml").write_text("name: demo\nseeds: [0]\n")
    assert runs.read_summary() == read_summary(tmp_path) == {"methods": {"static": {}}}
    assert runs.read_metrics() == [{"method": "static", "seed": 0, "step": 0}]
    assert runs.read_manifest() == {"run_id": "x"}
    assert runs.read_config() == {"name": "demo", "seeds": [0]}
    (tmp_path / "manifest.json").write_text("[1]")
    with pytest.raises(DataError, match=r"manifest.json: not a skillit run manifest"):
        runs.read_manifest()
    (tmp_path / "config.yaml").write_text("- a\n")
    with pytest.raises(DataError, match=r"config.yaml: not a skillit run config \(a mapping at the top level\)"):
        runs.read_config()
    (tmp_path / "config.yaml").write_text("a: [\n")
    with pytest.raises(DataError, match=r"config.yaml: not readable YAML"):
        runs.read_config()
