"""TensorBoard scalars from the trainer callback and from a finished run directory, read back from the events."""

import pytest

from skillit.report.loggers import TensorBoardLogger, scalars_of, write_tensorboard
from tests.report.rundirs import make_run_dir, records

pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed (pip install tensorboard)")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def scalars(directory):
    events = EventAccumulator(str(directory))
    events.Reload()
    return {tag: [(e.step, pytest.approx(e.value)) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_scalars_of_a_record_leave_out_missing_values():
    record = {"step": 3, "losses": {"a": 1.0, "b": None}, "accuracies": {"a": 0.5, "b": 0.25},
              "weights": {"a": 0.75, "b": 0.25}, "examples_seen": {"a": 6, "b": 2}, "train_loss": None, "lr": 0.1}
    assert dict(scalars_of(record)) == {
        "loss/a": 1.0, "accuracy/a": 0.5, "accuracy/b": 0.25, "accuracy/mean": 0.375, "weight/a": 0.75,
        "weight/b": 0.25, "examples_seen/a": 6.0, "examples_seen/b": 2.0, "lr": 0.1,
    }  # no loss/mean: one skill's loss is missing


def test_callback_writes_per_skill_and_weight_scalars(tmp_path):
    logger = TensorBoardLogger(tmp_path / "tb")
    for record in records("skill-it", 0):  # steps 0, 5, 10; weights 0.5 then 0.8 on a
        logger.on_evaluate(record)
    logger.on_train_end(None)
    found = scalars(tmp_path / "tb")
    assert found["weight/a"] == [(0, 0.5), (5, 0.8), (10, 0.8)]
    assert found["loss/b"] == [(0, 3.0), (5, 1.75), (10, 0.5)]
    assert found["examples_seen/a"] == [(0, 0.0), (5, 32.0), (10, 64.0)]
    assert [step for step, _ in found["train_loss"]] == [5, 10] and "accuracy/mean" in found


def test_a_run_directory_becomes_one_event_directory_per_method_and_seed(tmp_path):
    run = make_run_dir(tmp_path / "run")
    written = write_tensorboard(run)
    assert sorted(p.name for p in written) == sorted(f"{m}__seed{s}" for m in ("skill-it", "stratified") for s in (0, 1, 2))
    found = scalars(run / "tensorboard" / "stratified__seed1")
    assert found["loss/a"][-1] == (10, 1.2) and found["weight/b"][-1] == (10, 0.5)


def test_the_logger_runs_inside_the_training_loop(tmp_path, tiny_lego, tiny_model_factory):
    from skillit.model import CharTokenizer
    from skillit.policy.static import Stratified
    from skillit.trainer.loop import TrainConfig, train

    tokenizer = CharTokenizer(sorted(set(tiny_lego.metadata["alphabet"])))
    logger = TensorBoardLogger(tmp_path / "tb")
    train(tiny_model_factory(tokenizer), tokenizer, tiny_lego, Stratified(),
          TrainConfig(steps=4, batch_size=4, round_steps=2, eval_every=2, warmup_steps=0), callbacks=[logger])
    found = scalars(tmp_path / "tb")
    skills = tiny_lego.eval_names
    assert [step for step, _ in found[f"loss/{skills[0]}"]] == [0, 2, 4]
    assert {f"weight/{name}" for name in tiny_lego.train_names} <= set(found) and "train_loss" in found


def test_wandb_logger_logs_offline_through_the_wandb_api(monkeypatch):
    import sys
    import types

    from skillit.report.loggers import WandbLogger

    calls = []

    class Run:
        def log(self, data, step):
            calls.append(("log", step, data))

        def finish(self):
            calls.append(("finish",))

    fake = types.ModuleType("wandb")
    fake.init = lambda **kwargs: calls.append(("init", kwargs)) or Run()
    monkeypatch.setitem(sys.modules, "wandb", fake)  # wandb is optional: its API, not the package, is tested
    logger = WandbLogger(name="skill-it__seed0", directory="/tmp/nowhere")
    logger.on_evaluate(records("skill-it", 0)[-1])
    logger.on_train_end(None)
    assert calls[0][1]["mode"] == "offline" and calls[0][1]["name"] == "skill-it__seed0"
    assert calls[1][:2] == ("log", 10) and calls[1][2]["weight/a"] == 0.8 and calls[1][2]["examples_seen/a"] == 64
    assert calls[2] == ("finish",)


def test_wandb_missing_is_a_clear_error(monkeypatch):
    import sys

    from skillit.errors import ConfigError
    from skillit.report.loggers import WandbLogger

    monkeypatch.setitem(sys.modules, "wandb", None)  # import wandb → ImportError
    with pytest.raises(ConfigError, match=r"pip install wandb \(or the extra: pip install -e '\.\[wandb\]' in a skillit clone"):
        WandbLogger()
