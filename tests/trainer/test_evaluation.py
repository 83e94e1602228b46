"""Which evaluations score whole texts (no prompt), where exact-match accuracy says nothing."""

from skillit.skills.example import Example
from skillit.skills.skillset import Skill, SkillSet
from skillit.skills.sources import ListSource
from skillit.trainer.evaluation import whole_text_targets


def skill(name, prompts):
    """A skill whose validation examples have these prompts (None: a training-only skill)."""
    train = ListSource([Example("", "x", name)])
    return Skill(name, train, None if prompts is None else [Example(p, "the cat sat", name) for p in prompts])


def test_whole_text_only_when_every_evaluated_example_has_no_prompt():
    assert whole_text_targets(SkillSet([skill("a", ["", ""]), skill("b", [""])]))
    assert not whole_text_targets(SkillSet([skill("a", [""]), skill("b", ["", "2+2="])]))  # one prompt: accuracy counts
    assert whole_text_targets(SkillSet([skill("a", [""]), skill("b", None)]))  # b is not evaluated
    assert not whole_text_targets(SkillSet([skill("a", None)]))  # nothing evaluated
