import pytest

from skillit.errors import SkillError
from skillit.skills import Example, GeneratedSource, ListSource, Skill, SkillSet


def ex(skill, i):
    return Example(prompt=f"q{i}:", answer=str(i), skill=skill)


def test_from_examples_keeps_first_appearance_order_and_roles():
    train = [ex("b", 1), ex("a", 2), ex("b", 3)]
    val = [ex("a", 9), ex("c", 8)]
    skills = SkillSet.from_examples(train, val)
    assert skills.names == ["b", "a", "c"]
    assert skills.train_names == ["b", "a"]
    assert skills.eval_names == ["a", "c"]
    assert skills["b"].train.size == 2
    assert skills["b"].train.get(1).text == "q3:3"


def test_explicit_order_and_unknown_names():
    skills = SkillSet.from_examples([ex("b", 1), ex("a", 2)], [ex("a", 3), ex("b", 4)], order=["a", "b"])
    assert skills.names == ["a", "b"]
    with pytest.raises(SkillError, match="did you mean 'a'"):
        skills["aa"]
    with pytest.raises(SkillError, match="unknown training skill 'z'"):
        skills.check_names(["z"], role="train", where="the graph")


def test_duplicate_and_empty_skills_are_rejected():
    with pytest.raises(SkillError, match="appears twice"):
        SkillSet([Skill("a", ListSource([ex("a", 1)])), Skill("a", ListSource([ex("a", 2)]))])
    with pytest.raises(SkillError, match="neither training data nor a validation set"):
        Skill("a")
    with pytest.raises(SkillError, match="empty validation set"):
        Skill("a", ListSource([ex("a", 1)]), validation=[])
    with pytest.raises(SkillError, match="validation example of skill 'b'"):
        Skill("a", validation=[ex("b", 1)])


def test_natural_proportions_prefer_weights_then_sizes_then_uniform():
    a, b = ListSource([ex("a", i) for i in range(1)]), ListSource([ex("b", i) for i in range(3)])
    assert SkillSet([Skill("a", a), Skill("b", b)]).natural_proportions() == [0.25, 0.75]
    weighted = SkillSet([Skill("a", a, natural_weight=1.0), Skill("b", b, natural_weight=4.0)])
    assert weighted.natural_proportions() == [0.2, 0.8]
    stream = GeneratedSource(lambda rng: ex("a", int(rng.integers(9))), seed=0)
    assert SkillSet([Skill("a", stream), Skill("b", b)]).natural_proportions() == [0.5, 0.5]


def test_select_restricts_roles_and_keeps_given_order():
    skills = SkillSet.from_examples([ex(s, 0) for s in "abc"], [ex(s, 1) for s in "abcd"])
    picked = skills.select(train=["c", "a"], eval=["a", "d"])
    assert picked.train_names == ["c", "a"]
    assert picked.eval_names == ["a", "d"]
    assert picked["c"].validation is None
    with pytest.raises(SkillError):
        skills.select(train=["d"])  # d has no training data


def test_generated_source_is_deterministic_and_excludes_texts():
    def generate(rng):
        return ex("a", int(rng.integers(3)))

    source = GeneratedSource(generate, seed=(1, 2), size=50)
    assert [source.get(i) for i in range(10)] == [source.get(i) for i in range(10)]
    excluded = GeneratedSource(generate, seed=(1, 2), size=50, exclude=frozenset({"q0:0", "q1:1"}))
    assert all(excluded.get(i).text == "q2:2" for i in range(20))
    with pytest.raises(IndexError):
        source.get(50)
