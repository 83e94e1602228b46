"""The README's Python example runs as written (so the README cannot rot)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_api_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    example = next(block for block in blocks if "train(model" in block)
    exec(compile(example, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "small" in printed and "large" in printed
