"""The automatic block size and vocabulary read every example of a data file, not a sample (issue 14, item 4)."""

import json

import pytest

from skillit.experiment.build import build_tokenizer, context_info, context_length, task_skillset
from skillit.experiment.config import parse_config

CONFIG = """\
name: t
task: {{name: data, params: {{train: {train}, validation: {validation}, streaming: {streaming}}}}}
model: {{n_layer: 1, n_head: 2, n_embd: 16, tokenizer: {tokenizer}}}
training: {{steps: 2, round_steps: 1, eval_every: 1}}
methods: {{stratified: {{}}}}
"""


def write_data(tmp_path, late_index=300):
    """Two skills of 400 short examples; skill b's example ``late_index`` is 40 words long (after the first 200)."""
    rows = []
    for skill in ("a", "b"):
        for i in range(400):
            answer = " ".join(["late"] * 40) if (skill == "b" and i == late_index) else "x"
            rows.append({"skill": skill, "prompt": "q ", "answer": answer})
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in rows))
    validation = tmp_path / "validation.jsonl"
    validation.write_text("".join(json.dumps({"skill": s, "prompt": "q ", "answer": "x"}) + "\n" for s in "ab"))
    return train, validation


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize("tokenizer", ["word", "char"])
def test_a_long_example_late_in_the_pool_sets_the_context(tmp_path, streaming, tokenizer):
    train, validation = write_data(tmp_path)
    config = parse_config(CONFIG.format(train=train, validation=validation, streaming=str(streaming).lower(),
                                        tokenizer=tokenizer))
    full = task_skillset(config, 0)
    tok = build_tokenizer(config, full)
    # word: "q", " " (trailing space of the prompt), "late", 39 × " late"; char: "q " + 40·4 + 39 spaces
    answer_tokens = 40 if tokenizer == "word" else 40 * 4 + 39
    prompt_tokens = 2
    longest = 1 + prompt_tokens + answer_tokens + 1  # bos ... eos
    info = context_info(config, full, tok)
    assert (info.longest, info.longest_skill) == (longest, "b")
    assert context_length(config, full, tok) == longest + 8
    assert info.p99 == 1 + prompt_tokens + 1 + 1  # 'x' examples: bos q ' ' x eos
    if tokenizer == "word":  # 44 tokens: under 64, not worth a warning
        assert info.warnings() == []
    else:  # one 203-token example among 5-token ones sets the context: warned before training
        assert "skill 'b'" in info.warnings()[0] and "max_length" in info.warnings()[0]


def test_a_word_first_seen_late_in_the_pool_is_in_the_vocabulary(tmp_path):
    train, validation = write_data(tmp_path)
    rows = [json.loads(line) for line in train.read_text().splitlines()]
    rows += [{"skill": "a", "prompt": "q ", "answer": "x"}] * 2100 + [{"skill": "a", "prompt": "q ", "answer": "rare"}]
    train.write_text("".join(json.dumps(r) + "\n" for r in rows))  # 'rare' is skill a's 2,501st example
    config = parse_config(CONFIG.format(train=train, validation=validation, streaming="false", tokenizer="word"))
    full = task_skillset(config, 0)
    tokenizer = build_tokenizer(config, full)
    assert tokenizer.encode("rare")  # was a DataError: the vocabulary came from the first 2000 examples per skill


def test_a_configured_block_size_is_kept(tmp_path):
    train, validation = write_data(tmp_path)
    text = CONFIG.format(train=train, validation=validation, streaming="false", tokenizer="char")
    config = parse_config(text.replace("tokenizer: char}", "tokenizer: char, block_size: 500}"))
    full = task_skillset(config, 0)
    info = context_info(config, full, build_tokenizer(config, full))
    assert info.block_size == 500 and info.configured and info.warnings() == []


def test_notes_before_training_name_the_context_and_what_the_length_limit_dropped(tmp_path):
    from skillit.experiment.build import data_notes

    train, validation = write_data(tmp_path)
    text = CONFIG.format(train=train, validation=validation, streaming="false", tokenizer="char")
    config = parse_config(text.replace("streaming: false", "streaming: false, max_length: 20"))
    notes = data_notes(config, task_skillset(config, 0))
    assert notes[0] == "task.params.max_length 20 (char tokens): 1 example(s) dropped (b: 1)"
    assert notes[1] == "context: 13 tokens (longest example 5 tokens with <bos>/<eos>, skill 'a'; 99 % have at most 5)"
    assert len(notes) == 2  # no warning: the long example is gone
