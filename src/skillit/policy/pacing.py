"""Pacing functions for the example-level curricula, as a wrapper (curriculum learning, Bengio et al. 2009;
pacing families after Wu et al. 2020, "When do curricula work?").

The curricula admit the g(t) first-ranked pool examples in round t (0-based) of T,

    g(t) = ceil(N · (s + (1 − s) · h((t + 1) / T))),     N = pool size, s = start fraction,

where the paper's curricula (Skill-It §4, App. C.3) fix h to the linear pacing. :class:`Paced` swaps h:

    linear     h(x) = x
    quadratic  h(x) = x²       (slow start: the easiest examples for longer)
    root       h(x) = √x       (fast start: most of the pool early)

It runs the inner curriculum on a warped clock: the inner policy sees the round t' = T · h((t + 1)/T) − 1,
so its own linear rule yields the paced g(t). Its state and updates are the inner policy's own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import Field

from skillit.errors import PolicyError
from skillit.policy.base import MixingPolicy, PolicyContext, PolicyParams, PolicyState
from skillit.policy.curriculum import Curriculum
from skillit.policy.registry import register_wrapper
from skillit.policy.wrappers import Wrapper

PACINGS: dict[str, Callable[[float], float]] = {
    "linear": lambda x: x,
    "quadratic": lambda x: x * x,
    "root": math.sqrt,
}


@register_wrapper("pacing")
class Paced(Wrapper):
    """An example-level curriculum (curriculum, anti-curriculum) with the pacing h given by name."""

    class Params(PolicyParams):
        pacing: str = Field(description="h: linear, quadratic or root")

    takes = f"a pacing name ({', '.join(PACINGS)})"

    def __init__(self, inner: MixingPolicy, *args: Any, **params: Any):
        super().__init__(inner, *args, **params)
        pacing = self.params.pacing
        if pacing not in PACINGS:
            raise PolicyError(f"unknown pacing {pacing!r}; choose from {', '.join(PACINGS)}")
        if not isinstance(inner, Curriculum):
            raise PolicyError(
                f"pacing applies to the example-level curricula (curriculum, anti-curriculum), not {inner.name}"
            )
        self.pacing = pacing
        self.name = f"pacing-{pacing}({inner.name})"

    def init(self, context: PolicyContext) -> PolicyState:
        return {"inner": self.inner.init(context)}

    def _warped(self, state: PolicyState) -> PolicyState:
        inner = state["inner"]
        t, rounds = inner["round"], inner["n_rounds"]
        progress = PACINGS[self.pacing](min(1.0, (t + 1) / rounds))
        return {**inner, "round": rounds * progress - 1.0}

    def weights(self, state: PolicyState) -> np.ndarray:
        return self.inner.weights(self._warped(state))

    def scope(self, state: PolicyState):
        return self.inner.scope(self._warped(state))

    def admitted(self, state: PolicyState) -> int:
        """g(t) under this pacing."""
        return self.inner.admitted(self._warped(state))  # type: ignore[attr-defined]

