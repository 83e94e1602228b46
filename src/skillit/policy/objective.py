"""The objective of a run: the skills whose validation loss it minimises, by setting (paper §2.1, §4).

    pretrain        every evaluation skill (or the given targets)
    finetune        the target skills, which must be training skills with validation data
    out-of-domain   the evaluation skills that are not training skills (or the given targets)

The policies see it as ``PolicyContext.target_skills``; the Mixer evaluates and records it, the run summary
averages it (``objective_skills`` in ``summary.json``). One definition for every driver (skillit's loop, the
Hugging Face callback, the experiment runner).
"""

from __future__ import annotations

from collections.abc import Sequence

from skillit.errors import SkillError
from skillit.policy.base import Setting
from skillit.skills.skillset import SkillSet


def objective_skills(skillset: SkillSet, setting: Setting, target_skills: Sequence[str] | None) -> tuple[str, ...]:
    """The skills whose loss is the objective: targets in fine-tuning, all evaluation skills otherwise."""
    if setting == "finetune":
        if not target_skills:
            raise SkillError("the fine-tuning setting needs target_skills (a subset of the training skills)")
        skillset.check_names(target_skills, role="train", where="target_skills")
        skillset.check_names(target_skills, role="eval", where="target_skills (targets need validation data)")
        return tuple(target_skills)
    if target_skills:
        skillset.check_names(target_skills, role="eval", where="target_skills")
        return tuple(target_skills)
    if setting == "out-of-domain":
        overlap = set(skillset.eval_names) & set(skillset.train_names)
        evals = [name for name in skillset.eval_names if name not in overlap]
        if not evals:
            raise SkillError("the out-of-domain setting needs evaluation skills that are not training skills")
        return tuple(evals)
    return tuple(skillset.eval_names)



__all__ = ["objective_skills"]
