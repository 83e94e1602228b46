"""The mixing-policy protocol: pure ``init`` / ``update`` / ``weights`` over a serialisable state.

A policy decides, while a model trains, how much of each training skill to feed it. Like an optax
transformation it keeps no mutable state of its own: the trainer holds the state and passes it back in.

    state = policy.init(context)                 # once, after the step-0 evaluation
    for each round t:
        p = policy.weights(state)                # simplex vector over context.train_skills
        ... train round_steps steps on batches drawn from p ...
        state = policy.update(state, observation) # the evaluations made during round t

States are plain JSON values (dicts, lists, numbers, strings), so ``json.loads(json.dumps(state))``
restores a policy exactly: that is what checkpoints store, what DDP ranks agree on and what tests compare.
Hyper-parameters (η, the graph, a window) live on the policy object, not in the state.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, ClassVar, Literal, Union, get_args

import numpy as np
from pydantic import ConfigDict, ValidationError, model_validator

from skillit.errors import PolicyError, did_you_mean, pydantic_details
from skillit.graph import builtin_graph
from skillit.graph.skills_graph import SkillsGraph
from skillit.utils.schema import StrictModel

Setting = Literal["pretrain", "finetune", "out-of-domain"]
PolicyState = dict[str, Any]


@dataclass(frozen=True)
class EvalResult:
    """Per-skill validation metrics at one evaluation point (``step`` = optimiser steps done)."""

    step: int
    losses: Mapping[str, float]  # mean answer-token cross-entropy per evaluation skill
    accuracies: Mapping[str, float] = field(default_factory=dict)  # exact-match accuracy per skill
    # (skills, the losses as a list of floats, the same as a read-only array): set by from_arrays only
    _table: tuple[list[str], list[float], np.ndarray] | None = field(default=None, init=False, repr=False,
                                                                      compare=False)

    @classmethod
    def from_arrays(cls, step: int, skills: Sequence[str], losses: Any, accuracies: Any = None) -> EvalResult:
        """The result of an evaluator that computes per-skill arrays in ``skills`` order (``SkillEvaluator``).

        ``losses``/``accuracies``: shape (len(skills),). The mappings are ``{skill: float}`` exactly as the plain
        constructor would hold them; besides, the result keeps the names, the losses' list and a read-only
        copy of their array, so that :meth:`loss_row` and :meth:`loss_vector` in ``skills`` order (what
        Skill-It reads every round) convert nothing: at 10^5 skills, ~0.2 ms instead of ~4 ms. The mappings
        must not be changed afterwards (nothing changes a frozen result's values).
        """
        names = [str(name) for name in skills]
        loss_array = np.array(losses, dtype=float)  # a copy: the caller's array may change later
        if loss_array.shape != (len(names),):
            raise PolicyError(f"EvalResult.from_arrays: {loss_array.shape} losses given for {len(names)} skills; "
                              "give one loss per skill, in the skills' order")
        values = loss_array.tolist()
        loss_map = dict(zip(names, values))
        if len(loss_map) != len(names):
            dupes = sorted(name for name, n in Counter(names).items() if n > 1)
            raise PolicyError(f"EvalResult.from_arrays: duplicate skill names {dupes}; each skill is evaluated once")
        accuracy_map: dict[str, float] = {}
        if accuracies is not None:
            accuracy_array = np.asarray(accuracies, dtype=float)
            if accuracy_array.shape != (len(names),):
                raise PolicyError(f"EvalResult.from_arrays: {accuracy_array.shape} accuracies given for {len(names)} "
                                  "skills; give one accuracy per skill, in the skills' order")
            accuracy_map = dict(zip(names, accuracy_array.tolist()))
        loss_array.setflags(write=False)
        result = cls(int(step), loss_map, accuracy_map)
        object.__setattr__(result, "_table", (names, values, loss_array))  # frozen: set once, here
        return result

    def _table_for(self, skills: list[str]) -> tuple[list[str], list[float], np.ndarray] | None:
        """The :meth:`from_arrays` table when ``skills`` are its names in its order, else ``None``.

        The names are compared as lists: the same string objects (names taken from one SkillSet) compare
        by pointer, ~0.1 ms at 10^5.
        """
        table = self._table
        if table is None or len(skills) != len(table[0]) or len(self.losses) != len(skills):
            return None
        return table if skills is table[0] or skills == table[0] else None

    def loss_row(self, skills: Sequence[str]) -> tuple[list[float], np.ndarray]:
        """``(values, array)``: the losses in ``skills`` order as a list of floats and as a read-only array.

        ``values == array.tolist()``; a state can keep the list and a policy compute with the array. From an
        evaluator's :meth:`from_arrays` result in its own order, both come without converting 10^5 floats
        (the list is a new list of the same float objects); otherwise as :meth:`loss_vector`.
        """
        names = skills if isinstance(skills, list) else list(skills)
        table = self._table_for(names)
        if table is not None:
            return table[1].copy(), table[2]  # a new list: whoever keeps it cannot change the table's
        array = self.loss_vector(names)
        values = array.tolist()
        array.setflags(write=False)
        return values, array

    def loss_vector(self, skills: Sequence[str]) -> np.ndarray:
        """Losses in the order of ``skills``; a clear error if one was not evaluated.

        Shape (len(skills),). From a :meth:`from_arrays` result in its own order, a copy of its array. When
        ``losses`` already lists exactly ``skills`` in that order (the evaluator's order, usually) the values
        are read straight off, without a lookup per name (10^5 skills: ~2.5 ms instead of ~9 ms); the values
        are the same either way.
        """
        names = skills if isinstance(skills, list) else list(skills)
        table = self._table_for(names)
        if table is not None:
            return table[2].copy()  # writable, like every other path's result
        if len(self.losses) == len(names) and list(self.losses) == names:
            try:
                return np.fromiter(self.losses.values(), dtype=float, count=len(names))
            except (TypeError, ValueError):
                pass  # a value np.array reads differently (a nested sequence): the lookups below decide
        try:
            if len(names) < 2:  # itemgetter of one name returns the value itself, not a tuple
                return np.array([self.losses[name] for name in names], dtype=float)
            return np.array(itemgetter(*names)(self.losses), dtype=float)  # the lookups in C: ~35 % faster
        except KeyError as exc:
            raise PolicyError(
                f"the policy needs the validation loss of skill {exc.args[0]!r}, which was not evaluated "
                f"at step {self.step} (evaluated: {sorted(self.losses)}); give that skill a validation set"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "losses": dict(self.losses), "accuracies": dict(self.accuracies)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalResult:
        return cls(int(data["step"]), dict(data["losses"]), dict(data.get("accuracies", {})))


@dataclass(frozen=True)
class PolicyContext:
    """What a policy may know when it starts.

    Attributes:
        train_skills: skills the policy mixes (the order of every weight vector).
        eval_skills: skills with a validation set.
        target_skills: the skills whose loss is the objective: all eval skills in pre-training and
            out-of-domain, the chosen targets in fine-tuning.
        setting: ``pretrain`` (S_eval = S_train), ``finetune`` (targets ⊂ S_train) or ``out-of-domain``
            (S_eval ∩ S_train = ∅), paper §3.1.
        natural_proportions: each training skill's share of the natural (possibly imbalanced) pool.
        pool_sizes: finite pool size per training skill, ``None`` for streams.
        n_rounds, round_steps: the schedule (T rounds of H optimiser steps).
        initial_eval: the evaluation before the first optimiser step.
        score_pool: computes the initial model's loss on every pool example, ``{skill: array (pool_size,)}``;
            only the example-level curriculum needs it, so it is lazy.
        total_steps: the optimiser-step budget of the run (probe rounds count against it).
        batch_size: examples per optimiser step (global batch).
        seed: the run's seed (for policies that draw at random, e.g. EXP3; keep draws in the state).
        mean_tokens: computes each training skill's mean tokens per example (``[bos] prompt answer [eos]``
            under the run's tokenizer), in ``train_skills`` order; lazy, like ``score_pool``: only the
            ``tokens`` wrapper (token-level proportions) needs it. ``None`` where the driver cannot count.
        objective_weights: the objective's weights w_j, one per ``target_skills`` entry in its order
            (the config's ``objective_weights``), so that the objective is Σ_j w_j·L_j. Stored normalised
            to sum 1; ``None`` is the plain mean (w_j = 1/m), and equal weights are stored as ``None``, so a
            policy given uniform weights computes exactly what it computes without them. Read them with
            :meth:`objective_weights_of`; docs/policies.md lists the policies that use them.
    """

    train_skills: tuple[str, ...]
    eval_skills: tuple[str, ...] = ()
    target_skills: tuple[str, ...] = ()
    setting: Setting = "pretrain"
    natural_proportions: tuple[float, ...] | None = None
    pool_sizes: tuple[int | None, ...] | None = None
    n_rounds: int = 1
    round_steps: int = 1
    initial_eval: EvalResult | None = None
    score_pool: Callable[[], dict[str, np.ndarray]] | None = None
    total_steps: int = 0
    batch_size: int = 0
    seed: int = 0
    mean_tokens: Callable[[], tuple[float, ...]] | None = None
    objective_weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not self.train_skills:
            raise PolicyError("a policy needs at least one training skill")
        if self.natural_proportions is not None and len(self.natural_proportions) != len(self.train_skills):
            raise PolicyError("natural_proportions must have one entry per training skill")
        if self.objective_weights is not None:
            w = np.asarray(self.objective_weights, dtype=float)
            if w.shape != (len(self.target_skills),):
                raise PolicyError(f"objective_weights: {w.size} weights given for {len(self.target_skills)} target "
                                  f"skills {list(self.target_skills)}; give one weight per target skill, in its order")
            if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
                raise PolicyError(f"objective_weights must be finite, non-negative and not all 0, got {w.tolist()}")
            normalised = None if (w == w[0]).all() else tuple((w / w.sum()).tolist())  # equal: the plain mean
            object.__setattr__(self, "objective_weights", normalised)  # frozen: set once, here

    def objective_weights_of(self, skills: Sequence[str], *, where: str = "policy") -> np.ndarray | None:
        """The objective's weights of ``skills`` (objective skills), renormalised to sum 1 over them; shape
        (len(skills),). ``None`` when the objective is the plain mean, so a policy keeps its uniform rule.

        ``skills`` is the subset of the objective a policy can act on (e.g. the objective skills that are
        training skills, for a gradient taken on training data). A name outside ``target_skills``, or a
        subset carrying none of the weight, is a :class:`PolicyError` naming ``where``.
        """
        if self.objective_weights is None:
            return None
        names = list(skills)
        by_name = dict(zip(self.target_skills, self.objective_weights))
        outside = [name for name in names if name not in by_name]
        if outside:
            raise PolicyError(f"{where}: {outside[0]!r} is not an objective skill, so the objective_weights give it no "
                              f"weight (the objective skills are {list(self.target_skills)}); drop it from the "
                              "policy's targets or drop objective_weights")
        w = np.array([by_name[name] for name in names], dtype=float)
        if w.sum() <= 0:
            raise PolicyError(f"{where}: the objective_weights put no weight on {names}, the objective skills this "
                              f"policy can act on; weights: {dict(by_name)}")
        return w / w.sum()

    @property
    def k(self) -> int:
        return len(self.train_skills)

    def natural(self) -> np.ndarray:
        if self.natural_proportions is None:
            return np.full(self.k, 1.0 / self.k)
        p = np.asarray(self.natural_proportions, dtype=float)
        return p / p.sum()


SIGNALS: tuple[str, ...] = ("val_loss", "train_loss", "ref_loss", "grad_stats", "grad_probe")
"""What a policy may ask the Mixer for (``MixingPolicy.requires``); anything else is always provided.

* ``val_loss``: per-skill validation loss and accuracy at every evaluation (``Observation.evals``); the
  Mixer always evaluates (the records need it), so this costs nothing extra.
* ``train_loss``: mean per-token *training* loss per training skill over the round
  (``Observation.train_loss``; ODM, ADO, Aioli's cheap variant), from the per-token losses the training
  step computes anyway.
* ``ref_loss``: a reference model's per-skill validation loss at the same step (``Observation.ref_losses``;
  DoReMi), from a recorded reference run or a reference model evaluated on the same validation sets.
* ``grad_stats``: per-skill statistics of the output layer's gradient over the round
  (``Observation.grad``; R&B, PiKE, DGA's cheap variant), from a forward hook on the output layer.
* ``grad_probe``: full-model gradient alignment of each training skill with the target skills
  (``Observation.probe``; DGA), from extra forward/backward passes on fresh probe batches of
  ``MixingPolicy.probe_examples`` examples per skill at the end of every round (counted in the records).

Always provided: examples seen (cumulative and this round), tokens trained this round, the step, the
learning rate and the kind and length of the round.
"""


@dataclass(frozen=True)
class GradStats:
    """Output-layer gradient statistics of one round, per training skill (R&B §3.4, PiKE §3.2).

    For an example e of skill i, g_e is the gradient of e's mean per-token loss with respect to the output
    layer's weight W (V × d), optionally through a fixed random projection R (r × V, entries N(0, 1/r)) so
    that g_e = R · ∂ℓ_e/∂W has r·d entries instead of V·d. Over the n_i examples of skill i drawn in the round:

        ḡ_i = (1/n_i) Σ_e g_e,   gram[i, j] = ⟨ḡ_i, ḡ_j⟩,   sqnorm[i] = ‖ḡ_i‖²,
        var[i] = (1/n_i) Σ_e ‖g_e − ḡ_i‖²  = (1/n_i) Σ_e ‖g_e‖² − ‖ḡ_i‖²

    Skills not drawn in the round have NaN rows/columns. ``dim`` is the flattened gradient size (r·d or V·d).
    """

    skills: tuple[str, ...]
    gram: np.ndarray  # (k, k)
    sqnorm: np.ndarray  # (k,)
    var: np.ndarray  # (k,)
    counts: np.ndarray  # (k,) examples per skill that entered the statistics
    dim: int = 0
    projected: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"skills": list(self.skills), "gram": self.gram.tolist(), "sqnorm": self.sqnorm.tolist(),
                "var": self.var.tolist(), "counts": self.counts.tolist(), "dim": self.dim,
                "projected": self.projected}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GradStats:
        return cls(tuple(data["skills"]), np.asarray(data["gram"], dtype=float), np.asarray(data["sqnorm"], dtype=float),
                   np.asarray(data["var"], dtype=float), np.asarray(data["counts"], dtype=float),
                   int(data.get("dim", 0)), bool(data.get("projected", False)))


@dataclass(frozen=True)
class GradProbe:
    """Full-model gradient alignment with the target, measured at the end of a round (DGA, arXiv 2410.02498).

    For each training skill i, g_i = ∇_θ of the mean per-token loss of a fresh probe batch of skill i (every
    parameter, the model as it is at the end of the round); g_tgt the same on a probe batch of the target
    skills' *training* data (equal examples per target skill). ``alignment[i] = ⟨g_i, g_tgt⟩``,
    ``sqnorm[i] = ‖g_i‖²``, ``target_sqnorm = ‖g_tgt‖²``; ``examples``: examples per probe batch (k + 1
    batches). The probe never trains: it does not touch the optimiser's gradients or the sampler's streams.
    """

    skills: tuple[str, ...]
    alignment: np.ndarray  # (k,)
    sqnorm: np.ndarray  # (k,)
    target_sqnorm: float
    examples: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"skills": list(self.skills), "alignment": self.alignment.tolist(), "sqnorm": self.sqnorm.tolist(),
                "target_sqnorm": self.target_sqnorm, "examples": self.examples}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GradProbe:
        return cls(tuple(data["skills"]), np.asarray(data["alignment"], dtype=float),
                   np.asarray(data["sqnorm"], dtype=float), float(data["target_sqnorm"]), int(data.get("examples", 0)))


@dataclass(frozen=True)
class Observation:
    """What the Mixer reports to a policy at the end of a round (or of a sub-round it planned).

    Always filled: ``round``, ``step``, ``evals``, ``examples_seen``, ``kind``, ``steps``, ``lr``,
    ``round_examples`` and ``train_tokens``. Filled only when the policy's ``requires`` names the signal
    (empty mappings / ``None`` otherwise): ``train_loss``, ``ref_losses``, ``grad``, ``probe``.
    """

    round: int  # 0-based index of the (sub-)round that just ended
    step: int  # optimiser steps done so far
    evals: tuple[EvalResult, ...]  # the evaluations made during the round, oldest first
    examples_seen: Mapping[str, int] = field(default_factory=dict)  # cumulative, per training skill
    kind: Literal["train", "probe"] = "train"  # what the policy planned (RoundPlan.kind)
    steps: int = 0  # optimiser steps in this round
    lr: float | None = None  # learning rate at the end of the round
    round_examples: Mapping[str, int] = field(default_factory=dict)  # examples drawn per training skill this round
    train_tokens: Mapping[str, int] = field(default_factory=dict)  # loss tokens trained per training skill this round
    train_loss: Mapping[str, float] = field(default_factory=dict)  # "train_loss": mean per-token loss; NaN if unseen
    ref_losses: Mapping[str, float] = field(default_factory=dict)  # "ref_loss": reference loss per evaluation skill
    grad: GradStats | None = None  # "grad_stats"
    probe: GradProbe | None = None  # "grad_probe"

    def train_loss_vector(self, skills: Sequence[str]) -> np.ndarray:
        """Training losses in ``skills`` order (NaN for a skill not trained this round)."""
        if not self.train_loss:
            raise PolicyError("the policy needs per-skill training losses: declare requires = {'train_loss', ...}")
        return np.array([self.train_loss.get(name, float("nan")) for name in skills], dtype=float)

    def ref_loss_vector(self, skills: Sequence[str]) -> np.ndarray:
        """Reference losses in ``skills`` order; a clear error if one is missing."""
        try:
            return np.array([self.ref_losses[name] for name in skills], dtype=float)
        except KeyError as exc:
            raise PolicyError(
                f"the policy needs the reference loss of skill {exc.args[0]!r} at step {self.step}, which the "
                "Mixer did not provide; give a reference run or model covering every skill (requires 'ref_loss')"
            ) from None


@dataclass(frozen=True)
class RoundPlan:
    """What a policy asks of the next (sub-)round (``MixingPolicy.plan``; Aioli's probe rounds, §5.1).

    ``steps`` optimiser steps (clipped to the remaining budget: probe steps count against it) at
    ``weights`` (``None``: ``policy.weights(state)``); ``evaluate=True`` evaluates every skill at the
    round's end even off the ``eval_every`` grid (counted as overhead in the records when ``kind`` is
    ``probe``).
    """

    steps: int
    weights: np.ndarray | None = None
    kind: Literal["train", "probe"] = "train"
    evaluate: bool = False

    def __post_init__(self) -> None:
        if int(self.steps) < 1:
            raise PolicyError(f"a round needs at least 1 step, the policy planned {self.steps}")


# ---- parameters ------------------------------------------------------------------------------------------
Weights = dict[str, float] | list[float]
"""Weights per training skill: ``{skill: weight}`` (missing skills get 0) or a list in training-skill order."""

Graph = Union[SkillsGraph, str]  # noqa: UP007  (a runtime alias: pydantic reads it in the parameter models)
"""A graph parameter: a :class:`SkillsGraph`, or in a config a string the caller resolves: ``identity``,
``builtin:NAME``, ``prerequisites`` (the task's planted graph) or a path to a ``.json``/``.npy`` file."""

GraphResolver = Callable[[str], SkillsGraph]


class PolicyParams(StrictModel):
    """The base of every policy's ``Params``: unknown keys, ``true`` for a number, and infinite or NaN numbers
    are refused; a graph field (type :data:`Graph`) takes a :class:`SkillsGraph` or a graph string.

    ``renamed`` maps a parameter's old, deprecated name to its name now (e.g. Aioli's ``normalize`` →
    ``normalise``): the old name is still accepted, with a FutureWarning naming the new one
    (:func:`rename_params`), and a description written under it is read in the new spelling
    (:func:`skillit.policy.registry.upgrade_description`)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, arbitrary_types_allowed=True)
    renamed: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        return rename_params(cls, data) if isinstance(data, dict) and cls.renamed else data


def rename_params(model: type[PolicyParams], params: dict[str, Any], *, where: str = "", policy: str = "",
                  warn: bool = True) -> dict[str, Any]:
    """``params`` with each old name of ``model.renamed`` replaced by its new name (one FutureWarning per old
    name unless ``warn=False``; ``where``: the file and line, when known). Both names at once is a ValueError."""
    old = [name for name in model.renamed if name in params]
    if not old:
        return params
    out = dict(params)
    for name in old:
        new = model.renamed[name]
        if new in out:
            raise ValueError(f"{name!r} is the old spelling of {new!r}; give only {new!r}")
        out[new] = out.pop(name)
        if warn:
            owner = f"policy {policy!r}" if policy else model.__qualname__
            warnings.warn(f"{where + ': ' if where else ''}{owner}: parameter {name!r} is the old, deprecated "
                          f"spelling; write {new!r} ({new}: {out[new]!r})", FutureWarning, stacklevel=4)
    return out


class NoParams(PolicyParams):
    """A policy without parameters."""


def graph_fields(params: type[PolicyParams]) -> list[str]:
    """The fields of ``params`` that hold a graph (their type names :class:`SkillsGraph`)."""

    def mentions_graph(annotation: Any) -> bool:
        return annotation is SkillsGraph or any(mentions_graph(arg) for arg in get_args(annotation))

    return [name for name, info in params.model_fields.items() if mentions_graph(info.annotation)]


def resolve_graph_spec(spec: str) -> SkillsGraph:
    """A graph string without a task at hand: ``builtin:NAME`` or a file path (``identity`` and
    ``prerequisites`` need the run's skills: the experiment resolves those, or pass a :class:`SkillsGraph`)."""
    if spec.startswith("builtin:"):
        return builtin_graph(spec.split(":", 1)[1])
    if spec in ("identity", "prerequisites"):
        raise PolicyError(f"graph {spec!r} needs the run's skills; pass a SkillsGraph (e.g. SkillsGraph.identity("
                          "names)) or build the policy with resolve_graph")
    return SkillsGraph.load(spec)


def describe_value(value: Any) -> Any:
    """A parameter value as JSON for ``describe()``: a graph as its skills and scalar provenance."""
    if isinstance(value, SkillsGraph):
        return {"train_skills": list(value.train_skills), "eval_skills": list(value.eval_skills),
                **{k: v for k, v in value.provenance.items() if isinstance(v, (str, int, float))}}
    if isinstance(value, Mapping):
        return {k: describe_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [describe_value(v) for v in value]
    return value


class MixingPolicy(ABC):
    """Base class of the built-in policies. Subclasses implement ``init``, ``update`` and ``weights``.

    A policy's parameters are declared once, by its ``Params`` model (a :class:`PolicyParams`: defaults,
    constraints, descriptions). The constructor validates what it is given against it (positional arguments
    fill the fields in order) into ``self.params``; a config's ``params`` are validated by the same model,
    and ``describe()`` and ``skillit policies`` read it. ``description`` (one line) and ``online`` (whether
    the mixture can change during a run) are what ``skillit policies`` lists.

    ``requires`` names the signals (:data:`SIGNALS`) the policy reads from its observations; the Mixer
    computes only what some policy requires. ``version`` is stored beside the state in checkpoints
    (:meth:`pack_state`); bump it when the state's layout changes.

    ``scope`` optionally restricts which examples of a skill may be drawn this round (the example-level
    curriculum admits only the easiest examples); ``None`` means every example. ``plan`` optionally sets
    the next round's length, mixture and kind (sub-rounds, probes); by default every round is
    ``round_steps`` long at ``weights(state)``.
    """

    name: str = "policy"
    version: int = 1
    requires: frozenset[str] = frozenset({"val_loss"})
    probe_examples: int = 8  # examples per probe batch, read by the Mixer only when "grad_probe" is required
    Params: ClassVar[type[PolicyParams]] = NoParams
    description: ClassVar[str] = ""
    online: ClassVar[bool] = True
    params: PolicyParams

    def __init__(self, *args: Any, **params: Any):
        self.params = self.parse_params(*args, **params)

    @classmethod
    def parse_params(cls, *args: Any, where: str = "", **params: Any) -> PolicyParams:
        """``Params`` validated from arguments (positional ones fill the fields in declaration order); a value
        it refuses is a :class:`PolicyError` naming the policy and the key."""
        fields = list(cls.Params.model_fields)
        if len(args) > len(fields):
            raise PolicyError(f"{cls.name} takes at most {len(fields)} positional parameters ({', '.join(fields)}), "
                              f"got {len(args)}")
        for name, value in zip(fields, args):
            if name in params:
                raise PolicyError(f"{cls.name}: parameter {name!r} given twice")
            params[name] = value
        place = f"{where}: " if where else ""
        try:
            params = rename_params(cls.Params, params, where=where, policy=cls.name)
        except ValueError as exc:
            raise PolicyError(f"{place}{cls._refused(params, str(exc))}") from None
        try:
            return cls.Params.model_validate(params)
        except ValidationError as exc:
            place = f"{where}: " if where else ""
            raise PolicyError(f"{place}{cls._refused(params, pydantic_details(exc))}") from None

    @classmethod
    def _refused(cls, params: dict[str, Any], details: str) -> str:
        """What :meth:`parse_params` says when ``Params`` refuses ``params`` (``details``: key by key)."""
        return f"invalid parameters for policy {cls.name!r}: {details}"

    @classmethod
    def from_params(cls, params: PolicyParams, resolve_graph: GraphResolver = resolve_graph_spec) -> MixingPolicy:
        """The policy a config's validated ``params`` describe: graph strings resolved by ``resolve_graph``,
        then every field passed to the constructor by keyword."""
        values = {name: getattr(params, name) for name in type(params).model_fields}
        for name in graph_fields(type(params)):
            if isinstance(values[name], str):
                values[name] = resolve_graph(values[name])
        return cls(**values)

    @abstractmethod
    def init(self, context: PolicyContext) -> PolicyState:
        """The initial state; ``weights(init(context))`` is the first round's mixture."""

    @abstractmethod
    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        """A new state after one round (never mutates ``state``)."""

    @abstractmethod
    def weights(self, state: PolicyState) -> np.ndarray:
        """The mixture for the next round: shape (k,), non-negative, sums to 1, in train_skills order."""

    def scope(self, state: PolicyState) -> dict[int, list[int]] | None:
        """Admitted example indices for the next round, keyed by training-skill position, or ``None``.

        A skill absent from the mapping has no admitted example (its weight must then be 0).
        """
        del state
        return None

    def plan(self, state: PolicyState, round_steps: int) -> RoundPlan:
        """The next round: by default ``round_steps`` training steps at ``weights(state)``."""
        del state
        return RoundPlan(steps=round_steps)

    def describe(self) -> dict[str, Any]:
        """Hyper-parameters, for records and reports: the name and every field of ``self.params``."""
        params = getattr(self, "params", None)
        if not isinstance(params, PolicyParams):
            return {"name": self.name}
        return {"name": self.name, **{name: describe_value(getattr(params, name)) for name in type(params).model_fields}}

    # ---- tagged state ------------------------------------------------------------------------------
    def pack_state(self, state: PolicyState) -> dict[str, Any]:
        """The state with the policy's name and version, as checkpoints store it."""
        return {"policy": self.name, "version": self.version, "state": state}

    def unpack_state(self, payload: Any, *, where: str = "checkpoint") -> PolicyState:
        """The state of a :meth:`pack_state` payload, after checking it belongs to this policy."""
        if not isinstance(payload, Mapping) or not {"policy", "version", "state"} <= set(payload):
            raise PolicyError(
                f"{where}: not a tagged policy state (expected keys policy, version, state; got "
                f"{sorted(payload) if isinstance(payload, Mapping) else type(payload).__name__}); it was written "
                "by another skillit version or is not a policy state"
            )
        if payload["policy"] != self.name:
            raise PolicyError(
                f"{where}: the state belongs to policy {payload['policy']!r}, but this run's policy is "
                f"{self.name!r}; resume with the policy the run started with"
            )
        if payload["version"] != self.version:
            raise PolicyError(
                f"{where}: the state of {self.name!r} has version {payload['version']!r}, this skillit expects "
                f"version {self.version}; resume with the skillit version that wrote it"
            )
        state = payload["state"]
        if not isinstance(state, dict):
            raise PolicyError(f"{where}: the state of {self.name!r} must be a JSON object, got {type(state).__name__}")
        return state


def normalise(weights: np.ndarray, *, where: str = "policy") -> np.ndarray:
    """Project non-negative weights onto the simplex; a clear error if they are not finite or all zero."""
    w = np.asarray(weights, dtype=float)
    if not np.isfinite(w).all() or (w < 0).any():
        raise PolicyError(f"{where}: weights must be finite and non-negative, got {w.tolist()}")
    total = w.sum()
    if total <= 0:
        raise PolicyError(f"{where}: weights are all zero; at least one skill needs a positive weight")
    return w / total


def stable_softmax(logits: np.ndarray) -> np.ndarray:
    """softmax(x) = exp(x - max x) / Σ exp(x - max x): never overflows (the reference code's did, §1.5 item 1)."""
    z = np.array(logits, dtype=float)  # a copy, then in place: the same operations, no temporaries
    z -= z.max()
    np.exp(z, out=z)
    z /= z.sum()
    return z


def weights_by_name(
    values: Mapping[str, float] | Sequence[float], skills: Sequence[str], *, where: str
) -> np.ndarray:
    """A weight vector in ``skills`` order from a ``{name: weight}`` mapping (missing = 0) or a list."""
    if isinstance(values, Mapping):
        unknown = [name for name in values if name not in skills]
        if unknown:
            raise PolicyError(f"{where}: unknown training skill {unknown[0]!r}; {did_you_mean(unknown[0], list(skills))}")
        raw = np.array([float(values.get(name, 0.0)) for name in skills])
    else:
        if len(values) != len(skills):
            raise PolicyError(f"{where}: {len(values)} weights given for {len(skills)} training skills {list(skills)}")
        raw = np.asarray(values, dtype=float)
    return normalise(raw, where=where)
