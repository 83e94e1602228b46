"""``load_skills``: your own data (JSONL, Parquet, Hugging Face ``datasets``) as a :class:`SkillSet`.

Each row becomes an example of the skill named by a column (or a function of the row). Validation is
either a second source, or held out of the training source by a seeded per-skill rule:

    example j of skill s (j = its position among s's rows, in source order) is held out  iff
        blake2b(f"{seed}\\0{s}\\0{j}") / 2^64 < fraction

The rule depends only on (seed, skill, j), so it is the same whether the data is loaded into memory or
streamed, whatever the other skills are, and whether or not other files are appended to the source.

Map-style loading keeps the examples (or, for a ``datasets.Dataset``, an index of row numbers per skill)
in memory and the sampler shuffles each epoch. Streaming loading (the default for an ``IterableDataset``
or any non-list iterable; ``streaming=True`` for files) splits the source once into per-skill shard
files (:mod:`skillit.skills.io.shards`), so memory is O(number of skills).
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from skillit.errors import DataError, SkillError, did_you_mean
from skillit.skills.example import Example
from skillit.skills.io.lengths import LengthLimit, LengthUnit, TooLong
from skillit.skills.io.records import DatasetRows, Fields, Format, ListRows, Rows, SkillRule, open_rows
from skillit.skills.io.shards import build_shards, cache_key, default_cache_dir
from skillit.skills.io.spec import DataSpec, default
from skillit.skills.skillset import Skill, SkillSet
from skillit.skills.sources import ListSource

_TWO_64 = float(2**64)


def is_held_out(seed: int, skill: str, position: int, fraction: float) -> bool:
    """The seeded per-skill holdout rule (see the module docstring)."""
    digest = hashlib.blake2b(f"{seed}\0{skill}\0{position}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _TWO_64 < fraction


class DatasetSource:
    """A skill's rows of a map-style ``datasets.Dataset``: an index of row numbers, rows read on demand."""

    def __init__(self, rows: DatasetRows, indices: Sequence[int], fields: Fields, skill: str,
                 limit: LengthLimit | None = None):
        self._rows = rows
        self._limit = limit  # re-applied to each row read (only kept rows are indexed)
        self._indices = array("q", indices)  # 8 bytes per example
        self._fields = fields
        self.skill = skill

    @property
    def size(self) -> int:
        return len(self._indices)

    def __len__(self) -> int:
        return len(self._indices)

    def get(self, index: int) -> Example:
        row_number = self._indices[index]
        where = self._rows.where(row_number)
        example = _checked(self._fields.example(self._rows.row(row_number), self.skill, where), where, self._fields)
        if self._limit is not None:
            example = self._limit.apply(example, where, count=False) or example  # kept rows are never dropped
        return example


