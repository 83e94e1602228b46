"""Addition: k-digit addition where skill i is digit i of the sum (Skill-It paper §2.3).

Two k-digit operands (zero-padded) are added; the query asks for one digit of the sum, ones first. The
ones digit needs no carry; the tens digit needs the carry out of the ones; digit i needs the carries of
all lower digits, which is the prerequisite structure.

Text format (one character per token with the char tokenizer)::

    prompt  "106+071#0="     answer  "7"        (digit 0 = ones of 177)
"""

from __future__ import annotations

from functools import partial

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from skillit.graph.skills_graph import SkillsGraph
from skillit.skills import Example, GeneratedSource, Skill, SkillSet
from skillit.tasks.lego import distinct_examples

PAPER_POOL_PROPORTIONS = (13.0, 14.0, 18.0)  # skillit.md §1.6: Addition's random pool, k = 3
PLACE_NAMES = ("ones", "tens", "hundreds", "thousands")


class AdditionParams(BaseModel):
    """Parameters of the Addition task (the ``task.params`` block of a config)."""

    model_config = ConfigDict(extra="forbid")

    k: int = Field(3, ge=1, le=9, description="digits per operand (= number of skills)")
    validation_size: int = Field(100, ge=1, description="validation examples per skill")
    pool_proportions: list[float] | None = Field(
        None, description="natural pool share per skill; default 13:14:18 for k=3, uniform otherwise"
    )
    train_pool_size: int | None = Field(
        None, ge=1, description="total finite training pool (split by pool_proportions); None = unbounded stream"
    )

    @model_validator(mode="after")
    def _check(self) -> AdditionParams:
        if self.pool_proportions is None:
            self.pool_proportions = list(PAPER_POOL_PROPORTIONS) if self.k == 3 else [1.0] * self.k
        if len(self.pool_proportions) != self.k:
            raise ValueError(f"pool_proportions has {len(self.pool_proportions)} entries for k={self.k} skills")
        if any(not p > 0 for p in self.pool_proportions):
            raise ValueError("pool_proportions must all be > 0")
        return self


def skill_names(k: int) -> list[str]:
    return [PLACE_NAMES[i] if i < len(PLACE_NAMES) else f"digit{i}" for i in range(k)]


def make_example(rng: np.random.Generator, *, digit: int, k: int) -> Example:
    """One addition example asking for ``digit`` (0 = ones) of the sum of two k-digit operands."""
    a, b = (int(x) for x in rng.integers(0, 10**k, size=2))
    total = a + b
    answer = (total // 10**digit) % 10
    prompt = f"{a:0{k}d}+{b:0{k}d}#{digit}="
    return Example(prompt=prompt, answer=str(answer), skill=skill_names(k)[digit])


def build(params: AdditionParams, seed: int) -> SkillSet:
    """The Addition SkillSet: one skill per digit of the sum, a fixed deduplicated validation set each."""
    k = params.k
    proportions = np.asarray(params.pool_proportions, dtype=float)
    if params.train_pool_size is None:
        pool_sizes: list[int | None] = [None] * k
    else:
        pool_sizes = [max(1, int(round(s))) for s in params.train_pool_size * proportions / proportions.sum()]
    skills = []
    for i, name in enumerate(skill_names(k)):
        generate = partial(make_example, digit=i, k=k)
        validation = distinct_examples(generate, np.random.default_rng([seed, i, 0]), params.validation_size)
        skills.append(
            Skill(
                name=name,
                train=GeneratedSource(
                    generate, seed=(seed, i, 1), size=pool_sizes[i], exclude=frozenset(e.text for e in validation)
                ),
                validation=validation,
                natural_weight=float(proportions[i]),
            )
        )
    return SkillSet(skills, metadata={"task": "addition", "alphabet": "0123456789+#="})


def prerequisite_graph(k: int = 3) -> SkillsGraph:
    """The planted structure: digit i is a prerequisite of every higher digit j (carries); diagonal 1."""
    matrix = np.triu(np.ones((k, k)))
    names = skill_names(k)
    return SkillsGraph(matrix, names, names, provenance={"source": f"addition prerequisites (k={k})"})
