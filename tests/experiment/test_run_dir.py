"""RunDirectory: path checks, lock, manifest written once, resume checks naming the differing field."""

from __future__ import annotations

import json
import os

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


def test_create_refuses_a_run_unless_overwrite_and_refuses_foreign_folders(tmp_path):
    with RunDirectory.create(tmp_path / "run", config()) as run_dir:
        run_dir.save_record(record())
        (tmp_path / "run" / "graph").mkdir()
    with pytest.raises(OutputError, match="holds a run; choose another --out, or add --overwrite"):
        RunDirectory.create(tmp_path / "run", config())
    assert (tmp_path / "run" / "runs" / "stratified__seed0.json").is_file()
    RunDirectory.create(tmp_path / "run", config(), overwrite=True).close()
    assert not (tmp_path / "run" / "runs").exists() and not (tmp_path / "run" / "graph").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    for overwrite in (False, True):  # --overwrite never deletes what skillit did not write
        with pytest.raises(OutputError, match="not a skillit run directory .*thesis.tex"):
            RunDirectory.create(tmp_path / "mine", config(), overwrite=overwrite)
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["thesis.tex"]


def snapshot(folder) -> dict[str, bytes | None]:
    """Every path under ``folder`` and its bytes (None: a folder)."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in sorted(folder.rglob("*"))}


def finished_run(path, text: str = CONFIG, **kwargs) -> RunDirectory:
    """A run directory holding one finished run, its lock file stamped by another process (pid 12345)."""
    with RunDirectory.create(path, config(text), **kwargs) as run_dir:
        run_dir.save_record(record())
    (path / ".skillit.lock").write_text("12345")
    return run_dir


def test_claim_refuses_another_configs_run_naming_the_settings_and_the_ways_out_and_changes_nothing(tmp_path):
    first = finished_run(tmp_path / "run", policies={"random": {"eta": 1}}, data={"d": "1"})
    before = snapshot(tmp_path / "run")
    other = CONFIG.replace("steps: 10", "steps: 20").replace("k: 3", "k: 4")
    with pytest.raises(OutputError) as refused:
        RunDirectory.claim(tmp_path / "run", config(other))
    message = str(refused.value)
    assert f"the output folder {str(tmp_path / 'run')!r} holds a run of another configuration" in message
    assert "task.params.k differs (the run started with 3, now 4); so do training.steps (10 → 20)" in message
    assert "another --out" in message and f"skillit run --resume {tmp_path / 'run'}" in message
    assert "--overwrite" in message
    assert snapshot(tmp_path / "run") == before  # every file unchanged, the lock file's pid included
    # changed policies or data are another run too
    for policies, data, why in (({"random": {"eta": 2}}, {"d": "1"}, "method 'random' now builds a different policy"),
                                ({"random": {"eta": 1}}, {"d": "2"}, r"the data changed since the run started \(d\)")):
        with pytest.raises(OutputError, match=why):
            RunDirectory.claim(tmp_path / "run", config(), policies=policies, data=data)
    assert snapshot(tmp_path / "run") == before
    assert first.manifest["run_id"] == json.loads((tmp_path / "run" / "manifest.json").read_text())["run_id"]


def test_claim_does_not_leave_a_lock_file_it_made_for_a_refusal(tmp_path):
    finished_run(tmp_path / "run")
    (tmp_path / "run" / ".skillit.lock").unlink()  # e.g. a run directory copied without it
    with pytest.raises(OutputError, match="another configuration"):
        RunDirectory.claim(tmp_path / "run", config(CONFIG.replace("steps: 10", "steps: 20")))
    assert not (tmp_path / "run" / ".skillit.lock").exists()


def test_claim_continues_the_same_configs_run_keeping_its_finished_runs(tmp_path):
    first = finished_run(tmp_path / "run", policies={"random": {"eta": 1}}, data={"d": "1"})
    with RunDirectory.claim(tmp_path / "run", config(), policies={"random": {"eta": 1}}, data={"d": "1"}) as run_dir:
        assert run_dir.continued
        assert run_dir.manifest["run_id"] == first.manifest["run_id"]
        assert run_dir.finished_record("stratified", 0, steps=10).steps == 10  # kept, and still this run's
        assert (tmp_path / "run" / ".skillit.lock").read_text() == str(os.getpid())  # the lock is ours now
        with pytest.raises(CheckpointError, match="in use by another skillit run"):
            RunDirectory.claim(tmp_path / "run", config())
    # a subset of the methods and seeds is the same run (as for --resume)
    narrowed = config(CONFIG.replace(", random: {}", "").replace("[0, 1]", "[0]"))
    with RunDirectory.claim(tmp_path / "run", narrowed, policies={"random": {"eta": 1}}, data={"d": "1"}) as run_dir:
        assert run_dir.continued and run_dir.finished_record("stratified", 0) is not None


def test_claim_starts_a_new_run_in_a_new_folder_or_beside_a_learned_graph(tmp_path):
    with RunDirectory.claim(tmp_path / "new", config()) as run_dir:
        assert not run_dir.continued and run_dir.manifest_path.is_file()
    (tmp_path / "graphed" / "graph").mkdir(parents=True)  # `skillit graph`'s default folder, before the run
    (tmp_path / "graphed" / "graph" / "graph.json").write_text("{}")
    with RunDirectory.claim(tmp_path / "graphed", config()) as run_dir:
        assert not run_dir.continued
    assert (tmp_path / "graphed" / "graph" / "graph.json").read_text() == "{}"  # kept for `graph: learn`


def test_claim_with_overwrite_deletes_only_what_a_run_writes(tmp_path):
    first = finished_run(tmp_path / "run")
    for name in ("graph", "checkpoints", "tensorboard"):
        (tmp_path / "run" / name).mkdir()
    (tmp_path / "run" / "summary.json").write_text("{}")
    (tmp_path / "run" / ".summary.json.k3j2.tmp").write_text("half")
    with RunDirectory.claim(tmp_path / "run", config(CONFIG.replace("steps: 10", "steps: 20")),
                            overwrite=True) as run_dir:
        assert not run_dir.continued and run_dir.manifest["run_id"] != first.manifest["run_id"]
        assert run_dir.manifest["config"]["training"]["steps"] == 20
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [".skillit.lock", "config.yaml", "manifest.json"]


def test_claim_refuses_results_without_a_manifest_unless_overwrite(tmp_path):
    finished_run(tmp_path / "run")
    (tmp_path / "run" / "manifest.json").unlink()  # an older skillit's run
    before = snapshot(tmp_path / "run")
    with pytest.raises(OutputError, match="results without its manifest.json .*--overwrite"):
        RunDirectory.claim(tmp_path / "run", config())
    assert snapshot(tmp_path / "run") == before
    RunDirectory.claim(tmp_path / "run", config(), overwrite=True).close()
    assert not (tmp_path / "run" / "runs").exists()


def test_claim_with_resume_needs_a_run_and_refuses_overwrite(tmp_path):
    with pytest.raises(CheckpointError, match=r"is not a folder; start a run there with: skillit run CONFIG --out"):
        RunDirectory.claim(tmp_path / "fresh", config(), resume=True)
    (tmp_path / "fresh").mkdir()
    with pytest.raises(CheckpointError, match=r"has no manifest.json .*start a run there with: skillit run CONFIG"):
        RunDirectory.claim(tmp_path / "fresh", config(), resume=True)
    finished_run(tmp_path / "run")
    with pytest.raises(OutputError, match="--resume continues .* --overwrite deletes it"):
        RunDirectory.claim(tmp_path / "run", config(), resume=True, overwrite=True)
    with RunDirectory.claim(tmp_path / "run", config(), resume=True) as run_dir:
        assert run_dir.continued


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
    RunDirectory.create(tmp_path / "run", config(), overwrite=True).close()
    assert not (tmp_path / "run" / ".summary.json.k3j2.tmp").exists()
