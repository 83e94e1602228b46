"""Junk skills made from the data itself (task.params.junk): each transform checked by hand."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from skillit.errors import ConfigError, DataError
from skillit.experiment.build import build_skillset
from skillit.experiment.config import load_config, shipped_config_path
from skillit.skills import SkillSet
from skillit.skills.example import Example
from skillit.tasks import build_task, parse_task_params
from skillit.tasks.junk import JunkSpec, add_junk, cipher_table, repeat_line, shuffle_chars, transform
from tests.conftest import SHARED_DATA


def test_repeat_line_repeats_the_first_non_blank_line_to_the_original_length():
    text = "\n  \nHello\nworld"  # 15 characters; first non-blank line "Hello"
    assert repeat_line(text) == "Hello\nHello\nHel"  # 15 // 6 + 1 = 3 copies joined by newlines, cut to 15
    assert repeat_line("abc") == "abc"
    assert repeat_line("") == ""
    assert repeat_line(" \n ") == " \n "  # no non-blank line: kept


def test_cipher_is_one_letter_substitution_for_both_cases():
    # default_rng([0, 2]).permutation(26) starts 17, 0, 13, 24, 16, 19, 12, 10, 25, 8, 22, 18, 15, 1, 2, 7, 23, 5, 21, 14, 6, 4, 20
    # H (7) -> 10 = k, e (4) -> 16 = q, l (11) -> 18 = s, o (14) -> 2 = c; W (22) -> 20 = u, r (17) -> 5 = f, d (3) -> 24 = y
    assert "Hello, World!".translate(cipher_table(0)) == "Kqssc, Ucfsy!"
    table = cipher_table(0)
    assert sorted(table[ord(c)] for c in "abcdefghijklmnopqrstuvwxyz") == list("abcdefghijklmnopqrstuvwxyz")
    assert cipher_table(1) != table  # the seed picks the language


def test_shuffle_chars_keeps_the_characters_and_is_seeded_per_example():
    text = "the quick brown fox jumps over the lazy dog"
    a = shuffle_chars(text, np.random.default_rng([0, 0, 3]))
    assert Counter(a) == Counter(text) and a != text
    assert a == shuffle_chars(text, np.random.default_rng([0, 0, 3]))
    spec = JunkSpec(name="j", source="s", kind="shuffle_chars")
    example = Example("", text, "s")
    assert transform(spec, example, 3, 0).answer == a  # training example 3: rng [seed, 0, 3]
    assert transform(spec, example, 3, 1).answer != a  # validation example 3: rng [seed, 1, 3]
    assert transform(spec, example, 3, 0).skill == "j" and transform(spec, example, 3, 0).prompt == ""


def _skills() -> SkillSet:
    train = [Example("", f"line {i}\nmore", "s") for i in range(5)] + [Example("q=", "1", "t")]
    return SkillSet.from_examples(train, [Example("", "val\nx", "s")])


def test_add_junk_gives_a_pool_of_the_source_size_and_its_validation_set():
    out = add_junk(_skills(), [JunkSpec(name="junk", source="s", kind="repeat_line")])
    assert out.names == ["s", "t", "junk"]
    assert out.metadata["junk_skills"] == ["junk"]  # declared, for summary.json (skillit.records.budget)
    again = add_junk(out, [JunkSpec(name="junk2", source="t", kind="cipher")])
    assert again.metadata["junk_skills"] == ["junk", "junk2"] and "junk_skills" not in _skills().metadata
    assert out["junk"].train.size == 5
    assert out["junk"].train.get(2) == Example("", "line 2\nline", "junk")  # "line 2\nmore" is 11 characters
    assert out["junk"].validation == [Example("", "val\nv", "junk")]
    assert out.natural_proportions() == [5 / 11, 1 / 11, 5 / 11]


def test_add_junk_refuses_a_taken_name_and_an_unknown_source():
    with pytest.raises(DataError, match=r"task.params.junk\[0\]: junk skill name 't' is already a skill"):
        add_junk(_skills(), [JunkSpec(name="t", source="s", kind="cipher")])
    with pytest.raises(DataError, match=r"task.params.junk\[0\]: source 'ss' is not a loaded skill; did you mean 's'"):
        add_junk(_skills(), [JunkSpec(name="j", source="ss", kind="cipher")])
    with pytest.raises(ConfigError, match="junk"):
        parse_task_params("data", {"train": "x.jsonl", "junk": [{"name": "j", "source": "s", "kind": "reverse"}]})


def test_the_data_task_adds_declared_junk(tmp_path):
    rows = [{"skill": "s", "text": f"Ab {i}\ncd"} for i in range(4)] + [{"skill": "t", "text": "xyz"}]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    skills = build_task("data", {"train": str(tmp_path / "train.jsonl"), "text_field": "text", "max_examples": 3,
                                 "junk": [{"name": "junk_c", "source": "s", "kind": "cipher"}]})
    assert skills.train_names == ["s", "t", "junk_c"]
    assert skills["junk_c"].train.size == 3  # the source's pool after max_examples
    # A (0) -> 17 = R, b (1) -> 0 = a, c (2) -> 13 = n, d (3) -> 24 = y; digits and spaces kept
    assert skills["junk_c"].train.get(1).text == "Ra 1\nny"


def test_real_text_junk_config_builds_junk_pools_of_the_source_size():
    if not (SHARED_DATA / "real_text").is_dir():
        pytest.skip("../shared/data is not beside the repository")
    config = load_config(shipped_config_path("real-text-junk"))
    skills = build_skillset(config, 0)
    assert skills.train_names[8:] == ["junk_shuffled", "junk_cipher", "junk_boilerplate"]
    for junk, source in (("junk_shuffled", "drama"), ("junk_cipher", "political_speech"),
                         ("junk_boilerplate", "tech_docs")):
        assert skills[junk].train.size == skills[source].train.size == 2000
        assert len(skills[junk].validation) == len(skills[source].validation) == 16
    assert Counter(skills["junk_shuffled"].train.get(0).text) == Counter(skills["drama"].train.get(0).text)
    assert skills["junk_cipher"].train.get(0).text == skills["political_speech"].train.get(0).text.translate(
        cipher_table(0))
    assert set(config.target_skills) == set(skills.train_names[:8])  # the objective: the clean skills only
