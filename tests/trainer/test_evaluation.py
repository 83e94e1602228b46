"""Which evaluations score whole texts (no prompt), where exact-match accuracy says nothing."""

import pytest

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


def test_the_evaluator_returns_per_skill_means_with_their_arrays(tiny_lego, tiny_model_factory):
    import numpy as np

    from skillit.model import CharTokenizer
    from skillit.trainer import SkillEvaluator, answer_metrics

    tok = CharTokenizer(tiny_lego.metadata["alphabet"])
    model = tiny_model_factory(tok)
    result = SkillEvaluator(tiny_lego, tok)(model, 5)
    names = tiny_lego.eval_names
    assert result.step == 5 and list(result.losses) == names and list(result.accuracies) == names
    for name in names:  # each skill's mean over its own validation examples
        loss, correct = answer_metrics(model, tok, tiny_lego[name].validation)
        assert result.losses[name] == pytest.approx(float(np.mean(loss)), rel=1e-6)
        assert result.accuracies[name] == pytest.approx(float(np.mean(correct)))
    values, array = result.loss_row(names)  # EvalResult.from_arrays: read without converting
    assert result._table is not None and values == [result.losses[name] for name in names]
    assert array.tolist() == values
