"""NaN/inf in a policy's signals: a PolicyError naming the skill and step; an all-zero graph warns."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skillit.errors import PolicyError
from skillit.graph.skills_graph import SkillsGraph
from skillit.policy.base import EvalResult, Observation, PolicyContext
from skillit.policy.checks import finite_weights
from skillit.policy.skill_curriculum import SkillCurriculum
from skillit.policy.skill_it import SkillIt


def context(initial: dict[str, float]) -> PolicyContext:
    return PolicyContext(
        train_skills=("a", "b"), eval_skills=("a", "b"), target_skills=("a", "b"), setting="pretrain",
        natural_proportions=(0.5, 0.5), pool_sizes=(10, 10), n_rounds=4, round_steps=5,
        initial_eval=EvalResult(0, initial),
    )


def graph(values) -> SkillsGraph:
    return SkillsGraph(np.asarray(values, dtype=float), ["a", "b"], ["a", "b"])


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_skill_it_names_the_skill_and_step_of_a_diverged_loss(bad):
    policy = SkillIt(graph([[1, 0], [0, 1]]))
    state = policy.init(context({"a": 1.0, "b": 1.0}))
    observation = Observation(round=1, step=40, evals=(EvalResult(40, {"a": 0.5, "b": bad}),), examples_seen={})
    with pytest.raises(PolicyError, match=r"skill-it: the run diverged at step 40: the validation loss of skill 'b' is"):
        policy.update(state, observation)


def test_skill_it_refuses_a_nan_initial_loss():
    with pytest.raises(PolicyError, match="diverged at step 0: the validation loss of skill 'a' is nan"):
        SkillIt(graph([[1, 0], [0, 1]]), initial_loss="observed").init(context({"a": math.nan, "b": 1.0}))


def test_skill_curriculum_refuses_a_nan_initial_loss():
    with pytest.raises(PolicyError, match="skill-curriculum: the run diverged at step 0: .* skill 'b' is inf"):
        SkillCurriculum().init(context({"a": 1.0, "b": math.inf}))


def test_an_all_zero_graph_warns_and_mixes_uniformly():
    policy = SkillIt(graph([[0, 0], [0, 0]]))
    with pytest.warns(UserWarning, match="all zeros"):
        state = policy.init(context({"a": 1.0, "b": 1.0}))
    assert np.allclose(policy.weights(state), [0.5, 0.5])


def test_finite_weights_names_the_skill_and_round():
    with pytest.raises(PolicyError, match="the weight of skill 'b' is nan in round 3"):
        finite_weights("p", np.array([0.5, math.nan]), ["a", "b"], 3)
