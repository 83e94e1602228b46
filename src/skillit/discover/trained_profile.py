"""Train one run of an experiment config, then profile its validation failures (``skillit profile CONFIG``).

The run uses the config's task, model and training settings, its first method (or ``method``) and first
seed; every evaluation skill's validation examples are then scored one by one (exact match and answer
loss), and the task's planted prerequisite graph (where it has one) says which skills each example needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillit.discover.profile import Outcome, Profile, Signal, missing_skill_profile, prerequisites_from_graph
from skillit.errors import ConfigError, did_you_mean
from skillit.experiment.build import (
    build_method,
    build_model,
    build_skillset,
    build_tokenizer,
    context_length,
    train_config,
)
from skillit.experiment.runner import apply_overrides
from skillit.tasks import get_task, parse_task_params
from skillit.trainer.evaluation import answer_metrics
from skillit.trainer.loop import TrainerCallback, train


@dataclass
class TrainedProfile:
    profile: Profile
    outcomes: list[Outcome]
    train_skills: list[str]
    method: str
    seed: int
    steps: int


def profile_after_training(
    config,
    config_dir: Path | None = None,
    *,
    method: str | None = None,
    seed: int | None = None,
    steps: int | None = None,
    signal: Signal = "accuracy",
    progress: Callable[[int, int], None] | None = None,
) -> TrainedProfile:
    """Train ``config``'s ``method`` at ``seed`` for ``steps`` steps and return the failure profile."""
    if method is not None and method not in config.methods:
        raise ConfigError(f"unknown method {method!r} in config {config.name!r}; {did_you_mean(method, list(config.methods))}")
    method = method or next(iter(config.methods))
    seed = config.seeds[0] if seed is None else seed
    if steps is not None:
        config = apply_overrides(config, steps=steps)
    skillset = build_skillset(config, seed)
    tokenizer = build_tokenizer(config, skillset)
    block = context_length(config, skillset, tokenizer)
    policy = build_method(config, method, skillset, config_dir)
    model = build_model(config, tokenizer, block, seed)
    tc = train_config(config, seed)

    class _Report(TrainerCallback):
        def on_step_end(self, step: int, loss: float) -> None:
            if progress is not None and step % 10 == 0:
                progress(step, tc.steps)

    train(model, tokenizer, skillset, policy, tc, setting=config.setting, target_skills=config.target_skills,
          objective_weights=config.objective_weights,
          callbacks=[_Report()], max_length=block)
    examples = [e for name in skillset.eval_names for e in skillset[name].validation or []]
    losses, correct = answer_metrics(model, tokenizer, examples, max_length=block)
    outcomes = [Outcome(e.skill, bool(c), float(loss)) for e, c, loss in zip(examples, correct, losses)]
    spec = get_task(config.task.name)
    prerequisites: dict[str, Any] = {}
    if spec.prerequisites is not None:
        graph = spec.prerequisites(parse_task_params(config.task.name, config.task.params))
        evaluated = set(skillset.eval_names)
        prerequisites = {s: [p for p in parts if p in evaluated]
                         for s, parts in prerequisites_from_graph(graph).items() if s in evaluated}
    profile = missing_skill_profile(outcomes, prerequisites, signal=signal)
    return TrainedProfile(profile, outcomes, list(skillset.train_names), method, seed, tc.steps)
