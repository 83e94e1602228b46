"""LLM-side skill methods: one backend interface, Skill-Mix, Instruct-SkillMix, STAT and skill grafting.

    backends   LLMBackend: OpenAIChatBackend (any /v1/chat/completions server), HFCausalLMBackend, CallableBackend
    skillmix   k-skill + topic combinations, the (k + 3)-point rubric, grader parsing, the paper's metrics
    synth      Instruct-SkillMix: (skills, query type) → instruction/response JSONL, a skillit data set
    stat       STAT: difficult-question filters, the missing-skill profile, STAT-Sel, the profile as a mixture
    grafting   skill localisation: sparse graft masks, the sparsity–accuracy curve, mask overlap as a graph
    jsonl      resumable JSONL outputs (whole lines only)

docs/llm-skills.md shows each against a served model and the measured CPU demonstrations.
"""

from __future__ import annotations

from skillit.utils.lazy import lazy_names

# name -> the module that defines it, imported on first use (PEP 562): the commands of skillit.llm.cli register
# without the backends and grafting (torch)
_LAZY: dict[str, str] = {
    **dict.fromkeys(("CallableBackend", "HFCausalLMBackend", "LLMAuthError", "LLMBackend", "LLMConnectionError",
                     "LLMOutputError", "LLMResponseError", "OpenAIChatBackend", "build_backend"),
                    "skillit.llm.backends"),
    **dict.fromkeys(("answer_accuracy", "answer_loss", "apply_graft", "graft", "mask_overlap", "overlap_graph",
                     "sparsity_curve"), "skillit.llm.grafting"),
    **dict.fromkeys(("JsonlAppender", "read_jsonl"), "skillit.llm.jsonl"),
    **dict.fromkeys(("MissingSkillProfile", "diagnose", "match_skill", "parse_diagnosis", "stat_sel"),
                    "skillit.llm.stat"),
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = [
    "CallableBackend",
    "HFCausalLMBackend",
    "JsonlAppender",
    "LLMAuthError",
    "LLMBackend",
    "LLMConnectionError",
    "LLMOutputError",
    "LLMResponseError",
    "MissingSkillProfile",
    "OpenAIChatBackend",
    "answer_accuracy",
    "answer_loss",
    "apply_graft",
    "build_backend",
    "diagnose",
    "graft",
    "mask_overlap",
    "match_skill",
    "overlap_graph",
    "parse_diagnosis",
    "read_jsonl",
    "sparsity_curve",
    "stat_sel",
]
