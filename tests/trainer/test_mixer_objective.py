"""The Mixer and a weighted objective: the context carries the weights, a checkpoint's set-up records them.

Uniform runs keep the set-up they had (no ``objective_weights`` key), so their checkpoints resume as before;
a run resumed under other weights is refused, naming the field.
"""

from __future__ import annotations

import pytest

from skillit.errors import CheckpointError
from skillit.model import CharTokenizer
from skillit.policy import TargetOnly
from skillit.trainer.mixer import Mixer, MixerConfig


def _mixer(tiny_lego, weights):
    tokenizer = CharTokenizer(tiny_lego.metadata["alphabet"])
    config = MixerConfig(total_steps=2, round_steps=2, eval_every=2, batch_size=4, setting="finetune",
                         target_skills=("var2", "var3"), objective_weights=weights)
    return Mixer(tiny_lego, tokenizer, TargetOnly(), config), tokenizer


def test_the_setup_records_the_weights_and_resuming_under_others_is_refused(tiny_lego, tiny_model_factory):
    mixer, tokenizer = _mixer(tiny_lego, {"var2": 3.0, "var3": 1.0})
    first = mixer.start(tiny_model_factory(tokenizer))
    assert first["weights"] == {"var1": 0.0, "var2": 0.75, "var3": 0.25}
    saved = mixer.state_dict()
    assert saved["setup"]["objective_weights"] == {"var2": 0.75, "var3": 0.25}
    uniform, _ = _mixer(tiny_lego, None)
    assert "objective_weights" not in uniform.setup()  # a uniform run's set-up as before the weights existed
    with pytest.raises(CheckpointError, match=r"saved with objective_weights=\{'var2': 0.75, 'var3': 0.25\}, this run "
                       "has None"):
        uniform.load_state_dict(saved)
    same, _ = _mixer(tiny_lego, {"var2": 6.0, "var3": 2.0})  # the same weights, scaled: the same objective
    same.load_state_dict(saved)
