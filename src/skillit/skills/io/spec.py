"""``DataSpec``: the options of a data source read as skills, declared once.

One typed schema serves every reader of your own data: the ``data`` task's ``task.params`` (which adds
its task-level keys, :class:`skillit.tasks.data.DataParams`), :func:`~skillit.skills.io.load_spec` (the
loader), :func:`~skillit.skills.io.inspect_spec` (the inspector) and ``skillit data inspect`` (whose
options take their defaults and help text from the fields here). A field, its default and its check
live only here; :func:`~skillit.skills.io.load_skills` and :func:`~skillit.skills.io.inspect_data`, the
Python functions that also read lists, ``datasets`` objects and skill functions, take their keyword
defaults from :func:`default`.

    task:
      name: data
      params: {train: data/train.jsonl, skill_column: skill, text_field: text, max_examples: 2000}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from skillit.skills.io.lengths import LengthUnit


class DataSpec(BaseModel):
    """A JSONL/Parquet source whose examples name their skill in a column (the keys of ``task.params``)."""

    model_config = ConfigDict(extra="forbid")

    train: str = Field(description="training data: a .jsonl (.gz) or .parquet file")
    validation: str | None = Field(None, description="validation data file; unset: use holdout (or no validation)")
    format: Literal["auto", "jsonl", "parquet"] = Field(
        "auto", description="auto (from the suffix), jsonl, parquet")
    skill_column: str = Field("skill", min_length=1, description="the column naming each example's skill")
    prompt_field: str | None = Field("prompt", description="prompt column (None: no prompt)")
    answer_field: str | None = Field("answer", description="answer column (the scored part)")
    text_field: str | None = Field(None, description="plain-text column; when set, prompt/answer are not used")
    separator: str = Field("", description="appended to a non-empty prompt, e.g. ' ' or '\\nOutput: '")
    holdout: float | None = Field(None, gt=0, lt=1, description="fraction of each skill held out for validation")
    holdout_seed: int = Field(0, description="seed of the holdout rule (fixed across run seeds)")
    skills: list[str] | None = Field(None, min_length=1, description="keep only these skills, in this order")
    max_examples: int | None = Field(None, ge=1, description="at most this many training examples per skill")
    max_validation: int | None = Field(None, ge=1, description="at most this many validation examples per skill")
    max_examples_per_skill: dict[str, int] | None = Field(
        None, description="{skill: n}: these skills keep their first n training examples, overriding max_examples "
        "(e.g. a small target pool beside full candidate pools)")
    streaming: bool = Field(False, description="shard the file per skill on disk instead of loading it")
    cache_dir: str | None = Field(None, description="shard cache (default $SKILLIT_CACHE/shards)")
    max_length: int | None = Field(None, ge=1, description="longest example kept, in tokens (prompt + answer)")
    too_long: Literal["drop", "truncate", "error"] = Field(
        "drop", description="an example over max_length: drop it, truncate it (keep the answer, cut the prompt's "
        "start) or stop with an error")
    length_unit: LengthUnit | None = Field(
        None, description="the tokens max_length counts: word or char (default: the model's tokenizer; word when "
        "the data is read without a model)")

    @model_validator(mode="after")
    def _check(self) -> DataSpec:
        if self.holdout is not None and self.validation is not None:
            raise ValueError("give either validation (a file) or holdout (a fraction), not both")
        if self.text_field is None and self.answer_field is None:
            raise ValueError("set answer_field (with prompt_field) or text_field")
        if self.length_unit is not None and self.max_length is None:
            raise ValueError("length_unit needs max_length (the longest example kept)")
        return self

    @property
    def unit(self) -> LengthUnit:
        """The tokens ``max_length`` counts: ``length_unit``, else ``word``."""
        return self.length_unit or "word"

    def field_options(self) -> dict[str, Any]:
        """How a row becomes an example: :class:`~skillit.skills.io.records.Fields`' keyword arguments as
        ``load_skills`` and ``inspect_data`` spell them (``skill`` is the skill column)."""
        return dict(skill=self.skill_column, prompt_field=self.prompt_field, answer_field=self.answer_field,
                    text_field=self.text_field, separator=self.separator)


def default(name: str) -> Any:
    """The default of ``DataSpec``'s field ``name`` (the one place it is declared)."""
    return DataSpec.model_fields[name].default


def description(name: str) -> str:
    """The description of ``DataSpec``'s field ``name`` (``skillit data inspect``'s help text)."""
    return DataSpec.model_fields[name].description or ""


__all__ = ["DataSpec", "default", "description"]
