"""Tiny tokenizers for models trained from scratch: one token per character, or per word or punctuation mark.

Both share the call contract the trainer needs, :class:`Tokenizer`: ``encode(text) -> list[int]``,
``decode(ids) -> str``, ``vocab_size``, ``pad_id``, ``bos_id``, ``eos_id``. :class:`HFTokenizer` gives a
Hugging Face tokenizer the same contract (for the Trainer integration and the grafting commands).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

from skillit.errors import DataError
from skillit.utils.text import word_units

SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>")


@runtime_checkable
class Tokenizer(Protocol):
    vocab_size: int
    pad_id: int
    bos_id: int
    eos_id: int

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...


class HFTokenizer:
    """skillit's tokenizer contract over a Hugging Face tokenizer (duck-typed: this module does not import
    ``transformers``, so the grafting commands and the Trainer integration share it).

    ``encode`` adds no special tokens (skillit adds ``bos``/``eos`` itself, around prompt + answer).
    ``pad_id`` falls back to ``eos_id`` and ``bos_id`` to ``eos_id`` when the tokenizer defines none
    (GPT-2 style tokenizers have one ``<|endoftext|>`` token); an ``eos`` token is required.
    """

    def __init__(self, tokenizer: Any):
        if isinstance(tokenizer, HFTokenizer):  # e.g. HFTokenizer(train_hf_tokenizer(...)): already wrapped
            raise DataError(
                "HFTokenizer was given a tokenizer that is already an HFTokenizer (train_hf_tokenizer returns "
                "one); use it as it is, or wrap the Hugging Face tokenizer itself: "
                "HFTokenizer(AutoTokenizer.from_pretrained(NAME))"
            )
        missing = [name for name in ("eos_token_id", "bos_token_id", "pad_token_id", "encode", "decode", "__len__")
                   if not hasattr(tokenizer, name)]
        if missing:
            raise DataError(
                f"HFTokenizer wraps a Hugging Face tokenizer (e.g. AutoTokenizer.from_pretrained(NAME)); the "
                f"{type(tokenizer).__name__} given has no {', '.join(missing)}. A tokenizer that already has "
                "skillit's contract (encode, decode, vocab_size, pad_id, bos_id, eos_id) is used without HFTokenizer"
            )
        eos = tokenizer.eos_token_id
        if eos is None:
            raise DataError(
                "the Hugging Face tokenizer has no eos token; set one (tokenizer.eos_token = '...') so skillit "
                "can end every example"
            )
        self.tokenizer = tokenizer
        self.eos_id = int(eos)
        self.bos_id = int(tokenizer.bos_token_id) if tokenizer.bos_token_id is not None else self.eos_id
        self.pad_id = int(tokenizer.pad_token_id) if tokenizer.pad_token_id is not None else self.eos_id
        self.vocab_size = len(tokenizer)

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)


class _TableTokenizer:
    """A fixed table of units (characters or words) after the three special tokens."""

    kind = "table"

    def __init__(self, units: Iterable[str]):
        ordered: list[str] = []
        for unit in units:
            if unit not in ordered:
                ordered.append(unit)
        self.units: tuple[str, ...] = tuple(ordered)
        self._ids = {unit: i + len(SPECIAL_TOKENS) for i, unit in enumerate(self.units)}
        self.pad_id, self.bos_id, self.eos_id = 0, 1, 2
        self.vocab_size = len(SPECIAL_TOKENS) + len(self.units)

    def _split(self, text: str) -> list[str]:
        raise NotImplementedError

    def _join(self, units: list[str]) -> str:
        raise NotImplementedError

    def encode(self, text: str) -> list[int]:
        try:
            return [self._ids[unit] for unit in self._split(text)]
        except KeyError as exc:
            raise DataError(
                f"{self.kind} tokenizer: {exc.args[0]!r} (in {text[:60]!r}) is not in the vocabulary; "
                "build the tokenizer from texts that cover every symbol"
            ) from None

    def decode(self, ids: Sequence[int]) -> str:
        offset = len(SPECIAL_TOKENS)
        return self._join([self.units[i - offset] for i in ids if i >= offset])

    def state_dict(self) -> dict:
        return {"kind": self.kind, "units": list(self.units)}


class CharTokenizer(_TableTokenizer):
    """One token per character."""

    kind = "char"

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> CharTokenizer:
        chars: set[str] = set()
        for text in texts:
            chars.update(text)
        return cls(sorted(chars))

    def _split(self, text: str) -> list[str]:
        return list(text)

    def _join(self, units: list[str]) -> str:
        return "".join(units)


class WordTokenizer(_TableTokenizer):
    """One token per word or punctuation mark; a single space before it belongs to it (GPT-2's convention).

    ``"Is it a bathroom?"`` splits into ``["Is", " it", " a", " bathroom", "?"]``: five tokens, and
    ``bathroom.``, ``bathroom,`` and ``bathroom`` share the token `` bathroom``. Other whitespace (a line
    break, a run of spaces, a trailing space) is a token of its own, so ``decode(encode(text)) == text``.
    A word is a run of letters, digits and underscores (``\\w+``); every other visible character is a
    token alone (``-29`` is ``-`` then ``29``). Build it from prompts and answers apart, as the trainer
    encodes them: ``"q " + "x"`` has the units ``"q"``, ``" "``, ``"x"`` while ``"q x"`` has ``"q"``, ``" x"``.
    """

    kind = "word"

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> WordTokenizer:
        units: set[str] = set()
        for text in texts:
            units.update(word_units(text))
        return cls(sorted(units))

    def _split(self, text: str) -> list[str]:
        return word_units(text)

    def _join(self, units: list[str]) -> str:
        return "".join(units)


def tokenizer_from_state(state: dict) -> CharTokenizer | WordTokenizer:
    kinds = {"char": CharTokenizer, "word": WordTokenizer}
    return kinds[state["kind"]](state["units"])
