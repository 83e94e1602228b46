"""real-text-weighted: the config's objective_weights reach the policies through the one context they get.

The experiment's dry-run context (``dry_run_context``, what ``ExperimentPlan.build`` initialises every method
with, and the same weights the Mixer gives ``PolicyContext.objective_weights`` in the runs) carries the
normalised weights in the objective's order, and the shipped methods that read the objective use them.
"""

from __future__ import annotations

import pytest

from skillit.experiment.build import build_method, build_skillset, dry_run_context
from skillit.experiment.config import load_config, shipped_config_path


def test_real_text_weighted_hands_its_weights_to_the_policies():
    config = load_config("real-text-weighted")
    skills = build_skillset(config, config.seeds[0])
    context = dry_run_context(config, skills)
    objective = context.target_skills
    assert len(objective) == 8 and "scripture" in objective
    w = {name: 0.5 if name == "scripture" else 0.5 / 7 for name in objective}  # 7 : 1 : ... : 1 of 14
    assert context.objective_weights == pytest.approx([w[name] for name in objective], rel=1e-12)

    def init(method):
        return build_method(config, method, skills, shipped_config_path(config.name).parent).init(context)

    # skill-it (graph: identity): column j scaled by m·w_j = 8·w_j: 4 on scripture, 4/7 elsewhere
    assert init("skill-it")["column_scale"] == pytest.approx([8 * w[name] for name in objective], rel=1e-12)
    assert init("skill-it-plus-learned")["column_scale"] == pytest.approx([8 * w[name] for name in objective])
    train = list(skills.train_names)
    assert init("rb-balance")["eval_proportions"] == pytest.approx([w[name] for name in train])  # p′ = w
    assert init("aioli")["objective"] == pytest.approx([8 * w[name] for name in objective])  # n·w on every row
    stratified = init("stratified")["weights"]  # reads no objective: uniform, as before
    assert stratified == pytest.approx([1 / 8] * 8)
