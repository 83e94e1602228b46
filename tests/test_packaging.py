"""The distribution name: "skillit" on the package index is another project, so ours is named otherwise.

The import name and the command stay ``skillit``; every install line in the docs installs from the clone
(``pip install -e ".[EXTRA]"``) or names a package that is not ours (``pip install transformers``).
"""

from __future__ import annotations

import re
from pathlib import Path

from skillit.experiment.run_dir import DISTRIBUTION

ROOT = Path(__file__).resolve().parents[1]


def test_the_distribution_name_is_ours_and_the_command_stays_skillit():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # no tomllib: Python 3.10 is supported
    project = text[text.index("\n[project]\n"):text.index("\n[project.optional-dependencies]\n")]
    assert re.findall(r'^name = "(.*)"$', project, flags=re.M) == [DISTRIBUTION] == ["skillit-mix"]
    assert '\n[project.scripts]\nskillit = "skillit.cli:main"\n' in text


def test_no_install_line_installs_the_other_projects_skillit():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "src").rglob("*.py"))]
    lines = [(page.name, line) for page in pages for line in page.read_text(encoding="utf-8").splitlines()]
    # `pip install skillit`, `pip install 'skillit[hf]'`, `pip install "skillit[...]"`: the robot-skills package
    bad = [(name, line) for name, line in lines if re.search(r"pip install\s+['\"]?skillit\b(?!-mix)", line)]
    assert bad == []
    assert any("pip install -e \".[hf]\"" in line for name, line in lines if name == "stacks.md")
