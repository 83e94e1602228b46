"""records/layout.py: the run folder's names and run ids, and its read-only view."""

from __future__ import annotations

import json

import pytest

from skillit.errors import DataError
from skillit.records.layout import RunLayout, parse_run_id, read_summary, run_id


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
