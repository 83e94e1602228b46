"""load_skills on the real data in ../shared/data and on tiny in-memory, Parquet and datasets sources."""

from __future__ import annotations

import hashlib
import json

import pytest

from skillit.errors import DataError, SkillError
from skillit.skills import Example, ListSource
from skillit.skills.io import DatasetSource, ShardSource, is_held_out, load_skills
from tests.conftest import SHARED_DATA

NI = SHARED_DATA / "natural_instructions"
GSM8K = SHARED_DATA / "gsm8k"
MATH = SHARED_DATA / "math_competition"

needs_data = pytest.mark.skipif(not NI.is_dir(), reason="../shared/data is not beside the repository")


def counts(skillset):
    return {
        s.name: (s.train.size if s.train is not None else 0, len(s.validation) if s.validation else 0)
        for s in skillset.skills
    }


# ---- the real data (the README tables of ../shared/data) ---------------------------------------------
@needs_data
def test_natural_instructions_by_category():
    skills = load_skills(NI / "train.jsonl", NI / "test.jsonl", prompt_field="input", separator="\nOutput: ")
    assert counts(skills) == {
        "Stance Detection": (217, 53),
        "Sentiment Analysis": (320, 78),
        "Text Matching": (158, 38),
        "Question Generation": (105, 26),
    }
    first = skills["Stance Detection"].train.get(0)
    assert first == Example(
        prompt="Topic: Osama Bin Laden Sea Burial\n Argument: Islamic law flexible to special burials such as "
        "Bin Laden's.\nOutput: ",
        answer="in favor",
        skill="Stance Detection",
    )
    assert isinstance(skills["Stance Detection"].train, ListSource)
    assert skills.metadata["task"] == "data"
    assert set(first.text) <= set(skills.metadata["alphabet"])


@needs_data
def test_gsm8k_by_reasoning_steps_and_math_by_subject():
    gsm = load_skills(GSM8K / "train.jsonl", GSM8K / "test.jsonl", separator=" ")
    assert counts(gsm) == {
        "steps_2": (1961, 326), "steps_3": (2149, 371), "steps_4": (1659, 297), "steps_5": (955, 175),
        "steps_8plus": (103, 23), "steps_6": (419, 87), "steps_7": (227, 40),
    }
    assert gsm["steps_2"].train.get(0).answer == "72"
    math = load_skills(MATH / "train.jsonl", MATH / "test.jsonl", text_field="text")
    assert counts(math) == {
        "algebra": (948, 239), "counting_and_probability": (389, 85), "geometry": (378, 101),
        "intermediate_algebra": (726, 177), "number_theory": (451, 89), "prealgebra": (690, 181),
        "precalculus": (434, 112),
    }
    plain = math["algebra"].train.get(0)
    assert plain.prompt == "" and plain.answer.startswith("Problem: How many vertical asymptotes")


@needs_data
def test_skill_from_a_function_selection_and_caps():
    def level(row):
        return row["level"].replace(" ", "_").lower()

    skills = load_skills(MATH / "train.jsonl", skill=level, text_field="text", skills=["level_5", "level_1"],
                         max_examples=50, holdout=0.1)
    assert skills.names == ["level_5", "level_1"]
    assert all(s.train.size == 50 for s in skills.skills)
    assert all(e.skill == s.name for s in skills.skills for e in s.validation)


@needs_data
def test_unknown_selected_skill_is_an_error_with_a_suggestion():
    with pytest.raises(SkillError, match=r"skill 'Stance Detecton' named in task.params.skills has no examples.*"
                                         r"did you mean 'Stance Detection'"):
        load_skills(NI / "train.jsonl", skills=["Stance Detecton"], where="task.params.skills")


# ---- holdout ----------------------------------------------------------------------------------------
def test_holdout_rule_is_the_documented_hash():
    for seed, skill, j in [(0, "a", 0), (3, "Stance Detection", 17), (1, "x", 999)]:
        digest = hashlib.blake2b(f"{seed}\0{skill}\0{j}".encode(), digest_size=8).digest()
        u = int.from_bytes(digest, "big") / 2**64
        assert is_held_out(seed, skill, j, u + 1e-12) and not is_held_out(seed, skill, j, u - 1e-12)


def test_holdout_is_per_skill_and_independent_of_other_skills():
    rows = [{"skill": "a" if i % 3 else "b", "prompt": f"p{i}", "answer": f"{i}"} for i in range(300)]
    only_a = [r for r in rows if r["skill"] == "a"]
    both = load_skills(rows, holdout=0.3, holdout_seed=5)
    alone = load_skills(only_a, holdout=0.3, holdout_seed=5)
    assert both["a"].validation == alone["a"].validation
    a_held = [e.answer for e in both["a"].validation]
    expected = [r["answer"] for j, r in enumerate(only_a) if is_held_out(5, "a", j, 0.3)]
    assert a_held == expected and 0.2 < len(a_held) / len(only_a) < 0.4
    train_a = {both["a"].train.get(i).answer for i in range(both["a"].train.size)}
    assert train_a.isdisjoint(a_held) and len(train_a) + len(a_held) == len(only_a)


