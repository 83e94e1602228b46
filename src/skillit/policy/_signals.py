"""Small readers shared by the peer policies: the latest validation losses, training losses with gaps filled.

Private to ``skillit.policy``; each policy file still states its own rule.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from skillit.errors import PolicyError
from skillit.policy.base import GradStats, Observation


def latest_eval_losses(observation: Observation, skills: Sequence[str], previous: Sequence[float]) -> np.ndarray:
    """Validation losses of ``skills`` at the round's last evaluation; ``previous`` where a skill was not evaluated.

    Shape (len(skills),). A round with no evaluation returns ``previous`` unchanged.
    """
    out = np.asarray(previous, dtype=float).copy()
    for evaluation in reversed(observation.evals):
        for position, name in enumerate(skills):
            if name in evaluation.losses and np.isfinite(evaluation.losses[name]):
                out[position] = float(evaluation.losses[name])
        break  # only the last evaluation of the round
    return out


def train_losses_or(observation: Observation, skills: Sequence[str], previous: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """(losses, seen): this round's training loss per skill, ``previous`` where the skill was not drawn (NaN)."""
    raw = observation.train_loss_vector(skills)  # (k,), NaN where unseen
    seen = np.isfinite(raw)
    return np.where(seen, raw, np.asarray(previous, dtype=float)), seen


def realised_shares(observation: Observation, skills: Sequence[str]) -> np.ndarray | None:
    """The round's realised mixture: examples drawn per skill / all examples drawn; ``None`` if nothing was drawn."""
    counts = np.array([float(observation.round_examples.get(name, 0)) for name in skills])
    total = counts.sum()
    return counts / total if total > 0 else None


def objective_mask(train_skills: Sequence[str], objective: Sequence[str]) -> np.ndarray:
    """1 for training skills that are objective skills; all ones when none is (out-of-domain)."""
    mask = np.isin(np.array(train_skills), list(objective)).astype(float)
    return mask if mask.any() else np.ones(len(train_skills))


def grad_order(grad: GradStats, skills: Sequence[str], *, policy: str) -> list[int]:
    """Positions of ``skills`` in the gradient statistics; a clear error if one is missing."""
    missing = [name for name in skills if name not in grad.skills]
    if missing:
        raise PolicyError(f"{policy}: the gradient statistics have no entry for training skill {missing[0]!r} "
                          f"(they cover {list(grad.skills)}); the Mixer must report every training skill")
    return [list(grad.skills).index(name) for name in skills]