def load_skills(
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
    skills: Sequence[str] | None = default("skills"),
    max_examples: int | None = default("max_examples"),
    max_validation: int | None = default("max_validation"),
    max_examples_per_skill: Mapping[str, int] | None = default("max_examples_per_skill"),
    streaming: bool | None = None,
    cache_dir: str | Path | None = default("cache_dir"),
    format: Format = default("format"),
    where: str = "",
    max_length: int | None = default("max_length"),
    too_long: TooLong = default("too_long"),
    length_unit: LengthUnit = "word",
) -> SkillSet:
    """Load training (and validation) data as skills.

    The keyword defaults are :class:`~skillit.skills.io.spec.DataSpec`'s (:func:`load_spec` loads a spec).
    ``streaming`` defaults to ``None`` here (decided by the source's kind), and ``length_unit`` to ``word``.

    Args:
        train: a ``.jsonl``/``.parquet`` path, a ``datasets.Dataset``, a ``datasets.IterableDataset``, a list
            of dicts or any iterable of dicts.
        validation: the same kinds, or ``None`` (then ``holdout`` decides, or skills have no validation).
        skill: the column holding the skill name, or a function ``row -> name``.
        prompt_field, answer_field, text_field, separator: see :class:`~skillit.skills.io.records.Fields`.
        holdout: fraction in (0, 1) of each skill's training rows held out for validation (seeded rule).
        holdout_seed: seed of the holdout rule.
        skills: keep only these skills, in this order (a name the data lacks is a :class:`SkillError`).
        max_examples: keep at most this many training examples per skill (the first, in source order).
        max_validation: keep at most this many validation examples per skill (the first).
        max_examples_per_skill: ``{skill: n}``: these skills keep at most their own n training examples (the
            first), overriding ``max_examples`` — e.g. a small target pool beside full candidate pools.
        streaming: split the source into per-skill shards instead of loading it into memory; default:
            ``True`` for an ``IterableDataset`` or a non-list iterable, ``False`` otherwise.
        cache_dir: where streamed files' shards are cached (default ``$SKILLIT_CACHE/shards`` or
            ``~/.cache/skillit/shards``); streams without a stable identity shard to a temporary folder.
        format: ``auto`` (from the suffix), ``jsonl`` or ``parquet``.
        where: how messages name the place the options came from (e.g. ``"task.params"``).
        max_length, too_long, length_unit: examples longer than ``max_length`` tokens (``word`` or ``char``
            units of skillit's tokenizers) are dropped, truncated or an error
            (:mod:`skillit.skills.io.lengths`); what was done is in ``metadata["length_limit"]``.
    """
    fields = Fields(skill, prompt_field, answer_field, text_field, separator)
    _check_options(holdout, validation, max_examples, max_validation, max_examples_per_skill)
    train_cap = TrainCap(max_examples, dict(max_examples_per_skill or {}))
    train_rows = open_rows(train, format=format, name="train data")
    fields.check_columns(train_rows.columns, train_rows.name)
    keep = _keep_set(skills)
    limit = LengthLimit(max_length, too_long, length_unit) if max_length is not None else None
    stream = streaming if streaming is not None else not (train_rows.map_style or train_rows.path is not None)
    if stream and isinstance(train_rows, ListRows):
        stream = streaming is True  # an explicit request shards even a list (tests, small demos)

    met: dict[str, None] = {}  # every skill name in the data, selected or not
    if stream:
        order, train_sources, val_examples, alphabet = _stream(
            train_rows, fields, holdout, holdout_seed, keep, train_cap, max_validation, cache_dir, met, limit)
    else:
        order, train_sources, val_examples, alphabet = _in_memory(
            train_rows, fields, holdout, holdout_seed, keep, train_cap, max_validation, met, limit)

    if validation is not None:
        val_rows = open_rows(validation, format=format, name="validation data")
        fields.check_columns(val_rows.columns, val_rows.name)
        val_examples = {}
        known = dict.fromkeys(order)
        for _, name, example in _split(val_rows, fields, None, 0, keep, max_validation, TrainCap(None),
                                       validation_source=True,
                                       names=met, limit=limit):
            if name not in known:
                known[name] = None
                order.append(name)
            val_examples.setdefault(name, []).append(example)
            alphabet.update(example.prompt)
            alphabet.update(example.answer)

    if train_cap.per_skill:
        _check_capped_skills(train_cap.per_skill, list(dict.fromkeys([*order, *met])), skills, train_rows, where)
    if skills is not None:
        _check_selection(skills, order, list(dict.fromkeys([*order, *met])), train_rows, validation, where)
        order = list(skills)
    if not order:
        raise DataError(f"{train_rows.name}: no examples")
    built = [
        Skill(name=name, train=train_sources.get(name), validation=val_examples.get(name) or None)
        for name in order
        if name in train_sources or val_examples.get(name)
    ]
    _check_not_empty(order, built, train_rows, holdout)
    if limit is not None:
        emptied = [name for name in limit.dropped if name not in {skill.name for skill in built}]
        if emptied and (skills is None or emptied[0] in skills):
            raise DataError(
                f"{train_rows.name}: every example of skill {emptied[0]!r} is longer than max_length "
                f"{limit.max_length} ({limit.unit} tokens); raise max_length or use too_long: truncate"
            )
    metadata = {
        "task": "data",
        "source": train_rows.name if train_rows.path is None else str(train_rows.path),
        "alphabet": "".join(sorted(alphabet)),
        "streaming": stream,
    }
    if limit is not None:  # counts of dropped/truncated examples (a stream's cached shards: the validation's only)
        metadata["length_limit"] = limit.summary()
    return SkillSet(built, metadata=metadata)


