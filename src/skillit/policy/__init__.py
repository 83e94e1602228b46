"""Mixing policies: pure ``init`` / ``update`` / ``weights`` over a serialisable state, one file each."""

from skillit.policy.base import (
    EvalResult,
    MixingPolicy,
    Observation,
    PolicyContext,
    PolicyState,
    normalise,
    stable_softmax,
)
from skillit.policy.curriculum import AntiCurriculum, Curriculum
from skillit.policy.registry import POLICIES, WRAPPERS, build_policy, get_policy_spec, policy_names
from skillit.policy.skill_curriculum import SkillAntiCurriculum, SkillCurriculum
from skillit.policy.skill_it import SkillIt
from skillit.policy.static import Random, Static, Stratified, TargetOnly
from skillit.policy.wrappers import Frozen, MinimumProbability, Smoothed

__all__ = [
    "POLICIES",
    "WRAPPERS",
    "AntiCurriculum",
    "Curriculum",
    "EvalResult",
    "Frozen",
    "MinimumProbability",
    "MixingPolicy",
    "Observation",
    "PolicyContext",
    "PolicyState",
    "Random",
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
    "stable_softmax",
]
