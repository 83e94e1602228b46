"""The unit of data: one prompt/answer pair that belongs to one skill."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# which positions of an example's sequence the training loss covers (skillit.trainer.batching.loss_mask): the
# whole text, the answer tokens, or the answer and its [eos]; here, not in the trainer, so that the config
# schema loads without torch
TrainLoss = Literal["text", "answer", "completion"]
TRAIN_LOSSES: tuple[str, ...] = get_args(TrainLoss)


@dataclass(frozen=True)
class Example:
    """One training or validation example.

    The model is trained on ``text`` (prompt followed by answer) with the LM loss; validation loss and
    exact-match accuracy are measured on the answer tokens only. A plain-text example (no prompt) has
    ``prompt == ""`` and its whole text is the answer.
    """

    prompt: str
    answer: str
    skill: str

    @property
    def text(self) -> str:
        return self.prompt + self.answer
