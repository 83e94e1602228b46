"""``skillit data inspect``: skills, counts and token lengths of a source, and the problems worth fixing.

One pass over the training source (and the validation source, if given). Flagged, not raised:

* a skill without validation data (it cannot be an evaluation or target skill);
* empty examples (an empty answer or text: training on them would fail);
* duplicated examples within a skill (same prompt and answer), and validation examples that also occur
  in the skill's training data (leakage).

Raised as :class:`~skillit.errors.DataError` with the file and line, as loading would: a corrupt JSONL
line, a missing column, a row without a skill. Duplicate detection keeps an 8-byte digest per example,
so the pass uses O(examples) memory (loading a streamed source does not).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from skillit.errors import DataError, SkillError, did_you_mean
from skillit.skills.example import Example
from skillit.skills.io.lengths import LengthUnit, example_length
from skillit.skills.io.loader import _check_options, is_held_out
from skillit.skills.io.records import Fields, Format, SkillRule, open_rows
from skillit.skills.io.spec import DataSpec, default

SHOWN = 3  # locations listed per problem


def _token_count(example: Example, tokenizer: LengthUnit) -> int:
    """Tokens of prompt + answer in the units of skillit's char or word tokenizer (words and punctuation
    marks), prompt and answer apart as the model encodes them, without ``<bos>``/``<eos>``."""
    return example_length(example, tokenizer)


@dataclass
class SkillReport:
    """Counts and problems of one skill."""

    name: str
    train: int = 0
    validation: int = 0
    tokens_min: int | None = None
    tokens_max: int = 0
    tokens_total: int = 0
    empty: int = 0
    empty_at: list[str] = field(default_factory=list)
    duplicates: int = 0
    duplicates_at: list[str] = field(default_factory=list)
    overlap: int = 0  # validation examples also in the training data
    overlap_at: list[str] = field(default_factory=list)
    too_long: int = 0  # examples over the report's max_length (if one was given)

    @property
    def tokens_mean(self) -> float:
        n = self.train + self.validation
        return self.tokens_total / n if n else 0.0

    def short_problems(self) -> list[str]:
        """The problems in a few words each (the table's column; :meth:`problems` has the locations)."""
        out = []
        if self.validation == 0:
            out.append("no validation")
        if self.train == 0:
            out.append("no training")
        for count, label in ((self.empty, "empty"), (self.duplicates, "duplicated"), (self.overlap, "in training")):
            if count:
                out.append(f"{count} {label}")
        return out

    def problems(self) -> list[str]:
        out = []
        if self.validation == 0:
            out.append("no validation data (cannot be an evaluation or target skill)")
        if self.train == 0:
            out.append("no training data (evaluation only)")
        if self.empty:
            out.append(f"{self.empty} empty example(s): {', '.join(self.empty_at)}")
        if self.duplicates:
            out.append(f"{self.duplicates} duplicated example(s): {', '.join(self.duplicates_at)}")
        if self.overlap:
            out.append(f"{self.overlap} validation example(s) also in training: {', '.join(self.overlap_at)}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "skill": self.name, "train": self.train, "validation": self.validation,
            "tokens": {"min": self.tokens_min or 0, "mean": round(self.tokens_mean, 2), "max": self.tokens_max},
            "empty": self.empty, "duplicates": self.duplicates, "overlap": self.overlap, "too_long": self.too_long,
            "problems": self.problems(),
        }


@dataclass
class DataReport:
    """What :func:`inspect_data` found, skill by skill (in order of first appearance)."""

    source: str
    validation_source: str | None
    holdout: float | None
    tokenizer: str
    skills: list[SkillReport]
    max_length: int | None = None

    @property
    def longest(self) -> int:
        return max((s.tokens_max for s in self.skills), default=0)

    def problems(self) -> list[str]:
        return [f"{s.name!r}: {problem}" for s in self.skills for problem in s.problems()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "validation": self.validation_source, "holdout": self.holdout,
            "tokenizer": self.tokenizer, "max_length": self.max_length,
            "examples": sum(s.train + s.validation for s in self.skills),
            "longest_tokens": self.longest, "skills": [s.to_dict() for s in self.skills], "problems": self.problems(),
        }


def inspect_data(
    train: Any,
    validation: Any = None,
    *,
    skill: SkillRule = default("skill_column"),
    prompt_field: str | None = default("prompt_field"),
    answer_field: str | None = default("answer_field"),
    text_field: str | None = default("text_field"),
    separator: str = default("separator"),
    holdout: float | None = default("holdout"),
    holdout_seed: int = default("holdout_seed"),
    tokenizer: LengthUnit = "word",
    format: Format = default("format"),
    skills: Sequence[str] | None = default("skills"),
    max_length: int | None = default("max_length"),
) -> DataReport:
    """Read a source once and report its skills, counts, token lengths and problems (same options as ``load_skills``,
    with :class:`~skillit.skills.io.spec.DataSpec`'s defaults; :func:`inspect_spec` inspects a spec).

    ``skills`` reports only these skills (in this order; a name the data lacks is a :class:`SkillError`);
    ``max_length`` counts, per skill, the examples longer than that many tokens (what ``task.params.max_length``
    would drop or truncate).
    """
    fields = Fields(skill, prompt_field, answer_field, text_field, separator)
    _check_options(holdout, validation, None, None)
    reports: dict[str, SkillReport] = {}
    seen: dict[str, int] = {}
    train_digests: dict[bytes, str] = {}  # digest of (skill, prompt, answer) -> first location
    val_digests: dict[bytes, str] = {}

    keep = set(skills) if skills is not None else None
    met: dict[str, None] = {}

    def visit(rows_source: Any, name: str, is_validation_source: bool) -> str:
        rows = open_rows(rows_source, format=format, name=name)
        fields.check_columns(rows.columns, rows.name)
        count = 0
        for where, row in rows:
            count += 1
            skill_name = fields.skill_of(row, where)
            if keep is not None and skill_name not in keep:
                met.setdefault(skill_name)
                continue
            report = reports.get(skill_name)
            if report is None:
                report = reports[skill_name] = SkillReport(skill_name)
            example = fields.example(row, skill_name, where)
            if is_validation_source:
                held = True
            else:
                position = seen.get(skill_name, 0)
                seen[skill_name] = position + 1
                held = holdout is not None and is_held_out(holdout_seed, skill_name, position, holdout)
            _count(report, example, where, held, train_digests, val_digests, tokenizer, max_length)
        if count == 0:
            raise DataError(f"{rows.name}: no examples (the file is empty or has only blank lines); check the path")
        return rows.name

    source = visit(train, "train data", False)
    validation_name = visit(validation, "validation data", True) if validation is not None else None
    if skills is not None:
        for wanted in skills:
            if wanted not in reports:
                raise SkillError(f"skill {wanted!r} (--skills) has no examples in {source}; "
                                 + did_you_mean(wanted, list({**met, **reports})))
        ordered = [reports[name] for name in skills]
    else:
        ordered = list(reports.values())
    return DataReport(source, validation_name, holdout, tokenizer, ordered, max_length)


def inspect_spec(spec: DataSpec, *, tokenizer: LengthUnit | None = None) -> DataReport:
    """Inspect the files a :class:`~skillit.skills.io.spec.DataSpec` names, read as loading it would (its fields,
    holdout, format, ``skills``), counting ``max_length`` in ``tokenizer`` tokens (default: the spec's unit).

    The caps (``max_examples``, ``max_validation``, ``max_examples_per_skill``) are not applied: the report
    describes the whole source."""
    return inspect_data(spec.train, spec.validation, **spec.field_options(), holdout=spec.holdout,
                        holdout_seed=spec.holdout_seed, tokenizer=tokenizer or spec.unit, format=spec.format,
                        skills=spec.skills, max_length=spec.max_length)


def _count(report: SkillReport, example, where: str, held: bool, train_digests: dict, val_digests: dict,
           tokenizer: LengthUnit, max_length: int | None = None) -> None:
    if held:
        report.validation += 1
    else:
        report.train += 1
    n = _token_count(example, tokenizer)
    if max_length is not None and n > max_length:
        report.too_long += 1
    report.tokens_total += n
    report.tokens_max = max(report.tokens_max, n)
    report.tokens_min = n if report.tokens_min is None else min(report.tokens_min, n)
    if not example.answer:
        report.empty += 1
        _note(report.empty_at, where)
    digest = hashlib.blake2b("\0".join((example.skill, example.prompt, example.answer)).encode(), digest_size=8).digest()
    mine, other = (val_digests, train_digests) if held else (train_digests, val_digests)
    if digest in mine:
        report.duplicates += 1
        _note(report.duplicates_at, f"{where} (= {mine[digest]})")
    else:  # the first of its kind in its split: does the other split have it too?
        mine[digest] = where
        if digest in other:
            report.overlap += 1
            _note(report.overlap_at, f"{where} (= {other[digest]})")


def _note(places: list[str], where: str) -> None:
    if len(places) < SHOWN:
        places.append(where)
    elif len(places) == SHOWN:
        places.append("...")
