"""Multi-stage schedules (``staged``): stage switching, round clipping at boundaries, per-stage skills, resume."""

from __future__ import annotations

import numpy as np
import pytest

from skillit.errors import PolicyError
from skillit.model import CharTokenizer
from skillit.policy import Static, Stratified, build_policy
from skillit.policy.staged import Stage, Staged
from skillit.testing import check_policy, example_context
from skillit.trainer import TrainConfig, TrainerCallback, train

from .helpers import observe


def two_stage():
    # stage 1: stratified over a, b, c for 20 steps; stage 2: static 1:3 over a and b only
    return Staged([Stage(20, Stratified()), Stage(40, Static({"a": 1.0, "b": 3.0}), ("a", "b"))])


def test_stages_switch_at_the_boundary_and_restrict_skills():
    policy = two_stage()
    state = policy.init(example_context())
    np.testing.assert_allclose(policy.weights(state), [1 / 3, 1 / 3, 1 / 3])
    assert policy.plan(state, 15).steps == 15
    state = policy.update(state, observe(0, {"a": 1.0, "b": 1.0, "c": 1.0}, step=15))
    assert state["stage"] == 0 and policy.plan(state, 15).steps == 5  # a round never straddles step 20
    state = policy.update(state, observe(1, {"a": 0.9, "b": 0.8, "c": 0.7}, step=20))
    assert state["stage"] == 1
    np.testing.assert_allclose(policy.weights(state), [0.25, 0.75, 0.0])  # 1:3 over a, b; c gets nothing
    assert policy.plan(state, 15).steps == 15  # the last stage runs to the end


def test_a_stage_starts_from_the_losses_reached_before_it():
    graph_policy = build_policy("skill-it", {"graph": "identity", "eta": 1.0, "initial_loss": "observed", "window": 1},
                                resolve_graph=lambda spec: __import__("skillit").SkillsGraph.identity(["a", "b", "c"]))
    policy = Staged([Stage(10, Stratified()), Stage(10, graph_policy)])
    state = policy.init(example_context())
    state = policy.update(state, observe(0, {"a": 1.0, "b": 2.0, "c": 3.0}, step=10))
    # Skill-It with A = I, η = 1, window 1, observed initial loss: p ∝ exp(L) of the last evaluation
    expected = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(policy.weights(state), expected)


def test_staged_keeps_the_policy_contract_and_refuses_bad_stages():
    check_policy(two_stage())
    with pytest.raises(PolicyError, match="unknown training skill 'z'"):
        Staged([Stage(5, Stratified(), ("z",))]).init(example_context())
    with pytest.raises(PolicyError, match="itself staged"):
        build_policy("staged", {"stages": [{"steps": 5, "policy": "staged", "params": {"stages": []}}]})
    with pytest.raises(PolicyError, match="stages"):
        build_policy("staged", {"stages": []})


def test_a_two_stage_run_killed_in_stage_two_resumes_with_identical_records(tiny_lego, tiny_model_factory, tmp_path):
    tok = CharTokenizer(tiny_lego.metadata["alphabet"])
    config = TrainConfig(steps=16, batch_size=8, round_steps=3, eval_every=2, lr=1e-3, warmup_steps=2,
                         checkpoint_every=2)

    def policy():
        return build_policy("staged", {"stages": [
            {"steps": 7, "policy": "stratified"},
            {"steps": 9, "policy": "static", "params": {"weights": {"var1": 1.0, "var2": 3.0}}, "skills": ["var1", "var2"]},
        ]})

    full = train(tiny_model_factory(tok), tok, tiny_lego, policy(), config)
    weights = {r["step"]: r["weights"] for r in full.records}
    assert weights[6] == pytest.approx({"var1": 1 / 3, "var2": 1 / 3, "var3": 1 / 3})
    assert weights[8] == pytest.approx({"var1": 0.25, "var2": 0.75, "var3": 0.0})
    seen = {r["step"]: r["examples_seen"]["var3"] for r in full.records}
    assert seen[16] == seen[8] > seen[6]  # var3 drawn up to step 7 (stage 1), never after

    class Kill(TrainerCallback):
        def on_step_end(self, step, loss):
            if step == 11:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tiny_model_factory(tok), tok, tiny_lego, policy(), config, callbacks=[Kill()], checkpoint_dir=tmp_path)
    resumed = train(tiny_model_factory(tok, seed=9), tok, tiny_lego, policy(), config, checkpoint_dir=tmp_path,
                    resume=True)  # from the step-10 checkpoint, inside stage 2
    strip = lambda rs: [{k: v for k, v in r.items() if not k.endswith("seconds")} for r in rs]  # noqa: E731
    assert strip(resumed.records) == strip(full.records)
