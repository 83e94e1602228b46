"""Token-level proportions: the sampler's weights are example shares; the ``tokens`` wrapper converts.

Hand-computed: skills of 100 and 10 tokens per example. Example weights 1:1 give token shares
100:10 = 10/11 : 1/11 (what users report as "1:1 weights, 10:1 tokens"); token shares 1:1 need example
weights (1/100) : (1/10) = 1/11 : 10/11.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillit.errors import PolicyError
from skillit.graph import SkillsGraph
from skillit.model import CharTokenizer
from skillit.policy import build_policy
from skillit.policy.wrappers import (
    TokenProportions,
    example_weights_from_token_shares,
    token_shares_from_example_weights,
)
from skillit.skills.io import load_skills
from skillit.testing import check_policy, example_context
from skillit.trainer import TrainConfig, train
from skillit.trainer.batching import mean_tokens_per_example

from .helpers import context


def test_conversions_match_the_hand_computation():
    assert token_shares_from_example_weights(np.array([0.5, 0.5]), np.array([100.0, 10.0])) == pytest.approx(
        [10 / 11, 1 / 11])
    assert example_weights_from_token_shares(np.array([0.5, 0.5]), np.array([100.0, 10.0])) == pytest.approx(
        [1 / 11, 10 / 11])
    # three skills: t = (0.2, 0.3, 0.5), m = (2, 3, 10) → t/m = (0.1, 0.1, 0.05) → p = (0.4, 0.4, 0.2)
    assert example_weights_from_token_shares(np.array([0.2, 0.3, 0.5]), np.array([2.0, 3.0, 10.0])) == pytest.approx(
        [0.4, 0.4, 0.2])


def test_conversions_reject_bad_counts():
    with pytest.raises(PolicyError, match="positive"):
        example_weights_from_token_shares(np.array([0.5, 0.5]), np.array([1.0, 0.0]))
    with pytest.raises(PolicyError, match="positive"):
        token_shares_from_example_weights(np.array([0.5, 0.5]), np.array([1.0]))


simplex = st.lists(st.floats(0.01, 10), min_size=1, max_size=6)


@given(simplex, st.data())
def test_conversions_invert_each_other(raw, data):
    m = np.array(data.draw(st.lists(st.floats(1, 500), min_size=len(raw), max_size=len(raw))))
    t = np.array(raw) / sum(raw)
    p = example_weights_from_token_shares(t, m)
    assert p.sum() == pytest.approx(1.0) and (p > 0).all()
    assert token_shares_from_example_weights(p, m) == pytest.approx(t)
    equal = np.full(len(raw), 7.0)  # equal lengths: token and example shares coincide
    assert example_weights_from_token_shares(t, equal) == pytest.approx(t)


def test_wrapper_with_given_counts_and_with_counted_ones():
    ctx = context(train=("long", "short"))
    given_counts = build_policy("stratified", wrappers=[{"tokens": {"long": 100, "short": 10}}])
    state = given_counts.init(ctx)
    assert given_counts.weights(state) == pytest.approx([1 / 11, 10 / 11])
    assert json.loads(json.dumps(state))["mean_tokens"] == [100.0, 10.0]  # kept for a resumed run
    counted = build_policy("stratified", wrappers=[{"tokens": True}])
    assert isinstance(counted, TokenProportions)
    with_counts = replace(ctx, mean_tokens=lambda: (100.0, 10.0))
    assert counted.weights(counted.init(with_counts)) == pytest.approx([1 / 11, 10 / 11])
    with pytest.raises(PolicyError, match="does not count tokens"):
        counted.init(ctx)  # a driver without counts: the error says how to give them
    assert build_policy("stratified", wrappers=[{"tokens": False}]).name == "stratified"
    with pytest.raises(PolicyError, match="takes true, false or"):
        build_policy("stratified", wrappers=[{"tokens": "yes"}])
    with pytest.raises(PolicyError, match="takes true, false or"):
        build_policy("stratified", wrappers=[{"tokens": {"long": "many"}}])


def test_wrapper_names_a_wrong_or_missing_skill():
    ctx = context(train=("long", "short"))
    with pytest.raises(PolicyError, match="unknown training skill 'lng'"):
        build_policy("stratified", wrappers=[{"tokens": {"lng": 100, "short": 10}}]).init(ctx)
    with pytest.raises(PolicyError, match="skill 'short'"):
        build_policy("stratified", wrappers=[{"tokens": {"long": 100}}]).init(ctx)


def test_wrapper_keeps_the_policy_contract():
    policy = build_policy("skill-it", {"graph": "g", "eta": 0.8},
                          resolve_graph=lambda spec: SkillsGraph.identity(("a", "b", "c")),
                          wrappers=[{"tokens": {"a": 3, "b": 30, "c": 7}}])
    check_policy(policy, example_context(("a", "b", "c")))


def test_mean_tokens_per_example_counts_bos_text_and_eos():
    rows = [{"skill": "a", "prompt": "xy", "answer": "z"}, {"skill": "a", "prompt": "", "answer": "zzzz"},
            {"skill": "b", "prompt": "x", "answer": "y"}]
    skills = load_skills(rows, None)
    tok = CharTokenizer(["x", "y", "z"])
    # a: [bos] x y z [eos] = 5 and [bos] z z z z [eos] = 6 → 5.5; b: [bos] x y [eos] = 4
    assert mean_tokens_per_example(tok, [skills["a"].train, skills["b"].train]) == (5.5, 4.0)
    # a sample of 2 from a pool of 5 takes its first and last example (evenly spaced)
    pool = load_skills([{"skill": "c", "prompt": "", "answer": "x" * n} for n in (1, 9, 9, 9, 3)], None)
    assert mean_tokens_per_example(tok, [pool["c"].train], sample=2) == ((3 + 5) / 2,)


def test_the_trainer_hands_the_counts_to_the_wrapper(tiny_model_factory):
    rows = [{"skill": "long", "prompt": "", "answer": "x" * 18}] * 4 + [{"skill": "short", "prompt": "", "answer": "y"}] * 4
    skills = load_skills(rows, rows)
    tok = CharTokenizer(["x", "y"])
    policy = build_policy("stratified", wrappers=[{"tokens": True}])
    result = train(tiny_model_factory(tok), tok, skills, policy,
                   TrainConfig(steps=1, batch_size=21, round_steps=1, eval_every=1, warmup_steps=0))
    # long: [bos] + 18 + [eos] = 20 tokens, short: 3 → equal token shares need example weights 3:20
    assert result.records[0]["weights"] == pytest.approx({"long": 3 / 23, "short": 20 / 23})
    assert result.records[-1]["examples_seen"] == {"long": 3, "short": 18}  # quota of 21 slots: 2.74 → 3, 18.26 → 18
