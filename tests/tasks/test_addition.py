"""Addition generator checked against an independent resolver (string arithmetic)."""

import re

import pytest

from skillit.tasks import addition, build_task


def resolve(prompt: str) -> int:
    a, b, digit = re.fullmatch(r"(\d+)\+(\d+)#(\d+)=", prompt).groups()
    total = str(int(a) + int(b))[::-1]  # least significant first
    i = int(digit)
    return int(total[i]) if i < len(total) else 0


@pytest.mark.parametrize("k", [1, 3, 5])
def test_answers_match_an_independent_resolver(k):
    skills = build_task("addition", {"k": k, "validation_size": 20}, seed=2)
    assert skills.names == addition.skill_names(k)
    for i, name in enumerate(skills.names):
        for example in skills[name].validation + [skills[name].train.get(j) for j in range(50)]:
            assert int(example.answer) == resolve(example.prompt)
            a, b, digit = re.fullmatch(r"(\d+)\+(\d+)#(\d+)=", example.prompt).groups()
            assert len(a) == len(b) == k and int(digit) == i


def test_hand_checked_example_and_names():
    assert resolve("106+071#0=") == 7 and resolve("999+001#2=") == 0 and resolve("999+001#1=") == 0
    assert addition.skill_names(3) == ["ones", "tens", "hundreds"]
    assert addition.skill_names(6)[4:] == ["digit4", "digit5"]


def test_paper_pool_and_disjoint_validation():
    skills = build_task("addition", {"train_pool_size": 4500, "validation_size": 30}, seed=0)
    assert [skills[n].train.size for n in skills.names] == [1300, 1400, 1800]
    for name in skills.names:
        val = {e.text for e in skills[name].validation}
        assert len(val) == 30
        assert not val & {skills[name].train.get(i).text for i in range(skills[name].train.size)}


def test_prerequisites_are_lower_digits():
    assert addition.prerequisite_graph(3).matrix.tolist() == [[1, 1, 1], [0, 1, 1], [0, 0, 1]]
