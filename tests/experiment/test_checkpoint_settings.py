"""RunDirectory.check_checkpoint compares a checkpoint's stored training settings with the run's by the settings
model (skillit.trainer.settings.resume_difference), not by a hand list of keys."""

from __future__ import annotations

import dataclasses

import pytest

from skillit.errors import CheckpointError
from skillit.experiment.config import parse_config
from skillit.experiment.run_dir import RunDirectory
from skillit.trainer.loop import CHECKPOINT_NAME
from skillit.trainer.settings import TrainConfig
from skillit.utils.checkpoint import atomic_torch_save

CONFIG = """\
name: tiny
task: {name: lego, params: {k: 3}}
training: {steps: 10, checkpoint_every: 5}
methods: {stratified: {}}
seeds: [0]
"""


def test_a_checkpoint_under_other_settings_is_refused_naming_the_setting(tmp_path):
    config = parse_config(CONFIG)
    stored = TrainConfig.from_training(config.training, seed=0)
    with RunDirectory.create(tmp_path / "run", config) as run_dir:
        assert not run_dir.check_checkpoint("stratified", 0, dataclasses.asdict(stored))  # none written yet
        folder = run_dir.checkpoint_dir("stratified", 0)
        folder.mkdir(parents=True)
        atomic_torch_save(folder / CHECKPOINT_NAME, {"config": dataclasses.asdict(stored)})
        assert run_dir.check_checkpoint("stratified", 0, dataclasses.asdict(stored))
        # checkpoint_every, eval_batch_size and compile may change; nothing else
        allowed = dataclasses.replace(stored, checkpoint_every=2, eval_batch_size=16, compile=True)
        assert run_dir.check_checkpoint("stratified", 0, dataclasses.asdict(allowed))
        for change, named in [({"lr": 0.01}, "training.lr=0.001, this run has 0.01"),
                              ({"seed": 3}, "training.seed=0, this run has 3"),
                              ({"exhausted": "drop"}, "training.exhausted='cycle', this run has 'drop'")]:
            with pytest.raises(CheckpointError, match=f"saved with {named}; delete the folder"):
                run_dir.check_checkpoint("stratified", 0, dataclasses.asdict(dataclasses.replace(stored, **change)))
