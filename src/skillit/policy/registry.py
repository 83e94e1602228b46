"""One registry of mixing policies, by the names configs and the CLI use.

Each entry has a pydantic parameter model (unknown keys and bad values are rejected before anything runs)
and a factory that turns validated parameters into a :class:`MixingPolicy`. Graph parameters are strings
resolved by the caller: ``identity``, ``builtin:NAME``, ``prerequisites`` (the task's planted graph) or a
file path. To add a policy: write one file in ``skillit/policy/``, add one entry here; the conformance
suite in ``tests/policy/test_conformance.py`` then checks it.

A policy of your own (outside skillit) registers itself with :func:`register_policy` when its module is
imported (``imports:`` in a config, ``skillit run --import``), or is declared by an installed package under
the entry-point group ``skillit.policies``, loaded the first time a name is not found here
(:func:`load_policy_entry_points`; docs/policies.md, "Your own policy").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from skillit.errors import PolicyError, SkillitError, did_you_mean, pydantic_details
from skillit.graph import builtin_graph
from skillit.graph.skills_graph import SkillsGraph
from skillit.policy.ado import ADO
from skillit.policy.aioli import Aioli, AioliTrainLoss
from skillit.policy.base import MixingPolicy
from skillit.policy.curriculum import AntiCurriculum, Curriculum
from skillit.policy.dga import DGA, DGALastLayer
from skillit.policy.doremi import DoReMiOnline
from skillit.policy.natural import Natural
from skillit.policy.odm import ODM, ODMSmoothedMean
from skillit.policy.pacing import Paced
from skillit.policy.pike import PiKE
from skillit.policy.rb_balance import RBBalance
from skillit.policy.repetition import RepetitionAware
from skillit.policy.skill_curriculum import SkillAntiCurriculum, SkillCurriculum
from skillit.policy.skill_it import SkillIt
from skillit.policy.skill_it_plus import SkillItPlus
from skillit.policy.staged import Stage, Staged
from skillit.policy.static import Random, Static, Stratified, TargetOnly
from skillit.policy.temperature import Temperature
from skillit.policy.velocitune import Velocitune
from skillit.policy.wrappers import (
    Frozen,
    MinimumProbability,
    Smoothed,
    TokenProportions,
)
from skillit.utils.plugins import HOW_TO_REGISTER, POLICY_GROUP, entry_points, load_entry_point
from skillit.utils.schema import StrictModel

GraphResolver = Callable[[str], SkillsGraph]
Weights = dict[str, float] | list[float]


class NoParams(StrictModel):
    pass


class RandomParams(StrictModel):
    proportions: Weights | None = Field(None, description="override the natural pool proportions")


class StratifiedParams(StrictModel):
    graph: str | None = Field(None, description="if given, uniform over skills with an edge into a target")


class StaticParams(StrictModel):
    weights: Weights


class SkillItParams(StrictModel):
    graph: str = Field(description="identity | builtin:NAME | prerequisites | path to .json/.npy")
    eta: float = Field(0.5, ge=0)
    window: int = Field(3, ge=1, description="evaluations aggregated into the loss signal")
    aggregate: Literal["auto", "sum", "mean"] = "auto"
    initial_loss: Literal["ones", "observed"] = "ones"
    prior: Weights | None = None
    targets: list[str] | None = None


class CurriculumParams(StrictModel):
    start_fraction: float = Field(0.0, ge=0, le=1)


class SkillCurriculumParams(StrictModel):
    mixing_fraction: float = Field(0.4, ge=0, lt=1)


# ---- the peers (issue 9; docs/policies.md) ----------------------------------------------------------------
class NaturalParams(StrictModel):
    tokens: Weights | None = Field(None, description="pool token counts per skill; default: estimated online")
    unit: Literal["tokens", "examples"] = "tokens"


class TemperatureParams(NaturalParams):
    temperature: float = Field(2.0, gt=0, description="T in p ∝ n^(1/T); 1 = natural, large = uniform")


class AioliParams(StrictModel):
    eta: float = Field(0.2, ge=0)
    lp_rounds: int = Field(4, ge=1, description="sweeps of probes over the skills per round")
    lp_steps: int = Field(4, ge=1, description="optimiser steps per probe")
    one_hot_factor: float = Field(0.625, gt=0, le=1, description="δ: probe mixture weight on the probed skill")
    ema: float | None = Field(None, ge=0, lt=1)
    normalize: bool = True
    diagonal: bool = False
    prior: Weights | None = None


class ADOParams(StrictModel):
    prior: Literal["natural", "uniform"] | Weights = "natural"
    start_rounds: int = Field(3, ge=0)
    ignore_rounds: int = Field(0, ge=0)
    refit_every: int = Field(1, ge=1)
    smooth_window: int = Field(5, ge=1)
    history_decay: float = Field(0.9, ge=0, lt=1)
    mix: float = Field(0.1, gt=0, le=1)
    min_prob: float = Field(0.01, ge=0, lt=1)
    a_max: float = 6.5
    e_min: float = Field(0.5, description="log irreducible loss ≥ e_min; the code's 0.5 forces ≥ 1.65 nats")
    alpha_min: float = 0.001
    alpha_max: float = 0.8


class ODMParams(StrictModel):
    smoothing: float = Field(0.9, ge=0, lt=1)
    reward: Literal["train_loss", "val_loss"] = "train_loss"
    warmup_steps: int = Field(0, ge=0)


class DoReMiParams(StrictModel):
    eta: float = Field(1.0, ge=0)
    smoothing: float = Field(1e-3, ge=0, le=1)


class RBBalanceParams(StrictModel):
    temperature: float = Field(1.0, ge=0)
    eval_proportions: Weights | None = None


class DGALastLayerParams(StrictModel):
    eta: float = Field(1.0, ge=0, description="η, the weights' step size")
    normalise: Literal["sqnorm", "none"] = Field("sqnorm", description="divide the alignment by the mean ‖ḡ‖²")
    prior: Weights | None = None


class DGAParams(StrictModel):
    eta: float = Field(1.0, ge=0, description="η, the weights' step size")
    period: int | None = Field(None, ge=1, description="T_r: optimiser steps between updates (null: round_steps)")
    probe_examples: int = Field(8, ge=1, description="examples per skill (and for the target) in each probe")
    normalise: Literal["sqnorm", "none"] = "none"
    prior: Weights | None = None


class PiKEParams(StrictModel):
    zeta1: float = Field(1.0, ge=0)
    zeta2: float = Field(1.0, ge=0)
    update_every: int = Field(1, ge=1)
    prior: Weights | None = None


class VelocituneParams(StrictModel):
    target_losses: float | dict[str, float] = 0.0
    update_every: int = Field(1, ge=1)
    prior: Literal["natural", "uniform"] = "natural"


class SkillItPlusParams(StrictModel):
    graph: str = Field(description="identity | builtin:NAME | prerequisites | path to .json/.npy")
    eta: float = Field(4.0, ge=0)  # = SkillItPlus.__init__ default (tests/policy/test_peer_registry.py checks they agree)
    window: int = Field(3, ge=1)
    normalise: Literal["initial", "mean"] = "initial"
    zero_rows: Literal["drop", "keep"] = "drop"
    graph_ridge: float | None = Field(None, gt=0, description="λ of the online re-fit of A; null: fixed graph")
    prior: Weights | None = None
    targets: list[str] | None = None


@dataclass(frozen=True)
class PolicySpec:
    name: str
    params_model: type[BaseModel]
    factory: Callable[[Any, GraphResolver], MixingPolicy]
    description: str
    online: bool  # whether the mixture can change during a run


class StageParams(StrictModel):
    steps: int = Field(ge=1, description="optimiser steps of this stage (the last stage runs to the end)")
    policy: str = Field(description="a registered policy (not staged)")
    params: dict[str, Any] = Field(default_factory=dict)
    wrappers: list[dict[str, Any]] = Field(default_factory=list)
    skills: list[str] | None = Field(None, description="the training skills this stage draws from (default: all)")


class StagedParams(StrictModel):
    stages: list[StageParams] = Field(min_length=1)


def _staged(p: StagedParams, resolve: GraphResolver) -> Staged:
    stages = []
    for i, stage in enumerate(p.stages):
        if stage.policy == "staged":
            raise PolicyError(f"staged: stage {i + 1} is itself staged; list its stages in one sequence instead")
        policy = build_policy(stage.policy, stage.params, resolve_graph=resolve, wrappers=stage.wrappers,
                              where=f"stage {i + 1}")
        stages.append(Stage(stage.steps, policy, tuple(stage.skills) if stage.skills else None))
    return Staged(stages)


def _skill_it(p: SkillItParams, resolve: GraphResolver) -> SkillIt:
    return SkillIt(resolve(p.graph), p.eta, p.window, p.aggregate, p.initial_loss, p.prior, p.targets)


POLICIES: dict[str, PolicySpec] = {
    spec.name: spec
    for spec in (
        PolicySpec("random", RandomParams, lambda p, r: Random(p.proportions),
                   "sample in proportion to the natural (imbalanced) pool", False),
        PolicySpec("stratified", StratifiedParams,
                   lambda p, r: Stratified(r(p.graph) if p.graph else None),
                   "uniform over training skills (or over prerequisites of the targets)", False),
        PolicySpec("static", StaticParams, lambda p, r: Static(p.weights), "fixed, given weights", False),
        PolicySpec("target-only", NoParams, lambda p, r: TargetOnly(), "train only on the target skills", False),
        PolicySpec("skill-it", SkillItParams, _skill_it, "Skill-It online: p ∝ exp(η·A·L̃) each round", True),
        PolicySpec("skill-it-static", SkillItParams, lambda p, r: Frozen(_skill_it(p, r)),
                   "Skill-It with T = 1: softmax(η·A·1) for the whole run", False),
        PolicySpec("curriculum", CurriculumParams, lambda p, r: Curriculum("easy-first", p.start_fraction),
                   "examples ranked by initial loss, easiest first, linear pacing", True),
        PolicySpec("anti-curriculum", CurriculumParams, lambda p, r: AntiCurriculum(p.start_fraction),
                   "examples ranked by initial loss, hardest first, linear pacing", True),
        PolicySpec("skill-curriculum", SkillCurriculumParams,
                   lambda p, r: SkillCurriculum("easy-first", p.mixing_fraction),
                   "skills ranked by initial loss, easiest first, one stage each", True),
        PolicySpec("skill-anti-curriculum", SkillCurriculumParams,
                   lambda p, r: SkillAntiCurriculum(p.mixing_fraction),
                   "skills ranked by initial loss, hardest first, one stage each", True),
        PolicySpec("natural", NaturalParams, lambda p, r: Natural(p.tokens, p.unit),
                   "token share of the pool (estimated online unless given)", True),
        PolicySpec("temperature", TemperatureParams, lambda p, r: Temperature(p.temperature, p.tokens, p.unit),
                   "p ∝ n^(1/T) over pool token counts", True),
        PolicySpec("aioli", AioliParams, lambda p, r: Aioli(**p.model_dump()),
                   "Aioli: A learned online by probe sub-rounds, p ∝ p·exp(η·colsum A)", True),
        PolicySpec("aioli-train-loss", AioliParams, lambda p, r: AioliTrainLoss(**p.model_dump()),
                   "Aioli's cheap variant: probes measured on training loss, no evaluation", True),
        PolicySpec("ado", ADOParams, lambda p, r: ADO(**p.model_dump()),
                   "ADO: per-skill power-law fits of training loss, sample by learning speed", True),
        PolicySpec("odm", ODMParams, lambda p, r: ODM(**p.model_dump()),
                   "ODM: EXP3 bandit on training loss (the paper's importance-weighted form)", True),
        PolicySpec("odm-smoothed-mean", ODMParams, lambda p, r: ODMSmoothedMean(**p.model_dump()),
                   "ODM: the repository's smoothed-mean updater (no 1/π, linear weights)", True),
        PolicySpec("doremi-online", DoReMiParams, lambda p, r: DoReMiOnline(p.eta, p.smoothing),
                   "DoReMi as an online sampler: α ∝ α·exp(η·excess loss over a reference)", True),
        PolicySpec("rb-balance", RBBalanceParams, lambda p, r: RBBalance(p.temperature, p.eval_proportions),
                   "R&B-Balance: softmax of output-layer gradient alignment with the objective", True),
        PolicySpec("dga-lastlayer", DGALastLayerParams, lambda p, r: DGALastLayer(**p.model_dump()),
                   "DGA, cheap: α ← softmax(log α + η·⟨ḡ_i, ḡ_target⟩) from output-layer gradients", True),
        PolicySpec("dga", DGAParams, lambda p, r: DGA(**p.model_dump()),
                   "DGA: α ← softmax(log α + η·⟨g_i, g_target⟩) on full-model probe gradients every T_r steps", True),
        PolicySpec("pike", PiKEParams, lambda p, r: PiKE(**p.model_dump()),
                   "PiKE: w ∝ w·exp(ζ1·‖∇L‖² − ζ2·σ²/2b) from output-layer gradients", True),
        PolicySpec("velocitune", VelocituneParams, lambda p, r: Velocitune(**p.model_dump()),
                   "Velocitune: w ∝ w·exp(remaining fraction of the way to a target loss)", True),
        PolicySpec("staged", StagedParams, _staged,
                   "stages of policies at fixed step boundaries, each over all or some skills (e.g. DMT)", True),
        PolicySpec("skill-it-plus", SkillItPlusParams,
                   lambda p, r: SkillItPlus(r(p.graph), p.eta, p.window, p.normalise, p.zero_rows, p.graph_ridge,
                                            p.prior, p.targets),
                   "ours: Skill-It with per-skill normalised losses, dead rows dropped, optional online graph", True),
    )
}

WRAPPERS: dict[str, Callable[[MixingPolicy, Any], MixingPolicy]] = {
    "frozen": lambda policy, value: Frozen(policy) if value else policy,
    "floor": lambda policy, value: MinimumProbability(policy, float(value)),
    "smoothed": lambda policy, value: Smoothed(policy, float(value)),
    # the mixture as token shares (true: tokens counted by the trainer; or {skill: mean tokens per example})
    "tokens": lambda policy, value: (
        TokenProportions(policy, value if isinstance(value, dict) else None) if value else policy
    ),
    "pacing": lambda policy, value: Paced(policy, str(value)),
    # repetition-aware: weights times the value of another epoch, exp(-max(0, E - 1) / R*) (R* = the number)
    "fresh": lambda policy, value: RepetitionAware(policy, float(value)),
}


def register_policy(spec: PolicySpec, *, replace: bool = False) -> PolicySpec:
    """Add a policy to the registry (your own policy: one file, and this one line).

    ``register_policy(PolicySpec("my-policy", MyParams, lambda p, resolve: MyPolicy(p.x), "what it does", True))``;
    configs then name it like a built-in one. A name already registered is refused unless ``replace``.
    """
    if spec.name in POLICIES and not replace:
        raise PolicyError(f"policy {spec.name!r} is already registered; choose another name or pass replace=True")
    POLICIES[spec.name] = spec
    return spec


def policy_names() -> list[str]:
    return list(POLICIES)


_LOADED_ENTRY_POINTS: set[str] = set()


def load_policy_entry_points(name: str | None = None) -> None:
    """Register the policies installed packages declare under the entry-point group ``skillit.policies``.

    The entry point's name is the policy's name; its object is a :class:`PolicySpec` (registered), or a module
    or a function without arguments whose import or call registers the policy (a function may also return a
    PolicySpec or a list of them). With ``name``, only the entry points of that name are loaded. Each entry
    point is loaded once; one that fails to load is a :class:`PolicyError` naming it and its package.
    """
    for point in entry_points(POLICY_GROUP):
        if (name is not None and point.name != name) or point.value in _LOADED_ENTRY_POINTS:
            continue
        try:
            found = load_entry_point(point, POLICY_GROUP)
            if callable(found) and not isinstance(found, (type, PolicySpec)):
                found = found()
        except SkillitError as exc:
            raise PolicyError(str(exc)) from None
        _LOADED_ENTRY_POINTS.add(point.value)
        for spec in found if isinstance(found, (list, tuple)) else [found]:
            if isinstance(spec, PolicySpec) and POLICIES.get(spec.name) is not spec:
                if spec.name in POLICIES:
                    dist = getattr(point, "dist", None)
                    raise PolicyError(f"the entry point {point.name!r} = {point.value!r} (group {POLICY_GROUP!r}"
                                      f"{f', package {dist.name}' if dist is not None else ''}) declares policy "
                                      f"{spec.name!r}, which is already registered; rename it in that package")
                register_policy(spec)


def installed_policy_names() -> list[str]:
    """Names declared by installed packages (``skillit.policies`` entry points), loaded or not."""
    return [point.name for point in entry_points(POLICY_GROUP)]


def get_policy_spec(name: str) -> PolicySpec:
    if name not in POLICIES:
        load_policy_entry_points(name)
    if name not in POLICIES:
        known = policy_names() + [n for n in installed_policy_names() if n not in POLICIES]
        raise PolicyError(f"unknown policy {name!r}; {did_you_mean(name, known)}. {HOW_TO_REGISTER[0].upper()}"
                          f"{HOW_TO_REGISTER[1:]}")
    return POLICIES[name]


def validate_params(name: str, params: dict[str, Any] | None, *, where: str = "") -> BaseModel:
    spec = get_policy_spec(name)
    try:
        return spec.params_model.model_validate(params or {})
    except ValidationError as exc:
        place = f"{where}: " if where else ""
        raise PolicyError(f"{place}invalid parameters for policy {name!r}: {pydantic_details(exc)}") from None


def build_policy(
    name: str,
    params: dict[str, Any] | None = None,
    *,
    resolve_graph: GraphResolver | None = None,
    wrappers: list[dict[str, Any]] | None = None,
    where: str = "",
) -> MixingPolicy:
    """Build a registered policy, e.g. ``build_policy("skill-it", {"graph": "builtin:lego", "eta": 0.5}, ...)``."""
    spec = get_policy_spec(name)
    parsed = validate_params(name, params, where=where)

    def no_resolver(spec_: str) -> SkillsGraph:
        if spec_.startswith("builtin:"):
            return builtin_graph(spec_.split(":", 1)[1])
        if spec_ == "identity":
            raise PolicyError("graph 'identity' needs the skill names; pass resolve_graph")
        return SkillsGraph.load(spec_)

    policy = spec.factory(parsed, resolve_graph or no_resolver)
    for wrapper in wrappers or []:
        if not isinstance(wrapper, dict) or len(wrapper) != 1:
            raise PolicyError(f"{where}: each wrapper is a one-key mapping like {{floor: 0.01}}, got {wrapper!r}")
        (wname, value), = wrapper.items()
        if wname not in WRAPPERS:
            raise PolicyError(f"{where}: unknown wrapper {wname!r}; {did_you_mean(wname, list(WRAPPERS))}")
        if wname == "tokens":
            counts = isinstance(value, dict) and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values())
            if not (isinstance(value, bool) or counts):
                raise PolicyError(f"{where}: wrapper 'tokens' takes true, false or {{skill: mean tokens per example}}, "
                                  f"got {value!r}")
        elif isinstance(value, bool) != (wname == "frozen"):
            kind = "true or false" if wname == "frozen" else "a number"
            raise PolicyError(f"{where}: wrapper {wname!r} takes {kind}, got {value!r}")
        try:
            policy = WRAPPERS[wname](policy, value)
        except (TypeError, ValueError):  # float('abc')
            raise PolicyError(f"{where}: wrapper {wname!r} takes a number, got {value!r}") from None
    return policy


def params_for_steps(name: str, params: dict[str, Any], scale: float) -> dict[str, Any]:
    """Policy ``name``'s ``params`` for a run ``scale`` times as long (``skillit run --steps``): parameters that
    count optimiser steps keep their place in the run, the others stay as they are.

    ``staged``: each stage's ``steps`` becomes ``max(1, round(steps · scale))`` (2 stages of 1000 steps at
    ``--steps 200`` of a 2000-step config: 100 and 100). The parameters are read as written, before validation;
    what does not have the expected shape is left for validation to report.
    """
    if name != "staged" or not isinstance(params.get("stages"), list):
        return params
    stages = [
        {**stage, "steps": max(1, round(stage["steps"] * scale))}
        if isinstance(stage, dict) and isinstance(stage.get("steps"), int) else stage
        for stage in params["stages"]
    ]
    return {**params, "stages": stages}
