"""STAT, Skill-Targeted Adaptive Training (He, Panigrahi, Lin, Arora; arXiv 2510.10023, ICLR 2026).

A student that no longer improves from plain fine-tuning is diagnosed question by question, and the
training data is re-chosen by what it lacks (paper §2, Alg. 1):

1. **Difficult questions.** The student answers validation questions; a question is difficult when a
   reward filter flags it. With per-step rewards r_1..r_t (a process reward model, or a step verifier)::

       difficult  ⇔  r_t ≤ τ1  or  (1/t) Σ_i r_i ≤ τ1  or  min_{i<t} r_i ≤ τ2       (Eq. 1; τ1 = 0.85, τ2 = 0.7)

   Ground-truth-free alternative (§E.1): difficult when the most common of several sampled answers occurs
   fewer than ``min_count`` (2) times. With labels, a wrong answer is simply a difficult question.
2. **Missing-Skill-Profile (MSP).** A teacher reads each difficult question, the student's answer and the
   skill list, and replies with tagged fields ``<judge>`` (correct / incorrect), ``<reason>`` and
   ``<skill>`` (the skills the student should improve, at most 5). Names are matched to the skill list
   (exact, then case/punctuation-insensitive, then fuzzy); names that match nothing are kept apart as
   ``unmatched`` and never counted. ``MSP(q)`` is q's set of skills; count(s) = #{q : s ∈ MSP(q)}.
3. **STAT-Sel.** For every pair (q, s ∈ MSP(q)) draw ``per_pair`` training examples of skill s (5 in the
   paper's recipe, B.2), so skill s's expected share of the selected data is

       p_s = count(s) / Σ_s' count(s')                                                          (§2.3)

   then subsample to the budget. The same p, as a mixture over skills, is a prior for any skillit policy
   (:meth:`MissingSkillProfile.as_policy` gives a ``Static`` policy; the paper does not do this, it is the
   bridge suggested by the Skill-It view of skills as data subsets).
"""

from __future__ import annotations

import difflib
import json
import re
import warnings
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from skillit.errors import DataError, SkillError, did_you_mean
from skillit.llm.backends import LLMBackend, LLMOutputError, Message
from skillit.policy import Static
from skillit.utils.io import atomic_write_json

TAU1 = 0.85
TAU2 = 0.7
MAX_SKILLS = 5
Id = TypeVar("Id", bound=Hashable)


# ---- stage 1: difficult questions ----------------------------------------------------------------


def reward_filter(step_rewards: Sequence[float], tau1: float = TAU1, tau2: float = TAU2) -> bool:
    """True when a solution's per-step rewards mark its question difficult (Eq. 1 in the module docstring)."""
    r = np.asarray(step_rewards, dtype=float)
    if r.size == 0:
        raise DataError("reward_filter needs at least one step reward")
    return bool(r[-1] <= tau1 or r.mean() <= tau1 or (r.size > 1 and r[:-1].min() <= tau2))


def consistency_filter(answers: Sequence[Hashable], min_count: int = 2) -> bool:
    """True (difficult) when the most common sampled answer occurs fewer than ``min_count`` times."""
    if not answers:
        raise DataError("consistency_filter needs at least one sampled answer")
    return Counter(answers).most_common(1)[0][1] < min_count


# ---- stage 2: the missing-skill profile -----------------------------------------------------------


