"""Skill-Mix: sampling, answer extraction, sentence count, grader parsing, metrics and aggregation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillit.errors import DataError, SkillError
from skillit.llm import skillmix as sm
from skillit.llm.backends import CallableBackend, LLMOutputError
from tests.conftest import SHARED_DATA

SKILLS = [sm.TextSkill("metaphor", "a figure of speech", "time is a thief"), sm.TextSkill("red herring", "a distraction"),
          sm.TextSkill("modus ponens", "if p then q; p; so q"), sm.TextSkill("spatial reasoning")]


def test_sampling_is_seeded_with_distinct_skills():
    a = sm.sample_combinations(SKILLS, ["Knots", "Sewing"], k=3, n=20, seed=4)
    assert a == sm.sample_combinations(SKILLS, ["Knots", "Sewing"], k=3, n=20, seed=4)
    assert a != sm.sample_combinations(SKILLS, ["Knots", "Sewing"], k=3, n=20, seed=5)
    assert all(len(set(c["skills"])) == 3 and c["k"] == 3 and c["topic"] in ("Knots", "Sewing") for c in a)
    assert [c["id"] for c in a[:2]] == ["k3-s4-0", "k3-s4-1"]
    with pytest.raises(SkillError, match="between 1 and the number of skills"):
        sm.sample_combinations(SKILLS, ["Knots"], k=5, n=1)


def test_prompts_carry_skills_topic_and_limit():
    combo = {"id": "c", "k": 3, "skills": ["metaphor", "red herring", "modus ponens"], "topic": "Knots"}
    text = sm.generation_messages(combo, SKILLS)[0]["content"]
    assert "Knots" in text and "time is a thief" in text and "at most 2 sentences" in text
    assert sm.rubric(combo) == ["Correctly illustrates metaphor", "Correctly illustrates red herring",
                                "Correctly illustrates modus ponens", "Pertains to Knots", "Text makes sense",
                                "At most 2 sentences"]
    grading = sm.grading_messages(combo, "A text.", SKILLS)[0]["content"]
    assert grading.count("| 0 or 1 |") == 6 and "A text." in grading
    assert sm.sentence_limit(1) == 1 and sm.sentence_limit(5) == 4


def test_extract_answer():
    assert sm.extract_answer("Answer: first\nExplanation: x\nAnswer: The knot held. Explanation: y") == "The knot held."
    assert sm.extract_answer("**Answer:** Bees hum.\n\n**Explanation:** metaphor") == "Bees hum."
    assert sm.extract_answer("no markers at all") == "no markers at all"


@pytest.mark.parametrize("text, count", [
    ("", 0), ("One sentence", 1), ("Dr. Smith tied a knot. It held!", 2), ("Is it? \"Yes.\" She left.", 3),
    ("Pi is 3.14 today. Fine.", 2), ("lower. case does not start one", 1),
])
def test_count_sentences(text, count):
    assert sm.count_sentences(text) == count


def test_parse_grade_formats():
    table = ("Here's the grading table:\n| Criteria | Points Earned |\n|---|---|\n| Correctly illustrates a | 1/1 |\n"
             "| Correctly illustrates b | 0/1 |\n| Pertains to Knots | 1 |\n| Text makes sense | **1/1** |\n"
             "| At most 1 sentences | 0/1 |\n| **Total** | 3/5 |")
    assert sm.parse_grade(table, 5) == [1, 0, 1, 1, 0]
    lines = "1. skill a. Point earned: 1/1\n2. Point earned: 0\n3. Points: 1\nPoint earned: 1\nPoints earned: 0.0\nGrade: 3"
    assert sm.parse_grade(lines, 5) == [1, 0, 1, 1, 0]
    assert sm.parse_grade("scores: [1, 1, 0, 1, 1]", 5) == [1, 1, 0, 1, 1]
    with pytest.raises(LLMOutputError, match="3 readable points where the rubric has 5"):
        sm.parse_grade("| a | 1 |\n| b | 1 |\n| c | 0 |", 5)
    with pytest.raises(LLMOutputError, match="0 readable points"):
        sm.parse_grade("I think it is quite good.", 5)


def test_programmatic_checks():
    combo = {"k": 2, "skills": ["red herring (fallacy)", "metaphor"], "topic": "Knots"}
    assert sm.apply_programmatic_checks([1, 1, 1, 1, 1], combo, "One. Two.") == [1, 1, 1, 1, 0]
    assert sm.apply_programmatic_checks([1, 1, 1, 1, 0], combo, "A red herring knot.", True) == [0, 1, 1, 1, 1]


def test_combination_metrics_by_hand():
    assert sm.combination_metrics([1, 1, 1, 1, 1], 2) == {"full_marks": 1.0, "all_skills": 1.0, "skill_fraction": 1.0}
    assert sm.combination_metrics([1, 1, 1, 0, 1], 2) == {"full_marks": 0.0, "all_skills": 1.0, "skill_fraction": 0.0}
    assert sm.combination_metrics([1, 0, 1, 1, 1], 2) == {"full_marks": 0.0, "all_skills": 0.0, "skill_fraction": 0.5}
    assert sm.combination_metrics([1, 1, 0, 0, 1], 2)["all_skills"] == 0.0


def test_aggregate_votes_then_takes_the_best_generation():
    # k = 1: 4 points. Two generation rounds, three grading rounds, two combinations.
    points = np.zeros((2, 3, 2, 4))
    points[0, :, 0] = [[1, 1, 1, 1], [1, 1, 1, 0], [0, 1, 1, 1]]  # votes: 1,1,1,1 -> full marks
    points[1, :, 0] = [[0, 0, 0, 0]] * 3
    points[0, :, 1] = [[1, 1, 0, 1], [1, 1, 0, 1], [0, 0, 0, 0]]  # votes: 1,1,0,1 -> all skills, fraction 0
    points[1, :, 1] = [[0, 1, 1, 1]] * 3  # -> fraction 0 but all others 1: best-of gives F=0, A=1 (gen 0), S=0
    out = sm.aggregate(points, 1)
    assert out["full_marks"]["mean"] == pytest.approx(0.5)
    assert out["all_skills"]["mean"] == pytest.approx(1.0)
    assert out["skill_fraction"]["mean"] == pytest.approx(0.5)
    assert out["full_marks"]["se"] == pytest.approx(np.std([1, 0], ddof=1) / np.sqrt(2))
    with pytest.raises(LLMOutputError, match="shape"):
        sm.aggregate(np.zeros((1, 1, 2, 3)), 1)


@given(st.integers(1, 5).flatmap(lambda k: st.tuples(st.just(k), st.lists(st.integers(0, 1), min_size=k + 3, max_size=k + 3))))
def test_metric_invariants(case):
    k, points = case
    m = sm.combination_metrics(points, k)
    assert all(0 <= v <= 1 for v in m.values())
    if m["full_marks"]:
        assert m["all_skills"] == 1 and m["skill_fraction"] == 1
    assert m["skill_fraction"] <= 1


def test_public_skill_list_and_topics_load():
    folder = SHARED_DATA / "skill_mix"
    if not folder.is_dir():
        pytest.skip("shared Skill-Mix data not present")
    skills = sm.load_text_skills(folder / "skills.jsonl")
    assert len(skills) == 10 and skills[0].name == "self serving bias" and skills[0].definition
    assert len(sm.load_text_skills(folder / "raw" / "skills.csv")) == 10
    assert sm.load_topics(folder / "topics.json")[:2] == ["Sewing", "Dueling"]


def test_loaders_reject_bad_files(tmp_path):
    (tmp_path / "dup.txt").write_text("a\nb\na\n")
    with pytest.raises(DataError, match="listed twice"):
        sm.load_text_skills(tmp_path / "dup.txt")
    (tmp_path / "s.csv").write_text("category,skill,definition,example,status\nx,keep,d,e,\nx,drop,d,e,remove\n")
    assert [s.name for s in sm.load_text_skills(tmp_path / "s.csv")] == ["keep"]
    with pytest.raises(DataError, match="does not exist"):
        sm.load_topics(tmp_path / "none.json")


def rule_student(messages):
    """Writes a one-sentence text naming the topic (the second turn repeats the last answer)."""
    topic = messages[0]["content"].split('"')[1]
    return f"Answer: The {topic} story was a thief of time.\nExplanation: metaphor"


def rule_grader(messages):
    """Grants every skill point except a red herring's, and the topic point when the topic word is in the text."""
    content = messages[0]["content"]
    rows = [line for line in content.splitlines() if line.endswith("| 0 or 1 |")]
    text = content.split('"""')[1]
    out = []
    for row in rows:
        item = row.strip("| ").split(" | ")[0]
        ok = "red herring" not in item and (not item.startswith("Pertains to ") or item[12:] in text)
        out.append(f"| {item} | {int(ok)}/1 |")
    return "| Criteria | Points |\n|---|---|\n" + "\n".join(out) + "\n| Total | ?/? |"


