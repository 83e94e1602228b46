"""skillit-data: paths, the data folder, what a data task needs, the missing-file messages, `skillit data fetch`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from skillit.cli import app
from skillit.errors import DataError
from skillit.experiment.config import load_config
from skillit.tasks import build_task
from skillit.tasks.corpora import corpora_dir, data_needs, data_root, fetch, missing_hint, resolve_uri
from skillit.tasks.data import resolve_paths


def test_the_data_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("SKILLIT_DATA", raising=False)
    monkeypatch.delenv("SKILLIT_CACHE", raising=False)
    assert data_root() == Path.home() / ".cache" / "skillit" / "data"
    monkeypatch.setenv("SKILLIT_CACHE", str(tmp_path / "cache"))
    assert data_root() == tmp_path / "cache" / "data"
    monkeypatch.setenv("SKILLIT_DATA", str(tmp_path / "d"))
    assert data_root() == tmp_path / "d"


def test_skillit_data_paths_resolve_into_the_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("SKILLIT_DATA", str(tmp_path))
    assert resolve_uri("skillit-data:math_skills/train.jsonl") == str(tmp_path / "math_skills" / "train.jsonl")
    assert resolve_uri("data/train.jsonl") is None
    params = resolve_paths({"train": "skillit-data:math_skills/train.jsonl", "validation": "v.jsonl"}, tmp_path / "cfg")
    assert params == {"train": str(tmp_path / "math_skills" / "train.jsonl"), "validation": str(tmp_path / "cfg" / "v.jsonl")}
    with pytest.raises(DataError, match=r"write skillit-data:NAME/FILE, e.g. skillit-data:math_skills/train.jsonl"):
        resolve_uri("skillit-data:../etc/passwd")


def test_what_a_data_task_needs(monkeypatch, tmp_path):
    monkeypatch.setenv("SKILLIT_DATA", str(tmp_path))
    shipped = str(corpora_dir() / "real_text" / "train.jsonl.xz")
    math = str(tmp_path / "math_skills" / "train.jsonl")
    assert data_needs({"train": shipped, "validation": shipped.replace("train", "validation")}) == "shipped"
    assert data_needs({"train": math}) == "skillit data fetch math_skills (not yet)"
    (tmp_path / "math_skills").mkdir()
    Path(math).write_text("")
    assert data_needs({"train": math}) == "skillit data fetch math_skills (done)"
    assert data_needs({"train": str(tmp_path / "mine.jsonl")}) == f"your file {tmp_path / 'mine.jsonl'} (missing)"


def test_a_missing_generated_file_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("SKILLIT_DATA", str(tmp_path))
    path = tmp_path / "math_skills" / "validation.jsonl"
    assert missing_hint(path) == (f"math_skills is not shipped with skillit: run `skillit data fetch math_skills` to "
                                  f"generate it into {tmp_path} (about 15 CPU-minutes; set SKILLIT_DATA to use another "
                                  "folder)")
    assert missing_hint(tmp_path / "other.jsonl") == ""
    with pytest.raises(DataError, match=r"task.params.train: data file '.*math_skills/validation.jsonl' does not "
                                        r"exist; math_skills is not shipped with skillit: run `skillit data fetch"):
        build_task("data", {"train": str(path)})


def test_a_config_naming_a_missing_file_is_refused_at_its_line(monkeypatch, tmp_path):
    monkeypatch.setenv("SKILLIT_DATA", str(tmp_path / "empty"))
    (tmp_path / "t.jsonl").write_text('{"skill": "a", "prompt": "x", "answer": "y"}\n')
    config = tmp_path / "c.yaml"
    config.write_text("name: c\ntask:\n  name: data\n  params:\n    train: t.jsonl\n"
                      "    validation: skillit-data:math_skills/validation.jsonl\n"
                      "training: {steps: 4, round_steps: 2, eval_every: 2}\nmethods: {stratified: {}}\n")
    with pytest.raises(DataError) as caught:
        load_config(config)
    assert str(caught.value) == (
        f"{config}:6: task.params.validation: data file '{tmp_path / 'empty' / 'math_skills' / 'validation.jsonl'}' "
        f"does not exist; math_skills is not shipped with skillit: run `skillit data fetch math_skills` to generate it "
        f"into {tmp_path / 'empty'} (about 15 CPU-minutes; set SKILLIT_DATA to use another folder)")
    assert load_config(config, check_data=False).task.params["train"] == str(tmp_path / "t.jsonl")


def test_fetch_refuses_what_it_cannot_fetch():
    with pytest.raises(DataError, match=r"unknown data set 'real_text' \(natural_instructions, real_text are shipped: "
                                        r"nothing to fetch\)"):
        fetch("real_text")
    with pytest.raises(DataError, match=r"unknown data set 'math_skill'.*did you mean 'math_skills'"):
        fetch("math_skill")


def test_fetch_with_an_interpreter_that_lacks_the_generator_fails_with_its_output(monkeypatch, tmp_path):
    monkeypatch.setenv("SKILLIT_DATA", str(tmp_path))
    said: list[str] = []
    with pytest.raises(DataError, match=r"(?s)math_skills: the generator failed \(exit 1\); its last output:\n.*"
                                        r"No module named 'mathematics_dataset'"):
        fetch("math_skills", python=sys.executable, progress=said.append)
    assert said == [f"math_skills: generating with {sys.executable} (about 15 CPU-minutes) ..."]
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing half-made left behind


def test_fetch_keeps_a_complete_copy_and_the_cli_says_so(monkeypatch, tmp_path):
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    if not (shared / "math_skills").is_dir():
        pytest.skip("no published math_skills here (../shared/data)")
    monkeypatch.setenv("SKILLIT_DATA", str(shared))
    result = CliRunner().invoke(app, ["data", "fetch", "math_skills"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"math_skills: already in {shared / 'math_skills'} (checked against the published sha256)"


def _fake_generator(tmp_path: Path, body: str) -> str:
    """An "interpreter" run as ``PY build.py --out DIR``: it ignores the script, prints the generator's per-skill
    lines and runs ``body`` with OUT=DIR (it stops unless DIR is a folder)."""
    script = tmp_path / "fake-python"
    script.write_text(f'#!/bin/sh\n[ "$2" = --out ] && [ -d "$3" ] || exit 3\nOUT="$3"\necho "versions: {{}}"\n'
                      f'echo "arithmetic__add_or_sub {{}}"\n'
                      f'echo "comparison__sort_composed {{}}"\n{body}\n')
    script.chmod(0o755)
    return str(script)


def test_fetch_refuses_data_that_differ_from_the_published_files(monkeypatch, tmp_path):
    monkeypatch.setenv("SKILLIT_DATA", str(tmp_path / "data"))
    fake = _fake_generator(tmp_path, 'for f in train.jsonl validation.jsonl prerequisites.json; do echo x > "$OUT/$f"; done')
    said: list[str] = []
    with pytest.raises(DataError, match=r"math_skills: the generated train.jsonl, validation.jsonl, prerequisites.json "
                                        r"differ from the published files \(sha256\).*left in .*\.math_skills\.partial"):
        fetch("math_skills", python=fake, progress=said.append)
    assert said[1:] == ["math_skills: arithmetic__add_or_sub done (1/11)", "math_skills: comparison__sort_composed done (11/11)"]
    assert not (tmp_path / "data" / "math_skills").exists()


def test_fetch_moves_the_published_files_into_place(monkeypatch, tmp_path):
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "math_skills"
    if not shared.is_dir():
        pytest.skip("no published math_skills here (../shared/data)")
    monkeypatch.setenv("SKILLIT_DATA", str(tmp_path / "data"))
    fake = _fake_generator(tmp_path, f'cp {shared}/train.jsonl {shared}/validation.jsonl {shared}/prerequisites.json "$OUT"/')
    said: list[str] = []
    out = fetch("math_skills", python=fake, progress=said.append)
    assert out == tmp_path / "data" / "math_skills" and said[-1] == f"math_skills: written to {out} (sha256 checked)"
    assert sorted(p.name for p in out.iterdir()) == ["prerequisites.json", "train.jsonl", "validation.jsonl"]
    assert not (tmp_path / "data" / ".math_skills.partial").exists()