def normalise_name(name: str) -> str:
    """Lower case, punctuation and underscores as spaces, runs of spaces collapsed."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", name.lower()).split())


def normalize_name(name: str) -> str:
    """Deprecated spelling of :func:`normalise_name` (skillit spells it with an s); removed in the next release."""
    warnings.warn("skillit.llm.stat.normalize_name is deprecated and will be removed in the next release; use "
                  "normalise_name: from skillit.llm.stat import normalise_name", DeprecationWarning, stacklevel=2)
    return normalise_name(name)


def match_skill(name: str, skills: Sequence[str], cutoff: float = 0.8) -> str | None:
    """The skill of ``skills`` that ``name`` denotes, or ``None``.

    Exact match; else equal after :func:`normalise_name` (also ignoring spaces, so ``"Var 3"`` is ``"var3"``);
    else the closest normalised name by ``difflib`` similarity ≥ ``cutoff``.
    """
    if name in skills:
        return name
    wanted = normalise_name(name)
    if not wanted:
        return None
    normalised = {normalise_name(s): s for s in skills}
    if wanted in normalised:
        return normalised[wanted]
    squeezed = {key.replace(" ", ""): s for key, s in normalised.items()}
    if wanted.replace(" ", "") in squeezed:
        return squeezed[wanted.replace(" ", "")]
    close = difflib.get_close_matches(wanted, list(normalised), n=1, cutoff=cutoff)
    return normalised[close[0]] if close else None


def teacher_messages(question: str, response: str, skills: Sequence[str], reference: str | None = None,
                     max_skills: int = MAX_SKILLS) -> list[Message]:
    """The teacher's request: judge the student's response and name the skills it lacks, from the list."""
    listed = "\n".join(f"- {s}" for s in skills)
    content = (
        "You are checking a student's work.\n\nQuestion:\n" + question.strip() + "\n\nStudent's response:\n"
        + response.strip() + "\n\n"
        + (f"Reference answer:\n{reference.strip()}\n\n" if reference else "")
        + f"Skills:\n{listed}\n\n"
        "Decide whether the response is correct. If it is not, say why, and name the skills from the list above "
        f"(at most {max_skills}, exactly as written there) that the student should improve to get such questions "
        "right. Reply with exactly these three tagged fields:\n"
        "<judge>correct or incorrect</judge>\n<reason>one or two sentences</reason>\n"
        "<skill>skill one, skill two</skill>"
    )
    return [{"role": "user", "content": content}]


@dataclass
class Diagnosis:
    """A teacher's reading of one response."""

    judge: str | None  # "correct", "incorrect" or None (no judge field)
    reason: str
    skills: list[str]  # canonical names, in the teacher's order, no duplicates
    unmatched: list[str]  # names the teacher gave that match no skill


def _tag(reply: str, tag: str) -> str | None:
    found = re.findall(rf"<{tag}s?>(.*?)</{tag}s?>", reply, flags=re.IGNORECASE | re.DOTALL)
    if found:
        return found[-1].strip()
    opened = re.search(rf"<{tag}s?>(.*)$", reply, flags=re.IGNORECASE | re.DOTALL)  # a reply cut before the close
    return opened.group(1).strip() if opened else None


def parse_diagnosis(reply: str, skills: Sequence[str], *, max_skills: int = MAX_SKILLS, cutoff: float = 0.8) -> Diagnosis:
    """Read the ``<judge>``, ``<reason>`` and ``<skill>`` fields of a teacher's reply.

    A reply with neither a ``<judge>`` nor a ``<skill>`` field is an :class:`LLMOutputError`; an incorrect
    judgement with no ``<skill>`` field is one too (there is nothing to count).
    """
    judge_text = _tag(reply, "judge")
    skill_text = _tag(reply, "skill")
    if judge_text is None and skill_text is None:
        raise LLMOutputError(f"teacher reply has no <judge> or <skill> field: {reply.strip()[:200]!r}")
    judge = None
    if judge_text is not None:
        lowered = judge_text.lower()
        judge = "incorrect" if ("incorrect" in lowered or "wrong" in lowered or lowered.startswith("no")) else (
            "correct" if "correct" in lowered or lowered.startswith("yes") else None)
    if skill_text is None and judge != "correct":
        raise LLMOutputError(f"teacher judged the response {judge or 'unclear'} but named no <skill>: "
                             f"{reply.strip()[:200]!r}")
    matched: list[str] = []
    unmatched: list[str] = []
    for part in re.split(r"[,;\n]|\s\|\s", skill_text or ""):
        part = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", part).strip().strip("\"'`*").strip()
        if not part or part.lower() in ("none", "n/a"):
            continue
        canonical = match_skill(part, skills, cutoff)
        if canonical is None:
            unmatched.append(part)
        elif canonical not in matched:
            matched.append(canonical)
    return Diagnosis(judge, (_tag(reply, "reason") or "").strip(), matched[:max_skills], unmatched)


