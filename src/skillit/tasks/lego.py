"""LEGO: Learning Equality and Group Operations (Zhang et al. 2022), as used by Skill-It (paper §2.2).

An example is a set of k clauses over k binary variables that form a reasoning graph. The root clause
assigns a value (``a=1``); every other clause copies (``b=a``) or negates (``b=!a``) its parent. The
clauses are shuffled, then one variable is queried. Skill i is "give the value of the i-th variable of the
graph" (1-based, in the graph's topological order), so in a chain skill i needs i-1 resolution hops.

Text format (one character per token with the char tokenizer, which keeps sequences short on CPU)::

    prompt  "c=!b,a=1,b=a,e=!d,d=c;d="     answer  "0"

Reasoning graphs (``reasoning_graph``):
  * ``chain``: variable i's parent is variable i-1 (the paper's default).
  * ``tree``: a binary tree in breadth-first order: variable i's parent is variable (i-2)//2+1,
    so skill i needs depth(i) hops. (The reference code's ``tree`` option crashed, skillit.md §3.6 item 1.)
  * ``disconnected``: every clause is a root; no skill needs another (an empty prerequisite graph).
"""

from __future__ import annotations

import string
from functools import partial
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from skillit.graph.skills_graph import SkillsGraph
from skillit.skills import Example, SkillSet
from skillit.tasks.generated import GeneratedTaskParams, generated_skillset

VARIABLES = string.ascii_lowercase
PAPER_POOL_PROPORTIONS = (1.0, 1.0, 1.0, 3.0, 5.0)  # skillit.md §1.6: LEGO's imbalanced pool, k = 5


class LegoParams(GeneratedTaskParams):
    """Parameters of the LEGO task (the ``task.params`` block of a config)."""

    paper_pool: ClassVar[dict[int, tuple[float, ...]]] = {5: PAPER_POOL_PROPORTIONS}

    k: int = Field(5, ge=2, le=26, description="number of variables (= number of skills)")
    reasoning_graph: Literal["chain", "tree", "disconnected"] = "chain"
    shuffle: bool = Field(True, description="shuffle the clause order (the paper's setting)")
    names: Literal["random", "fixed"] = Field(
        "random", description="random: k distinct letters per example (the paper); fixed: variable i is letter i"
    )


def skill_names(k: int) -> list[str]:
    return [f"var{i}" for i in range(1, k + 1)]


def parents(k: int, reasoning_graph: str) -> list[int | None]:
    """Parent index (0-based) of each variable, ``None`` for a root."""
    if reasoning_graph == "chain":
        return [None] + list(range(k - 1))
    if reasoning_graph == "tree":
        return [None] + [(i - 1) // 2 for i in range(1, k)]
    if reasoning_graph == "disconnected":
        return [None] * k
    raise ValueError(f"unknown reasoning graph {reasoning_graph!r}")


def make_example(
    rng: np.random.Generator, *, skill: int, k: int, reasoning_graph: str, shuffle: bool, names: str = "random"
) -> Example:
    """One LEGO example querying variable ``skill`` (0-based position in the reasoning graph)."""
    if names == "fixed":
        letters = list(VARIABLES[:k])
    else:
        letters = [VARIABLES[i] for i in rng.choice(len(VARIABLES), size=k, replace=False)]
    parent = parents(k, reasoning_graph)
    names = letters
    values = [0] * k
    clauses = []
    for i in range(k):
        if parent[i] is None:
            values[i] = int(rng.integers(2))
            clauses.append(f"{names[i]}={values[i]}")
        else:
            negate = bool(rng.integers(2))
            values[i] = 1 - values[parent[i]] if negate else values[parent[i]]
            clauses.append(f"{names[i]}={'!' if negate else ''}{names[parent[i]]}")
    if shuffle:
        clauses = [clauses[i] for i in rng.permutation(k)]
    prompt = ",".join(clauses) + f";{names[skill]}="
    return Example(prompt=prompt, answer=str(values[skill]), skill=skill_names(k)[skill])


def build(params: LegoParams, seed: int) -> SkillSet:
    """The LEGO SkillSet: one skill per variable, a fixed deduplicated validation set each."""
    generators = [
        partial(make_example, skill=i, k=params.k, reasoning_graph=params.reasoning_graph, shuffle=params.shuffle,
                names=params.names)
        for i in range(params.k)
    ]
    return generated_skillset(skill_names(params.k), generators, params, seed,
                              {"task": "lego", "alphabet": VARIABLES + "01=!,;"})


def prerequisite_graph(k: int = 5, reasoning_graph: str = "chain") -> SkillsGraph:
    """The planted structure: edge i→j (weight 1) when variable i is an ancestor of j; diagonal 1."""
    parent = parents(k, reasoning_graph)
    matrix = np.eye(k)
    for j in range(k):
        node = parent[j]
        while node is not None:
            matrix[node, j] = 1.0
            node = parent[node]
    names = skill_names(k)
    return SkillsGraph(matrix, names, names, provenance={"source": f"lego prerequisites ({reasoning_graph}, k={k})"})
