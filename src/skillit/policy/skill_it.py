"""Skill-It online data selection (Chen et al. 2023, §3.3.2, Algorithm 1).

At the start of round t+1 the mixture over training skills is

    p_{t+1} ∝ prior ⊙ exp(η · A · L̃_t),      L̃_t = agg_{τ ∈ last w evaluations} L_eval(f_τ)

with A the (k × m) skills graph restricted to the objective columns (all evaluation skills in continual
pre-training and out-of-domain; the target skills in fine-tuning) and agg the **sum** over the window in
pre-training/out-of-domain and the **mean** in fine-tuning (the reference code's semantics, skillit.md
§1.5 items 2–3). The window counts *evaluation checkpoints*, not rounds, and includes the step-0
evaluation. The first mixture uses L̃ = 1, i.e. softmax(η · row sums of A) (Algorithm 1, line 3).

Differences from the reference code, on purpose: the softmax subtracts its maximum (the reference
overflowed for large η·L), skills are matched by name rather than by position, and a NaN or infinite
loss stops the run with a :class:`~skillit.errors.PolicyError` naming the skill and step (the run diverged)
instead of turning the mixture into NaN. An all-zero graph gives the uniform mixture and a warning.

The static variant (T = 1) is this policy wrapped in :class:`~skillit.policy.wrappers.Frozen`; the
"no graph" ablation is this policy with ``SkillsGraph.identity``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from skillit.errors import PolicyError
from skillit.graph.skills_graph import SkillsGraph, SparseMatrix
from skillit.policy.base import (
    MixingPolicy,
    Observation,
    PolicyContext,
    PolicyState,
    stable_softmax,
    weights_by_name,
)
from skillit.policy.checks import finite_losses, finite_weights, warn_if_all_zero


class SkillIt(MixingPolicy):
    """Online exponentiated-gradient mixing over a skills graph.

    Args:
        graph: the skills graph; rows must include every training skill, columns every objective skill.
        eta: learning rate η of the exponentiated-gradient update.
        window: number w of most recent evaluations aggregated into L̃.
        aggregate: ``sum`` or ``mean`` over the window; ``auto`` = mean in fine-tuning, sum otherwise.
        initial_loss: ``ones`` (L̃ = 1 for the first mixture, as the paper) or ``observed`` (the step-0 losses).
        prior: optional multiplicative prior over training skills (``--mw_prior`` in the reference code).
        targets: objective columns; default the context's target skills.
    """

    name = "skill-it"

    def __init__(
        self,
        graph: SkillsGraph,
        eta: float = 0.5,
        window: int = 3,
        aggregate: Literal["auto", "sum", "mean"] = "auto",
        initial_loss: Literal["ones", "observed"] = "ones",
        prior: Mapping[str, float] | Sequence[float] | None = None,
        targets: Sequence[str] | None = None,
    ):
        if not eta >= 0 or not np.isfinite(eta):
            raise PolicyError(f"skill-it: eta must be a finite number >= 0, got {eta}")
        if window < 1:
            raise PolicyError(f"skill-it: window must be >= 1 evaluation, got {window}")
        if aggregate not in ("auto", "sum", "mean"):
            raise PolicyError(f"skill-it: aggregate must be auto, sum or mean, got {aggregate!r}")
        if initial_loss not in ("ones", "observed"):
            raise PolicyError(f"skill-it: initial_loss must be ones or observed, got {initial_loss!r}")
        self.graph = graph
        self.eta = float(eta)
        self.window = int(window)
        self.aggregate = aggregate
        self.initial_loss = initial_loss
        self.prior = prior
        self.targets = tuple(targets) if targets is not None else None
        self._cache: dict[tuple[tuple[str, ...], tuple[str, ...]], np.ndarray | SparseMatrix] = {}

    # ---- helpers --------------------------------------------------------------------------------
    def columns(self, context: PolicyContext) -> tuple[str, ...]:
        cols = self.targets or context.target_skills or context.eval_skills
        if not cols:
            raise PolicyError("skill-it: no objective skills (no evaluation or target skills in the context)")
        return tuple(cols)

    def _matrix(self, rows: tuple[str, ...], columns: tuple[str, ...]) -> np.ndarray | SparseMatrix:
        """A restricted to (rows, columns), cached: the graph is a hyper-parameter, not state.

        Dense or sparse as the graph stores it (a sparse graph makes ``A @ L̃`` O(edges), not O(k·m)).
        """
        key = (rows, columns)
        if key not in self._cache:
            self._cache[key] = self.graph.operator(rows, columns)
        return self._cache[key]

    def _aggregate(self, history: list[list[float]], mode: str) -> np.ndarray:
        window = np.asarray(history[-self.window :], dtype=float)  # (≤w, m)
        return window.mean(axis=0) if mode == "mean" else window.sum(axis=0)

    # ---- protocol -------------------------------------------------------------------------------
    def init(self, context: PolicyContext) -> PolicyState:
        columns = self.columns(context)
        matrix = self._matrix(tuple(context.train_skills), columns)  # fail early, clearly, on names the graph lacks
        warn_if_all_zero(self.name, matrix)
        mode = self.aggregate if self.aggregate != "auto" else ("mean" if context.setting == "finetune" else "sum")
        history: list[list[float]] = []
        if context.initial_eval is not None:
            history.append(finite_losses(self.name, context.initial_eval, columns).tolist())
        if self.initial_loss == "observed":
            if not history:
                raise PolicyError("skill-it: initial_loss='observed' needs an evaluation before training")
            signal = self._aggregate(history, mode).tolist()
        else:
            signal = [1.0] * len(columns)
        log_prior = (
            np.zeros(context.k)
            if self.prior is None
            else np.log(weights_by_name(self.prior, context.train_skills, where="skill-it prior") + 1e-300)
        )
        return {
            "train_skills": list(context.train_skills),
            "columns": list(columns),
            "aggregate": mode,
            "log_prior": log_prior.tolist(),
            "history": history[-self.window :],
            "signal": signal,
            "round": 0,
        }

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        history = [list(row) for row in state["history"]]
        for evaluation in observation.evals:
            history.append(finite_losses(self.name, evaluation, state["columns"]).tolist())
        history = history[-self.window :]
        signal = self._aggregate(history, state["aggregate"]).tolist() if history else state["signal"]
        return {**state, "history": history, "signal": signal, "round": observation.round + 1}

    def weights(self, state: PolicyState) -> np.ndarray:
        matrix = self._matrix(tuple(state["train_skills"]), tuple(state["columns"]))  # (k, m)
        signal = np.asarray(state["signal"], dtype=float)  # (m,)
        weights = stable_softmax(self.eta * (matrix @ signal) + np.asarray(state["log_prior"]))  # (k,)
        return finite_weights(self.name, weights, state["train_skills"], state["round"])

    def describe(self) -> dict:
        return {
            "name": self.name,
            "eta": self.eta,
            "window": self.window,
            "aggregate": self.aggregate,
            "initial_loss": self.initial_loss,
            "graph": {"train_skills": list(self.graph.train_skills), "eval_skills": list(self.graph.eval_skills),
                      **{k: v for k, v in self.graph.provenance.items() if isinstance(v, (str, int, float))}},
        }
