"""The reliability catalogue (docs/reliability.md): bad inputs and faults through the real `skillit` CLI.

Every case asserts the exit code, the message, and that nothing was written, changed or lost: the whole
work folder is fingerprinted (every path and its bytes) before and after. Cases that need a finished run
directory copy one made once per module (a 6-step run). The CLI runs in-process (typer's CliRunner).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from skillit.cli import app

TINY = """\
name: tiny
task: {name: lego, params: {k: 3, validation_size: 6, train_pool_size: 200}}
model: {n_layer: 1, n_head: 2, n_embd: 16}
training: {steps: 6, batch_size: 4, round_steps: 3, eval_every: 3, warmup_steps: 1, checkpoint_every: 3}
methods:
  skill-it: {params: {graph: prerequisites, eta: 0.5}}
  stratified: {}
seeds: [0]
"""

ROW = '{"skill": "a", "prompt": "x", "answer": "y"}\n'


def snapshot(folder: Path) -> dict[str, str]:
    """Every path under ``folder`` with a digest of its bytes (folders: 'dir')."""
    out = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        out[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A finished 2-method run directory with checkpoints (made once; cases copy it)."""
    base = tmp_path_factory.mktemp("finished")
    (base / "tiny.yaml").write_text(TINY)
    result = invoke("run", str(base / "tiny.yaml"), "--out", str(base / "run"), "--jobs", "1")
    assert result.exit_code == 0, result.output
    return base / "run"


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    """The current folder of a case, holding tiny.yaml."""
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(TINY)
    monkeypatch.chdir(folder)
    return folder


def config_with(**replace: str) -> str:
    text = TINY
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


# ---- cases: (id, setup(work, finished) -> args, message) -------------------------------------------------
def _write(name: str, text: str | bytes):
    def setup(work: Path, finished: Path) -> list[str]:
        path = work / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return []

    return setup


def run_config(text: str, *extra: str):
    def setup(work: Path, finished: Path) -> list[str]:
        (work / "bad.yaml").write_text(text)
        return ["run", "bad.yaml", "--out", "out", *extra]

    return setup


def copy_run(edit=None, *args: str):
    def setup(work: Path, finished: Path) -> list[str]:
        shutil.copytree(finished, work / "run")
        if edit is not None:
            edit(work / "run")
        return ["run", "--resume", "run", *args]

    return setup


def _edit_lr(run: Path) -> None:
    path = run / "config.yaml"
    path.write_text(path.read_text().replace("lr: 0.001", "lr: 0.002"))


def _foreign_record(run: Path) -> None:
    # a finished record from another run directory with the same config: not this run's result
    record = json.loads((run / "runs" / "stratified__seed0.json").read_text())
    record["extra"]["run_id"] = "0" * 32
    (run / "runs" / "stratified__seed0.json").write_text(json.dumps(record))


def _corrupt_checkpoint(run: Path) -> None:
    (run / "runs" / "stratified__seed0.json").unlink()  # unfinished: resume would load its checkpoint
    (run / "checkpoints" / "stratified__seed0" / "checkpoint.pt").write_bytes(b"PK\x03\x04 not a checkpoint")


def _no_manifest(run: Path) -> None:
    (run / "manifest.json").unlink()


def _hold_lock(run: Path) -> None:
    from skillit.experiment.run_dir import RunDirectory

    holder = RunDirectory(run)
    holder.lock()
    _HELD.append(holder)


_HELD: list = []


def data(name: str, content: bytes):
    def setup(work: Path, finished: Path) -> list[str]:
        (work / name).write_bytes(content)
        return ["data", "inspect", name]

    return setup


def _truncated_gzip() -> bytes:
    whole = gzip.compress("".join(ROW.replace('"x"', f'"x{i}"') for i in range(3000)).encode())
    return whole[: len(whole) // 2]


ALIAS_BOMB = "reference:\n  a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
    f"  {chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8)
)

