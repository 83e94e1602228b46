"""Repetition-aware mixing for every policy: the ``fresh`` wrapper (issue 29, item 3).

A skill with a small pool is repeated when a policy gives it a large share, and repeated data is worth less
than fresh data. Muennighoff et al. 2023 ("Scaling Data-Constrained Language Models", NeurIPS 2023,
arXiv 2305.16264) fit the value of repeated tokens as an effective data size

    D' = U_D + U_D · R*_D · (1 − exp(−R_D / R*_D))

with U_D the unique tokens, R_D = epochs − 1 the repetitions and R*_D a fitted constant (≈ 15.4 in their
fit; they find up to about 4 epochs nearly as good as fresh data and the returns fading after ~16). The
value of one more token after R_D repetitions is the derivative dD'/dD = exp(−R_D / R*_D) (D = U_D·(1 + R_D)).

The wrapper weighs the inner policy's mixture by that value, per skill, at the start of each round:

    p'_i ∝ p_i · v_i,   v_i = exp(−max(0, E_i − 1) / R*),   E_i = (examples of skill i drawn so far) / N_i

with N_i skill i's training pool (``PolicyContext.pool_sizes``; a stream, ``None``, is never discounted) and the
examples drawn from ``Observation.examples_seen``, which every observation carries. Skills repeated alike are
discounted alike, so the mixture only moves when some pools repeat more than others.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from skillit.policy.base import MixingPolicy, Observation, PolicyContext, PolicyParams, PolicyState, normalise
from skillit.policy.registry import register_wrapper
from skillit.policy.wrappers import Wrapper

R_STAR_D = 15.4
"""Muennighoff et al. 2023's fitted R*_D (the decay constant of repeated data's value, in repetitions)."""


def repetition_value(epochs: np.ndarray, r_star: float = R_STAR_D) -> np.ndarray:
    """v = exp(−max(0, E − 1) / R*): the value of one more example of a pool already drawn E times (NaN → 1)."""
    e = np.nan_to_num(np.asarray(epochs, dtype=float), nan=0.0)
    return np.exp(-np.maximum(0.0, e - 1.0) / r_star)


@register_wrapper("fresh")
class RepetitionAware(Wrapper):
    """p'_i ∝ p_i · exp(−max(0, E_i − 1) / R*): the inner mixture, repeated data discounted (module docstring).

    Args:
        inner: the policy whose mixture is discounted.
        r_star: the decay constant R*_D, in repetitions (default 15.4, Muennighoff et al. 2023); smaller
            discounts repetition sooner.
    """

    class Params(PolicyParams):
        r_star: float = Field(R_STAR_D, gt=0, description="R*, the decay constant of repeated data's value, in "
                              "repetitions (Muennighoff et al. 2023)")

    keeps_scope = False

    def __init__(self, inner: MixingPolicy, *args: Any, **params: Any):
        super().__init__(inner, *args, **params)
        self.r_star = self.params.r_star

    def init(self, context: PolicyContext) -> PolicyState:
        inner = self._init_inner(context)
        pools = list(context.pool_sizes) if context.pool_sizes is not None else [None] * context.k
        return {"inner": inner, "train_skills": list(context.train_skills), "pools": pools,
                "drawn": [0] * context.k}

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        drawn = [int(observation.examples_seen.get(name, before))
                 for name, before in zip(state["train_skills"], state["drawn"])]
        return {**state, "inner": self.inner.update(state["inner"], observation), "drawn": drawn}

    def values(self, state: PolicyState) -> np.ndarray:
        """v_i per training skill (1 for a stream or a pool not yet past its first epoch), shape (k,)."""
        epochs = np.array([d / n if n else 0.0 for d, n in zip(state["drawn"], state["pools"])], dtype=float)
        return repetition_value(epochs, self.r_star)

    def weights(self, state: PolicyState) -> np.ndarray:
        p = self.inner.weights(state["inner"])
        epochs = np.array([d / n if n else 0.0 for d, n in zip(state["drawn"], state["pools"])], dtype=float)
        log_v = -np.maximum(0.0, epochs - 1.0) / self.r_star
        live = p > 0
        if not live.any():
            return normalise(p, where=self.name)
        # v up to a common factor, exp(log v − max over the live skills): no underflow after many epochs
        return normalise(p * np.exp(log_v - log_v[live].max()), where=self.name)

