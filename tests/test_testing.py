"""``skillit.testing``: check_policy's default context comes from the policy's own skills, and an undeclared
signal is named only when it changed the weights (issue 27, item 6)."""

from __future__ import annotations

import numpy as np
import pytest

from skillit.graph import SkillsGraph
from skillit.policy import MixingPolicy
from skillit.policy.skill_it import SkillIt
from skillit.policy.staged import Stage, Staged
from skillit.policy.static import Stratified
from skillit.policy.wrappers import Frozen, MinimumProbability
from skillit.testing import PolicyCheckError, check_policy, policy_context, policy_skills

TWO = SkillsGraph([[1.0, 0.5], [0.0, 1.0]], ["small", "large"])


class _GraphRows(MixingPolicy):
    """A user's policy over a graph: weights ∝ the row sums of A restricted to the run's skills."""

    name = "graph-rows"

    def __init__(self, graph: SkillsGraph):
        self.graph = graph

    def init(self, context):
        rows = self.graph.submatrix(context.train_skills, context.eval_skills).sum(axis=1)
        return {"rows": rows.tolist()}

    def update(self, state, observation):
        return state

    def weights(self, state):
        w = np.asarray(state["rows"], dtype=float)
        return w / w.sum()


# ---- the default context: the policy's own skills ------------------------------------------------------
def test_a_two_skill_graph_policy_passes_with_the_default_context():
    check_policy(_GraphRows(TWO))  # used to fail: "skill 'a' is not a row (training skill) of the graph"
    check_policy(SkillIt(TWO))
    context = policy_context(_GraphRows(TWO))
    assert context.train_skills == ("small", "large")
    assert context.eval_skills == context.target_skills == ("small", "large")
    assert context.setting == "pretrain"
    # row sums 1.5 and 1.0 → weights 0.6, 0.4
    np.testing.assert_allclose(_GraphRows(TWO).weights(_GraphRows(TWO).init(context)), [0.6, 0.4])


def test_the_skills_are_found_through_wrappers_and_stages():
    assert policy_skills(Frozen(MinimumProbability(SkillIt(TWO), 0.05))) == (("small", "large"), ("small", "large"))
    other = SkillsGraph([[1.0]], ["tiny"])
    staged = Staged([Stage(10, Stratified()), Stage(10, SkillIt(TWO)), Stage(10, Stratified(other))])
    assert policy_skills(staged) == (("small", "large", "tiny"), ("small", "large", "tiny"))
    with_list = Staged([Stage(10, Stratified(), ("large", "extra")), Stage(10, SkillIt(TWO))])
    assert policy_skills(with_list) == (("large", "extra", "small"), ("small", "large"))  # first appearance
    check_policy(Frozen(SkillIt(TWO)))


def test_a_policy_without_skills_gets_a_b_c():
    assert policy_skills(Stratified()) is None
    assert policy_context(Stratified()).train_skills == ("a", "b", "c")


def test_graph_columns_among_the_rows_give_a_fine_tuning_context():
    graph = SkillsGraph([[0.5], [1.0]], ["helper", "target"], ["target"])
    context = policy_context(SkillIt(graph))
    assert (context.setting, context.train_skills, context.eval_skills, context.target_skills) == (
        "finetune", ("helper", "target"), ("helper", "target"), ("target",))
    check_policy(SkillIt(graph))
    check_policy(Stratified(graph))


def test_graph_columns_outside_the_rows_give_an_out_of_domain_context():
    graph = SkillsGraph([[1.0, 0.0], [0.5, 1.0]], ["x", "y"], ["u", "v"])
    context = policy_context(SkillIt(graph))
    assert (context.setting, context.train_skills, context.eval_skills, context.target_skills) == (
        "out-of-domain", ("x", "y"), ("u", "v"), ("u", "v"))
    assert set(context.initial_eval.losses) == {"u", "v"}
    check_policy(SkillIt(graph))


# ---- undeclared signals: name the one(s) that changed the weights --------------------------------------
def _reading(*signals: str) -> MixingPolicy:
    """A policy that declares only val_loss but lets each of ``signals`` move its weights."""

    class Reads(MixingPolicy):
        name = "reads-" + "-".join(signals)

        def init(self, context):
            return {"seen": [1.0] * context.k}

        def update(self, state, observation):
            bonus = 0.0
            if "train_loss" in signals:
                bonus += sum(observation.train_loss.values())
            if "ref_loss" in signals:
                bonus += sum(observation.ref_losses.values())
            if "grad_stats" in signals and observation.grad is not None:
                bonus += float(observation.grad.sqnorm.sum())
            if "grad_probe" in signals and observation.probe is not None:
                bonus += float(observation.probe.alignment.sum())
            seen = list(state["seen"])
            seen[0] += 1.0 + abs(bonus)
            return {"seen": seen}

        def weights(self, state):
            w = np.asarray(state["seen"], dtype=float)
            return w / w.sum()

    return Reads()


@pytest.mark.parametrize("signal", ["train_loss", "ref_loss", "grad_stats", "grad_probe"])
def test_the_message_names_only_the_signal_that_changed_the_weights(signal):
    with pytest.raises(PolicyCheckError) as caught:
        check_policy(_reading(signal))
    message = str(caught.value)
    assert f"its weights depend on signal(s) it did not declare in requires: ['{signal}']; " in message
    assert message.endswith(f"add them to requires (requires = {{'{signal}', 'val_loss'}})")
    others = {"train_loss", "ref_loss", "grad_stats", "grad_probe"} - {signal}
    assert not any(f"'{other}'" in message for other in others), message


def test_the_message_names_every_signal_that_changed_the_weights():
    with pytest.raises(PolicyCheckError, match=r"did not declare in requires: \['train_loss', 'grad_probe'\]; "
                                               r"add them to requires \(requires = \{'grad_probe', 'train_loss', "
                                               r"'val_loss'\}\)"):
        check_policy(_reading("grad_probe", "train_loss"))


def test_declaring_the_named_signals_passes():
    policy = _reading("ref_loss", "grad_stats")
    policy.requires = frozenset({"val_loss", "ref_loss", "grad_stats"})
    check_policy(policy)
