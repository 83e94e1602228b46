"""What the generated synthetic tasks (LEGO, Addition) share: pool parameters and the SkillSet they build.

Each skill gets a fixed validation set of distinct examples and a training source that generates example i
deterministically from (seed, skill, i), never one of the validation texts. The natural pool is split by
``pool_proportions`` (the paper's imbalanced LEGO 1:1:1:3:5 and Addition 13:14:18 pools, skillit.md §1.6);
``train_pool_size`` makes it a finite pool (the example-level curricula need one), else a stream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from skillit.errors import DataError
from skillit.skills import Example, GeneratedSource, Skill, SkillSet

Generator = Callable[[np.random.Generator], Example]


class GeneratedTaskParams(BaseModel):
    """Parameters every generated task has; subclasses add ``k`` and their own options."""

    model_config = ConfigDict(extra="forbid")
    paper_pool: ClassVar[dict[int, tuple[float, ...]]] = {}  # k -> the paper's pool proportions

    k: int
    validation_size: int = Field(100, ge=1, description="validation examples per skill")
    pool_proportions: list[float] | None = Field(
        None, description="natural pool share per skill; default: the paper's pool for its k, uniform otherwise"
    )
    train_pool_size: int | None = Field(
        None, ge=1, description="total finite training pool (split by pool_proportions); None = unbounded stream"
    )

    @model_validator(mode="after")
    def _check_pool(self) -> GeneratedTaskParams:
        if self.pool_proportions is None:
            self.pool_proportions = list(self.paper_pool.get(self.k, (1.0,) * self.k))
        if len(self.pool_proportions) != self.k:
            raise ValueError(f"pool_proportions has {len(self.pool_proportions)} entries for k={self.k} skills")
        if any(not p > 0 for p in self.pool_proportions):
            raise ValueError("pool_proportions must all be > 0")
        return self

    def pool_sizes(self) -> list[int | None]:
        """Finite pool size per skill (``train_pool_size`` split by the proportions), or ``None`` each."""
        if self.train_pool_size is None:
            return [None] * self.k
        p = np.asarray(self.pool_proportions, dtype=float)
        return [max(1, int(round(s))) for s in self.train_pool_size * p / p.sum()]


def distinct_examples(generate: Generator, rng: np.random.Generator, n: int) -> list[Example]:
    """``n`` examples with distinct texts drawn from ``generate`` (a skill's validation set)."""
    seen: dict[str, Example] = {}
    for _ in range(n * 1000):
        example = generate(rng)
        seen.setdefault(example.text, example)
        if len(seen) == n:
            return list(seen.values())
    raise DataError(
        f"could not draw {n} distinct validation examples; lower validation_size or enlarge the task"
    )


def generated_skillset(
    names: Sequence[str],
    generators: Sequence[Generator],
    params: GeneratedTaskParams,
    seed: int,
    metadata: dict[str, Any],
) -> SkillSet:
    """One skill per generator: a distinct validation set and a training source that excludes it."""
    skills = []
    for i, (name, generate, size, weight) in enumerate(
        zip(names, generators, params.pool_sizes(), params.pool_proportions or [])
    ):
        validation = distinct_examples(generate, np.random.default_rng([seed, i, 0]), params.validation_size)
        source = GeneratedSource(generate, seed=(seed, i, 1), size=size, exclude=frozenset(e.text for e in validation))
        skills.append(Skill(name=name, train=source, validation=validation, natural_weight=float(weight)))
    return SkillSet(skills, metadata=metadata)
