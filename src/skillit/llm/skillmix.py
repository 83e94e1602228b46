"""Skill-Mix (Yu et al., arXiv 2310.17567, ICLR 2024): can a model combine k skills it was never shown together?

Pick a random k-subset of N skills and a topic; ask the model for a short text on the topic that illustrates
all k skills; grade it with a (k + 3)-point rubric; aggregate.

Generation (paper §3; two turns): turn 1 asks for a text on the topic using every skill (each given as
name, definition and example), starting with "Answer:" and explained after "Explanation:"; turn 2 asks the
model to check and improve it within ``max(1, k − 1)`` sentences. The graded text is what follows the last
"Answer:" and precedes "Explanation" in the final reply.

Rubric, 1 point each (k + 3 items): one per skill ("illustrates <skill> correctly"), "is about <topic>",
"makes sense", "has at most max(1, k − 1) sentences". The sentence point is always replaced by a
programmatic sentence count; with ``filter_explicit_name`` a skill's point is zeroed when the skill's name
appears literally in the text.

Metrics per combination c with points x ∈ {0,1}^{k+3} (x_1..x_k the skills, x_{k+1..k+3} the rest):

    full marks    F(c) = 1[Σ_i x_i = k + 3]
    all skills    A(c) = 1[Σ_{i≤k} x_i = k  and  Σ_{i>k} x_i ≥ 2]
    skill frac.   S(c) = (Σ_{i≤k} x_i / k) · 1[Σ_{i>k} x_i = 3]

Aggregation (points shaped (generation rounds G, grading rounds R, combinations C, k + 3)): majority vote
over grading rounds, ``round(mean)``; the metrics per (generation, combination); the best over generation
rounds (max); then mean ± standard error over combinations ("Ratio of Full Marks", "Ratio of All Skills",
"Skill Fraction").
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skillit.errors import DataError, SkillError, did_you_mean
from skillit.llm.backends import LLMBackend, LLMOutputError, Message
from skillit.llm.jsonl import read_jsonl

DROPPED_STATUSES = ("remove", "in review", "maybe")  # rows of the skills CSV left out (Skill-Mix utils)
METRICS = ("full_marks", "all_skills", "skill_fraction")


@dataclass(frozen=True)
class TextSkill:
    """A language skill: its name, a definition and an example (Skill-Mix's skills.csv row)."""

    name: str
    definition: str = ""
    example: str = ""
    category: str = ""

    @property
    def short_name(self) -> str:
        """The name without a parenthesised gloss: ``"red herring"`` for ``"red herring (fallacy)"``."""
        return self.name.split("(")[0].strip()


def load_text_skills(path: str | Path) -> list[TextSkill]:
    """Skills from a ``.jsonl`` (fields ``skill``/``name``, ``definition``, ``example``, ``category``), a
    ``.csv`` with Skill-Mix's columns (rows whose ``status`` is remove / in review / maybe are dropped) or a
    ``.txt`` with one name per line."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"skills file {str(path)!r} does not exist")
    rows: list[dict[str, Any]]
    if path.suffix == ".jsonl":
        rows = read_jsonl(path, what="skills")
    elif path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.DictReader(handle)
                    if (row.get("status") or "").strip().lower() not in DROPPED_STATUSES]
    else:
        rows = [{"skill": line.strip()} for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    skills = []
    for number, row in enumerate(rows, start=1):
        name = str(row.get("skill") or row.get("name") or "").strip()
        if not name:
            raise DataError(f"{path}: record {number} has no 'skill' (or 'name') field")
        skills.append(TextSkill(name, str(row.get("definition") or "").strip(), str(row.get("example") or "").strip(),
                                str(row.get("category") or "").strip()))
    names = [s.name for s in skills]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DataError(f"{path}: skill {duplicates[0]!r} is listed twice")
    if not skills:
        raise DataError(f"{path}: no skills")
    return skills


def load_topics(path: str | Path) -> list[str]:
    """Topics from a JSON list or a text file with one topic per line."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"topics file {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            topics = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: not JSON ({exc.msg})") from None
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            raise DataError(f"{path}: expected a JSON list of topic strings")
    else:
        topics = [line.strip() for line in text.splitlines() if line.strip()]
    if not topics:
        raise DataError(f"{path}: no topics")
    return topics


def sentence_limit(k: int) -> int:
    """At most ``max(1, k − 1)`` sentences."""
    return max(1, k - 1)


def sample_combinations(skills: Sequence[TextSkill | str], topics: Sequence[str], k: int, n: int,
                        seed: int = 0) -> list[dict[str, Any]]:
    """``n`` (k skills, topic) combinations, deterministic in ``seed``.

    Each combination shuffles the skill list and takes the first k (so skills within one combination are
    distinct, and the order carries no position bias), then draws a topic. ``id`` is ``k{k}-s{seed}-{i}``.
    """
    names = [s.name if isinstance(s, TextSkill) else str(s) for s in skills]
    if not 1 <= k <= len(names):
        raise SkillError(f"k must be between 1 and the number of skills ({len(names)}), got {k}")
    if not topics:
        raise DataError("Skill-Mix needs at least one topic")
    rng = random.Random(seed)
    out = []
    for i in range(n):
        order = list(names)
        rng.shuffle(order)
        out.append({"id": f"k{k}-s{seed}-{i}", "k": k, "skills": order[:k], "topic": rng.choice(list(topics))})
    return out


def _skills_by_name(skills: Sequence[TextSkill]) -> dict[str, TextSkill]:
    return {s.name: s for s in skills}


def check_combination(combination: dict[str, Any], skills: Sequence[TextSkill], where: str = "") -> None:
    """Every skill of ``combination`` must be in ``skills`` (a clear :class:`SkillError` otherwise)."""
    known = [s.name for s in skills]
    for name in combination.get("skills", []):
        if name not in known:
            place = f" ({where})" if where else ""
            raise SkillError(f"unknown skill {name!r} in combination {combination.get('id')!r}{place}; "
                             f"{did_you_mean(name, known)}")


def generation_messages(combination: dict[str, Any], skills: Sequence[TextSkill]) -> list[Message]:
    """Turn 1 of the generation conversation (our own wording of the paper's request)."""
    by_name = _skills_by_name(skills)
    lines = []
    for name in combination["skills"]:
        skill = by_name[name]
        line = f"- **{skill.name}**"
        if skill.definition:
            line += f": {skill.definition}"
        if skill.example:
            line += f" Example: {skill.example}"
        lines.append(line)
    limit = sentence_limit(combination["k"])
    text = (
        f"Write a short, natural piece of text about the topic \"{combination['topic']}\" that uses every one of "
        f"these {combination['k']} language skills:\n" + "\n".join(lines) + "\n\n"
        f"Use at most {limit} sentence{'s' if limit > 1 else ''} and do not name the skills in the text. Start "
        "the text with \"Answer:\". Afterwards, starting with \"Explanation:\", say where each skill is used."
    )
    return [{"role": "user", "content": text}]


def revision_message(combination: dict[str, Any]) -> Message:
    """Turn 2: check and improve the text within the sentence limit."""
    limit = sentence_limit(combination["k"])
    return {"role": "user", "content": (
        f"Check your text: does it use every skill, stay about \"{combination['topic']}\", read naturally and "
        f"have at most {limit} sentence{'s' if limit > 1 else ''}? Give an improved version in the same format "
        "(\"Answer:\" then \"Explanation:\")."
    )}


def extract_answer(reply: str) -> str:
    """The text after the last ``Answer:`` and before ``Explanation`` (the whole reply if neither occurs)."""
    text = reply
    marker = list(re.finditer(r"answer\s*:", text, flags=re.IGNORECASE))
    if marker:
        text = text[marker[-1].end():]
    cut = re.search(r"\**\s*explanation", text, flags=re.IGNORECASE)
    if cut:
        text = text[: cut.start()]
    return text.strip().strip("*").strip()


_TITLES = re.compile(r"\b(Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|vs|etc|e\.g|i\.e)\.", flags=re.IGNORECASE)


def count_sentences(text: str) -> int:
    """Sentences in ``text``: a boundary is ``.``, ``!`` or ``?`` (then optional quotes) followed by whitespace
    and a capital letter or a quote; titles such as ``Dr.`` do not end a sentence. Empty text has 0."""
    text = _TITLES.sub(lambda m: m.group(0)[:-1], text.strip())
    if not text:
        return 0
    return len(re.findall(r"[.!?]+['\"”’)]*\s+(?=['\"“‘(]?[A-Z])", text)) + 1


def rubric(combination: dict[str, Any]) -> list[str]:
    """The k + 3 rubric items, one point each."""
    items = [f"Correctly illustrates {name}" for name in combination["skills"]]
    limit = sentence_limit(combination["k"])
    return items + [f"Pertains to {combination['topic']}", "Text makes sense", f"At most {limit} sentences"]


def grading_messages(combination: dict[str, Any], text: str, skills: Sequence[TextSkill]) -> list[Message]:
    """The grader's request: the text, the skills' definitions and the rubric, answered as a points table."""
    by_name = _skills_by_name(skills)
    definitions = "\n".join(f"- {name}: {by_name[name].definition}" if by_name[name].definition else f"- {name}"
                            for name in combination["skills"])
    items = rubric(combination)
    table = "\n".join(f"| {item} | 0 or 1 |" for item in items)
    content = (
        f"Grade the following text, written to use the skills below in a text about "
        f"\"{combination['topic']}\".\n\nSkills:\n{definitions}\n\nText:\n\"\"\"\n{text}\n\"\"\"\n\n"
        "Award each criterion 1 point if it is fully met and 0 otherwise. Reply with this table filled in "
        "(write the points as N/1) and a final total row, and nothing else:\n\n| Criterion | Points |\n|---|---|\n"
        f"{table}\n| Total | N/{len(items)} |"
    )
    return [{"role": "user", "content": content}]


def parse_grade(output: str, n_items: int) -> list[int]:
    """The ``n_items`` points (each 0 or 1) in a grader's reply.

    Accepted, in this order: a markdown table whose rows carry ``N/1`` or a bare 0/1 in their last cell
    (a "total" row is skipped); lines such as ``Point earned: 1`` or ``Points: 0/1``; a JSON list of numbers.
    Anything else is an :class:`LLMOutputError` quoting the reply.
    """
    table: list[int] = []
    for line in output.splitlines():
        if "|" not in line:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or re.fullmatch(r":?-{2,}:?", cells[-1] or "-") or "total" in cells[0].lower():
            continue
        value = _point_value(cells[-1])
        if value is not None:
            table.append(value)
    lines = [_clip(float(m)) for m in re.findall(
        r"points?\s*(?:earned|awarded)?\s*[:=]\s*([01](?:\.\d+)?)\s*(?:/\s*1)?", output, flags=re.IGNORECASE)]
    listed: list[int] = []
    found = re.search(r"\[[\s\d.,]*\]", output)
    if found:
        try:
            listed = [_clip(float(v)) for v in json.loads(found.group(0))]
        except (ValueError, TypeError):
            listed = []
    for points in (table, lines, listed):
        if len(points) == n_items:
            return points
    readable = max((table, lines, listed), key=len)
    excerpt = output.strip().replace("\n", " ⏎ ")
    raise LLMOutputError(
        f"grader output has {len(readable)} readable points where the rubric has {n_items}: "
        f"{excerpt[:300]!r}; the grader must reply with the points table (one N/1 row per criterion)"
    )


def _point_value(cell: str) -> int | None:
    match = re.fullmatch(r"\**\s*([01](?:\.\d+)?)\s*(?:/\s*1(?:\.0+)?)?\s*\**(?:\s*points?)?", cell, flags=re.IGNORECASE)
    return _clip(float(match.group(1))) if match else None


def _clip(value: float) -> int:
    return 1 if value >= 0.5 else 0


def apply_programmatic_checks(points: Sequence[int], combination: dict[str, Any], text: str,
                              filter_explicit_name: bool = False) -> list[int]:
    """Replace the sentence point by a count; optionally zero a skill whose name appears in the text."""
    points = list(points)
    points[-1] = int(count_sentences(text) <= sentence_limit(combination["k"]))
    if filter_explicit_name:
        lowered = text.lower()
        for i, name in enumerate(combination["skills"]):
            if name.split("(")[0].strip().lower() in lowered:
                points[i] = 0
    return points


def combination_metrics(points: Sequence[int] | np.ndarray, k: int) -> dict[str, float]:
    """F, A and S (module docstring) of one combination's k + 3 points."""
    x = np.asarray(points, dtype=float)
    if x.shape != (k + 3,):
        raise LLMOutputError(f"expected {k + 3} points for k={k}, got {x.shape[0] if x.ndim else 0}")
    skill_points, rest = x[:k].sum(), x[k:].sum()
    return {
        "full_marks": float(x.sum() == k + 3),
        "all_skills": float(skill_points == k and rest >= 2),
        "skill_fraction": float(skill_points / k if rest == 3 else 0.0),
    }


def aggregate(points: np.ndarray, k: int) -> dict[str, dict[str, float]]:
    """Mean ± standard error over combinations of each metric (module docstring).

    ``points``: shape (G generation rounds, R grading rounds, C combinations, k + 3), entries 0/1.
    """
    x = np.asarray(points, dtype=float)
    if x.ndim != 4 or x.shape[-1] != k + 3 or x.shape[2] == 0:
        raise LLMOutputError(f"points must have shape (G, R, C, {k + 3}) with C >= 1, got {x.shape}")
    voted = np.rint(x.mean(axis=1) + 1e-9)  # (G, C, k+3); a 0.5 tie rounds up
    G, C = voted.shape[:2]
    per = {name: np.zeros((G, C)) for name in METRICS}
    for g in range(G):
        for c in range(C):
            for name, value in combination_metrics(voted[g, c], k).items():
                per[name][g, c] = value
    out = {}
    for name in METRICS:
        best = per[name].max(axis=0)  # (C,): best of the generation rounds
        se = float(best.std(ddof=1) / np.sqrt(C)) if C > 1 else 0.0
        out[name] = {"mean": float(best.mean()), "se": se, "n": C}
    return out


# ---- pipelines (JSONL in and out, resumable) ------------------------------------------------------


@dataclass
class GenerationSettings:
    temperature: float = 0.7
    max_tokens: int = 512
    rounds: int = 1  # independent generations per combination (the paper's best-of-3 uses 3)
    revise: bool = True  # the second, self-check turn


def generate(student: LLMBackend, combination: dict[str, Any], skills: Sequence[TextSkill],
             settings: GenerationSettings) -> dict[str, Any]:
    """One record: the combination plus ``generations`` (one per round: first reply, revised reply, text)."""
    messages = generation_messages(combination, skills)
    # the rounds are n samples of one request (a cached rerun returns the same n)
    firsts = student.chat(messages, temperature=settings.temperature, max_tokens=settings.max_tokens,
                          n=settings.rounds)
    rounds = []
    for first in firsts:
        final = first
        if settings.revise:
            conversation = [*messages, {"role": "assistant", "content": first}, revision_message(combination)]
            final = student.chat(conversation, temperature=settings.temperature, max_tokens=settings.max_tokens)[0]
        text = extract_answer(final) or extract_answer(first)
        rounds.append({"reply_0": first, "reply_1": final if settings.revise else None, "text": text})
    clean = dict(combination)
    return {**clean, "generator": student.describe(), "generations": rounds}


def grade(grader: LLMBackend, record: dict[str, Any], skills: Sequence[TextSkill], *, rounds: int = 3,
          filter_explicit_name: bool = False, max_tokens: int = 512) -> dict[str, Any]:
    """``record`` plus ``points``: shape (generation rounds, grading rounds, k + 3), and its ``metrics``.

    The ``rounds`` grading runs are one request with ``n = rounds`` (as Skill-Mix's grader calls are), sampled
    at temperature 0.7 so that they can differ (0 for a single round); the majority vote then settles points.
    """
    k = int(record["k"])
    n_items = k + 3
    points = []
    for generation in record["generations"]:
        replies = grader.chat(grading_messages(record, generation["text"], skills), temperature=0.7 if rounds > 1 else 0.0,
                              max_tokens=max_tokens, n=rounds)
        graded = []
        for reply in replies:
            try:
                raw = parse_grade(reply, n_items)
            except LLMOutputError as exc:
                raise LLMOutputError(f"combination {record.get('id')!r}: {exc}") from None
            graded.append(apply_programmatic_checks(raw, record, generation["text"], filter_explicit_name))
        points.append(graded)
    array = np.asarray(points)[:, :, None, :]  # (G, R, 1, k+3)
    metrics = {name: value["mean"] for name, value in aggregate(array, k).items()}
    return {**record, "grader": grader.describe(), "points": points, "metrics": metrics}


def summarize(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Aggregated metrics per k over graded records (each with ``points``)."""
    by_k: dict[int, list[dict[str, Any]]] = {}
    for record in records:
        if "points" not in record:
            raise DataError(f"record {record.get('id')!r} has no 'points': grade the generations first")
        by_k.setdefault(int(record["k"]), []).append(record)
    out = {}
    for k, group in sorted(by_k.items()):
        shapes = {np.asarray(r["points"]).shape for r in group}
        if len(shapes) != 1:
            raise DataError(f"k={k}: records have different numbers of generation/grading rounds {sorted(shapes)}")
        array = np.stack([np.asarray(r["points"]) for r in group], axis=2)  # (G, R, C, k+3)
        out[f"k={k}"] = aggregate(array, k)
    return out


def combination_from_dict(data: dict[str, Any], where: str) -> dict[str, Any]:
    """Validate a combination record read from JSONL (``id``, ``k``, ``skills``, ``topic``)."""
    missing = [key for key in ("id", "skills", "topic") if key not in data]
    if missing:
        raise DataError(f"{where}: record lacks {missing}")
    if not isinstance(data["skills"], list) or not data["skills"]:
        raise DataError(f"{where}: 'skills' must be a non-empty list")
    return {**data, "k": int(data.get("k", len(data["skills"])))}


__all__ = [
    "METRICS",
    "GenerationSettings",
    "TextSkill",
    "aggregate",
    "apply_programmatic_checks",
    "check_combination",
    "combination_metrics",
    "count_sentences",
    "extract_answer",
    "generate",
    "generation_messages",
    "grade",
    "grading_messages",
    "load_text_skills",
    "load_topics",
    "parse_grade",
    "rubric",
    "sample_combinations",
    "sentence_limit",
    "summarize",
]