def load_spec(spec: DataSpec, *, where: str = "") -> SkillSet:
    """Load the files a :class:`~skillit.skills.io.spec.DataSpec` names, with its options (``where``: how
    messages name the place the spec came from, e.g. ``"task.params.skills"``)."""
    return load_skills(
        spec.train,
        spec.validation,
        **spec.field_options(),
        holdout=spec.holdout,
        holdout_seed=spec.holdout_seed,
        skills=spec.skills,
        max_examples=spec.max_examples,
        max_validation=spec.max_validation,
        max_examples_per_skill=spec.max_examples_per_skill,
        streaming=spec.streaming,
        cache_dir=spec.cache_dir,
        format=spec.format,
        where=where,
        max_length=spec.max_length,
        too_long=spec.too_long,
        length_unit=spec.unit,
    )


# ---- the two loading modes ---------------------------------------------------------------------------
def _in_memory(rows: Rows, fields: Fields, holdout, seed, keep, max_examples, max_validation, met, limit=None):
    order: dict[str, None] = {}  # skills in order of first appearance
    val: dict[str, list[Example]] = {}
    alphabet: set[str] = set()
    sources: dict[str, Any] = {}
    if isinstance(rows, DatasetRows):  # an index of row numbers per skill; rows are read on demand
        indices: dict[str, list[int]] = {}
        for split, name, example, number in _split(rows, fields, holdout, seed, keep, max_validation, max_examples,
                                                   with_position=True, names=met, limit=limit):
            order.setdefault(name)
            alphabet.update(example.prompt)
            alphabet.update(example.answer)
            if split == "validation":
                val.setdefault(name, []).append(example)
            else:
                indices.setdefault(name, []).append(number)
        sources = {name: DatasetSource(rows, idx, fields, name, limit) for name, idx in indices.items()}
        return list(order), sources, val, alphabet
    examples: dict[str, list[Example]] = {}
    for split, name, example in _split(rows, fields, holdout, seed, keep, max_validation, max_examples, names=met,
                                       limit=limit):
        order.setdefault(name)
        alphabet.update(example.prompt)
        alphabet.update(example.answer)
        (val if split == "validation" else examples).setdefault(name, []).append(example)
    return list(order), {name: ListSource(ex) for name, ex in examples.items()}, val, alphabet


def _stream(rows: Rows, fields: Fields, holdout, seed, keep, max_examples, max_validation, cache_dir, met, limit=None):
    directory = None
    if rows.path is not None and (isinstance(fields.skill, str)):
        stat = rows.path.stat()
        key = cache_key({
            "path": str(rows.path.resolve()), "size": stat.st_size, "mtime": stat.st_mtime_ns,
            "fields": [fields.skill, fields.prompt, fields.answer, fields.text, fields.separator],
            "holdout": holdout, "seed": seed, "keep": sorted(keep) if keep else None,
            "max_examples": max_examples.key(), "max_validation": max_validation,
            **({"length": [limit.max_length, limit.too_long, limit.unit]} if limit is not None else {}),
        })
        directory = Path(cache_dir) / key if cache_dir is not None else default_cache_dir() / key
    # else: no stable identity (a stream, a skill function): a temporary folder, removed at exit
    manifest = build_shards(
        lambda: _split(rows, fields, holdout, seed, keep, max_validation, max_examples, names=met, limit=limit),
        directory=directory,
        temp_parent=Path(cache_dir) if cache_dir is not None else None,
    )
    sources = {name: manifest.source(name) for name in manifest.skills if manifest.counts.get(name, 0) > 0}
    return list(manifest.skills), sources, dict(manifest.validation), set(manifest.alphabet)


def _split(rows: Rows, fields: Fields, holdout, seed, keep, max_validation, max_examples, *,
           validation_source: bool = False, with_position: bool = False, names: dict | None = None,
           limit: LengthLimit | None = None) -> Iterator[tuple]:
    """``(split, skill, example[, row number])`` per kept row, in source order (holdout and caps applied).

    Every row of a ``validation_source`` is validation; otherwise row j of a skill is validation iff the
    holdout rule says so. Caps keep the first ``max_examples.of(skill)`` training / ``max_validation`` validation
    rows (``max_examples``: a :class:`TrainCap`; a validation source passes ``TrainCap(None)``).
    ``names`` collects every skill name met, kept or not (for "did you mean" messages). ``limit`` drops or
    truncates over-long examples after the holdout decision and before the caps.
    """
    seen: dict[str, int] = {}
    kept: dict[tuple[str, str], int] = {}
    for number, (where, row) in enumerate(rows):
        name = fields.skill_of(row, where)
        if keep is not None and name not in keep:
            if names is not None:
                names.setdefault(name)
            continue
        position = seen.get(name, 0)
        seen[name] = position + 1
        example = _checked(fields.example(row, name, where), where, fields)
        held_out = validation_source or (holdout is not None and is_held_out(seed, name, position, holdout))
        split = "validation" if held_out else "train"
        cap = max_validation if held_out else max_examples.of(name)
        count = kept.get((split, name), 0)
        if cap is not None and count >= cap:
            continue
        if limit is not None:  # after the cap check: only rows that would be kept count as dropped
            example = limit.apply(example, where)
            if example is None:
                continue
        kept[(split, name)] = count + 1
        yield (split, name, example, number) if with_position else (split, name, example)


