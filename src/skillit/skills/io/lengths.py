"""Length control for your own data: drop, truncate or refuse examples longer than ``max_length`` tokens.

One over-long example sets the automatic context of every run (and the cost of every batch that draws
it), so the ``data`` task can bound the length while loading:

* ``drop``: leave the example out (it counts towards neither ``max_examples`` nor ``max_validation``);
* ``truncate``: keep the whole answer and the *end* of the prompt (the part next to the answer), so that
  prompt + answer has ``max_length`` tokens; an answer longer than ``max_length`` alone keeps its first
  ``max_length`` tokens and no prompt (a plain-text example keeps its first ``max_length`` tokens);
* ``error``: stop with the file, line, skill and length, to fix the data by hand.

Tokens are counted as skillit's own tokenizers count them (``word``: words and punctuation marks, see
:class:`~skillit.model.tokenizer.WordTokenizer`; ``char``: characters), prompt and answer apart, as the
model encodes them, without the ``<bos>``/``<eos>`` the model adds. The holdout rule still sees every
row: dropping an example never moves another one between training and validation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from skillit.errors import DataError
from skillit.skills.example import Example
from skillit.utils.text import word_units

TooLong = Literal["drop", "truncate", "error"]
LengthUnit = Literal["word", "char"]


def units_of(text: str, unit: LengthUnit) -> list[str]:
    return list(text) if unit == "char" else word_units(text)


def example_length(example: Example, unit: LengthUnit) -> int:
    """Tokens of prompt + answer (encoded apart, as the model does), without ``<bos>``/``<eos>``."""
    return (len(units_of(example.prompt, unit)) if example.prompt else 0) + len(units_of(example.answer, unit))


@dataclass
class LengthLimit:
    """``max_length`` tokens per example, what to do with longer ones, and what was done (per skill)."""

    max_length: int
    too_long: TooLong = "drop"
    unit: LengthUnit = "word"
    dropped: dict[str, int] = field(default_factory=dict)
    truncated: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.max_length < 1:
            raise DataError(f"max_length must be >= 1, got {self.max_length}")
        if self.too_long not in ("drop", "truncate", "error"):
            raise DataError(f"too_long must be drop, truncate or error, got {self.too_long!r}")
        if self.unit not in ("word", "char"):
            raise DataError(f"length_unit must be word or char, got {self.unit!r}")

    def apply(self, example: Example, where: str, *, count: bool = True) -> Example | None:
        """The example, truncated, or ``None`` (dropped); ``count=False`` re-applies it without counting."""
        n = example_length(example, self.unit)
        if n <= self.max_length:
            return example
        if self.too_long == "error":
            raise DataError(
                f"{where}: an example of skill {example.skill!r} has {n} {self.unit} tokens, more than max_length "
                f"{self.max_length}; shorten it, raise max_length, or set too_long: drop or truncate"
            )
        if self.too_long == "drop":
            if count:
                self.dropped[example.skill] = self.dropped.get(example.skill, 0) + 1
            return None
        if count:
            self.truncated[example.skill] = self.truncated.get(example.skill, 0) + 1
        return truncate(example, self.max_length, self.unit)

    def summary(self) -> dict[str, Any]:
        return {"max_length": self.max_length, "too_long": self.too_long, "unit": self.unit,
                "dropped": dict(self.dropped), "truncated": dict(self.truncated)}


def truncate(example: Example, max_length: int, unit: LengthUnit) -> Example:
    """Keep the whole answer and the end of the prompt, ``max_length`` tokens in all (see the module docstring)."""
    answer = units_of(example.answer, unit)
    if len(answer) >= max_length:
        return Example("", "".join(answer[:max_length]), example.skill)
    prompt = units_of(example.prompt, unit) if example.prompt else []
    keep = max_length - len(answer)
    return Example("".join(prompt[len(prompt) - keep :]) if keep else "", example.answer, example.skill)


__all__ = ["LengthLimit", "example_length", "truncate", "units_of"]
