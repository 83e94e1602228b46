"""A run on plain text (``text_field``: language modelling) says so in summary.json, and its readers show loss and
bits per token, not an exact-match accuracy of the whole text that stays at 0."""

import io
import json
import math

from rich.console import Console

from skillit.experiment.config import parse_config
from skillit.experiment.runner import run_experiment
from skillit.report.table import comparison_tables

CONFIG = """\
name: plain
task: {{name: data, params: {{train: {train}, validation: {validation}, text_field: text}}}}
model: {{n_layer: 1, n_head: 2, n_embd: 16, tokenizer: char}}
training: {{steps: 4, batch_size: 2, round_steps: 2, eval_every: 2}}
seeds: [0, 1]
methods: {{stratified: {{}}, random: {{}}}}
"""


def _write(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_a_text_field_run_shows_loss_and_bits_per_token(tmp_path):
    train = _write(tmp_path / "train.jsonl", [{"skill": s, "text": t} for s, t in
                                              [("a", "the cat sat"), ("a", "a cat ran"), ("b", "12 + 3 = 15"),
                                               ("b", "4 + 4 = 8")] * 4])
    validation = _write(tmp_path / "validation.jsonl", [{"skill": "a", "text": "the cat ran"},
                                                        {"skill": "b", "text": "2 + 2 = 4"}])
    out = tmp_path / "out"
    summary = run_experiment(parse_config(CONFIG.format(train=train, validation=validation)), out)
    assert summary["whole_text"] is True
    assert json.loads((out / "summary.json").read_text())["whole_text"] is True
    assert (out / "bits.png").is_file() and not (out / "accuracy.png").exists()
    console = Console(width=240, record=True, file=io.StringIO())
    for table in comparison_tables(summary, 240):
        console.print(table)
    text = console.export_text()
    header = next(line for line in text.splitlines() if line.startswith("┃ method"))
    assert "bits/tok" in header and "acc %" not in header
    loss_a = summary["methods"]["random"]["final"]["per_skill"]["a"]["loss"]
    random_row = next(line for line in text.splitlines() if line.startswith("│ random"))
    assert f"{loss_a:.3f} / {loss_a / math.log(2):.2f}" in random_row  # per skill: loss / bits per token
    html = (out / "report.html").read_text()
    assert "Bits per token per skill" in html and "Accuracy per skill" not in html


def test_a_prompt_answer_run_is_not_whole_text(tmp_path):
    rows = [{"skill": s, "prompt": "q", "answer": a} for s, a in [("a", "1"), ("b", "2")] * 4]
    train = _write(tmp_path / "train.jsonl", rows)
    validation = _write(tmp_path / "validation.jsonl", rows[:2])
    text = CONFIG.format(train=train, validation=validation).replace("text_field: text", "answer_field: answer")
    config = parse_config(text.replace("seeds: [0, 1]", "seeds: [0]").replace(", random: {}", ""))
    summary = run_experiment(config, tmp_path / "out")
    assert summary["whole_text"] is False and (tmp_path / "out" / "accuracy.png").is_file()
