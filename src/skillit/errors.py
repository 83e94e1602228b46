"""One error tree for everything skillit raises on purpose.

Every message says what is wrong, where (file, line, key or skill name) and how to fix it.
The CLI turns any :class:`SkillitError` into one printed message and exit code 2.
"""

from __future__ import annotations

import difflib
import math


class SkillitError(Exception):
    """Base class of every error skillit raises deliberately."""


class ConfigError(SkillitError):
    """A configuration file or value is invalid (unknown key, bad value, missing file)."""


class SkillError(SkillitError):
    """A skill is missing, unknown, duplicated or has no data where data is needed."""


class GraphError(SkillitError):
    """A skills graph is malformed: wrong shape, unknown skill names, non-finite entries."""


class PolicyError(SkillitError):
    """A mixing policy is unknown, misconfigured, or its state cannot be restored."""


class DataError(SkillitError):
    """Input data is unreadable or inconsistent (corrupt line, missing column, exhausted source)."""


class CheckpointError(SkillitError):
    """A checkpoint or run directory cannot be resumed."""


class OutputError(SkillitError):
    """An output path cannot be used or written (the current folder, a file, read-only, a full disk)."""


def did_you_mean(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """A short hint naming the closest valid choice, or all choices when none is close."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    if close:
        return f"did you mean {close[0]!r}? (choices: {', '.join(choices)})"
    return f"choices: {', '.join(choices)}"


def missing_model_folder(value: str, where: str) -> str:
    """The message for a Hugging Face model or tokenizer folder (``model: {kind: hf}``) that is not there."""
    return (f"{where}: {value!r} is not a folder on this machine; give the folder that save_pretrained wrote "
            "(config.json and the weights; a relative path is read from the config file's folder). A model on "
            "the Hugging Face hub is not downloaded by skillit: fetch it first (huggingface-cli download ID "
            "--local-dir DIR) and give DIR")


def pydantic_details(exc) -> str:
    """A pydantic ValidationError as one line: ``key: message; key: message``."""
    parts = []
    for error in exc.errors():
        key = ".".join(str(x) for x in error["loc"]) or "value"
        parts.append(f"{key}: {pydantic_message(error)}")
    return "; ".join(parts)


def pydantic_message(error) -> str:
    """The message of one of a ValidationError's ``errors()``, as :func:`pydantic_details` words it."""
    message = "unknown key (remove it or check its spelling)" if error["type"] == "extra_forbidden" else error["msg"]
    if error["type"] == "value_error" and error.get("ctx", {}).get("error") is not None:
        message = str(error["ctx"]["error"])  # our own validator's message, without pydantic's "Value error, "
    if error["type"] == "int_from_float":  # 2.5 where a count is meant: say which whole numbers are near
        value = float(error["input"])
        message = f"expected a whole number, got {value:g}; give {math.floor(value)} or {math.ceil(value)}"
    return message


class LLMError(SkillitError):
    """A language-model backend failed: unreachable server, rejected key, unusable reply, bad model output."""