def _checked(example: Example, where: str, fields: Fields) -> Example:
    if not example.answer:
        column = fields.text if fields.text is not None else fields.answer
        raise DataError(
            f"{where}: skill {example.skill!r} has an empty {column!r}; an example needs a non-empty answer "
            "(remove the row; `skillit data inspect` lists every empty and duplicated example)"
        )
    return example


# ---- checks ------------------------------------------------------------------------------------------
class TrainCap:
    """The training-example cap of each skill: ``per_skill[name]`` where given, else ``default`` (None: no cap)."""

    def __init__(self, default: int | None, per_skill: Mapping[str, int] | None = None):
        self.default = default
        self.per_skill = dict(per_skill or {})

    def of(self, name: str) -> int | None:
        return self.per_skill.get(name, self.default)

    def key(self) -> Any:
        """The cap in a shard cache key: the bare default when no skill has its own (keys made before stay valid)."""
        return [self.default, sorted(self.per_skill.items())] if self.per_skill else self.default


def _check_options(holdout, validation, max_examples, max_validation, per_skill=None) -> None:
    if holdout is not None:
        if not 0 < holdout < 1:
            raise DataError(f"holdout must be a fraction strictly between 0 and 1, got {holdout}")
        if validation is not None:
            raise DataError("give either a validation source or a holdout fraction, not both")
    for label, value in (("max_examples", max_examples), ("max_validation", max_validation)):
        if value is not None and value < 1:
            raise DataError(f"{label} must be >= 1, got {value}")
    if per_skill is not None and not isinstance(per_skill, Mapping):
        raise DataError(f"max_examples_per_skill must map skill names to counts, got {per_skill!r}")
    for name, value in (per_skill or {}).items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise DataError(f"max_examples_per_skill[{name!r}] must be an integer >= 1, got {value!r}")


def _check_capped_skills(per_skill: Mapping[str, int], known: list[str], skills: Sequence[str] | None, rows: Rows,
                         where: str) -> None:
    """Every skill given its own cap exists in the data (and is selected, when ``skills`` selects)."""
    place = f" ({where.rsplit('.', 1)[0]}.max_examples_per_skill)" if where else ""
    for name in per_skill:
        if name not in known:
            raise DataError(
                f"{rows.name}: max_examples_per_skill{place} names skill {name!r}, which the data does not have; "
                f"{did_you_mean(name, known)}"
            )
        if skills is not None and name not in skills:
            raise DataError(
                f"max_examples_per_skill{place} caps skill {name!r}, which `skills` does not select; add it to "
                "skills or remove its cap"
            )


def _keep_set(skills: Sequence[str] | None) -> set[str] | None:
    if skills is None:
        return None
    if isinstance(skills, str):
        raise DataError(f"skills must be a list of names, got the string {skills!r}")
    if not skills:
        raise DataError("skills is an empty list; leave it out to keep every skill")
    dupes = sorted({s for s in skills if list(skills).count(s) > 1})
    if dupes:
        raise DataError(f"skills lists {dupes} more than once")
    return set(skills)


def _check_selection(skills: Sequence[str], found: list[str], known: list[str], rows: Rows, validation: Any,
                     where: str) -> None:
    place = f" in {where}" if where else ""
    present = set(found)
    sources = rows.name + (" or the validation data" if validation is not None else "")
    for name in skills:
        if name not in present:
            raise SkillError(
                f"skill {name!r} named{place} has no examples in {sources}; "
                + (did_you_mean(name, known) if known else "the data has no skills")
            )


def _check_not_empty(order: list[str], built: list[Skill], rows: Rows, holdout: float | None) -> None:
    names = {skill.name for skill in built}
    for name in order:
        if name not in names:
            why = f" (holdout={holdout} held out every example and the cap left none)" if holdout else ""
            raise SkillError(f"skill {name!r} of {rows.name} has no training and no validation examples{why}")
