"""Mixing policies: pure ``init`` / ``update`` / ``weights`` over a serialisable state, one file each.

Importing this package imports every built-in policy module; each registers its classes by name
(``@register_policy``) as it is defined, in the order imported here.
"""

from skillit.policy.ado import ADO
from skillit.policy.aioli import Aioli, AioliTrainLoss
from skillit.policy.base import (
    SIGNALS,
    EvalResult,
    GradProbe,
    GradStats,
    Graph,
    MixingPolicy,
    NoParams,
    Observation,
    PolicyContext,
    PolicyParams,
    PolicyState,
    RoundPlan,
    normalise,
    stable_softmax,
)
from skillit.policy.curriculum import AntiCurriculum, Curriculum
from skillit.policy.dga import DGA, DGALastLayer
from skillit.policy.doremi import DoReMiOnline
from skillit.policy.natural import Natural
from skillit.policy.odm import ODM, ODMSmoothedMean
from skillit.policy.pacing import Paced
from skillit.policy.pike import PiKE
from skillit.policy.rb_balance import RBBalance
from skillit.policy.registry import (
    POLICIES,
    WRAPPERS,
    PolicySpec,
    build_policy,
    get_policy,
    get_policy_spec,
    policy_names,
    register_policy,
    register_wrapper,
)
from skillit.policy.repetition import RepetitionAware
from skillit.policy.skill_curriculum import SkillAntiCurriculum, SkillCurriculum
from skillit.policy.skill_it import SkillIt, SkillItStatic
from skillit.policy.skill_it_plus import SkillItPlus
from skillit.policy.staged import Stage, Staged
from skillit.policy.static import Random, Static, Stratified, TargetOnly
from skillit.policy.temperature import Temperature
from skillit.policy.velocitune import Velocitune
from skillit.policy.wrappers import Frozen, MinimumProbability, Smoothed, TokenProportions, Wrapper

__all__ = [
    "ADO",
    "DGA",
    "ODM",
    "POLICIES",
    "SIGNALS",
    "WRAPPERS",
    "Aioli",
    "AioliTrainLoss",
    "AntiCurriculum",
    "Curriculum",
    "DGALastLayer",
    "DoReMiOnline",
    "EvalResult",
    "Frozen",
    "GradProbe",
    "GradStats",
    "Graph",
    "MinimumProbability",
    "MixingPolicy",
    "Natural",
    "NoParams",
    "ODMSmoothedMean",
    "Observation",
    "Paced",
    "PiKE",
    "PolicyContext",
    "PolicyParams",
    "PolicySpec",
    "PolicyState",
    "RBBalance",
    "Random",
    "RepetitionAware",
    "RoundPlan",
    "SkillAntiCurriculum",
    "SkillCurriculum",
    "SkillIt",
    "SkillItPlus",
    "SkillItStatic",
    "Smoothed",
    "Stage",
    "Staged",
    "Static",
    "Stratified",
    "TargetOnly",
    "Temperature",
    "TokenProportions",
    "Velocitune",
    "Wrapper",
    "build_policy",
    "get_policy",
    "get_policy_spec",
    "normalise",
    "policy_names",
    "register_policy",
    "register_wrapper",
    "stable_softmax",
]
