"""The base of skillit's pydantic schemas (a config's sections, a policy's parameters)."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class StrictModel(BaseModel):
    """Unknown keys are errors, and so is YAML's ``true`` given for a number: ``window: true`` or ``steps: true``
    is refused, not read as 1."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _booleans_are_not_numbers(cls, value: Any, info: Any) -> Any:
        if isinstance(value, bool) and info.field_name is not None:
            annotation = cls.model_fields[info.field_name].annotation
            kinds = set(typing.get_args(annotation)) | {annotation}
            if bool not in kinds and kinds & {int, float}:
                raise ValueError(f"expected a number, got {str(value).lower()} (true/false is not a number)")
        return value
