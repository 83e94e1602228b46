"""The unit of data: one prompt/answer pair that belongs to one skill."""

from __future__ import annotations

from dataclasses import dataclass


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
