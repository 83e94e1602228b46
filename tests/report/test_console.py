"""`reports_errors`: the one way a command ends on a SkillitError (plain message on stderr, exit 2)."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from skillit.errors import DataError
from skillit.report.console import reports_errors


def _app() -> typer.Typer:
    app = typer.Typer()
    seen: list[int] = []

    @app.command()
    @reports_errors
    def count(n: int = typer.Option(..., "--n", help="how many")) -> None:
        """Fails for n < 0."""
        if n < 0:
            raise DataError(f"--n must be >= 0, got {n} [b]bold[/b]")
        seen.append(n)
        print(f"counted {n}")

    app.seen = seen  # type: ignore[attr-defined]
    return app


def test_a_skillit_error_prints_one_plain_message_and_exits_2():
    result = CliRunner().invoke(_app(), ["--n", "-3"])
    assert result.exit_code == 2
    assert "error: --n must be >= 0, got -3 [b]bold[/b]" in result.stderr  # markup printed as it is
    assert "Traceback" not in result.output


def test_the_wrapped_command_keeps_its_signature_and_result():
    app = _app()
    result = CliRunner().invoke(app, ["--n", "4"])
    assert result.exit_code == 0 and result.stdout.strip() == "counted 4"
    assert app.seen == [4]  # type: ignore[attr-defined]
    assert "how many" in CliRunner().invoke(app, ["--help"]).stdout  # typer read the option from the wrapped function


def test_other_exceptions_are_not_swallowed():
    app = typer.Typer()

    @app.command()
    @reports_errors
    def boom() -> None:
        raise ValueError("a bug, not a user error")

    result = CliRunner().invoke(app, [])
    assert isinstance(result.exception, ValueError)
