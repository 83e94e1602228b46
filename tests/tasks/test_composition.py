"""Composition task: hand-checked atoms, composed answers, the planted graph and parameter errors."""

import pytest

from skillit.errors import ConfigError
from skillit.tasks import build_task, get_task, parse_task_params
from skillit.tasks import composition as comp

LETTERS = "abcdef"


@pytest.mark.parametrize("skill, x, expected", [
    ("rev", "abcd", "dcba"),
    ("rot", "abcd", "bcda"),
    ("sft", "afc", "bad"),        # f wraps to a within the 6 input letters
    ("swp", "abcde", "badce"),    # the odd last letter stays
    ("dup", "abc", "aabc"),
    ("srt", "cab", "abc"),
    ("rev.rot", "abcd", "adcb"),  # rot first: bcda, then reversed
    ("sft.rev", "abc", "dcb"),
    ("rot.swp", "abcd", "adcb"),  # swp: badc, then rotated
    ("swp.sft", "abc", "cbd"),    # sft: bcd, then swapped
])
def test_atoms_and_compositions_by_hand(skill, x, expected):
    assert comp.apply(skill, x, LETTERS) == expected


def test_examples_answer_their_prompt():
    skills = build_task("composition", {"validation_size": 10}, seed=0)
    assert skills.names == ["rev", "rot", "sft", "swp", "rev.rot", "sft.rev", "rot.swp", "swp.sft"]
    assert skills["rev.rot"].validation[0].prompt.startswith("rev(rot(")
    for name in skills.names:
        for example in skills[name].validation + [skills[name].train.get(i) for i in range(20)]:
            x = example.prompt.rstrip("=").split("(")[-1].rstrip(")")
            assert example.prompt == comp.prompt_of(name, x)
            assert example.answer == comp.apply(name, x, LETTERS)
            assert 3 <= len(x) <= 5 and set(x) <= set(LETTERS)


def test_planted_graph_is_atoms_into_their_compositions():
    params = parse_task_params("composition", {})
    graph = get_task("composition").prerequisites(params)
    names = list(graph.train_skills)
    edges = {(names[i], names[j]) for i in range(8) for j in range(8) if i != j and graph.matrix[i, j] > 0}
    assert edges == {("rev", "rev.rot"), ("rot", "rev.rot"), ("sft", "sft.rev"), ("rev", "sft.rev"),
                     ("rot", "rot.swp"), ("swp", "rot.swp"), ("swp", "swp.sft"), ("sft", "swp.sft")}
    assert all(graph.matrix[i, i] == 1 for i in range(8))


def test_deeper_compositions_need_their_inner_composition():
    skills = ["rev", "rot", "sft", "rot.sft", "rev.rot.sft"]
    assert comp.prerequisites_of("rev.rot.sft", skills) == ["rev", "rot", "sft", "rot.sft"]
    assert comp.prerequisites_of("rev", skills) == []


@pytest.mark.parametrize("params, message", [
    ({"atoms": ["rev", "nope"]}, "unknown atom"),
    ({"compositions": ["rev.sft"], "atoms": ["rev"]}, "of listed atoms"),
    ({"k": 3}, "drop k"),
    ({"min_length": 6, "max_length": 3}, "min_length"),
])
def test_bad_params(params, message):
    with pytest.raises(ConfigError, match=message):
        parse_task_params("composition", params)


def test_k_is_derived_and_pools_split():
    params = parse_task_params("composition", {"atoms": ["rev", "rot"], "compositions": ["rev.rot"],
                                               "train_pool_size": 30})
    assert params.k == 3 and params.pool_sizes() == [10, 10, 10]
