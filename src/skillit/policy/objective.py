"""The objective of a run: the skills whose validation loss it minimises, by setting (paper §2.1, §4).

    pretrain        every evaluation skill (or the given targets)
    finetune        the target skills, which must be training skills with validation data
    out-of-domain   the evaluation skills that are not training skills (or the given targets)

The policies see it as ``PolicyContext.target_skills``; the Mixer evaluates and records it, the run summary
averages it (``objective_skills`` in ``summary.json``). One definition for every driver (skillit's loop, the
Hugging Face callback, the experiment runner).

With a config's ``objective_weights`` ``{skill: w}`` the objective is Σ_j w_j·L_j (w normalised to sum 1; an
objective skill not named weighs 0) instead of the plain mean: :func:`objective_weight_vector` turns the
mapping into the vector over the objective skills, which the summary averages with and the Mixer hands to the
policies as ``PolicyContext.objective_weights``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from skillit.errors import ConfigError, SkillError
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


def objective_weight_vector(skills: Sequence[str], weights: Mapping[str, float] | None) -> np.ndarray | None:
    """The objective's weights in ``skills`` order, summing to 1 (``None``: the plain mean).

    ``weights`` maps objective skills to non-negative numbers; an objective skill it does not name weighs 0.
    """
    if weights is None:
        return None
    unknown = [name for name in weights if name not in skills]
    if unknown:
        raise ConfigError(f"objective_weights: {unknown[0]!r} is not an objective skill; the objective skills are "
                          f"{list(skills)} (target_skills, or every evaluation skill)")
    w = np.array([float(weights.get(name, 0.0)) for name in skills])
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ConfigError(f"objective_weights: weights must be finite, non-negative and not all 0, got {dict(weights)}")
    return w / w.sum()


__all__ = ["objective_skills", "objective_weight_vector"]
