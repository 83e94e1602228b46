"""Temperature sampling: p_i ∝ n_i^{1/T} (frontier.md §4, rank 0; the multilingual-corpus default).

n_i is skill i's pool size in tokens (or examples), counted as in :mod:`skillit.policy.natural`. T = 1 is
natural sampling, T → ∞ is uniform (stratified); T between flattens an imbalanced pool. The usual choice
in multilingual pre-training is T ≈ 3–5 (i.e. α = 1/T ≈ 0.2–0.3).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from skillit.policy.natural import Natural
from skillit.policy.registry import register_policy


@register_policy("temperature")
class Temperature(Natural):
    """p_i ∝ n_i^{1/T}; ``tokens`` and ``unit`` as :class:`~skillit.policy.natural.Natural`."""

    class Params(Natural.Params):
        temperature: float = Field(2.0, gt=0, description="T in p ∝ n^(1/T); 1 = natural, large = uniform")

    description = "p ∝ n^(1/T) over pool token counts"

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        self.temperature = self.params.temperature
