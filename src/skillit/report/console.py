"""How every skillit command ends on a :class:`~skillit.errors.SkillitError`: one plain-text message, exit 2.

Plain text: the message is never read as rich markup, so user content such as a skill named ``[b]mul``
is printed as it is (with markup it vanished). Shared by ``skillit.cli`` and the command modules it
registers (``skillit.llm.cli``, ``skillit.discover.cli``).
"""

from __future__ import annotations

from typing import NoReturn

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


__all__ = ["err_console", "fail", "print_error"]
