"""The units of skillit's word tokenizer, shared by the tokenizer, the length limit and ``data inspect``.

A word is a run of letters, digits and underscores (``\\w+``) or one other visible character (a punctuation
mark), each with at most one leading space; any other whitespace (a line break, a run of spaces, a
trailing space) is a unit of its own. ``"Is it a bathroom?"`` has the units ``"Is"``, ``" it"``, ``" a"``,
``" bathroom"``, ``"?"`` (GPT-2's convention for spaces), and ``"".join(units) == text`` always.
"""

from __future__ import annotations

import re

# a word or one punctuation mark, each with at most one leading space; else a whitespace run, keeping the
# last space for the word after it ("a  b" -> "a", " ", " b"); else the whitespace at the end of the text
_WORD_UNITS = re.compile(r" ?\w+| ?[^\w\s]|\s+(?!\S)|\s+")


def word_units(text: str) -> list[str]:
    """The word tokenizer's units of ``text`` (see the module docstring)."""
    return _WORD_UNITS.findall(text)


__all__ = ["word_units"]
