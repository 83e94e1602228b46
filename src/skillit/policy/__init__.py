"""Mixing policies: pure ``init`` / ``update`` / ``weights`` over a serialisable state, one file each."""

from skillit.policy.ado import ADO
from skillit.policy.aioli import Aioli, AioliTrainLoss
from skillit.policy.base import (
    SIGNALS,
    EvalResult,
    GradProbe,
    GradStats,
    MixingPolicy,
    Observation,
    PolicyContext,
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
from skillit.policy.pike import PiKE
from skillit.policy.rb_balance import RBBalance
from skillit.policy.registry import (
    POLICIES,
    WRAPPERS,
    PolicySpec,
    build_policy,
    get_policy_spec,
    policy_names,
    register_policy,
)
from skillit.policy.skill_curriculum import SkillAntiCurriculum, SkillCurriculum
from skillit.policy.skill_it import SkillIt
from skillit.policy.skill_it_plus import SkillItPlus
from skillit.policy.static import Random, Static, Stratified, TargetOnly
from skillit.policy.temperature import Temperature
from skillit.policy.velocitune import Velocitune
from skillit.policy.wrappers import Frozen, MinimumProbability, Smoothed

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
    "MinimumProbability",
    "MixingPolicy",
    "Natural",
    "ODMSmoothedMean",
    "Observation",
    "PiKE",
    "PolicyContext",
    "PolicySpec",
    "PolicyState",
    "RBBalance",
    "Random",
    "RoundPlan",
    "SkillAntiCurriculum",
    "SkillCurriculum",
    "SkillIt",
    "SkillItPlus",
    "Smoothed",
    "Static",
    "Stratified",
    "TargetOnly",
    "Temperature",
    "Velocitune",
    "build_policy",
    "get_policy_spec",
    "normalise",
    "policy_names",
    "register_policy",
    "stable_softmax",
]