CASES = [
    # output paths
    ("out-empty-string", lambda w, f: ["run", "tiny.yaml", "--out", ""], "is the current folder"),
    ("out-dotdot", lambda w, f: ["run", "tiny.yaml", "--out", ".."], "a parent of the current folder"),
    ("name-dotdot", run_config(config_with(**{"name: tiny": "name: .."})), "name '..' is a path"),
    ("out-is-file", lambda w, f: ["run", "tiny.yaml", "--out", "tiny.yaml"], "is a file"),
    ("out-below-file", lambda w, f: ["run", "tiny.yaml", "--out", "tiny.yaml/sub"], "lies below the file"),
    ("out-foreign-folder", lambda w, f: (w.joinpath("mine").mkdir(), (w / "mine" / "notes.txt").write_text("x"),
                                         ["run", "tiny.yaml", "--out", "mine"])[-1], "not a skillit run directory"),
    ("jobs-zero", lambda w, f: ["run", "tiny.yaml", "--out", "out", "--jobs", "0"], "--jobs must be >= 1"),
    # resume
    ("resume-other-steps", copy_run(None, "--steps", "3"), "training.steps differs (the run started with 6, now 3)"),
    ("resume-edited-lr", copy_run(_edit_lr), "training.lr differs"),
    ("resume-foreign-record", copy_run(_foreign_record), "was not written by this run directory's run"),
    ("resume-corrupt-checkpoint", copy_run(_corrupt_checkpoint), "the checkpoint cannot be read"),
    ("resume-no-manifest", copy_run(_no_manifest), "has no manifest.json"),
    ("resume-locked", copy_run(_hold_lock), "is in use by another skillit run"),
    ("resume-not-a-folder", lambda w, f: ["run", "--resume", "nowhere"],
     "'nowhere' is not a folder; start a run there with: skillit run CONFIG --out nowhere"),
    ("resume-empty-folder", lambda w, f: (w.joinpath("empty").mkdir(), ["run", "--resume", "empty"])[-1],
     "'empty' has no config.yaml (it is not a run directory); start a run there with: skillit run CONFIG --out empty"),
    ("resume-and-overwrite", copy_run(None, "--overwrite"), "--resume continues the run in the folder and --overwrite "
     "deletes it: give one of them"),
    # a run folder holding another configuration's run: refused, naming the setting and the three ways out
    ("rerun-other-config", lambda w, f: (shutil.copytree(f, w / "run"), ["run", "tiny.yaml", "--out", "run",
                                                                          "--steps", "3"])[-1],
     "the output folder 'run' holds a run of another configuration: training.steps differs (the run started with 6, "
     "now 3); so do training.round_steps (3 → 2), training.eval_every (3 → 2), training.warmup_steps (1 → 0), "
     "training.checkpoint_every (3 → 2). "
     "Nothing was written. To keep that run, choose another --out; or continue that run as it was: skillit run "
     "--resume run; or delete its results and start this run there: add --overwrite"),
    ("rerun-other-config-bench", lambda w, f: (w.joinpath("run").mkdir(), w.joinpath("run", "summary.json").write_text(
        "{}"), ["bench", "math-finetune", "--out", "run"])[-1], "holds an earlier run's results without its manifest.json"),
    # config values
    ("seeds-duplicate", run_config(config_with(**{"seeds: [0]": "seeds: [0, 0]"})), "appear more than once"),
    ("seeds-negative", run_config(config_with(**{"seeds: [0]": "seeds: [-1]"})), "seed -1 is not an integer"),
    ("seeds-huge", run_config(config_with(**{"seeds: [0]": "seeds: [99999999999999]"})), "is not an integer from 0"),
    ("device-banana", run_config(TINY + "device: banana\n"), "device 'banana' is not cpu"),
    ("floor-abc", run_config(config_with(**{"stratified: {}": "stratified: {wrappers: [{floor: abc}]}"})),
     "wrapper 'floor' takes a number, got 'abc'"),
    ("steps-huge", run_config(config_with(**{"steps: 6,": "steps: 1000000000000,"})), "training.steps"),
    ("batch-huge", run_config(config_with(**{"batch_size: 4": "batch_size: 1000000000"})), "training.batch_size"),
    ("round-plan-huge", run_config(config_with(**{"steps: 6,": "steps: 100000000,", "round_steps: 3": "round_steps: 100000000"})),
     "draws"),
    ("model-too-big", run_config(config_with(**{"n_embd: 16}": "n_embd: 16, block_size: 65536}",
                                                "batch_size: 4": "batch_size: 100000"})), "GiB"),
    ("lr-inf", run_config(config_with(**{"warmup_steps: 1,": "warmup_steps: 1, lr: .inf,"})), "training.lr"),
    ("steps-true", run_config(config_with(**{"steps: 6,": "steps: true,"})), "true/false is not a number"),
    ("duplicate-key", run_config(TINY + "seeds: [1]\n"), "duplicate key 'seeds'"),
    ("alias-bomb", run_config(ALIAS_BOMB + TINY), "alias bomb"),
    ("markup-in-skill", run_config(TINY + 'target_skills: ["[b]mul"]\n'), "'[b]mul'"),
    ("config-is-folder", lambda w, f: (w.joinpath("conf.yaml").mkdir(), ["run", "conf.yaml"])[-1], "is a folder"),
    # data readers (skillit data inspect)
    ("data-not-utf8", data("d.jsonl", ROW.encode() + b'{"skill": "a", "prompt": "\xff", "answer": "y"}\n'),
     "d.jsonl:2: byte 27 of the line (b'\\xff') is not UTF-8"),
    ("data-fake-gzip", data("d.jsonl.gz", ROW.encode()), "not a gzip file"),
    ("data-truncated-gzip", data("d.jsonl.gz", _truncated_gzip()), "truncated or corrupt"),
    ("data-deep-nesting", data("d.jsonl", ('{"skill": "a", "prompt": ' + "[" * 200_000 + "]" * 200_000 + "}\n").encode()),
     "d.jsonl:1: the JSON is nested too deeply"),
    ("data-huge-int", data("d.jsonl", ('{"skill": "a", "prompt": ' + "9" * 5000 + ', "answer": "y"}\n').encode()),
     "d.jsonl:1: an integer is too long"),
    ("data-empty", data("d.jsonl", b""), "d.jsonl: no examples"),
    ("data-folder", lambda w, f: (w.joinpath("d.jsonl").mkdir(), ["data", "inspect", "d.jsonl"])[-1], "is a folder"),
    ("data-skill-1-vs-str-1", data("d.jsonl", b'{"skill": 1, "prompt": "x", "answer": "y"}\n'
                                               b'{"skill": "1", "prompt": "x", "answer": "z"}\n'), "would merge"),
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_bad_input_is_one_message_and_leaves_everything_as_it_was(case, work, finished_run):
    _, setup, message = case
    args = setup(work, finished_run)
    before = snapshot(work)
    try:
        result = invoke(*args)
    finally:
        while _HELD:
            _HELD.pop().close()
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    error = result.stderr
    assert error.startswith("error: "), error
    assert message in " ".join(error.split()), error  # rich may wrap long lines
    assert snapshot(work) == before  # nothing written, changed or lost


def test_a_refused_resume_keeps_the_run_resumable(work, finished_run):
    """--resume DIR --steps N refused, then --resume DIR works: config.yaml was never rewritten."""
    shutil.copytree(finished_run, work / "run")
    config_before = (work / "run" / "config.yaml").read_bytes()
    assert invoke("run", "--resume", "run", "--steps", "3").exit_code == 2
    assert (work / "run" / "config.yaml").read_bytes() == config_before
    result = invoke("run", "--resume", "run")
    assert result.exit_code == 0, result.output
    assert json.loads((work / "run" / "summary.json").read_text())["steps"] == 6


def test_the_same_config_again_keeps_the_finished_runs(work, finished_run):
    """A rerun of the same command continues the run: nothing retrained, the records and manifest kept."""
    shutil.copytree(finished_run, work / "run")
    records = {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in (work / "run" / "runs").iterdir()}
    manifest = (work / "run" / "manifest.json").read_bytes()
    result = invoke("run", "tiny.yaml", "--out", "run", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert "run: continuing the run of this configuration there: 2 of 2 run(s) finished earlier, kept" in " ".join(
        result.output.split())
    assert {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in (work / "run" / "runs").iterdir()} == records
    assert (work / "run" / "manifest.json").read_bytes() == manifest
    # a subset of the methods is the same run too (as with --resume)
    result = invoke("run", "tiny.yaml", "--out", "run", "--methods", "stratified", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert "1 of 1 run(s) finished earlier, kept" in " ".join(result.output.split())


def test_overwrite_replaces_the_earlier_run(work, finished_run):
    """--overwrite deletes the earlier run (its records, checkpoints, summary) and starts the new one."""
    shutil.copytree(finished_run, work / "run")
    old_manifest = json.loads((work / "run" / "manifest.json").read_text())
    result = invoke("run", "tiny.yaml", "--out", "run", "--steps", "3", "--methods", "stratified", "--jobs", "1",
                    "--overwrite")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (work / "run" / "runs").iterdir()) == ["stratified__seed0.json"]
    manifest = json.loads((work / "run" / "manifest.json").read_text())
    assert manifest["run_id"] != old_manifest["run_id"] and manifest["config"]["training"]["steps"] == 3
    record = json.loads((work / "run" / "runs" / "stratified__seed0.json").read_text())
    assert record["extra"]["run_id"] == manifest["run_id"]
    assert sorted(p.name for p in (work / "run" / "checkpoints").iterdir()) == ["stratified__seed0"]


@pytest.mark.parametrize("checkpoints", [True, False])
def test_ctrl_c_exits_130_and_prints_the_command_that_continues(work, monkeypatch, checkpoints):
    from skillit.experiment import runner
    from skillit.experiment.run_dir import RunDirectory

    def interrupted(config, out_dir, **kwargs):
        RunDirectory.claim(out_dir, config).close()  # the run directory exists, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_experiment", interrupted)  # the command imports it when it runs
    if not checkpoints:
        (work / "tiny.yaml").write_text(config_with(**{", checkpoint_every: 3": ""}))
    result = invoke("run", "tiny.yaml", "--out", "out", "--jobs", "1")
    assert result.exit_code == 130
    error = " ".join(result.stderr.split())
    assert "interrupted: 0 finished run(s) kept in out/; runs stopped mid-way" in error
    assert error.endswith("continue with: skillit run --resume out"), error
    assert ("continue from their last checkpoint" in error) == checkpoints
    assert ("start again from step 0 (training.checkpoint_every lets them continue)" in error) == (not checkpoints)
    bench = invoke("bench", "math-finetune", "--seeds", "1", "--out", "b")  # bench: its own command again
    assert bench.exit_code == 130 and " ".join(bench.stderr.split()).endswith(
        "continue with: skillit bench math-finetune --seeds 1 --out b")


def test_every_command_module_prints_errors_as_plain_text(tmp_path):
    """skillit discover and regroup (registered from their own module) print bracketed user content too."""
    from typer.testing import CliRunner

    from skillit.cli import app

    missing = tmp_path / "[b]data.jsonl"
    for args in (["discover", str(missing), "--k", "2"], ["regroup", str(missing)]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "[b]data.jsonl" in result.output
