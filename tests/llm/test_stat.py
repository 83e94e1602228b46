"""STAT: filters, fuzzy skill matching, teacher parsing, the profile and its mixture, STAT-Sel, end to end."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from skillit import GPT, CharTokenizer, GPTConfig, TrainConfig, train
from skillit.errors import DataError, SkillError
from skillit.llm.backends import CallableBackend, LLMOutputError
from skillit.llm.oracles import ALPHABET, digit_ops_task, greedy_answers, oracle_teacher, solve
from skillit.llm.stat import (
    MissingSkillProfile,
    consistency_filter,
    diagnose,
    match_skill,
    normalise_name,
    parse_diagnosis,
    reward_filter,
    stat_sel,
)
from skillit.policies import Static
from skillit.policy import PolicyContext

SKILLS = ["solving equations", "basic arithmetic", "algebraic manipulation", "var3"]


def test_reward_filter_by_hand():
    assert not reward_filter([0.9, 0.95, 0.9])
    assert reward_filter([0.9, 0.95, 0.85])  # last step at τ1
    assert reward_filter([0.99, 0.7, 0.99])  # an earlier step at τ2
    assert not reward_filter([0.99, 0.71, 0.99])
    assert reward_filter([0.8, 0.86, 0.86])  # mean 0.84 ≤ τ1
    assert reward_filter([0.5])  # a single step: r_t = mean
    with pytest.raises(DataError):
        reward_filter([])


def test_consistency_filter():
    assert consistency_filter(["1", "2", "3", "4", "5"])
    assert not consistency_filter(["1", "2", "1", "4", "5"])
    assert consistency_filter(["7", "7"], min_count=3)


@pytest.mark.parametrize("name, expected", [
    ("basic arithmetic", "basic arithmetic"), ("Basic Arithmetic.", "basic arithmetic"), ("VAR 3", "var3"),
    ("algebraic_manipulation", "algebraic manipulation"), ("solving equation", "solving equations"),
    ("geometry", None), ("", None),
])
def test_match_skill(name, expected):
    assert match_skill(name, SKILLS) == expected


def test_normalise_name_and_its_deprecated_spelling():
    assert normalise_name("  Basic_Arithmetic.. (2) ") == "basic arithmetic 2"
    from skillit.llm.stat import normalize_name

    with pytest.warns(DeprecationWarning, match="use normalise_name"):
        assert normalize_name("Var_3!") == "var 3"


def test_parse_diagnosis():
    reply = ("<judge>Incorrect</judge>\n<reason>Dropped a sign.</reason>\n"
             "<skill>1. Algebraic Manipulation\n2. basic arithmetics; Topology, algebraic manipulation</skill>")
    d = parse_diagnosis(reply, SKILLS)
    assert d.judge == "incorrect" and d.reason == "Dropped a sign."
    assert d.skills == ["algebraic manipulation", "basic arithmetic"] and d.unmatched == ["Topology"]
    assert parse_diagnosis("<judge>correct</judge>", SKILLS).skills == []
    cut = parse_diagnosis("<judge>incorrect</judge><skill>var3, basic ar", SKILLS)  # reply cut off
    assert cut.skills == ["var3"] and cut.unmatched == ["basic ar"]
    assert len(parse_diagnosis("<skill>" + ", ".join(SKILLS) + "</skill>", SKILLS, max_skills=2).skills) == 2
    with pytest.raises(LLMOutputError, match="no <judge> or <skill>"):
        parse_diagnosis("The student should practise more.", SKILLS)
    with pytest.raises(LLMOutputError, match="named no <skill>"):
        parse_diagnosis("<judge>incorrect</judge><reason>?</reason>", SKILLS)


def test_profile_counts_mixture_and_policy():
    records = [{"id": "q1", "judge": "incorrect", "skills": ["var3"]},
               {"id": "q2", "judge": "incorrect", "skills": ["var3", "basic arithmetic"]},
               {"id": "q3", "judge": "correct", "skills": ["solving equations"]},
               {"id": "q4", "judge": "incorrect", "skills": []}]
    profile = MissingSkillProfile.from_records(records, SKILLS)
    assert profile.counts() == {"solving equations": 0, "basic arithmetic": 1, "algebraic manipulation": 0, "var3": 2}
    assert profile.mixture() == pytest.approx({"solving equations": 0, "basic arithmetic": 1 / 3,
                                               "algebraic manipulation": 0, "var3": 2 / 3})
    smoothed = profile.mixture(["var3", "basic arithmetic"], smoothing=1.0)
    assert smoothed == pytest.approx({"var3": 0.6, "basic arithmetic": 0.4})
    policy = profile.as_policy(["var3", "basic arithmetic", "solving equations"])
    assert isinstance(policy, Static)
    state = policy.init(PolicyContext(train_skills=("var3", "basic arithmetic", "solving equations")))
    assert policy.weights(state) == pytest.approx([2 / 3, 1 / 3, 0])
    with pytest.raises(SkillError, match="not in the profile's skill list"):
        profile.mixture(["geometry"])
    with pytest.raises(SkillError, match="unknown skill 'geometry'"):
        MissingSkillProfile(SKILLS, {"q": ["geometry"]})


def test_profile_save_load(tmp_path):
    profile = MissingSkillProfile(SKILLS, {"q1": ["var3"]})
    profile.save(tmp_path / "p.json")
    assert MissingSkillProfile.load(tmp_path / "p.json") == profile
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(DataError, match="'skills' and 'questions'"):
        MissingSkillProfile.load(tmp_path / "bad.json")


def test_stat_sel_by_hand():
    profile = MissingSkillProfile(["a", "b", "c"], {"q1": ["a"], "q2": ["a", "b"]})
    skill_map = {"a": [f"a{i}" for i in range(10)], "b": [f"b{i}" for i in range(10)], "c": ["c0"]}
    chosen = stat_sel(profile, skill_map, per_pair=2, seed=0)
    kinds = Counter(x[0] for x in chosen)
    assert kinds == {"a": 4, "b": 2}  # 3 pairs × 2, none for c
    assert stat_sel(profile, skill_map, per_pair=2, seed=0) == chosen
    assert len(set(chosen[:2])) == 2  # without replacement inside a pair
    assert len(stat_sel(profile, skill_map, per_pair=2, budget=25, seed=1)) == 25
    assert len(stat_sel(profile, {"a": ["a0"], "b": ["b0"]}, per_pair=3)) == 9  # small pools: with replacement
    with pytest.raises(SkillError, match="'b' has no training examples"):
        stat_sel(profile, {"a": ["a0"]})
    with pytest.raises(SkillError, match="no \\(question, skill\\) pairs"):
        stat_sel(MissingSkillProfile(["a"]), skill_map)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=4), st.integers(0, 10_000))
def test_stat_sel_share_follows_counts(counts, seed):
    names = [f"s{i}" for i in range(len(counts))]
    questions = {f"q{i}-{j}": [name] for i, (name, c) in enumerate(zip(names, counts)) for j in range(c)}
    profile = MissingSkillProfile(names, questions)
    chosen = stat_sel(profile, {n: [n] * 3 for n in names}, per_pair=3, seed=seed)
    assert Counter(chosen) == {n: 3 * c for n, c in zip(names, counts)}  # p_s ∝ count(s) exactly without budget


def test_oracle_task_and_teacher():
    skills = digit_ops_task()
    assert skills.names == ["addition", "subtraction", "multiplication", "maxmin"]
    assert len(skills["multiplication"].validation) == 100
    assert solve("7*8=") == ("multiplication", "56") and solve("3^9=") == ("maxmin", "93")
    teacher = CallableBackend(oracle_teacher())
    item = {"id": "x", "question": "7*8=", "response": "54"}
    assert diagnose(teacher, item, skills.names)["skills"] == ["multiplication"]
    assert diagnose(teacher, {**item, "response": "56"}, skills.names)["judge"] == "correct"
    noisy = CallableBackend(oracle_teacher(noise=1.0))
    assert len(diagnose(noisy, item, skills.names)["skills"]) == 2


def test_greedy_answers_stop_at_eos():
    tokenizer = CharTokenizer(ALPHABET)

    class Scripted(torch.nn.Module):  # always predicts "4", then "2", then eos
        def forward(self, input_ids, attention_mask=None):
            T = input_ids.shape[1]
            logits = torch.zeros(input_ids.shape[0], T, tokenizer.vocab_size)
            step = T - 5  # prompts are bos + 4 characters
            target = [tokenizer.encode("4")[0], tokenizer.encode("2")[0], tokenizer.eos_id][min(step, 2)]
            logits[:, -1, target] = 1.0
            return logits

    assert greedy_answers(Scripted(), tokenizer, ["6*7=", "1+1="]) == ["42", "42"]


@pytest.mark.slow
def test_stat_end_to_end_profile_names_the_skill_left_out():
    """A tiny model trained without multiplication: the oracle's profile names it first, STAT-Sel picks it."""
    torch.manual_seed(0)
    skills = digit_ops_task(seed=0)
    tokenizer = CharTokenizer(ALPHABET)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=16, n_layer=2, n_head=4, n_embd=64, init_std=0.2))
    weights = {"addition": 1.0, "subtraction": 1.0, "multiplication": 0.0, "maxmin": 1.0}
    train(model, tokenizer, skills, Static(weights), TrainConfig(steps=150, batch_size=32, round_steps=150,
                                                                 eval_every=150, lr=3e-3, warmup_steps=5, seed=0))
    questions = [e for name in skills.names for e in skills[name].validation[::5]]
    answers = greedy_answers(model, tokenizer, [e.prompt for e in questions])
    failures = [{"id": str(i), "question": e.prompt, "response": a}
                for i, (e, a) in enumerate(zip(questions, answers)) if a != e.answer]
    teacher = CallableBackend(oracle_teacher(noise=0.2))
    profile = MissingSkillProfile.from_records([diagnose(teacher, f, skills.names) for f in failures], skills.names)
    counts = profile.counts()
    assert max(counts, key=counts.get) == "multiplication" and counts["multiplication"] >= 15  # of its 20 questions
    chosen = stat_sel(profile, {n: [n] * 5 for n in skills.names}, budget=200)
    assert Counter(chosen)["multiplication"] / 200 == pytest.approx(profile.mixture()["multiplication"], abs=0.1)
    assert np.isclose(sum(profile.mixture().values()), 1.0)
