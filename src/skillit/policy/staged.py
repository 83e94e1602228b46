"""Multi-stage schedules: one policy per stage, switched at fixed step boundaries (e.g. DMT's two stages).

A ``staged`` method trains stage 1 with policy P₁ for S₁ steps, then stage 2 with P₂ for S₂ steps, ...:

    p_t = weights of P_s(t),   s(t) = the stage whose step range [B_{s−1}, B_s) holds step t,  B_s = S₁ + … + S_s

Each stage may restrict the training skills it draws from (``skills``): its policy then mixes only those
(its weights are spread back over every training skill, with 0 elsewhere) — "stage 1: stratified over
everything; stage 2: Skill-It on the targets" is two stages. Dong et al.'s two-stage mixed fine-tuning
(DMT: specialised data first, then general data mixed with a little specialised data) is one such config.

Semantics, stated: a stage's policy is initialised when the stage starts, from a context whose initial
evaluation is the last evaluation before the boundary (so Skill-It's first mixture of stage 2 sees the
losses reached in stage 1, not the step-0 ones); rounds never straddle a boundary (``plan`` clips the
round at it; the Mixer then starts the next round in the new stage); the last stage runs to the end of the
budget whatever its ``steps`` says. The state (stage index, boundaries, the current stage's state) is plain
JSON, so a run killed in stage 2 resumes in stage 2 at the same step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from skillit.errors import PolicyError, did_you_mean
from skillit.policy.base import (
    EvalResult,
    GraphResolver,
    MixingPolicy,
    Observation,
    PolicyContext,
    PolicyParams,
    PolicyState,
    RoundPlan,
    resolve_graph_spec,
)
from skillit.policy.registry import build_policy, register_policy


@dataclass(frozen=True)
class Stage:
    """One stage: ``steps`` optimiser steps of ``policy``, over ``skills`` (``None``: every training skill)."""

    steps: int
    policy: MixingPolicy
    skills: tuple[str, ...] | None = None


class StageParams(PolicyParams):
    """One stage of a ``staged`` method in a config."""

    steps: int = Field(ge=1, description="optimiser steps of this stage (the last stage runs to the end)")
    policy: str = Field(description="a registered policy (not staged)")
    params: dict[str, Any] = Field(default_factory=dict, description="the stage policy's parameters")
    wrappers: list[dict[str, Any]] = Field(default_factory=list, description="wrappers of the stage's policy")
    skills: list[str] | None = Field(None, description="the training skills this stage draws from (default: all)")


@register_policy("staged")
class Staged(MixingPolicy):
    """Stages of policies at fixed step boundaries (see the module docstring).

    Built from :class:`Stage` objects, ``Staged([Stage(100, Stratified()), Stage(400, SkillIt(graph))])``; a
    config gives its stages as :class:`StageParams` (``Staged.Params``), each naming a registered policy.
    """

    class Params(PolicyParams):
        stages: list[StageParams] = Field(min_length=1, description="the stages, in order")

    description = "stages of policies at fixed step boundaries, each over all or some skills (e.g. DMT)"

    @classmethod
    def from_params(cls, params: PolicyParams, resolve_graph: GraphResolver = resolve_graph_spec) -> Staged:
        """Each stage's policy built from the registry, with its wrappers; graphs resolved by ``resolve_graph``."""
        stages = []
        for i, stage in enumerate(params.stages):
            if stage.policy == "staged":
                raise PolicyError(f"staged: stage {i + 1} is itself staged; list its stages in one sequence instead")
            policy = build_policy(stage.policy, stage.params, resolve_graph=resolve_graph, wrappers=stage.wrappers,
                                  where=f"stage {i + 1}")
            stages.append(Stage(stage.steps, policy, tuple(stage.skills) if stage.skills else None))
        return cls(stages)

    def __init__(self, stages: Sequence[Stage]):
        if not stages:
            raise PolicyError("staged: give at least one stage")
        for i, stage in enumerate(stages):
            if stage.steps < 1:
                raise PolicyError(f"staged: stage {i + 1} needs steps >= 1, got {stage.steps}")
        self.stages = list(stages)
        self.requires = frozenset().union(*(stage.policy.requires for stage in self.stages))
        self.probe_examples = max(stage.policy.probe_examples for stage in self.stages)

    # ---- helpers ---------------------------------------------------------------------------------
    def _boundaries(self) -> list[int]:
        return list(np.cumsum([stage.steps for stage in self.stages]))

    def _columns(self, state: PolicyState, index: int) -> list[int]:
        """Positions (in the run's training skills) of the stage's skills."""
        skills = self.stages[index].skills
        train = state["context"]["train_skills"]
        if skills is None:
            return list(range(len(train)))
        unknown = [name for name in skills if name not in train]
        if unknown:
            raise PolicyError(f"staged: stage {index + 1} names unknown training skill {unknown[0]!r}; "
                              f"{did_you_mean(unknown[0], train)}")
        return [train.index(name) for name in skills]

    def _context(self, state: PolicyState, index: int, initial: dict | None) -> PolicyContext:
        c = state["context"]
        columns = self._columns(state, index)
        names = tuple(c["train_skills"][i] for i in columns)
        natural = c["natural"]
        pools = c["pools"]
        start = 0 if index == 0 else self._boundaries()[index - 1]
        remaining = max(1, c["total_steps"] - start)
        return PolicyContext(
            train_skills=names,
            eval_skills=tuple(c["eval_skills"]),
            target_skills=tuple(c["target_skills"]),
            setting=c["setting"],
            natural_proportions=None if natural is None else tuple(natural[i] for i in columns),
            pool_sizes=None if pools is None else tuple(pools[i] for i in columns),
            n_rounds=max(1, -(-min(self.stages[index].steps, remaining) // c["round_steps"])),
            round_steps=c["round_steps"],
            initial_eval=None if initial is None else EvalResult.from_dict(initial),
            total_steps=min(self.stages[index].steps, remaining) if index < len(self.stages) - 1 else remaining,
            batch_size=c["batch_size"],
            seed=c["seed"],
            objective_weights=None if c.get("objective_weights") is None else tuple(c["objective_weights"]),
        )

    def _start(self, state: PolicyState, index: int, initial: dict | None) -> PolicyState:
        inner = self.stages[index].policy.init(self._context(state, index, initial))
        if self.stages[index].policy.scope(inner) is not None:
            raise PolicyError("staged: a stage's policy may not restrict examples (curricula): use it unstaged")
        return {**state, "stage": index, "inner": inner}

    # ---- protocol --------------------------------------------------------------------------------
    def init(self, context: PolicyContext) -> PolicyState:
        state: PolicyState = {
            "context": {
                "train_skills": list(context.train_skills), "eval_skills": list(context.eval_skills),
                "target_skills": list(context.target_skills), "setting": context.setting,
                "natural": None if context.natural_proportions is None else list(context.natural_proportions),
                "pools": None if context.pool_sizes is None else list(context.pool_sizes),
                "round_steps": context.round_steps, "total_steps": context.total_steps or sum(s.steps for s in self.stages),
                "batch_size": context.batch_size, "seed": context.seed,
                # the objective's weights only when there are some: a uniform objective's state as before
                **({} if context.objective_weights is None else {"objective_weights": list(context.objective_weights)}),
            },
            "step": 0,
            "last_eval": None if context.initial_eval is None else context.initial_eval.to_dict(),
        }
        for index in range(len(self.stages)):
            self._columns(state, index)  # unknown skill names fail before any training
        return self._start(state, 0, state["last_eval"])

    def update(self, state: PolicyState, observation: Observation) -> PolicyState:
        index = state["stage"]
        stage = self.stages[index]
        columns = self._columns(state, index)
        names = [state["context"]["train_skills"][i] for i in columns]
        if stage.skills is not None:  # the stage's policy sees its own skills only
            observation = _restricted(observation, names)
        inner = stage.policy.update(state["inner"], observation)
        last = observation.evals[-1].to_dict() if observation.evals else state["last_eval"]
        new = {**state, "inner": inner, "step": observation.step, "last_eval": last}
        boundaries = self._boundaries()
        if index < len(self.stages) - 1 and observation.step >= boundaries[index]:
            return self._start(new, index + 1, last)
        return new

    def weights(self, state: PolicyState) -> np.ndarray:
        index = state["stage"]
        k = len(state["context"]["train_skills"])
        inner = np.asarray(self.stages[index].policy.weights(state["inner"]), dtype=float)
        out = np.zeros(k)
        out[self._columns(state, index)] = inner
        return out / out.sum()

    def plan(self, state: PolicyState, round_steps: int) -> RoundPlan:
        index = state["stage"]
        inner = self.stages[index].policy.plan(state["inner"], round_steps)
        steps = inner.steps
        if index < len(self.stages) - 1:
            steps = max(1, min(steps, self._boundaries()[index] - state["step"]))  # never straddle a boundary
        weights = None
        if inner.weights is not None:
            weights = np.zeros(len(state["context"]["train_skills"]))
            weights[self._columns(state, index)] = inner.weights
        return RoundPlan(steps=steps, weights=weights, kind=inner.kind, evaluate=inner.evaluate)

    def describe(self) -> dict:
        return {"name": self.name, "stages": [
            {"steps": s.steps, "skills": None if s.skills is None else list(s.skills), "policy": s.policy.describe()}
            for s in self.stages]}


def _restricted(observation: Observation, names: Sequence[str]) -> Observation:
    """The observation with per-training-skill signals limited to ``names`` (evaluations unchanged)."""
    keep = set(names)

    def only(mapping):
        return {k: v for k, v in mapping.items() if k in keep}

    grad = observation.grad
    if grad is not None:
        idx = [grad.skills.index(n) for n in names if n in grad.skills]
        grad = type(grad)(tuple(grad.skills[i] for i in idx), grad.gram[np.ix_(idx, idx)], grad.sqnorm[idx],
                          grad.var[idx], grad.counts[idx], grad.dim, grad.projected)
    return Observation(
        round=observation.round, step=observation.step, evals=observation.evals,
        examples_seen=only(observation.examples_seen), kind=observation.kind, steps=observation.steps,
        lr=observation.lr, round_examples=only(observation.round_examples),
        train_tokens=only(observation.train_tokens), train_loss=only(observation.train_loss),
        ref_losses=observation.ref_losses, grad=grad,
    )


__all__ = ["Stage", "Staged"]
