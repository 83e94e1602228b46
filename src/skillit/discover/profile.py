"""Missing-skill profile from per-example validation failures (after STAT, He et al. 2025, §2.2–2.3).

STAT asks a teacher LLM which skills a failed question is missing and counts, per skill, the failed
questions that name it: count(s) = #{q : s ∈ MSP(q)}; STAT-Sel then draws training data for skill s with
probability count(s) / Σ count. Here no teacher is asked: the skills an example *needs* are its own skill
and that skill's prerequisites (a task's planted graph, or given), and the blame for a failure is shared
among them in proportion to how often each fails on its own examples:

    f_s      = Σ_{e: skill(e)=s} w(e) / #{e : skill(e) = s}        own failure rate of skill s
    b_s(e)   = f_s / Σ_{u ∈ N(e)} f_u   for s ∈ N(e)               (uniform over N(e) when all f_u = 0)
    count(s) = Σ_e w(e) · b_s(e)                                    the profile
    need(s)  = #{e : s ∈ N(e)} / #examples                          how often s is needed

with w(e) = 1 − exact_match(e) (``signal="accuracy"``) or the answer loss of e (``signal="loss"``) and N(e)
= {skill(e)} ∪ prerequisites(skill(e)). A skill needed by many failed examples collects blame from each,
so count(s) is weighted by need. The profile becomes a mixture prior p_s ∝ count(s) over the training
skills (STAT-Sel's rule), or the target set of a Skill-It run: the fewest skills holding ≥ ``coverage``
of the profile's mass.

(Not to be confused with the LLM-teacher STAT in ``skillit.llm``: this profile needs no model but the
student's own per-example results.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from skillit.errors import DataError

Signal = Literal["accuracy", "loss"]


@dataclass(frozen=True)
class Outcome:
    """One validation example's result: its skill, whether it was answered exactly, and its answer loss."""

    skill: str
    correct: bool
    loss: float | None = None


@dataclass
class Profile:
    """Per skill: own failure rate, need, blame count and share; and the mixture and target set it gives."""

    skills: list[str]
    failure_rate: dict[str, float]
    need: dict[str, float]
    count: dict[str, float]
    signal: str
    examples: int
    failures: float

    @property
    def share(self) -> dict[str, float]:
        total = sum(self.count.values())
        return {s: (c / total if total > 0 else 0.0) for s, c in self.count.items()}

    def ranking(self) -> list[str]:
        """Skills by blame count, most missing first (ties: skill order)."""
        return sorted(self.skills, key=lambda s: (-self.count[s], self.skills.index(s)))

    def mixture(self, train_skills: Sequence[str] | None = None, floor: float = 0.0) -> dict[str, float]:
        """p_s ∝ count(s) over ``train_skills`` (default all), mixed with uniform so that p_s ≥ ``floor``:
        p = (1 − k·floor) · p + floor (uniform when no skill has blame)."""
        names = list(train_skills) if train_skills is not None else list(self.skills)
        if not names:
            raise DataError("the mixture needs at least one training skill")
        if floor < 0 or floor * len(names) > 1:
            raise DataError(f"floor must be in [0, 1/{len(names)}], got {floor}")
        counts = np.array([self.count.get(s, 0.0) for s in names])
        p = counts / counts.sum() if counts.sum() > 0 else np.full(len(names), 1.0 / len(names))
        p = (1.0 - len(names) * floor) * p + floor
        return {s: float(v) for s, v in zip(names, p)}

    def targets(self, coverage: float = 0.8) -> list[str]:
        """The fewest skills, most missing first, whose shares add up to ≥ ``coverage``."""
        if not 0 < coverage <= 1:
            raise DataError(f"coverage must be in (0, 1], got {coverage}")
        share, chosen, total = self.share, [], 0.0
        for s in self.ranking():
            if total >= coverage - 1e-12 or share[s] <= 0:
                break
            chosen.append(s)
            total += share[s]
        return chosen

    def to_dict(self, coverage: float = 0.8, floor: float = 0.0) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "examples": self.examples,
            "failures": self.failures,
            "ranking": self.ranking(),
            "skills": {s: {"failure_rate": self.failure_rate[s], "need": self.need[s], "count": self.count[s],
                           "share": self.share[s]} for s in self.skills},
            "mixture": self.mixture(floor=floor),
            "targets": self.targets(coverage),
            "coverage": coverage,
        }


def missing_skill_profile(
    outcomes: Sequence[Outcome],
    prerequisites: Mapping[str, Sequence[str]] | None = None,
    *,
    signal: Signal = "accuracy",
) -> Profile:
    """The profile of ``outcomes`` (see the module docstring for the equations)."""
    if not outcomes:
        raise DataError("the missing-skill profile needs at least one validation result")
    if signal not in ("accuracy", "loss"):
        raise DataError(f"signal must be accuracy or loss, got {signal!r}")
    prerequisites = dict(prerequisites or {})
    skills = list(dict.fromkeys([o.skill for o in outcomes]))
    for skill, parts in prerequisites.items():
        for part in parts:
            if part not in skills:
                skills.append(part)  # needed but never evaluated: its own failure rate is unknown (0)
    weight = np.zeros(len(outcomes))
    for i, o in enumerate(outcomes):
        if signal == "accuracy":
            weight[i] = 0.0 if o.correct else 1.0
        else:
            if o.loss is None or not np.isfinite(o.loss) or o.loss < 0:
                raise DataError(f"signal 'loss' needs a finite loss >= 0 for every example; example {i} "
                                f"(skill {o.skill!r}) has {o.loss!r}")
            weight[i] = float(o.loss)
    own = {s: [] for s in skills}
    for o, w in zip(outcomes, weight):
        own[o.skill].append(w)
    failure_rate = {s: float(np.mean(v)) if v else 0.0 for s, v in own.items()}
    count = {s: 0.0 for s in skills}
    needed = {s: 0 for s in skills}
    for o, w in zip(outcomes, weight):
        needs = list(dict.fromkeys([o.skill, *prerequisites.get(o.skill, ())]))
        for s in needs:
            needed[s] += 1
        if w <= 0:
            continue
        rates = np.array([failure_rate[s] for s in needs])
        blame = rates / rates.sum() if rates.sum() > 0 else np.full(len(needs), 1.0 / len(needs))
        for s, b in zip(needs, blame):
            count[s] += float(w * b)
    return Profile(
        skills=skills,
        failure_rate=failure_rate,
        need={s: needed[s] / len(outcomes) for s in skills},
        count=count,
        signal=signal,
        examples=len(outcomes),
        failures=float(weight.sum()),
    )


def prerequisites_from_graph(graph) -> dict[str, list[str]]:
    """Column j's prerequisites in a SkillsGraph: rows i ≠ j with A_ij > 0 (training skill i → skill j)."""
    matrix = np.asarray(graph.matrix, dtype=float)  # (train skills, eval skills)
    out: dict[str, list[str]] = {}
    for j, col in enumerate(graph.eval_skills):
        out[col] = [row for i, row in enumerate(graph.train_skills) if row != col and matrix[i, j] > 0]
    return out
