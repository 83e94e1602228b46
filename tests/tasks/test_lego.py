"""LEGO generator checked against an independent resolver (fixpoint substitution, no chain knowledge)."""

import re

import numpy as np
import pytest

from skillit.tasks import build_task, lego


def resolve(prompt: str) -> dict[str, int]:
    """Value of every variable, by repeated substitution over the clause set."""
    clauses, _query = prompt.split(";")
    rules = {}
    for clause in clauses.split(","):
        name, rhs = clause.split("=")
        rules[name] = rhs
    values: dict[str, int] = {}
    while len(values) < len(rules):
        progress = False
        for name, rhs in rules.items():
            if name in values:
                continue
            if rhs in ("0", "1"):
                values[name] = int(rhs)
            elif rhs.lstrip("!") in values:
                parent = values[rhs.lstrip("!")]
                values[name] = 1 - parent if rhs.startswith("!") else parent
            else:
                continue
            progress = True
        assert progress, f"unresolvable clauses {prompt!r}"
    return values


def depth(prompt: str, var: str) -> int:
    rules = dict(clause.split("=") for clause in prompt.split(";")[0].split(","))
    d = 0
    while rules[var] not in ("0", "1"):
        var = rules[var].lstrip("!")
        d += 1
    return d


@pytest.mark.parametrize("graph", ["chain", "tree", "disconnected"])
@pytest.mark.parametrize("shuffle", [True, False])
def test_answers_match_an_independent_resolver(graph, shuffle):
    skills = build_task("lego", {"k": 5, "reasoning_graph": graph, "shuffle": shuffle, "validation_size": 20}, seed=3)
    expected_depth = {
        "chain": [0, 1, 2, 3, 4],
        "tree": [0, 1, 1, 2, 2],
        "disconnected": [0, 0, 0, 0, 0],
    }[graph]
    for s, name in enumerate(skills.names):
        examples = skills[name].validation + [skills[name].train.get(i) for i in range(30)]
        for example in examples:
            query = re.fullmatch(r".*;([a-z])=", example.prompt).group(1)
            assert int(example.answer) == resolve(example.prompt)[query]
            assert depth(example.prompt, query) == expected_depth[s]
            assert example.skill == name


def test_unshuffled_chain_lists_clauses_in_chain_order():
    example = lego.make_example(np.random.default_rng(0), skill=4, k=5, reasoning_graph="chain", shuffle=False)
    clauses = example.prompt.split(";")[0].split(",")
    assert clauses[0][-1] in "01"
    for previous, clause in zip(clauses, clauses[1:]):
        assert clause.split("=")[1].lstrip("!") == previous.split("=")[0]


def test_fixed_names_use_the_first_k_letters():
    example = lego.make_example(np.random.default_rng(0), skill=2, k=4, reasoning_graph="chain", shuffle=True, names="fixed")
    assert sorted(c.split("=")[0] for c in example.prompt.split(";")[0].split(",")) == ["a", "b", "c", "d"]
    assert example.prompt.endswith(";c=")


def test_validation_is_distinct_and_disjoint_from_training():
    skills = build_task("lego", {"k": 3, "validation_size": 50, "train_pool_size": 600}, seed=1)
    for name in skills.names:
        val = {e.text for e in skills[name].validation}
        assert len(val) == 50
        train = [skills[name].train.get(i).text for i in range(skills[name].train.size)]
        assert not val & set(train)


def test_pool_proportions_and_sizes():
    skills = build_task("lego", {"k": 5, "train_pool_size": 1100}, seed=0)
    assert [skills[n].train.size for n in skills.names] == [100, 100, 100, 300, 500]
    assert skills.natural_proportions() == pytest.approx(np.array([1, 1, 1, 3, 5]) / 11)
    assert build_task("lego", {"k": 4}, seed=0).natural_proportions() == [0.25] * 4


def test_different_seeds_give_different_validation_sets():
    a = build_task("lego", {"k": 3, "validation_size": 5}, seed=0)
    b = build_task("lego", {"k": 3, "validation_size": 5}, seed=1)
    assert [e.text for e in a["var1"].validation] != [e.text for e in b["var1"].validation]


def test_prerequisite_graph_is_the_ancestor_relation():
    chain = lego.prerequisite_graph(4, "chain").matrix
    assert chain.tolist() == [[1, 1, 1, 1], [0, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1]]
    tree = lego.prerequisite_graph(5, "tree").matrix
    assert tree[0].tolist() == [1, 1, 1, 1, 1] and tree[1].tolist() == [0, 1, 0, 1, 1]
    assert lego.prerequisite_graph(3, "disconnected").matrix.tolist() == np.eye(3).tolist()


def test_bad_params_are_rejected():
    from skillit.errors import ConfigError

    with pytest.raises(ConfigError, match="pool_proportions"):
        build_task("lego", {"k": 3, "pool_proportions": [1, 2]})
    with pytest.raises(ConfigError, match="kk: unknown key"):
        build_task("lego", {"kk": 3})