def test_validation_source_and_holdout_are_exclusive():
    rows = [{"skill": "a", "prompt": "p", "answer": "1"}]
    with pytest.raises(DataError, match="either a validation source or a holdout"):
        load_skills(rows, rows, holdout=0.5)
    with pytest.raises(DataError, match="strictly between 0 and 1"):
        load_skills(rows, holdout=1.0)


# ---- other source kinds ------------------------------------------------------------------------------
def tiny_rows():
    return [
        {"skill": "add", "prompt": "1+1=", "answer": "2"},
        {"skill": "mul", "prompt": "2*3=", "answer": "6"},
        {"skill": "add", "prompt": "2+2=", "answer": "4"},
        {"skill": "add", "prompt": "3+4=", "answer": 7},
        {"skill": "mul", "prompt": "2*2=", "answer": "4"},
    ]


def as_lists(skillset):
    return {
        s.name: [s.train.get(i) for i in range(s.train.size)] if s.train is not None else [] for s in skillset.skills
    }


def test_list_source_hand_checked():
    skills = load_skills(tiny_rows(), separator="")
    assert skills.names == ["add", "mul"]
    assert as_lists(skills) == {
        "add": [Example("1+1=", "2", "add"), Example("2+2=", "4", "add"), Example("3+4=", "7", "add")],
        "mul": [Example("2*3=", "6", "mul"), Example("2*2=", "4", "mul")],
    }
    assert skills["add"].validation is None
    assert skills.metadata["alphabet"] == "*+123467="


