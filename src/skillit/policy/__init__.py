"""Mixing policies: pure ``init`` / ``update`` / ``weights`` over a serialisable state, one file each."""

from skillit.policy.base import (
    SIGNALS,
    EvalResult,
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
from skillit.policy.static import Random, Static, Stratified, TargetOnly
from skillit.policy.wrappers import Frozen, MinimumProbability, Smoothed

__all__ = [
    "POLICIES",
    "SIGNALS",
    "WRAPPERS",
    "AntiCurriculum",
    "Curriculum",
    "EvalResult",
    "Frozen",
    "GradStats",
    "MinimumProbability",
    "MixingPolicy",
    "Observation",
    "PolicyContext",
    "PolicySpec",
    "PolicyState",
    "Random",
    "RoundPlan",
    "SkillAntiCurriculum",
    "SkillCurriculum",
    "SkillIt",
    "Smoothed",
    "Static",
    "Stratified",
    "TargetOnly",
    "build_policy",
    "get_policy_spec",
    "normalise",
    "policy_names",
    "register_policy",
    "stable_softmax",
]
