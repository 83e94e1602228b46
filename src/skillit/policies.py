"""Every mixing policy, wrapper and the types to write your own, in one namespace (docs/policies.md).

    from skillit.policies import SkillIt, Stratified, MinimumProbability
    policy = MinimumProbability(SkillIt(graph, eta=0.5), 0.01)

Names are imported on first use (PEP 562), so ``import skillit.policies`` loads no policy module (and never
torch or scipy). The classes are defined in ``skillit.policy`` — one file each (``skillit/policy/skill_it.py``,
...), with the registry that maps config names to them (``skillit.policy.registry``): that package is the
implementation, this module is where to import from. ``tests/test_public_surface.py`` checks that every
registered policy's class and every wrapper is listed here.
"""

from __future__ import annotations

from skillit.utils.lazy import lazy_names

# name -> the module that defines it
_LAZY: dict[str, str] = {
    # the policies, by the file that holds each (config names: `skillit policies`)
    "ADO": "skillit.policy.ado",
    **dict.fromkeys(("Aioli", "AioliTrainLoss"), "skillit.policy.aioli"),
    **dict.fromkeys(("AntiCurriculum", "Curriculum"), "skillit.policy.curriculum"),
    **dict.fromkeys(("DGA", "DGALastLayer"), "skillit.policy.dga"),
    "DoReMiOnline": "skillit.policy.doremi",
    "Natural": "skillit.policy.natural",
    **dict.fromkeys(("ODM", "ODMSmoothedMean"), "skillit.policy.odm"),
    "PiKE": "skillit.policy.pike",
    "RBBalance": "skillit.policy.rb_balance",
    **dict.fromkeys(("SkillAntiCurriculum", "SkillCurriculum"), "skillit.policy.skill_curriculum"),
    **dict.fromkeys(("SkillIt", "SkillItStatic"), "skillit.policy.skill_it"),
    "SkillItPlus": "skillit.policy.skill_it_plus",
    **dict.fromkeys(("Stage", "Staged"), "skillit.policy.staged"),
    **dict.fromkeys(("Random", "Static", "Stratified", "TargetOnly"), "skillit.policy.static"),
    "Temperature": "skillit.policy.temperature",
    "Velocitune": "skillit.policy.velocitune",
    # the wrappers (config: methods.<name>.wrappers)
    **dict.fromkeys(("Frozen", "MinimumProbability", "Smoothed", "TokenProportions", "Wrapper"),
                    "skillit.policy.wrappers"),
    "Paced": "skillit.policy.pacing",
    "RepetitionAware": "skillit.policy.repetition",
    # writing your own: the protocol and what it is given
    **dict.fromkeys(("SIGNALS", "EvalResult", "Graph", "GradProbe", "GradStats", "MixingPolicy", "Observation",
                     "PolicyContext", "PolicyParams", "PolicyState", "RoundPlan", "Weights", "normalise",
                     "stable_softmax"), "skillit.policy.base"),
    # the registry: config names -> policies
    **dict.fromkeys(("PolicySpec", "build_policy", "policy_names", "register_policy"), "skillit.policy.registry"),
}

__getattr__, __dir__ = lazy_names(__name__, _LAZY, cache=True)

__all__ = sorted(_LAZY)
