"""Natural (token share) and temperature sampling, against hand-computed shares."""

import math

import pytest

from skillit.errors import PolicyError
from skillit.policy import Observation
from skillit.policy.natural import Natural
from skillit.policy.temperature import Temperature

from .helpers import context


def counted(round_index, examples, tokens):
    return Observation(round=round_index, step=10 * (round_index + 1), evals=(), round_examples=examples,
                       train_tokens=tokens)


def test_given_token_counts():
    policy = Natural(tokens={"a": 100, "b": 300})
    state = policy.init(context(train=("a", "b")))
    assert policy.weights(state) == pytest.approx([0.25, 0.75])
    # fixed for the run
    assert policy.weights(policy.update(state, counted(0, {"a": 5}, {"a": 999}))) == pytest.approx([0.25, 0.75])


def test_token_share_is_estimated_from_the_rounds():
    policy = Natural()
    state = policy.init(context(natural=(1, 1, 2)))
    assert policy.weights(state) == pytest.approx([0.25, 0.25, 0.5])  # before any round: the example share
    # tokens per example: a 20/2 = 10, b 20/4 = 5, c 60/2 = 30 → n = [1·10, 1·5, 2·30] = [10, 5, 60] / 75
    state = policy.update(state, counted(0, {"a": 2, "b": 4, "c": 2}, {"a": 20, "b": 20, "c": 60}))
    assert policy.weights(state) == pytest.approx([10 / 75, 5 / 75, 60 / 75])


def test_an_undrawn_skill_takes_the_mean_tokens_per_example():
    policy = Natural()
    state = policy.init(context(natural=(1, 1, 2)))
    # a: 10 per example, c: 30, b undrawn → (10 + 30)/2 = 20 → n = [10, 20, 60] / 90
    state = policy.update(state, counted(0, {"a": 2, "b": 0, "c": 2}, {"a": 20, "c": 60}))
    assert policy.weights(state) == pytest.approx([1 / 9, 2 / 9, 6 / 9])


def test_temperature_flattens_the_pool():
    policy = Temperature(temperature=2.0, tokens=[1, 4, 16])
    state = policy.init(context())
    assert policy.weights(state) == pytest.approx([1 / 7, 2 / 7, 4 / 7])  # √n = 1, 2, 4
    by_examples = Temperature(temperature=2.0, unit="examples")
    state = by_examples.init(context(natural=(1, 1, 2)))
    root = math.sqrt(2)
    assert by_examples.weights(state) == pytest.approx([1 / (2 + root), 1 / (2 + root), root / (2 + root)])
    # T = 1 is natural sampling
    natural = Temperature(temperature=1.0, tokens=[1, 4, 16])
    assert natural.weights(natural.init(context())) == pytest.approx([1 / 21, 4 / 21, 16 / 21])


def test_bad_parameters():
    with pytest.raises(PolicyError, match="policy 'temperature': temperature: Input should be greater than 0"):
        Temperature(temperature=0.0)
    with pytest.raises(PolicyError, match="unit is 'examples'"):
        Natural(tokens=[1, 2], unit="examples")
