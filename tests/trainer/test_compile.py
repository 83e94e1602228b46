"""`training.compile: true`: the training forward through torch.compile, the same records, plain checkpoints.

On the CPU torch.compile's backend (TorchInductor) generates C++, so these tests need a working C++ compiler (the
first is skipped without one); without it `compile: true` is refused before the run starts (the second).
"""

from __future__ import annotations

import shutil

import pytest
import torch
import torch._dynamo.utils
from typer.testing import CliRunner

from skillit.errors import ConfigError
from skillit.model import CharTokenizer
from skillit.policy import build_policy
from skillit.tasks.lego import prerequisite_graph
from skillit.trainer import TrainConfig, TrainerCallback, train
from skillit.trainer.loop import check_compile


def flat(value, key=""):
    """(path, number) for every number in a record (timings aside), for a comparison within a tolerance."""
    if isinstance(value, dict):
        return [item for k, v in value.items() if not str(k).endswith("seconds") for item in flat(v, f"{key}.{k}")]
    if isinstance(value, (list, tuple)):
        return [item for i, v in enumerate(value) for item in flat(v, f"{key}[{i}]")]
    return [(key, value)]


def assert_close(records, others, tol=1e-5):
    ours, theirs = flat(records), flat(others)
    assert [k for k, _ in ours] == [k for k, _ in theirs]
    for (key, a), (_, b) in zip(ours, theirs):
        if isinstance(a, float) or isinstance(b, float):
            assert a == pytest.approx(b, abs=tol), key
        else:
            assert a == b, key


def has_compiler() -> bool:
    try:
        check_compile("cpu")
    except ConfigError:
        return False
    return True


class Stop(TrainerCallback):
    def on_step_end(self, step, loss):
        if step == 3:
            raise KeyboardInterrupt


@pytest.mark.slow
@pytest.mark.skipif(not has_compiler(), reason="torch.compile on the CPU needs a C++ compiler")
def test_a_compiled_run_matches_the_plain_one_and_its_checkpoint_resumes_either_way(tiny_lego, tiny_model_factory,
                                                                                    tmp_path):
    """5 steps of skill-it (its mixture follows the losses) with compile: records within 1e-5 of the plain run's;
    the checkpoint holds the module's own keys (no ``_orig_mod.``) and resumes with compile and without."""
    tok = CharTokenizer(tiny_lego.metadata["alphabet"])

    def policy():
        return build_policy("skill-it", {"graph": "prerequisites", "eta": 1.0}, resolve_graph=lambda s: prerequisite_graph(3))

    config = TrainConfig(steps=5, batch_size=8, round_steps=2, eval_every=1, lr=3e-3, warmup_steps=1, checkpoint_every=2)
    compiled_config = TrainConfig(**{**config.__dict__, "compile": True})
    plain = train(tiny_model_factory(tok), tok, tiny_lego, policy(), config)
    torch._dynamo.utils.counters.clear()
    compiled = train(tiny_model_factory(tok), tok, tiny_lego, policy(), compiled_config, checkpoint_dir=tmp_path / "full")
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] >= 1  # the forward really went through dynamo
    assert_close(compiled.records, plain.records)
    assert len({tuple(r["weights"].values()) for r in plain.records}) > 1  # the mixture moved with the losses
    saved = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=False)
    assert saved["step"] == 4 and saved["config"]["compile"] is True
    assert list(saved["model"]) == list(tiny_model_factory(tok).state_dict())  # no "_orig_mod." prefix

    with pytest.raises(KeyboardInterrupt):  # stopped at step 3: the checkpoint of step 2
        train(tiny_model_factory(tok), tok, tiny_lego, policy(), compiled_config, callbacks=[Stop()],
              checkpoint_dir=tmp_path / "cut")
    shutil.copytree(tmp_path / "cut", tmp_path / "cut-plain")
    resumed = train(tiny_model_factory(tok, seed=9), tok, tiny_lego, policy(), compiled_config,
                    checkpoint_dir=tmp_path / "cut", resume=True)
    assert_close(resumed.records, compiled.records)
    without = train(tiny_model_factory(tok, seed=9), tok, tiny_lego, policy(), config,
                    checkpoint_dir=tmp_path / "cut-plain", resume=True)
    assert_close(without.records, plain.records)


def test_compile_without_a_cpp_compiler_is_refused_before_the_run(tiny_lego, tiny_model_factory, tmp_path,
                                                                   monkeypatch):
    from torch._inductor import config as inductor

    from skillit.cli import app

    monkeypatch.setattr(inductor.cpp, "cxx", ("no-such-c++-compiler",))
    with pytest.raises(ConfigError) as caught:
        check_compile("cpu")
    message = str(caught.value)
    assert message.startswith("training.compile: torch.compile on the CPU generates C++ and needs a C++ compiler, "
                              "but none works here (") and "no-such-c++-compiler" in message
    assert message.endswith("install one (e.g. apt-get install g++, or set CXX to it), or set training.compile: false")
    tok = CharTokenizer(tiny_lego.metadata["alphabet"])
    with pytest.raises(ConfigError, match="training.compile: torch.compile on the CPU"):
        train(tiny_model_factory(tok), tok, tiny_lego, build_policy("stratified", {}),
              TrainConfig(steps=2, batch_size=4, compile=True, checkpoint_every=1), checkpoint_dir=tmp_path / "ckpt")
    assert not (tmp_path / "ckpt").exists()

    config = tmp_path / "c.yaml"
    config.write_text("name: c\ntask: {name: lego, params: {k: 3}}\nmodel: {n_layer: 1, n_head: 2, n_embd: 16}\n"
                      "training: {steps: 2, batch_size: 4, compile: true}\nmethods: {stratified: {}}\n")
    result = CliRunner().invoke(app, ["run", str(config), "--out", str(tmp_path / "out"), "--jobs", "1"])
    assert result.exit_code == 2, result.output
    assert "training.compile: torch.compile on the CPU generates C++" in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()