def test_generate_and_grade_end_to_end_with_rule_models():
    combos = sm.sample_combinations(SKILLS, ["Knots", "Sewing"], k=2, n=12, seed=0)
    student, grader = CallableBackend(rule_student), CallableBackend(rule_grader)
    graded = [sm.grade(grader, sm.generate(student, c, SKILLS, sm.GenerationSettings()), SKILLS, rounds=3)
              for c in combos]
    assert graded[0]["generations"][0]["text"].startswith("The ") and np.asarray(graded[0]["points"]).shape == (1, 3, 5)
    with_herring = [g for g in graded if "red herring" in g["skills"]]
    summary = sm.summarize(graded)["k=2"]
    expected_full = 1 - len(with_herring) / len(graded)
    assert summary["full_marks"]["mean"] == pytest.approx(expected_full)
    assert summary["skill_fraction"]["mean"] == pytest.approx(expected_full + 0.5 * len(with_herring) / len(graded))
    assert summary["all_skills"]["mean"] == pytest.approx(expected_full)


def test_grade_names_the_combination_on_malformed_output():
    combo = {"id": "k2-s0-7", "k": 2, "skills": ["metaphor", "red herring"], "topic": "Knots",
             "generations": [{"text": "x"}]}
    with pytest.raises(LLMOutputError, match="k2-s0-7"):
        sm.grade(CallableBackend(lambda m: "Looks great to me!"), combo, SKILLS, rounds=1)
