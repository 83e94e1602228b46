"""Natural sampling by token share: p_i = n_i / Σ_j n_j with n_i the tokens of skill i's pool.

The mixture most pre-training corpora use by default (frontier.md §4, rank 0): sample every token of the
pool equally often. It differs from ``random`` (example share, paper §4) when skills' examples differ in
length: a 1:1 example ratio of 40-token and 400-token examples is a 1:10 token ratio.

Where the token counts come from, in order:

1. ``tokens`` given by the user ({skill: tokens in the pool}): exact, fixed for the run.
2. Otherwise, **estimated online** (the context knows pool sizes in examples, not tokens): n_i = pool_i · τ̂_i,
   where τ̂_i = (loss tokens trained on skill i so far) / (examples of skill i drawn so far), from the
   ``train_tokens`` and ``round_examples`` every observation carries. A skill not drawn yet takes the mean
   τ̂ of the drawn ones; before any round, every τ̂ = 1, so the first round is the example share. The
   estimate counts *loss* tokens (answer tokens in fine-tuning), which is the share of the training
   signal each skill gets.

``unit="examples"`` skips the estimate: p = the example share (identical to ``random``).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from skillit.errors import PolicyError
from skillit.policy.base import (
    MixingPolicy,
    Observation,
    PolicyContext,
    PolicyParams,
    PolicyState,
    Weights,
    weights_by_name,
)
from skillit.policy.registry import register_policy


@register_policy("natural")
class Natural(MixingPolicy):
    """p_i ∝ n_i^{1/T} with n_i the token (or example) count of skill i's pool and T = 1."""

    class Params(PolicyParams):
        tokens: Weights | None = Field(None, description="pool token counts per skill; default: estimated online")
        unit: Literal["tokens", "examples"] = Field("tokens", description="count tokens or examples")

    description = "token share of the pool (estimated online unless given)"
    requires = frozenset({"val_loss"})  # reads only the always-provided counts
    temperature = 1.0

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        self.tokens, self.unit = self.params.tokens, self.params.unit
        if self.tokens is not None and self.unit == "examples":
            raise PolicyError(f"{self.name}: token counts were given but unit is 'examples'; drop one of them")

    def init(self, context: PolicyContext) -> PolicyState:
        if self.tokens is not None:
            sizes = weights_by_name(self.tokens, context.train_skills, where=f"{self.name} tokens")
        else:
            sizes = context.natural()  # (k,) example share of the pool
        return {"train_skills": list(context.train_skills), "pool": sizes.tolist(),
                "fixed": self.tokens is not None or self.unit == "examples",
                "tokens": [0.0] * context.k, "examples": [0.0] * context.k, "round": 0}

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        if state["fixed"]:
            return {**state, "round": observation.round + 1}
        skills = state["train_skills"]
        tokens = np.asarray(state["tokens"]) + [float(observation.train_tokens.get(s, 0)) for s in skills]
        examples = np.asarray(state["examples"]) + [float(observation.round_examples.get(s, 0)) for s in skills]
        return {**state, "tokens": tokens.tolist(), "examples": examples.tolist(), "round": observation.round + 1}

    def sizes(self, state: PolicyState) -> np.ndarray:
        """n_i: the pool size per skill in the policy's unit (scale-free), shape (k,)."""
        pool = np.asarray(state["pool"], dtype=float)
        if state["fixed"]:
            return pool
        tokens, examples = np.asarray(state["tokens"]), np.asarray(state["examples"])
        drawn = examples > 0
        per_example = np.ones_like(pool)
        if drawn.any():
            per_example[drawn] = tokens[drawn] / examples[drawn]
            per_example[~drawn] = per_example[drawn].mean()
        return pool * per_example

    def weights(self, state: PolicyState) -> np.ndarray:
        n = self.sizes(state)
        if not (n > 0).any():
            return np.full(n.size, 1.0 / n.size)  # no token seen yet on any skill
        scaled = np.where(n > 0, n / n.max(), 0.0) ** (1.0 / self.temperature)  # divide first: no overflow
        return scaled / scaled.sum()
