"""The README stays a true front door: its Python runs as written, its config validates, the commands and
pages it names exist, and it stays short and self-contained (so the README cannot rot)."""

import math
import re
from pathlib import Path

import typer

from skillit.cli import app
from skillit.experiment.config import parse_config

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_blocks_run(capsys):
    blocks = _blocks("python")
    assert any("train(model" in block for block in blocks)
    namespace: dict = {}
    for block in blocks:  # every Python block runs, in order, as one script
        exec(compile(block, "README.md", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "small" in printed and "large" in printed
    result = namespace["result"]
    # the first mixture is softmax(η · row sums of A) = softmax(0.5 · [1.5, 1.0]): p_small = 1 / (1 + e^-0.25)
    first = result.records[0]["weights"]
    assert math.isclose(first["small"], 1 / (1 + math.exp(-0.25)), rel_tol=1e-9)  # 0.5622
    assert math.isclose(first["large"], 1 / (1 + math.exp(0.25)), rel_tol=1e-9)  # 0.4378
    final = result.final["weights"]
    assert set(final) == {"small", "large"} and math.isclose(sum(final.values()), 1.0)
    assert result.final["step"] == 200


def test_readme_config_validates():
    (config_text,) = _blocks("yaml")
    config = parse_config(config_text, "README.md")
    assert config.name == "my-experiment"
    assert list(config.methods) == ["skill-it", "no-graph", "static", "floored", "two-stage", "stratified", "random"]


def test_readme_commands_exist():
    text = README.read_text()
    makefile = (REPO / "Makefile").read_text()
    for target in ("demo", "test"):
        assert f"make {target}" in text and re.search(rf"^{target}:", makefile, flags=re.M)
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    named = set(re.findall(r"`skillit ([a-z][a-z-]*)", text))
    assert {"run", "configs", "policies"} <= named
    assert named <= set(commands), f"the README names commands skillit lacks: {sorted(named - set(commands))}"


def test_readme_links_point_at_pages_that_exist():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text())
    assert links
    missing = [link for link in links if not (REPO / link).exists()]
    assert not missing, missing


def test_readme_is_a_short_front_door():
    text = README.read_text()
    assert len(text.splitlines()) <= 150
    assert "../shared" not in text  # the shared data sits beside the checkout for tests, not with users
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), "dated measurements belong in docs/benchmarks.md or docs/results.md"