def diagnose(teacher: LLMBackend, item: dict[str, Any], skills: Sequence[str], *, max_skills: int = MAX_SKILLS,
             cutoff: float = 0.8, max_tokens: int = 512) -> dict[str, Any]:
    """One MSP record for a failure ``item`` (``id``, ``question``, ``response``, optional ``reference``)."""
    for key in ("id", "question", "response"):
        if key not in item:
            raise DataError(f"failure record {item.get('id', '?')!r} lacks {key!r} (needs id, question, response)")
    reply = teacher.chat(teacher_messages(item["question"], item["response"], skills, item.get("reference"), max_skills),
                         temperature=0.0, max_tokens=max_tokens)[0]
    try:
        diagnosis = parse_diagnosis(reply, skills, max_skills=max_skills, cutoff=cutoff)
    except LLMOutputError as exc:
        raise LLMOutputError(f"question {item['id']!r}: {exc}") from None
    return {"id": str(item["id"]), "judge": diagnosis.judge, "reason": diagnosis.reason, "skills": diagnosis.skills,
            "unmatched": diagnosis.unmatched}


@dataclass
class MissingSkillProfile:
    """MSP: question id → the skills it shows missing, over a fixed skill list (paper §2.2)."""

    skills: list[str]
    questions: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for qid, names in self.questions.items():
            for name in names:
                if name not in self.skills:
                    raise SkillError(f"profile of question {qid!r} names unknown skill {name!r}; "
                                     f"{did_you_mean(name, self.skills)}")

    @classmethod
    def from_records(cls, records: Sequence[dict[str, Any]], skills: Sequence[str],
                     count_correct: bool = False) -> MissingSkillProfile:
        """From :func:`diagnose` records; responses the teacher judged correct are left out unless asked."""
        questions = {}
        for record in records:
            if record.get("judge") == "correct" and not count_correct:
                continue
            if record.get("skills"):
                questions[str(record["id"])] = list(record["skills"])
        return cls(list(skills), questions)

    def counts(self) -> dict[str, int]:
        """count(s) = number of questions whose profile names s, for every skill (0 included), in list order."""
        counter = Counter(name for names in self.questions.values() for name in set(names))
        return {name: int(counter.get(name, 0)) for name in self.skills}

    def pairs(self) -> list[tuple[str, str]]:
        """The (question, skill) pairs STAT-Sel iterates over."""
        return [(qid, name) for qid, names in self.questions.items() for name in names]

    def mixture(self, skills: Sequence[str] | None = None, smoothing: float = 0.0) -> dict[str, float]:
        """p_s ∝ count(s) + smoothing over ``skills`` (default: the profile's list); sums to 1.

        ``smoothing`` > 0 keeps every skill in the mixture (the paper uses none).
        """
        names = list(self.skills if skills is None else skills)
        unknown = [n for n in names if n not in self.skills]
        if unknown:
            raise SkillError(f"skill {unknown[0]!r} is not in the profile's skill list; {did_you_mean(unknown[0], self.skills)}")
        counts = self.counts()
        raw = np.array([counts[n] + smoothing for n in names], dtype=float)
        if raw.sum() <= 0:
            raise SkillError("the profile names none of these skills (no failures diagnosed?); add smoothing > 0 "
                             "or diagnose more failures")
        return {n: float(v) for n, v in zip(names, raw / raw.sum())}

    def as_policy(self, skills: Sequence[str] | None = None, smoothing: float = 0.0):
        """A skillit ``Static`` policy with the profile's mixture (for ``skillit.train`` or the CLI configs)."""
        return Static(self.mixture(skills, smoothing))

    def to_dict(self) -> dict[str, Any]:
        return {"skills": list(self.skills), "questions": dict(self.questions), "counts": self.counts()}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "profile") -> MissingSkillProfile:
        if not isinstance(data, dict) or "skills" not in data or "questions" not in data:
            raise DataError(f"{where}: a profile is a JSON object with 'skills' and 'questions'")
        return cls(list(data["skills"]), {str(k): list(v) for k, v in data["questions"].items()})

    def save(self, path: str | Path) -> Path:
        return atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> MissingSkillProfile:
        path = Path(path)
        if not path.is_file():
            raise DataError(f"profile file {str(path)!r} does not exist")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise DataError(f"{path}: not JSON ({exc})") from None
        return cls.from_dict(data, str(path))


