"""Skill-It+ : Skill-It with losses normalised per skill, dead rows dropped and (optionally) a graph learned online.

Our method, not the paper's (the paper's exact rule stays ``skill-it``, :mod:`skillit.policy.skill_it`).
Skill-It (Chen et al. 2023, §3.3.2) sets p_i ∝ exp(η·Σ_j A_ij·L̃_j) with raw losses L̃. Two weaknesses were
measured in this library's fine-tuning benchmarks (docs/results.md): (1) the logits scale with the losses'
units, so once losses fall below ~1 nat the mixture at η = 0.5 is nearly uniform and the same η means
different things on different tasks; (2) a training skill with no edge to the objective still gets
exp(0) = 1, i.e. a full share of the data it cannot help. Skill-It+ changes exactly these, plus an option:

    L̂_j = mean_{τ ∈ last w evaluations} L_j(τ) / L_j^ref                                     (1)
    p_i ∝ prior_i · 1[i ∈ S_live] · exp( η · Σ_{j ∈ objective} A_ij · L̂_j )                   (2)
    S_live = { i : Σ_{j ∈ objective} A_ij > 0 }

**A weighted objective** (the config's ``objective_weights``, ``PolicyContext.objective_weights``, w summing
to 1 over the m objective columns) scales column j by m·w_j, as in ``skill-it`` (:mod:`skillit.policy.skill_it`;
the exponentiated-gradient step of Chen et al. §3.3.2 on Σ_j w_j·L_j instead of the mean):

    p_i ∝ prior_i · 1[i ∈ S_live] · exp( η · Σ_j A_ij · (m·w_j) · L̂_j ),    S_live = { i : Σ_j A_ij·w_j > 0 }   (2w)

m·w_j = 1 for uniform weights, so η keeps its meaning; uniform or absent weights skip the product (the run is
bit for bit the unweighted one). A skill whose only edges go to zero-weight columns cannot help the objective
and is dropped with ``zero_rows="drop"``. L^ref of ``normalise="mean"`` stays the plain mean over the columns
(a unit for L̂, not the objective); the ``graph_ridge`` re-fit estimates A and does not read the weights.

Design choices (each a parameter):

* ``normalise="initial"`` (default): L_j^ref = L_j at step 0, so L̂_j is the fraction of skill j's loss
  still left (1 at the start, the paper's L̃ = 1 first mixture, falling towards 0) and η is unit-free: the
  same η means the same on every task. ``"mean"``: L_j^ref = the mean of the window-mean losses over the
  objective skills, so L̂ measures which skill is *relatively* behind, and the contrast does not fade as all
  losses fall.
* The window is always a **mean** (the paper sums in pre-training), so η does not scale with w.
* ``zero_rows="drop"`` (default): skills with no positive edge to any objective skill get weight 0
  (``"keep"``: the paper's exp(0) = 1). To keep a floor instead, wrap with ``floor`` (``MinimumProbability``).
* **A skill helps itself.** An objective column j with no positive entry whose skill is also a training
  skill gets A_jj = 1 (the unit diagonal of the 0/1 graphs). This happens with learned graphs: when a skill
  is already learned by the time the probes run, no probe lowers its loss and its column is all zeros;
  without the self-edge the objective would have no live skill. Columns with a positive entry are kept as
  they are.
* ``graph_ridge=λ`` (default off) re-estimates the objective columns of A online from training losses, the
  idea of Aioli (frontier.md §5.1) without its probe rounds. Under the linear dynamic law, the relative drop
  of skill j's training loss between rounds, y_t,j = (L_{t−1,j} − L_{t,j}) / L_{t−1,j}, is ≈ Σ_i A_ij·x_t,i,
  with x_t the round's realised mixture (examples drawn / all drawn). Over the rounds so far (X: T×k, y_j: T)
  and the given graph A⁰ as prior, each objective column j that is a training skill is re-fitted by ridge
  regression towards the prior:

      c = ⟨Y, X·A⁰⟩ / ‖X·A⁰‖²                          (one scale: loss-drop units per graph unit)
      A_:,j = max( (XᵀX + λI)⁻¹ (Xᵀ y_j + λ·c·A⁰_:,j) / c, 0 )

  With few rounds or rounds whose mixtures barely differ, the ridge keeps A near A⁰; with informative rounds
  the data move it. If c ≤ 0 (losses rising) A⁰ is kept. This needs ``train_loss`` (declared only when on).

Defaults: window 3, initial normalisation, drop, and η = 4, chosen on one benchmark only (addition-finetune,
3 seeds: η = 1 reached the target loss in 157 % of target-only's steps, η = 4 in 86 %; docs/arena.md has the
run). With L̂ ≤ 1, η = 1 tilts the mixture by at most e^1 between skills whose edges differ by 1, and the tilt
fades as the objective's losses fall; η = 4 gives a real tilt while the objective is still unlearned. Every
other benchmark is held out from this choice.

Cost: the state holds A (k × m) as JSON lists, so this policy suits few objective columns (fine-tuning; a
pre-training graph over 10^4 skills would be 10^8 floats of state). Per round, ``weights`` reads the state's
matrix and prior through the arrays they were made from (:mod:`skillit.policy._state_arrays`) and S_live once
per matrix, so a round is O(k·m) numpy: 1.3–9 ms at k = 10^5 training skills and 10 targets, where converting
the lists each round took 190–370 ms (on a machine at load ~11: upper bounds; a restored state is converted once).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field

from skillit.errors import PolicyError
from skillit.policy._state_arrays import KeptArrays, keep_arrays, kept_array
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
from skillit.policy.registry import register_policy


@register_policy("skill-it-plus")
class SkillItPlus(MixingPolicy):
    """p_i ∝ prior_i · 1[i live] · exp(η · Σ_j A_ij · L̄_j / L_j^ref), optionally with A re-fitted online; its
    parameters are :class:`SkillItPlus.Params` (η is unit-free, see the module docstring)."""

    class Params(PolicyParams):
        graph: Graph = Field(description="A; rows: training skills, columns: evaluation skills "
                             "(identity | builtin:NAME | prerequisites | path to .json/.npy)")
        eta: float = Field(4.0, ge=0, description="η, unit-free: the losses are divided by a reference loss")
        window: int = Field(3, ge=1, description="evaluations averaged into L̄")
        normalise: Literal["initial", "mean"] = Field(
            "initial", description="L^ref: the step-0 loss (initial) or the mean over objective skills (mean)")
        zero_rows: Literal["drop", "keep"] = Field(
            "drop", description="drop: weight 0 for skills with no edge to the objective; keep")
        graph_ridge: float | None = Field(None, gt=0, description="λ of the online re-fit of A; null: fixed graph")
        prior: Weights | None = Field(None, description="multiplicative prior over training skills")
        targets: list[str] | None = Field(None, description="objective columns; default the context's targets")

    description = "ours: Skill-It with per-skill normalised losses, dead rows dropped, optional online graph"

    def __init__(self, *args: Any, **params: Any):
        super().__init__(*args, **params)
        p = self.params
        self.graph = resolve_graph_spec(p.graph) if isinstance(p.graph, str) else p.graph
        self.params = p.model_copy(update={"graph": self.graph})  # describe() shows the graph, not its name
        self.eta, self.window, self.normalise, self.zero_rows = p.eta, p.window, p.normalise, p.zero_rows
        self.graph_ridge, self.prior = p.graph_ridge, p.prior
        self.targets = tuple(p.targets) if p.targets is not None else None
        self.requires = frozenset({"val_loss", "train_loss"} if p.graph_ridge is not None else {"val_loss"})

    def init(self, context: PolicyContext) -> PolicyState:
        columns = tuple(self.targets or context.target_skills or context.eval_skills)
        if not columns:
            raise PolicyError("skill-it-plus: no objective skills (no evaluation or target skills in the context)")
        if context.initial_eval is None:
            raise PolicyError("skill-it-plus: needs an evaluation before training (the per-skill reference losses)")
        matrix = self._prior(context.train_skills, columns)  # (k, m)
        weights = context.objective_weights_of(columns, where="skill-it-plus")  # (m,) summing to 1, or None
        scale = None if weights is None else len(columns) * weights  # (m,) m·w_j
        initial = context.initial_eval.loss_vector(columns)  # (m,)
        if (initial <= 0).any():
            bad = columns[int(np.argmin(initial))]
            raise PolicyError(f"skill-it-plus: the initial loss of skill {bad!r} is {initial.min()}; "
                              "normalising by it needs a positive loss (use normalise: mean)")
        live = self._live(matrix, scale=scale)
        if not live.any():
            raise PolicyError(f"skill-it-plus: no training skill has an edge to the objective skills {list(columns)}; "
                              "check the graph or set zero_rows: keep")
        log_prior = (np.zeros(context.k) if self.prior is None else
                     np.log(weights_by_name(self.prior, context.train_skills, where="skill-it-plus prior") + 1e-300))
        matrix_pair, prior_pair = (matrix.tolist(), matrix), (log_prior.tolist(), log_prior)
        self._arrays = keep_arrays([matrix_pair, prior_pair])  # weights() reads them without converting k·m floats
        state = {"train_skills": list(context.train_skills), "columns": list(columns), "matrix": matrix_pair[0],
                 "initial": initial.tolist(), "history": [initial.tolist()], "log_prior": prior_pair[0],
                 "shares": [], "drops": [], "train_losses": None, "round": 0}
        if scale is not None:  # a weighted objective; absent for uniform weights (the state as before)
            state["column_scale"] = scale.tolist()
        return state

    # The arrays behind the state's "matrix" and "log_prior" lists (skillit.policy._state_arrays): derived
    # values, replaced (never changed) when a new matrix is made, and left out when the policy is pickled.
    _arrays: KeptArrays = {}
    _live_kept: tuple[list, np.ndarray] | None = None  # (the state's matrix list, its S_live mask)

    def __getstate__(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if name not in ("_arrays", "_live_kept")}

    def _prior(self, train_skills: Sequence[str], columns: Sequence[str]) -> np.ndarray:
        """A⁰ (k, m): the graph's submatrix, with A_jj = 1 for an objective column with no positive entry."""
        matrix = self.graph.submatrix(train_skills, columns).copy()  # (k, m)
        for j, column in enumerate(columns):
            if column in train_skills and not (matrix[:, j] > 0).any():
                matrix[list(train_skills).index(column), j] = 1.0
        return matrix

    def _live(self, matrix: np.ndarray, values: list | None = None, scale: np.ndarray | None = None) -> np.ndarray:
        """S_live as a (k,) mask; with ``values`` (the state's list of ``matrix``), kept for that list, as its array.
        ``scale`` (m,): the columns' m·w_j of a weighted objective (a live row has Σ_j A_ij·w_j > 0).

        The row sums of a (k, m) matrix with few columns cost ~25 ms at k = 10^5 (one reduction per row), so
        they are computed once per matrix, not each round.
        """
        kept = self._live_kept
        if values is not None and kept is not None and kept[0] is values:
            return kept[1]
        if self.zero_rows == "keep":
            live = np.ones(matrix.shape[0], dtype=bool)
        else:
            live = (matrix.sum(axis=1) > 0) if scale is None else (matrix @ scale > 0)
        if values is not None:
            live.setflags(write=False)
            self._live_kept = (values, live)
        return live

    def signal(self, state: PolicyState) -> np.ndarray:
        """L̂ (m,): window-mean losses over the reference losses, eq. (1)."""
        mean = np.asarray(state["history"], dtype=float).mean(axis=0)  # (m,)
        if self.normalise == "initial":
            return mean / np.asarray(state["initial"], dtype=float)
        scale = mean.mean()
        return mean / scale if scale > 0 else np.ones_like(mean)

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        history = [list(row) for row in state["history"]]
        for evaluation in observation.evals:
            history.append(evaluation.loss_vector(state["columns"]).tolist())
        state = {**state, "history": history[-self.window:], "round": observation.round + 1}
        if self.graph_ridge is not None:
            state = self._refit(state, observation)
        return state

    def _refit(self, state: PolicyState, observation: Observation) -> PolicyState:
        skills, columns = state["train_skills"], state["columns"]
        losses = observation.train_loss_vector(skills)  # (k,), NaN where not drawn
        drawn = np.array([float(observation.round_examples.get(s, 0)) for s in skills])
        first = state["train_losses"] is None
        previous = np.array([np.nan if v is None else v for v in (state["train_losses"] or [None] * len(skills))],
                            dtype=float)  # (k,)
        current = np.where(np.isfinite(losses), losses, previous)  # an undrawn skill keeps its last loss
        state = {**state, "train_losses": [float(v) if np.isfinite(v) else None for v in current]}
        if first or drawn.sum() <= 0:
            return state
        with np.errstate(all="ignore"):  # a zero or subnormal previous loss has no relative drop
            drop = np.where(previous > 1e-12, (previous - current) / previous, np.nan)  # (k,) relative drop
        drop_by_column = [float(drop[skills.index(c)]) if c in skills and np.isfinite(drop[skills.index(c)]) else None
                          for c in columns]
        state = {**state, "shares": [*state["shares"], (drawn / drawn.sum()).tolist()],
                 "drops": [*state["drops"], drop_by_column]}
        prior = self._prior(skills, columns)  # (k, m) A⁰
        refit = refit_columns(prior, np.asarray(state["shares"]), state["drops"], self.graph_ridge)
        matrix_pair = (refit.tolist(), refit)
        self._arrays = keep_arrays([matrix_pair, (state["log_prior"], kept_array(self._arrays, state["log_prior"]))])
        return {**state, "matrix": matrix_pair[0]}

    def weights(self, state: PolicyState) -> np.ndarray:
        matrix = kept_array(self._arrays, state["matrix"])  # (k, m), read-only
        signal = self.signal(state)  # (m,) L̂
        scale = None
        if "column_scale" in state:  # a weighted objective: (m·w) ⊙ L̂, eq. (2w)
            scale = np.asarray(state["column_scale"], dtype=float)
            signal = signal * scale
        logits = self.eta * (matrix @ signal) + kept_array(self._arrays, state["log_prior"])
        live = self._live(matrix, state["matrix"], scale=scale)
        if not live.any():  # a re-fit removed every edge: fall back to every skill
            live = np.ones_like(live)
        p = np.zeros(matrix.shape[0])
        p[live] = stable_softmax(logits[live])
        return p


def refit_columns(prior: np.ndarray, shares: np.ndarray, drops: Sequence[Sequence[float | None]], ridge: float) -> np.ndarray:
    """A with each observed column re-fitted by ridge regression towards c·A⁰ (module docstring); shape (k, m).

    prior: A⁰ (k, m); shares: X (T, k); drops: y (T, m) with ``None`` where column j has no training loss.
    """
    y = np.array([[np.nan if v is None else v for v in row] for row in drops], dtype=float)  # (T, m)
    predicted = shares @ prior  # (T, m)
    seen = np.isfinite(y)
    denominator = float(np.sum(predicted[seen] ** 2))
    if not seen.any() or denominator <= 0:
        return prior.copy()
    c = float(np.sum(y[seen] * predicted[seen])) / denominator
    if c <= 0:
        return prior.copy()
    out = prior.copy()
    k = prior.shape[0]
    for j in range(prior.shape[1]):
        rows = seen[:, j]
        if not rows.any():
            continue
        x = shares[rows]  # (T_j, k)
        lhs = x.T @ x + ridge * np.eye(k)
        rhs = x.T @ y[rows, j] + ridge * c * prior[:, j]
        out[:, j] = np.maximum(np.linalg.solve(lhs, rhs) / c, 0.0)
    return out
