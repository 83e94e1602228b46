"""RunDirectory: path checks, lock, manifest written once, resume checks naming the differing field."""

from __future__ import annotations

import json

import pytest

from skillit.errors import CheckpointError, OutputError
from skillit.experiment.config import parse_config
from skillit.experiment.run_dir import RunDirectory, config_hash, data_fingerprint
from skillit.records.metrics import RunRecord
from skillit.utils.machine import machine_fingerprint

CONFIG = """\
name: tiny
task: {name: lego, params: {k: 3}}
training: {steps: 10}
methods: {stratified: {}, random: {}}
seeds: [0, 1]
"""


def config(text: str = CONFIG):
    return parse_config(text)


def record(method="stratified", seed=0, steps=10) -> RunRecord:
    return RunRecord(method, seed, {"name": method}, [{"step": 0}], steps, 1.0, 0.5, 3)


def test_create_writes_config_and_manifest_once_and_locks(tmp_path):
    with RunDirectory.create(tmp_path / "run", config(), policies={"stratified": {"name": "stratified"}},
                             data={"f": "abc"}) as run_dir:
        manifest = json.loads(run_dir.manifest_path.read_text())
        assert manifest["config_hash"] == config_hash(config().model_dump(mode="json"))
        assert manifest["policies"] == {"stratified": {"name": "stratified"}}
        assert manifest["data_fingerprint"] == {"f": "abc"}
        assert manifest["machine"] == machine_fingerprint()  # the machine that created it
        assert run_dir.config_path.read_text().startswith("name: tiny")
        with pytest.raises(CheckpointError, match="in use by another skillit run"):
            RunDirectory.open_for_resume(tmp_path / "run", config())
    # released: a resume may take it now, and does not rewrite anything
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}
    RunDirectory.open_for_resume(tmp_path / "run", config(), policies={"stratified": {"name": "stratified"}},
                                 data={"f": "abc"}).close()
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()} == before


def test_output_files_have_the_umask_mode(tmp_path):
    with RunDirectory.create(tmp_path / "run", config()) as run_dir:
        assert run_dir.manifest_path.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (CONFIG.replace("steps: 10", "steps: 20"), "training.steps"),
        (CONFIG.replace("k: 3", "k: 4"), "task.params.k"),
        (CONFIG.replace("stratified: {}", "stratified: {wrappers: [{floor: 0.1}]}"), "methods.stratified.wrappers"),
    ],
)
def test_resume_refuses_a_different_config_naming_the_field(tmp_path, text, field):
    RunDirectory.create(tmp_path / "run", config()).close()
    with pytest.raises(CheckpointError, match=rf"{field}[\w.]* differs"):
        RunDirectory.open_for_resume(tmp_path / "run", config(text))


def test_resume_may_narrow_methods_and_seeds_but_not_add(tmp_path):
    RunDirectory.create(tmp_path / "run", config()).close()
    RunDirectory.open_for_resume(tmp_path / "run", config(CONFIG.replace(", random: {}", "").replace("[0, 1]", "[1]"))).close()
    with pytest.raises(CheckpointError, match=r"seeds \[2\] were not part of the run"):
        RunDirectory.open_for_resume(tmp_path / "run", config(CONFIG.replace("[0, 1]", "[0, 2]")))


def test_resume_refuses_changed_policies_and_data(tmp_path):
    RunDirectory.create(tmp_path / "run", config(), policies={"random": {"eta": 1}}, data={"d": "1"}).close()
    with pytest.raises(CheckpointError, match="method 'random' now builds a different policy \\(eta"):
        RunDirectory.open_for_resume(tmp_path / "run", config(), policies={"random": {"eta": 2}}, data={"d": "1"})
    with pytest.raises(CheckpointError, match="the data changed since the run started \\(d\\)"):
        RunDirectory.open_for_resume(tmp_path / "run", config(), policies={"random": {"eta": 1}}, data={"d": "2"})


def test_finished_records_are_checked_against_the_manifest(tmp_path):
    with RunDirectory.create(tmp_path / "a", config()) as a:
        a.save_record(record())
        assert a.finished_record("stratified", 0, steps=10).steps == 10
        assert a.finished_record("random", 0) is None
        with pytest.raises(CheckpointError, match="ran 10 steps, this run has 20"):
            a.finished_record("stratified", 0, steps=20)
    with RunDirectory.create(tmp_path / "b", config()) as b:
        b.record_path("stratified", 0).parent.mkdir(parents=True, exist_ok=True)
        b.record_path("stratified", 0).write_bytes((tmp_path / "a" / "runs" / "stratified__seed0.json").read_bytes())
        with pytest.raises(CheckpointError, match="not written by this run directory's run"):
            b.finished_record("stratified", 0)
        b.record_path("random", 1).write_text("{not json")
        with pytest.raises(CheckpointError, match="not a run record"):
            b.finished_record("random", 1)


def test_create_replaces_an_earlier_runs_results_but_refuses_foreign_folders(tmp_path):
    with RunDirectory.create(tmp_path / "run", config()) as run_dir:
        run_dir.save_record(record())
        (tmp_path / "run" / "graph").mkdir()
    RunDirectory.create(tmp_path / "run", config()).close()
    assert not (tmp_path / "run" / "runs").exists() and (tmp_path / "run" / "graph").is_dir()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    with pytest.raises(OutputError, match="not a skillit run directory .*thesis.tex"):
        RunDirectory.create(tmp_path / "mine", config())
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["thesis.tex"]


def test_an_unwritable_folder_is_one_message(tmp_path, monkeypatch):
    import os

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "mkdir", refuse)
    with pytest.raises(OutputError, match="cannot create the output folder .*permission denied"):
        RunDirectory.create(tmp_path / "x" / "run", config())


def test_data_fingerprint_hashes_named_files(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("a")
    first = data_fingerprint({"train": str(path), "k": 3, "nested": [str(tmp_path / "missing")]})
    assert list(first) == [str(path)]
    path.write_text("b")
    assert data_fingerprint({"train": str(path)}) != first


def test_a_killed_runs_temporary_files_do_not_make_the_folder_foreign(tmp_path):
    RunDirectory.create(tmp_path / "run", config()).close()
    (tmp_path / "run" / ".summary.json.k3j2.tmp").write_text("half")
    RunDirectory.create(tmp_path / "run", config()).close()
    assert not (tmp_path / "run" / ".summary.json.k3j2.tmp").exists()