def test_parquet_file(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = tiny_rows()
    for row in rows:
        row["answer"] = str(row["answer"])
    path = tmp_path / "train.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    assert as_lists(load_skills(path)) == as_lists(load_skills(rows))
    assert as_lists(load_skills(path, streaming=True, cache_dir=tmp_path / "cache")) == as_lists(load_skills(rows))
    with pytest.raises(DataError, match=r"train.parquet: no skill column 'category'; the columns are: skill, prompt, answer"):
        load_skills(path, skill="category")


def test_datasets_map_style_and_streaming(tmp_path):
    datasets = pytest.importorskip("datasets")
    rows = tiny_rows()
    for row in rows:
        row["answer"] = str(row["answer"])
    expected = as_lists(load_skills(rows))

    mapped = load_skills(datasets.Dataset.from_list(rows))
    assert isinstance(mapped["add"].train, DatasetSource) and as_lists(mapped) == expected

    def generate():
        yield from rows

    stream = datasets.IterableDataset.from_generator(generate)
    streamed = load_skills(stream)  # an IterableDataset streams by default (shards, never a list in memory)
    assert isinstance(streamed["add"].train, ShardSource) and streamed.metadata["streaming"]
    assert as_lists(streamed) == expected
    val = datasets.Dataset.from_list([{"skill": "mul", "prompt": "3*3=", "answer": "9"}])
    with_val = load_skills(datasets.Dataset.from_list(rows), val)
    assert with_val["mul"].validation == [Example("3*3=", "9", "mul")] and with_val["add"].validation is None
    with pytest.raises(DataError, match="no skill column 'task'; the columns are: skill, prompt, answer"):
        load_skills(datasets.Dataset.from_list(rows), skill="task")
    with pytest.raises(DataError, match="DatasetDict.*pass one split"):
        load_skills(datasets.DatasetDict({"train": datasets.Dataset.from_list(rows)}))


# ---- bad input: one clear error naming the file, line and skill ------------------------------------------
def write_jsonl(path, rows, raw_lines=()):
    lines = [json.dumps(r) for r in rows]
    for index, text in raw_lines:
        lines.insert(index, text)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_corrupt_jsonl_line_reports_its_line_number(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", tiny_rows(), raw_lines=[(2, '{"skill": "add", "prompt": ')])
    for streaming in (False, True):
        with pytest.raises(DataError, match=rf"{path}:3: invalid JSON"):
            load_skills(path, streaming=streaming, cache_dir=tmp_path / "cache")
    assert not any((tmp_path / "cache").glob("*")), "a failed pass must leave no shard folder behind"


def test_blank_lines_are_skipped_and_line_numbers_stay_true(tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", tiny_rows(), raw_lines=[(1, ""), (3, "[1, 2]")])
    with pytest.raises(DataError, match=rf"{path}:4: expected a JSON object"):
        load_skills(path)


def test_missing_skill_column_names_the_columns_that_exist(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"category": "a", "prompt": "p", "answer": "1"}])
    with pytest.raises(DataError, match=rf"{path}:1: no skill column 'skill'; the columns are: category, prompt, "
                                        r"answer\. Set skill_column \(--skill-column\)"):
        load_skills(path)
    with pytest.raises(DataError, match=r"no answer column 'answr'.*Set answer_field to one of them \(did you mean 'answer'\?\)"):
        load_skills(path, skill="category", answer_field="answr")


def test_plain_text_without_text_field_is_pointed_at_text_field(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"skill": "a", "text": "hello"}, {"skill": "b", "text": "world"}])
    with pytest.raises(DataError, match=r"no prompt column 'prompt'; the columns are: skill, text\. Set prompt_field "
                                        r"to one of them; or, for plain text .* set text_field: text \(--text-field\)"):
        load_skills(path)
    assert load_skills(path, text_field="text").names == ["a", "b"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_json_constants_are_refused_with_the_line(tmp_path, literal):
    path = tmp_path / "d.jsonl"
    path.write_text('{"skill": "a", "prompt": "p", "answer": "1"}\n'
                    f'{{"skill": "a", "prompt": "p", "answer": {literal}}}\n')
    with pytest.raises(DataError, match=rf"{path}:2: {literal} is not JSON .*write the value as a string"):
        load_skills(path)


def test_bad_values_name_the_row(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", tiny_rows() + [{"skill": None, "prompt": "p", "answer": "1"}])
    with pytest.raises(DataError, match=rf"{path}:6: the skill column 'skill' gave None"):
        load_skills(path)
    path = write_jsonl(tmp_path / "e.jsonl", tiny_rows() + [{"skill": "add", "prompt": "9+0=", "answer": ""}])
    with pytest.raises(DataError, match=rf"{path}:6: skill 'add' has an empty 'answer'"):
        load_skills(path)
    path = write_jsonl(tmp_path / "f.jsonl", [{"skill": "add", "prompt": "p", "answer": ["1", "2"]}])
    with pytest.raises(DataError, match=rf"{path}:1: column 'answer' holds a list"):
        load_skills(path)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(DataError, match="data file .*nope.jsonl' does not exist"):
        load_skills(tmp_path / "nope.jsonl")
    (tmp_path / "data.csv").write_text("skill,prompt\n")
    with pytest.raises(DataError, match="unknown format"):
        load_skills(tmp_path / "data.csv")


def test_a_skill_whose_every_example_is_held_out_is_evaluation_only():
    seed = next(seed for seed in range(100) if is_held_out(seed, "b", 0, 0.5))
    rows = [{"skill": "a", "prompt": f"{i}", "answer": "x"} for i in range(50)] + [{"skill": "b", "prompt": "q", "answer": "y"}]
    skills = load_skills(rows, holdout=0.5, holdout_seed=seed)
    assert skills["b"].train is None and skills["b"].validation == [Example("q", "y", "b")]
    assert "b" not in skills.train_names and "b" in skills.eval_names


# ---- per-skill caps ------------------------------------------------------------------------------------
def _rows(counts_by_skill):
    return [{"skill": name, "prompt": f"{name} {i}", "answer": str(i)}
            for name, n in counts_by_skill.items() for i in range(n)]


@pytest.mark.parametrize("streaming", [False, True])
def test_a_skill_cap_overrides_max_examples_and_keeps_the_first_rows(tmp_path, streaming):
    rows = _rows({"target": 30, "big": 30, "other": 5})
    skills = load_skills(rows, max_examples=20, max_examples_per_skill={"target": 3}, streaming=streaming,
                         cache_dir=tmp_path)
    assert counts(skills) == {"target": (3, 0), "big": (20, 0), "other": (5, 0)}
    assert [skills["target"].train.get(i).answer for i in range(3)] == ["0", "1", "2"]
    # without max_examples the other skills keep every row
    skills = load_skills(rows, max_examples_per_skill={"big": 7})
    assert counts(skills) == {"target": (30, 0), "big": (7, 0), "other": (5, 0)}


def test_a_skill_cap_changes_the_shard_cache_key(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _rows({"a": 10, "b": 10})))
    whole = load_skills(path, streaming=True, cache_dir=tmp_path / "cache")
    capped = load_skills(path, streaming=True, cache_dir=tmp_path / "cache", max_examples_per_skill={"a": 2})
    assert counts(whole) == {"a": (10, 0), "b": (10, 0)}
    assert counts(capped) == {"a": (2, 0), "b": (10, 0)}


def test_a_cap_for_a_skill_the_data_lacks_is_an_error_with_a_suggestion():
    with pytest.raises(DataError, match=r"max_examples_per_skill \(task.params.max_examples_per_skill\) names "
                                        r"skill 'targte'.*did you mean 'target'"):
        load_skills(_rows({"target": 3, "big": 3}), max_examples_per_skill={"targte": 1}, where="task.params.skills")


def test_a_cap_for_an_unselected_skill_and_a_bad_count_are_errors():
    with pytest.raises(DataError, match="caps skill 'big', which `skills` does not select"):
        load_skills(_rows({"target": 3, "big": 3}), skills=["target"], max_examples_per_skill={"big": 1})
    for bad in (0, 2.5, True):
        with pytest.raises(DataError, match=r"max_examples_per_skill\['big'\] must be an integer >= 1"):
            load_skills(_rows({"target": 3, "big": 3}), max_examples_per_skill={"big": bad})
