"""Learning skills graphs (paper §3.2, App. B.2): one estimator interface, five learners.

    from skillit.graph_learners import build_learner
    graph = build_learner("linear", steps=100, base_steps=300).fit(skillset, model_builder, tokenizer, training)

| name | rule | runs |
|---|---|---|
| ``linear`` | Alg. 3: loss decrease on j after h steps on i alone | k × h |
| ``brute-force`` | Alg. 2: pair {i, j} beats j alone on j | (m + pairs) × H |
| ``threshold`` | the paper's LEGO/Addition rule: pair reaches a loss threshold on j sooner | (m + pairs) × ≤ H |
| ``probe`` | ours: short tilted-mixture probes along one stratified run, de-mixed (Aioli-style) | base + P·k·h |
| ``tracin`` | TracIn-style: Σ_c lr_c ⟨g_i, h_j⟩ of full-model gradients at C checkpoints of the base | base + C·(k·b + Σ_j ⌈n_j/B⌉) passes |
"""

from __future__ import annotations

from skillit.utils.lazy import lazy_names

# name -> the module that defines it, imported on first use (PEP 562): the parameter models and names
# (skillit.graph_learners.params) load without the learners, which train (torch)
_LAZY: dict[str, str] = {
    **dict.fromkeys(("LEARNERS", "build_learner", "get_learner", "register_learner", "load_learner_entry_points"),
                    "skillit.graph_learners.registry"),
    **dict.fromkeys(("LearnerParams", "learner_names"), "skillit.graph_learners.params"),
    "GraphLearner": "skillit.graph_learners.base",
    "BruteForce": "skillit.graph_learners.brute_force",
    "LinearApproximation": "skillit.graph_learners.linear",
    "TrajectoryProbe": "skillit.graph_learners.probe",
    **dict.fromkeys(("GraphCost", "ProbeRun", "RunOutcome"), "skillit.graph_learners.runs"),
    "StepsToThreshold": "skillit.graph_learners.threshold",
    "TracIn": "skillit.graph_learners.tracin",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = [
    "LEARNERS",
    "BruteForce",
    "GraphCost",
    "GraphLearner",
    "LearnerParams",
    "LinearApproximation",
    "ProbeRun",
    "RunOutcome",
    "StepsToThreshold",
    "TracIn",
    "TrajectoryProbe",
    "build_learner",
    "get_learner",
    "learner_names",
    "load_learner_entry_points",
    "register_learner",
]
