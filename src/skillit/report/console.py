"""How every skillit command ends on a :class:`~skillit.errors.SkillitError`: one plain-text message, exit 2.

Plain text: the message is never read as rich markup, so user content such as a skill named ``[b]mul``
is printed as it is (with markup it vanished). Shared by ``skillit.cli`` and the command modules it
registers (``skillit.llm.cli``, ``skillit.discover.cli``); :func:`reports_errors` is the one handler their
commands use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from skillit.errors import SkillitError

err_console = Console(stderr=True)


def print_error(exc: SkillitError) -> None:
    """Print ``error: <message>`` as plain text on stderr."""
    err_console.print(Text.assemble(("error:", "bold red"), " ", str(exc)), highlight=False, soft_wrap=True)


def fail(exc: SkillitError) -> NoReturn:
    """Inside a typer command: print the error (:func:`print_error`) and exit with code 2."""
    print_error(exc)
    raise typer.Exit(2)


Command = TypeVar("Command", bound=Callable[..., object])


def reports_errors(command: Command) -> Command:
    """Decorate a typer command so that a :class:`SkillitError` it raises ends it through :func:`fail`.

    Put it below ``@app.command(...)``; typer reads the wrapped function's signature (``functools.wraps``).
    """

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except SkillitError as exc:
            fail(exc)

    return run  # type: ignore[return-value]


__all__ = ["err_console", "fail", "print_error", "reports_errors"]
