"""Instruct-SkillMix: query-type files, seeded (skills, query type) pairs, reply parsing, records."""

from __future__ import annotations

import json

import pytest

from skillit.errors import DataError, SkillError
from skillit.llm import synth as sy
from skillit.llm.backends import CallableBackend, LLMOutputError

TYPES = [sy.QueryType("Advice", "the user wants a recommendation"), sy.QueryType("Coding")]


def test_query_type_files(tmp_path):
    (tmp_path / "q.txt").write_text("Advice: the user wants a recommendation\nCoding\n\n")
    assert sy.load_query_types(tmp_path / "q.txt") == TYPES
    (tmp_path / "q.json").write_text(json.dumps([{"name": "Advice", "definition": "the user wants a recommendation"},
                                                 "Coding"]))
    assert sy.load_query_types(tmp_path / "q.json") == TYPES
    (tmp_path / "bad.json").write_text(json.dumps([{"definition": "no name"}]))
    with pytest.raises(DataError, match="needs a 'name'"):
        sy.load_query_types(tmp_path / "bad.json")


def test_specs_are_seeded_and_distinct():
    skills = ["a", "b", "c", "d"]
    specs = sy.sample_specs(skills, TYPES, k=2, n=30, seed=1)
    assert specs == sy.sample_specs(skills, TYPES, k=2, n=30, seed=1)
    assert all(len(set(s["skills"])) == 2 and s["query_type"] in ("Advice", "Coding") for s in specs)
    assert {tuple(sorted(s["skills"])) for s in specs} > {("a", "b")}  # several different pairs
    with pytest.raises(SkillError):
        sy.sample_specs(skills, TYPES, k=0, n=1)


def test_parse_pair():
    reply = "Draft below.\n### Instruction:\nold\n### Response:\nold answer\n\n## Instruction\nPlan a trip.\n#### Response:\nGo north.\n"
    assert sy.parse_pair(reply) == ("Plan a trip.", "Go north.")
    with pytest.raises(LLMOutputError, match="no '### Instruction:'"):
        sy.parse_pair("Here you go: plan a trip.")
    with pytest.raises(LLMOutputError, match="no '### Response:'"):
        sy.parse_pair("### Instruction:\nPlan a trip.")
    with pytest.raises(LLMOutputError, match="empty"):
        sy.parse_pair("### Instruction:\n\n### Response:\nx")


def test_synthesize_without_refinement():
    spec = sy.sample_specs(["metaphor", "irony"], TYPES, k=2, n=1, seed=0)[0]
    seen = []

    def generator(messages):
        seen.append(messages)
        return "### Instruction:\nQ\n### Response:\nA"

    record = sy.synthesize(CallableBackend(generator), spec, definitions={"irony": "saying the opposite"}, refine=False)
    assert len(seen) == 1 and "irony: saying the opposite" in seen[0][0]["content"]
    assert record["skills"] == spec["skills"] and record["skill"] == " + ".join(spec["skills"])
    assert record["prompt"] == "### Instruction:\nQ\n\n### Response:\n" and record["answer"] == "A"
    assert record["input"] == "" and record["generator"] == {"backend": "callable"}
