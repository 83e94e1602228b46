"""Skill composition: atomic string functions f, g, … and composed skills f(g(x)) that need their parts.

After the f(g(x)) benchmark of Yuan et al. (2025, "LLMs learn new skills in RL by composing old ones",
§3), shrunk to a character-level task a tiny model learns on CPU. Atomic skills are pure string functions
of a short lowercase string; a composed skill ``f.g`` is f(g(x)). Its prerequisites are exactly its
atoms (and the composed skill of its inner functions, where that is a skill too): the planted skills graph
that graph learning is scored against.

Text format (one character per token with the char tokenizer)::

    atomic     prompt  "rev(abcd)="        answer  "dcba"
    composed   prompt  "rev(rot(abcd))="   answer  "adcb"        (rot first: "bcda", then reversed)

Atoms (``ATOMS``): ``rev`` reverse; ``rot`` rotate left by one; ``sft`` shift every letter one place along
the input alphabet (cyclic); ``swp`` swap adjacent pairs; ``dup`` double the first letter; ``srt`` sort.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from pydantic import Field, field_validator, model_validator

from skillit.graph.skills_graph import SkillsGraph
from skillit.skills import Example, SkillSet
from skillit.tasks.generated import GeneratedTaskParams, generated_skillset

LETTERS = string.ascii_lowercase


def _shift(x: str, letters: str) -> str:
    return "".join(letters[(letters.index(c) + 1) % len(letters)] for c in x)


def _swap_pairs(x: str) -> str:
    chars = list(x)
    for i in range(0, len(chars) - 1, 2):
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


# name → f(x, letters); every atom maps a string over ``letters`` to a string over ``letters``
ATOMS: dict[str, Callable[[str, str], str]] = {
    "rev": lambda x, letters: x[::-1],
    "rot": lambda x, letters: x[1:] + x[:1],
    "sft": _shift,
    "swp": lambda x, letters: _swap_pairs(x),
    "dup": lambda x, letters: x[:1] + x,
    "srt": lambda x, letters: "".join(sorted(x)),
}
DEFAULT_ATOMS = ("rev", "rot", "sft", "swp")
DEFAULT_COMPOSITIONS = ("rev.rot", "sft.rev", "rot.swp", "swp.sft")  # every atom is in exactly two


class CompositionParams(GeneratedTaskParams):
    """Parameters of the composition task (the ``task.params`` block of a config)."""

    k: int | None = Field(None, description="number of skills; derived: len(atoms) + len(compositions)")
    atoms: list[str] = Field(default_factory=lambda: list(DEFAULT_ATOMS), min_length=1,
                             description=f"atomic skills, from {', '.join(ATOMS)}")
    compositions: list[str] = Field(default_factory=lambda: list(DEFAULT_COMPOSITIONS),
                                    description="composed skills 'f.g' = f(g(x)), of the listed atoms")
    letters: int = Field(6, ge=2, le=26, description="inputs use the first this many lowercase letters")
    min_length: int = Field(3, ge=1, description="shortest input string")
    max_length: int = Field(5, ge=1, description="longest input string")

    @model_validator(mode="before")
    @classmethod
    def _derive_k(cls, data: Any) -> Any:
        if isinstance(data, dict):
            atoms = data.get("atoms", list(DEFAULT_ATOMS))
            compositions = data.get("compositions", list(DEFAULT_COMPOSITIONS))
            derived = len(atoms or []) + len(compositions or [])
            if data.get("k") is not None and data["k"] != derived:
                raise ValueError(f"k is {data['k']} but atoms + compositions make {derived} skills; drop k")
            data = {**data, "k": derived}
        return data

    @field_validator("atoms")
    @classmethod
    def _known_atoms(cls, atoms: list[str]) -> list[str]:
        unknown = [a for a in atoms if a not in ATOMS]
        if unknown:
            raise ValueError(f"unknown atom(s) {unknown}; choose from {', '.join(ATOMS)}")
        if len(set(atoms)) != len(atoms):
            raise ValueError("atoms must be distinct")
        return atoms

    @model_validator(mode="after")
    def _check_compositions(self) -> CompositionParams:
        for name in self.compositions:
            parts = name.split(".")
            if len(parts) < 2 or any(p not in self.atoms for p in parts):
                raise ValueError(f"composition {name!r} must be 'f.g' (or longer) of listed atoms {self.atoms}")
        if len(set(self.compositions)) != len(self.compositions):
            raise ValueError("compositions must be distinct")
        if self.min_length > self.max_length:
            raise ValueError(f"min_length {self.min_length} > max_length {self.max_length}")
        return self


def skill_names(params: CompositionParams) -> list[str]:
    return [*params.atoms, *params.compositions]


def apply(skill: str, x: str, letters: str) -> str:
    """The skill's output on ``x``: ``"f.g"`` applies g first, then f (f(g(x)))."""
    for name in reversed(skill.split(".")):
        x = ATOMS[name](x, letters)
    return x


def prompt_of(skill: str, x: str) -> str:
    parts = skill.split(".")
    return "".join(f"{p}(" for p in parts) + x + ")" * len(parts) + "="


def make_example(rng: np.random.Generator, *, skill: str, params: CompositionParams) -> Example:
    letters = LETTERS[: params.letters]
    length = int(rng.integers(params.min_length, params.max_length + 1))
    x = "".join(letters[i] for i in rng.integers(0, len(letters), size=length))
    return Example(prompt=prompt_of(skill, x), answer=apply(skill, x, letters), skill=skill)


def build(params: CompositionParams, seed: int) -> SkillSet:
    """One skill per atom and per composition, each with a fixed distinct validation set."""
    names = skill_names(params)
    generators = [partial(make_example, skill=name, params=params) for name in names]
    return generated_skillset(names, generators, params, seed,
                              {"task": "composition", "alphabet": LETTERS + "()="})


def prerequisites_of(skill: str, skills: list[str]) -> list[str]:
    """The skills ``skill`` needs: its atoms, and every listed composition of its inner functions."""
    parts = skill.split(".")
    if len(parts) == 1:
        return []
    needed = list(dict.fromkeys(parts))
    for start in range(1, len(parts) - 1):
        inner = ".".join(parts[start:])
        if inner in skills:
            needed.append(inner)
    return [s for s in needed if s in skills and s != skill]


def prerequisite_graph(params: CompositionParams) -> SkillsGraph:
    """The planted graph: edge i→j (weight 1) when skill i is a part of composed skill j; diagonal 1."""
    names = skill_names(params)
    matrix = np.eye(len(names))
    for j, name in enumerate(names):
        for part in prerequisites_of(name, names):
            matrix[names.index(part), j] = 1.0
    return SkillsGraph(matrix, names, names, provenance={"source": f"composition prerequisites ({len(names)} skills)"})
