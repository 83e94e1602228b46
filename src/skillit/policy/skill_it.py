"""Skill-It online data selection (Chen et al. 2023, §3.3.2, Algorithm 1).

At the start of round t+1 the mixture over training skills is

    p_{t+1} ∝ prior ⊙ exp(η · A · L̃_t),      L̃_t = agg_{τ ∈ last w evaluations} L_eval(f_τ)

with A the (k × m) skills graph restricted to the objective columns (all evaluation skills in continual
pre-training and out-of-domain; the target skills in fine-tuning) and agg the **sum** over the window in
pre-training/out-of-domain and the **mean** in fine-tuning (the reference code's semantics, skillit.md
§1.5 items 2–3). The window counts *evaluation checkpoints*, not rounds, and includes the step-0
evaluation. The first mixture uses L̃ = 1, i.e. softmax(η · row sums of A) (Algorithm 1, line 3).

**A weighted objective** (the config's ``objective_weights``, ``PolicyContext.objective_weights``): the paper's
rule is the exponentiated-gradient step on the mean validation loss (1/m)·Σ_j L_j, whose gradient through the
linear dynamics is proportional to A·L̃ (§3.3.2); the step on Σ_j w_j·L_j scales column j by m·w_j:

    p_{t+1} ∝ prior ⊙ exp(η · Σ_j A_ij · (m·w_j) · L̃_t,j)              (w sums to 1 over the m columns)

The factor m keeps the uniform case's scale: w_j = 1/m gives m·w_j = 1, the rule above, and η keeps its
meaning (and its tuned range, :mod:`skillit.policy.diagnostics`) whatever the weights. Uniform or absent
weights skip the product, so such a run is bit for bit the unweighted one. The first mixture (L̃ = 1) is
softmax(η·A·(m·w)): already tilted towards the skills that feed the heavy columns. With ``targets`` given,
the weights of those columns are renormalised over them (a column outside the objective is refused).

Differences from the reference code, on purpose: the softmax subtracts its maximum (the reference
overflowed for large η·L), skills are matched by name rather than by position, and a NaN or infinite
loss stops the run with a :class:`~skillit.errors.PolicyError` naming the skill and step (the run diverged)
instead of turning the mixture into NaN. An all-zero graph gives the uniform mixture and a warning.

Cost: O(edges + m) per round on a sparse graph. The state stays plain JSON lists; beside it the policy
keeps the arrays the lists of its last returned state were made from (derived values, like the restricted
graph: a state restored from JSON is simply read afresh), so ``weights`` and the next ``update`` do not
convert 10^5 floats back from lists each round; an evaluation made by the trainer's evaluator
(``EvalResult.from_arrays``) is read as its array, without converting either. At 10^5 skills and 1.1·10^6
edges a round is ~6 ms of CPU, most of it L̃'s JSON list and the product (benchmarks/sampler_scale.py;
figures in docs/data.md).

The static variant (T = 1) is this policy wrapped in :class:`~skillit.policy.wrappers.Frozen`; the
"no graph" ablation is this policy with ``SkillsGraph.identity``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field

from skillit.errors import PolicyError
from skillit.graph.skills_graph import SparseMatrix
from skillit.policy._state_arrays import keep_arrays, kept_array
from skillit.policy.base import (
    Graph,
    MixingPolicy,
    Observation,
    PolicyContext,
    PolicyParams,
    PolicyState,
    Weights,
    resolve_graph_spec,
    stable_softmax,
    weights_by_name,
)
from skillit.policy.checks import finite_loss_row, finite_weights, warn_if_all_zero
from skillit.policy.registry import register_policy
from skillit.policy.wrappers import Frozen


@register_policy("skill-it")
class SkillIt(MixingPolicy):
    """Online exponentiated-gradient mixing over a skills graph; its parameters are :class:`SkillIt.Params`,
    e.g. ``SkillIt(graph, eta=0.5, window=3)`` (a string graph such as ``"builtin:lego"`` is loaded)."""

    class Params(PolicyParams):
        graph: Graph = Field(description="A; rows: every training skill, columns: every objective skill "
                             "(identity | builtin:NAME | prerequisites | path to .json/.npy)")
        eta: float = Field(0.5, ge=0, description="η, the step size of the exponentiated-gradient update")
        window: int = Field(3, ge=1, description="w, the most recent evaluations aggregated into L̃")
        aggregate: Literal["auto", "sum", "mean"] = Field(
            "auto", description="sum or mean over the window; auto: mean in fine-tuning, sum otherwise")
        initial_loss: Literal["ones", "observed"] = Field(
            "ones", description="L̃ of the first mixture: ones (the paper) or the step-0 losses")
        prior: Weights | None = Field(
            None, description="multiplicative prior over training skills (--mw_prior in the reference code)")
        targets: list[str] | None = Field(None, description="objective columns; default the context's targets")

    description = "Skill-It online: p ∝ exp(η·A·L̃) each round"

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        p = self.params
        self.graph = resolve_graph_spec(p.graph) if isinstance(p.graph, str) else p.graph
        self.params = p.model_copy(update={"graph": self.graph})  # describe() shows the graph, not its name
        self.eta, self.window, self.aggregate, self.initial_loss = p.eta, p.window, p.aggregate, p.initial_loss
        self.prior = p.prior
        self.targets = tuple(p.targets) if p.targets is not None else None
        # Derived values, never state: A restricted per (rows, columns), and the arrays behind the lists of
        # the last state this policy returned (so weights() and the next update() need not re-read 10^5
        # floats from JSON lists). Both are rebuilt on demand and dropped on pickling.
        self._operators: list[tuple[list[str], list[str], np.ndarray | SparseMatrix]] = []
        self._arrays: dict[int, tuple[list, np.ndarray]] = {}

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_operators": [], "_arrays": {}}

    # ---- helpers --------------------------------------------------------------------------------
    def columns(self, context: PolicyContext) -> tuple[str, ...]:
        cols = self.targets or context.target_skills or context.eval_skills
        if not cols:
            raise PolicyError("skill-it: no objective skills (no evaluation or target skills in the context)")
        return tuple(cols)

    def _matrix(self, rows: Sequence[str], columns: Sequence[str]) -> np.ndarray | SparseMatrix:
        """A restricted to (rows, columns), cached: the graph is a hyper-parameter, not state.

        Dense or sparse as the graph stores it (a sparse graph makes ``A @ L̃`` O(edges), not O(k·m)). The
        cache is searched by list equality, not by hashing a key of 10^5 names each round (~2 ms): a
        state's name lists are the cached lists' own strings, so comparing them is pointer comparisons.
        """
        rows = rows if isinstance(rows, list) else list(rows)  # no copy of a state's list (~0.5 ms at 10^5)
        columns = columns if isinstance(columns, list) else list(columns)
        for cached_rows, cached_columns, matrix in self._operators:
            if cached_rows == rows and cached_columns == columns:
                return matrix
        matrix = self.graph.operator(rows, columns)
        self._operators.append((list(rows), list(columns), matrix))  # copies: the cache owns its keys
        return matrix

    def _vector(self, values: list[float]) -> np.ndarray:
        """``np.asarray(values, dtype=float)`` (read-only), without converting when ``values`` is a list of the
        last state this policy returned (:meth:`_remember`; :mod:`skillit.policy._state_arrays`)."""
        return kept_array(self._arrays, values)

    def _remember(self, state: PolicyState, arrays: Sequence[tuple[list, np.ndarray]]) -> PolicyState:
        """Keep ``(list, array)`` for the lists of ``state`` (``array.tolist() == list``); returns ``state``."""
        self._arrays = keep_arrays(arrays)
        return state

    def _aggregate(self, window: Sequence[np.ndarray], mode: str) -> np.ndarray:
        stacked = np.stack(window)  # (≤w, m), the values of the window's lists
        return stacked.mean(axis=0) if mode == "mean" else stacked.sum(axis=0)

    # ---- protocol -------------------------------------------------------------------------------
    def init(self, context: PolicyContext) -> PolicyState:
        columns = self.columns(context)
        matrix = self._matrix(context.train_skills, columns)  # fail early, clearly, on names the graph lacks
        warn_if_all_zero(self.name, matrix)
        mode = self.aggregate if self.aggregate != "auto" else ("mean" if context.setting == "finetune" else "sum")
        # (JSON list, the array it was made from) for each row of the history, (m,) each
        window: list[tuple[list[float], np.ndarray]] = []
        if context.initial_eval is not None:
            window.append(finite_loss_row(self.name, context.initial_eval, list(columns)))
        if self.initial_loss == "observed":
            if not window:
                raise PolicyError("skill-it: initial_loss='observed' needs an evaluation before training")
            signal = self._aggregate([row for _, row in window], mode)
        else:
            signal = np.ones(len(columns))
        log_prior = (
            np.zeros(context.k)
            if self.prior is None
            else np.log(weights_by_name(self.prior, context.train_skills, where="skill-it prior") + 1e-300)
        )
        history = window[-self.window :]
        signal_pair, prior_pair = (signal.tolist(), signal), (log_prior.tolist(), log_prior)
        state = {
            "train_skills": list(context.train_skills),
            "columns": list(columns),
            "aggregate": mode,
            "log_prior": prior_pair[0],
            "history": [values for values, _ in history],
            "signal": signal_pair[0],
            "round": 0,
        }
        weights = context.objective_weights_of(columns, where="skill-it")  # (m,) summing to 1, or None: uniform
        scale_pairs = []
        if weights is not None:
            scale = len(columns) * weights  # (m,) m·w_j: 1 everywhere for uniform weights
            state["column_scale"] = scale.tolist()
            scale_pairs = [(state["column_scale"], scale)]
        return self._remember(state, [*history, signal_pair, prior_pair, *scale_pairs])

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        # The kept rows are shared with the input state, not copied: lists in a state are never changed.
        history = [(values, None) for values in state["history"]]  # (list, array or None) per evaluation
        for evaluation in observation.evals:
            # (list, array), (m,): from the evaluator's arrays without converting 10^5 floats (EvalResult.from_arrays)
            history.append(finite_loss_row(self.name, evaluation, state["columns"]))
        history = history[-self.window :]
        if not history:
            signal_pair = (state["signal"], self._vector(state["signal"]))
        else:
            history = [(values, self._vector(values) if row is None else row) for values, row in history]
            signal = self._aggregate([row for _, row in history], state["aggregate"])  # (m,)
            signal_pair = (signal.tolist(), signal)
        prior_pair = (state["log_prior"], self._vector(state["log_prior"]))
        scale_pairs = [(state["column_scale"], self._vector(state["column_scale"]))] if "column_scale" in state else []
        new_state = {**state, "history": [values for values, _ in history], "signal": signal_pair[0],
                     "round": observation.round + 1}
        return self._remember(new_state, [*history, signal_pair, prior_pair, *scale_pairs])

    def weights(self, state: PolicyState) -> np.ndarray:
        matrix = self._matrix(state["train_skills"], state["columns"])  # (k, m)
        signal = self._vector(state["signal"])  # (m,) L̃
        if "column_scale" in state:  # a weighted objective: (m·w) ⊙ L̃; absent for uniform weights
            signal = signal * self._vector(state["column_scale"])
        logits = np.asarray(matrix @ signal, dtype=float)  # (k,) A·L̃, a new array
        logits *= self.eta  # in place: η·A·L̃ + log prior, the same operations without two temporaries
        logits += self._vector(state["log_prior"])
        weights = stable_softmax(logits)  # (k,)
        return finite_weights(self.name, weights, state["train_skills"], state["round"])


@register_policy("skill-it-static")
class SkillItStatic(SkillIt):
    """Skill-It with T = 1: the first mixture softmax(η·A·1) for the whole run. ``SkillItStatic(graph, eta=...)``
    is ``Frozen(SkillIt(graph, eta=...))`` (:class:`~skillit.policy.wrappers.Frozen`); the parameters are
    :class:`SkillIt.Params`."""

    description = "Skill-It with T = 1: softmax(η·A·1) for the whole run"
    online = False

    def __new__(cls, *args: Any, **params: Any) -> Frozen:  # type: ignore[misc]
        return Frozen(SkillIt(*args, **params))
