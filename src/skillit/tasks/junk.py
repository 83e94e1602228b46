"""Junk skills made from the data itself (issue 29): declared, seeded transforms of a loaded skill.

A pre-training benchmark where part of the data is useless needs junk that looks like real data to the
sampler (a pool of the same size, chunks of the same length) but teaches nothing the objective skills need.
``task.params.junk`` declares it, one entry per junk skill::

    junk:
      - {name: junk_shuffled, source: drama, kind: shuffle_chars}
      - {name: junk_cipher, source: political_speech, kind: cipher, seed: 1}
      - {name: junk_boilerplate, source: tech_docs, kind: repeat_line}

Each junk skill has one example per training (and validation) example of ``source``, transformed:

* ``shuffle_chars``: the characters of the example permuted at random (its unigram statistics kept, every
  longer pattern destroyed). Example i of the training pool uses ``default_rng([seed, 0, i])``, of the
  validation set ``default_rng([seed, 1, i])``.
* ``cipher``: one fixed substitution of the 26 letters (``default_rng([seed, 2])``, lower and upper case
  alike; other characters kept): a consistent "language" that appears nowhere in the objective, with the
  source's structure. (The data offers no such language itself: ``real_text``'s ``rights`` holds every
  Latin-script UDHR version, train and validation split by language, so any of them is objective data.)
* ``repeat_line``: the example's first non-blank line repeated (joined by newlines) up to the example's
  length, then cut to it: boilerplate, easy to learn and worth nothing.

Prompt and answer are transformed separately (a plain-text example has an empty prompt, kept empty). The
pool is the source's pool as loaded (after ``max_examples``), so it has the same size; the transform is
applied when the task is built, in memory (a streamed source is read whole).

The skill set declares its junk: ``metadata["junk_skills"]`` (:data:`JUNK_SKILLS`) lists the junk skills' names,
and a run records them in ``summary.json`` (``junk_skills``), where ``skillit compare`` and report.html read
them for the share of the examples each method spent on junk (:mod:`skillit.records.budget`).
"""

from __future__ import annotations

import string
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from skillit.errors import DataError, did_you_mean
from skillit.skills import SkillSet
from skillit.skills.example import Example
from skillit.skills.skillset import Skill
from skillit.skills.sources import ListSource

JunkKind = Literal["shuffle_chars", "cipher", "repeat_line"]
JUNK_SKILLS = "junk_skills"  # the SkillSet metadata key (and summary.json key) naming the declared junk skills


class JunkSpec(BaseModel):
    """One junk skill: ``name``, made from skill ``source`` by transform ``kind`` (seeded by ``seed``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="the junk skill's name (must not be a skill of the data)")
    source: str = Field(min_length=1, description="the loaded skill whose examples are transformed")
    kind: JunkKind = Field(description="shuffle_chars, cipher or repeat_line")
    seed: int = Field(0, description="seed of the transform (fixed across run seeds)")


def shuffle_chars(text: str, rng: np.random.Generator) -> str:
    """The characters of ``text`` in a random order."""
    if len(text) < 2:
        return text
    chars = np.array(list(text))
    return "".join(chars[rng.permutation(len(chars))])


def cipher_table(seed: int) -> dict[int, str]:
    """A fixed substitution of the 26 letters (``str.translate`` table), the same for both cases."""
    perm = np.random.default_rng([seed, 2]).permutation(26)
    lower, upper = string.ascii_lowercase, string.ascii_uppercase
    table = {ord(lower[i]): lower[int(perm[i])] for i in range(26)}
    table.update({ord(upper[i]): upper[int(perm[i])] for i in range(26)})
    return table


def repeat_line(text: str) -> str:
    """The first non-blank line of ``text`` repeated (newline-joined) to ``len(text)`` characters."""
    line = next((row for row in text.splitlines() if row.strip()), "")
    if not line:
        return text
    copies = len(text) // (len(line) + 1) + 1
    return "\n".join([line] * copies)[: len(text)]


def transform(spec: JunkSpec, example: Example, index: int, split: int) -> Example:
    """Example ``index`` of the source's ``split`` (0 = training pool, 1 = validation), as junk."""
    if spec.kind == "shuffle_chars":
        rng = np.random.default_rng([spec.seed, split, index])
        prompt, answer = shuffle_chars(example.prompt, rng), shuffle_chars(example.answer, rng)
    elif spec.kind == "cipher":
        table = cipher_table(spec.seed)
        prompt, answer = example.prompt.translate(table), example.answer.translate(table)
    else:
        prompt, answer = repeat_line(example.prompt), repeat_line(example.answer)
    return Example(prompt, answer, spec.name)


def add_junk(skillset: SkillSet, specs: list[JunkSpec], *, where: str = "task.params.junk") -> SkillSet:
    """``skillset`` with one junk skill per spec appended (in the order given), named in its
    ``metadata["junk_skills"]`` (after any junk it declared already)."""
    skills = list(skillset.skills)
    names = set(skillset.names)
    for n, spec in enumerate(specs):
        place = f"{where}[{n}]"
        if spec.name in names:
            raise DataError(f"{place}: junk skill name {spec.name!r} is already a skill; choose another name")
        if spec.source not in skillset:
            raise DataError(f"{place}: source {spec.source!r} is not a loaded skill; "
                            f"{did_you_mean(spec.source, skillset.names)}")
        source = skillset[spec.source]
        if source.train is None or source.train.size is None:
            raise DataError(f"{place}: source {spec.source!r} has no finite training pool to make junk from")
        train = [transform(spec, source.train.get(i), i, 0) for i in range(source.train.size)]
        validation = ([transform(spec, example, i, 1) for i, example in enumerate(source.validation)]
                      if source.validation else None)
        skills.append(Skill(spec.name, ListSource(train), validation))
        names.add(spec.name)
    declared = [*skillset.metadata.get(JUNK_SKILLS, []), *(spec.name for spec in specs)]
    return SkillSet(skills, metadata={**skillset.metadata, JUNK_SKILLS: declared})
