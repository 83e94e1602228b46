"""Checks on a policy's signals: a NaN or infinite loss is a diverged run, never a silent NaN mixture.

A policy that reads losses (Skill-It's L̃, the curricula's initial losses) calls :func:`finite_losses`
instead of ``EvalResult.loss_vector``; the first non-finite entry raises a
:class:`~skillit.errors.PolicyError` that names the policy, the skill and the step, and calls the run
diverged. :func:`finite_weights` guards a mixture before it reaches the sampler.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from skillit.errors import PolicyError
from skillit.policy.base import EvalResult

DIVERGED_HINT = "lower training.lr, set training.grad_clip, or check the data of that skill"


def finite_losses(policy: str, evaluation: EvalResult, skills: Sequence[str]) -> np.ndarray:
    """``evaluation.loss_vector(skills)`` (shape (len(skills),)), refusing NaN/inf with the skill and step."""
    return _refuse_non_finite(policy, evaluation, skills, evaluation.loss_vector(skills))


def finite_loss_row(policy: str, evaluation: EvalResult, skills: Sequence[str]) -> tuple[list[float], np.ndarray]:
    """``evaluation.loss_row(skills)``: (list, read-only array) of the losses, refusing NaN/inf as :func:`finite_losses`."""
    values, losses = evaluation.loss_row(skills)
    _refuse_non_finite(policy, evaluation, skills, losses)
    return values, losses


def _refuse_non_finite(policy: str, evaluation: EvalResult, skills: Sequence[str], losses: np.ndarray) -> np.ndarray:
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        skill = skills[int(bad[0])]
        raise PolicyError(
            f"{policy}: the run diverged at step {evaluation.step}: the validation loss of skill {skill!r} is "
            f"{losses[bad[0]]}; {DIVERGED_HINT}"
        )
    return losses


def finite_scores(policy: str, skill: str, values: np.ndarray) -> np.ndarray:
    """Per-example pool losses of one skill (the initial model's), refusing NaN/inf with the example index."""
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise PolicyError(
            f"{policy}: the initial model's loss on example {int(bad[0])} of skill {skill!r} is {values[bad[0]]} "
            f"(step 0); {DIVERGED_HINT}"
        )
    return values


def finite_weights(policy: str, weights: np.ndarray, skills: Sequence[str], round_index: int | None = None) -> np.ndarray:
    """A mixture (shape (k,)) with every entry finite, else a PolicyError naming the skill and round."""
    bad = np.flatnonzero(~np.isfinite(weights))
    if bad.size:
        when = f" in round {round_index}" if round_index is not None else ""
        raise PolicyError(
            f"{policy}: the weight of skill {skills[int(bad[0])]!r} is {weights[bad[0]]}{when}; the run diverged "
            f"({DIVERGED_HINT})"
        )
    return weights


def warn_if_all_zero(policy: str, matrix: Any) -> None:
    """Warn (not fail) when a skills graph has no non-zero entry: Skill-It then mixes uniformly."""
    values = matrix.values if hasattr(matrix, "values") and not isinstance(matrix, np.ndarray) else matrix
    if not np.any(np.asarray(values) != 0):
        warnings.warn(
            f"{policy}: the skills graph is all zeros on the objective columns, so the mixture stays uniform "
            "(the same as stratified sampling); check the graph, or use graph: identity for the no-graph ablation",
            UserWarning,
            stacklevel=3,
        )


__all__ = ["finite_loss_row", "finite_losses", "finite_scores", "finite_weights", "warn_if_all_zero"]
