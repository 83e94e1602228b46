"""Addition: k-digit addition where skill i is digit i of the sum (Skill-It paper §2.3).

Two k-digit operands (zero-padded) are added; the query asks for one digit of the sum, ones first. The
ones digit needs no carry; the tens digit needs the carry out of the ones; digit i needs the carries of
all lower digits, which is the prerequisite structure.

Text format (one character per token with the char tokenizer)::

    prompt  "106+071#0="     answer  "7"        (digit 0 = ones of 177)
"""

from __future__ import annotations

from functools import partial
from typing import ClassVar

import numpy as np
from pydantic import Field

from skillit.graph.skills_graph import SkillsGraph
from skillit.skills import Example, SkillSet
from skillit.tasks.generated import GeneratedTaskParams, generated_skillset

PAPER_POOL_PROPORTIONS = (13.0, 14.0, 18.0)  # skillit.md §1.6: Addition's random pool, k = 3
PLACE_NAMES = ("ones", "tens", "hundreds", "thousands")


class AdditionParams(GeneratedTaskParams):
    """Parameters of the Addition task (the ``task.params`` block of a config)."""

    paper_pool: ClassVar[dict[int, tuple[float, ...]]] = {3: PAPER_POOL_PROPORTIONS}

    k: int = Field(3, ge=1, le=9, description="digits per operand (= number of skills)")


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
    generators = [partial(make_example, digit=i, k=params.k) for i in range(params.k)]
    return generated_skillset(skill_names(params.k), generators, params, seed,
                              {"task": "addition", "alphabet": "0123456789+#="})


def prerequisite_graph(k: int = 3) -> SkillsGraph:
    """The planted structure: digit i is a prerequisite of every higher digit j (carries); diagonal 1."""
    matrix = np.triu(np.ones((k, k)))
    names = skill_names(k)
    return SkillsGraph(matrix, names, names, provenance={"source": f"addition prerequisites (k={k})"})
