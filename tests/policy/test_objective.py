"""The objective of a run by setting (skillit.policy.objective), and the old import paths that still work."""

from __future__ import annotations

import pytest

from skillit.errors import SkillError
from skillit.policy.objective import objective_skills
from skillit.skills import Example, SkillSet


def skills() -> SkillSet:
    """a, b: trained and evaluated; c: trained only; d: evaluated only (an out-of-domain skill)."""
    train = [Example(prompt=f"{s}{i}=", answer="x", skill=s) for s in "abc" for i in range(2)]
    validation = [Example(prompt=f"{s}=", answer="y", skill=s) for s in "abd"]
    return SkillSet.from_examples(train, validation)


def test_each_setting_names_its_objective():
    assert objective_skills(skills(), "pretrain", None) == ("a", "b", "d")  # every evaluation skill
    assert objective_skills(skills(), "pretrain", ["d"]) == ("d",)
    assert objective_skills(skills(), "finetune", ["b", "a"]) == ("b", "a")  # the targets, in their order
    assert objective_skills(skills(), "out-of-domain", None) == ("d",)  # evaluated, never trained
    assert objective_skills(skills(), "out-of-domain", ["a"]) == ("a",)


@pytest.mark.parametrize(("setting", "targets", "message"), [
    ("finetune", None, "the fine-tuning setting needs target_skills"),
    ("finetune", ["d"], "unknown training skill 'd' in target_skills"),
    ("finetune", ["c"], r"unknown evaluation skill 'c' in target_skills \(targets need validation data\)"),
    ("pretrain", ["c"], "unknown evaluation skill 'c' in target_skills"),
])
def test_targets_the_setting_cannot_have_are_refused_by_name(setting, targets, message):
    with pytest.raises(SkillError, match=message):
        objective_skills(skills(), setting, targets)


def test_out_of_domain_needs_a_skill_that_is_not_trained():
    both = SkillSet.from_examples([Example(prompt="a=", answer="x", skill="a")], [Example(prompt="a", answer="y", skill="a")])
    with pytest.raises(SkillError, match="needs evaluation skills that are not training skills"):
        objective_skills(both, "out-of-domain", None)


def test_the_former_homes_in_the_mixer_give_the_same_objects():
    from skillit.trainer import mixer, reference

    assert mixer.objective_skills is objective_skills
    assert (mixer.RecordedReference, mixer.ModelReference, mixer.ReferenceLosses) == (
        reference.RecordedReference, reference.ModelReference, reference.ReferenceLosses)
