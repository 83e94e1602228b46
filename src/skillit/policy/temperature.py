"""Temperature sampling: p_i ∝ n_i^{1/T} (frontier.md §4, rank 0; the multilingual-corpus default).

n_i is skill i's pool size in tokens (or examples), counted as in :mod:`skillit.policy.natural`. T = 1 is
natural sampling, T → ∞ is uniform (stratified); T between flattens an imbalanced pool. The usual choice
in multilingual pre-training is T ≈ 3–5 (i.e. α = 1/T ≈ 0.2–0.3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from skillit.errors import PolicyError
from skillit.policy.natural import Natural


class Temperature(Natural):
    """p_i ∝ n_i^{1/T}.

    Args:
        temperature: T > 0.
        tokens, unit: as :class:`~skillit.policy.natural.Natural`.
    """

    name = "temperature"

    def __init__(self, temperature: float = 2.0, tokens: Mapping[str, float] | Sequence[float] | None = None,
                 unit: Literal["tokens", "examples"] = "tokens"):
        if not np.isfinite(temperature) or temperature <= 0:
            raise PolicyError(f"temperature: T must be a finite number > 0, got {temperature}")
        super().__init__(tokens, unit)
        self.temperature = float(temperature)
