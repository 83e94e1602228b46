"""Length control while loading your own data: max_length with too_long = drop | truncate | error (issue 14, item 3)."""

import json

import pytest

from skillit.errors import DataError
from skillit.skills import Example
from skillit.skills.io import load_skills
from skillit.skills.io.lengths import example_length, truncate

ROWS = [
    {"skill": "s", "prompt": "a b c ", "answer": "x"},        # word units: a, " b", " c", " " | x  -> 5
    {"skill": "s", "prompt": "a ", "answer": "x y z w v"},    # a, " " | x, " y", " z", " w", " v" -> 7
    {"skill": "s", "prompt": "q ", "answer": "y"},            # 3
    {"skill": "t", "prompt": "", "answer": "one two three"},  # plain text: 3
]


def test_example_length_counts_prompt_and_answer_apart_in_word_or_char_units():
    assert [example_length(Example(r["prompt"], r["answer"], r["skill"]), "word") for r in ROWS] == [5, 7, 3, 3]
    assert example_length(Example("ab ", "cd", "s"), "char") == 5


def test_truncate_keeps_the_answer_and_the_end_of_the_prompt():
    assert truncate(Example("a b c ", "x", "s"), 3, "word") == Example(" c ", "x", "s")
    assert truncate(Example("a ", "x y z w v", "s"), 3, "word") == Example("", "x y z", "s")  # answer alone too long
    assert truncate(Example("", "one two three", "t"), 2, "word") == Example("", "one two", "t")
    assert truncate(Example("abcdef", "gh", "s"), 4, "char") == Example("ef", "gh", "s")


@pytest.mark.parametrize("streaming", [False, True])
def test_drop_leaves_long_examples_out_and_counts_them(tmp_path, streaming):
    skills = load_skills(ROWS, max_length=4, too_long="drop", streaming=streaming, cache_dir=tmp_path)
    kept = [skills["s"].train.get(i) for i in range(skills["s"].train.size)]
    assert kept == [Example("q ", "y", "s")] and skills["t"].train.size == 1
    assert skills.metadata["length_limit"]["dropped"] == {"s": 2}


def test_truncate_shortens_and_counts(tmp_path):
    skills = load_skills(ROWS, max_length=3, too_long="truncate")
    kept = [skills["s"].train.get(i) for i in range(3)]
    assert kept == [Example(" c ", "x", "s"), Example("", "x y z", "s"), Example("q ", "y", "s")]
    assert skills.metadata["length_limit"]["truncated"] == {"s": 2}


def test_error_names_the_line_skill_and_length(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    with pytest.raises(DataError, match=r"train.jsonl:2: an example of skill 's' has 7 word tokens, more than max_length 6"):
        load_skills(str(path), max_length=6, too_long="error")


def test_dropping_never_moves_another_example_between_train_and_validation():
    rows = [{"skill": "s", "prompt": "", "answer": ("long " * 20 if i % 3 == 0 else f"w{i}")} for i in range(60)]
    full = load_skills(rows, holdout=0.3)
    limited = load_skills(rows, holdout=0.3, max_length=5)
    short = {e.answer for e in full["s"].validation if len(e.answer) < 10}
    assert {e.answer for e in limited["s"].validation} == short


def test_max_length_counts_the_models_tokens_in_a_config(tmp_path):
    from skillit.experiment.build import task_skillset
    from skillit.experiment.config import parse_config

    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    text = (f"name: t\ntask: {{name: data, params: {{train: {path}, holdout: 0.5, max_length: 6}}}}\n"
            "model: {tokenizer: TOK}\ntraining: {steps: 2}\nmethods: {stratified: {}}\n")
    words = task_skillset(parse_config(text.replace("TOK", "word")), 0)
    assert words.metadata["length_limit"]["unit"] == "word" and words.metadata["length_limit"]["dropped"] == {"s": 1}
    # in characters, 'one two three' (13) is t's only example: a skill emptied by the limit is an error
    with pytest.raises(DataError, match="every example of skill 't' is longer than max_length 6 .char tokens"):
        task_skillset(parse_config(text.replace("TOK", "char")), 0)


def test_a_cap_counts_kept_examples_and_only_drops_within_it_are_counted():
    rows = [{"skill": "s", "prompt": "", "answer": a} for a in ["x", "long long long", "y", "z", "long long long"]]
    skills = load_skills(rows, max_length=2, max_examples=2)
    assert [skills["s"].train.get(i).answer for i in range(skills["s"].train.size)] == ["x", "y"]
    assert skills.metadata["length_limit"]["dropped"] == {"s": 1}  # the 2nd long row lies beyond the cap