# ---- stage 3: STAT-Sel ----------------------------------------------------------------------------


def stat_sel(profile: MissingSkillProfile, skill_map: Mapping[str, Sequence[Id]], *, per_pair: int = 5,
             budget: int | None = None, seed: int = 0) -> list[Id]:
    """Training example ids chosen by the profile (module docstring, stage 3).

    For each (question, skill s) pair, ``per_pair`` ids are drawn from ``skill_map[s]`` (without replacement
    inside a pair when the skill has enough examples). Without ``budget`` the result has
    ``per_pair × len(pairs)`` ids. With ``budget`` the passes over the pairs repeat until at least ``budget``
    ids are drawn, then a uniform subsample of exactly ``budget`` is kept, so p_s ∝ count(s) holds in
    expectation at any budget. Duplicates across pairs are possible, as in the paper.
    """
    pairs = profile.pairs()
    if not pairs:
        raise SkillError("the profile has no (question, skill) pairs; nothing to select for")
    for _, name in pairs:
        if name not in skill_map:
            raise SkillError(f"profile skill {name!r} has no training examples in the skill map; "
                             f"{did_you_mean(name, list(skill_map))}")
        if len(skill_map[name]) == 0:
            raise SkillError(f"profile skill {name!r} has an empty pool in the skill map")
    if per_pair < 1 or (budget is not None and budget < 1):
        raise SkillError(f"per_pair and budget must be >= 1 (got {per_pair}, {budget})")
    rng = np.random.default_rng(seed)
    chosen: list[Id] = []
    while True:
        for _, name in pairs:
            pool = skill_map[name]
            picks = rng.choice(len(pool), size=per_pair, replace=len(pool) < per_pair)
            chosen.extend(pool[int(i)] for i in picks)
        if budget is None or len(chosen) >= budget:
            break
    if budget is not None:
        keep = np.sort(rng.choice(len(chosen), size=budget, replace=False))
        chosen = [chosen[int(i)] for i in keep]
    return chosen


def skill_map_from_records(records: Sequence[dict[str, Any]], skill_field: str = "skill",
                           skills_field: str = "skills") -> dict[str, list[int]]:
    """skill → indices of the records that exercise it (``skills`` list if present, else the ``skill`` field)."""
    out: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        names = record.get(skills_field)
        if not isinstance(names, list):
            if skill_field not in record:
                raise DataError(f"training record {index + 1} has neither {skills_field!r} nor {skill_field!r}")
            names = [record[skill_field]]
        for name in names:
            out.setdefault(str(name), []).append(index)
    return out


__all__ = [
    "MAX_SKILLS",
    "TAU1",
    "TAU2",
    "Diagnosis",
    "MissingSkillProfile",
    "consistency_filter",
    "diagnose",
    "match_skill",
    "normalise_name",
    "parse_diagnosis",
    "reward_filter",
    "skill_map_from_records",
    "stat_sel",
    "teacher_messages",
]
