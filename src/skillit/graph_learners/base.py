"""The estimator interface shared by every graph learner.

    learner = LinearApproximation(steps=100, base_steps=300, normalise=True)
    graph = learner.fit(skillset, model_builder, tokenizer, training, workdir="graph-work", jobs=2)
    graph.provenance["cost"]   # {"train_steps": ..., "eval_examples": ..., "wall_seconds": ...}

A learner is configured once (a pydantic parameter model, unknown keys rejected), then ``fit`` runs:

1. the shared **base** trajectory (stratified training for ``base_steps`` from ``model_builder()``,
   snapshots at ``base_points()``; ``base_steps = 0`` means the initial model is the base),
2. the learner's independent **runs** (``plan``), in parallel worker processes, each cached on disk,
3. the learner's **estimate**: a (k, m) matrix with A[i, j] > 0 when training on skill i lowers the
   validation loss of skill j (rows = training skills, columns = evaluation skills, skillit.md §1.2).

The result is a :class:`~skillit.graph.SkillsGraph` whose provenance holds ``method``, ``params``, ``cost``
(train steps, evaluation examples, wall seconds, summed over the base and every run) and ``details``
(the learner's raw measurements).
"""

from __future__ import annotations

import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel

from skillit.errors import SkillError
from skillit.graph.skills_graph import SkillsGraph
from skillit.graph_learners.params import LearnerParams, parse_learner_params
from skillit.graph_learners.runs import (
    GraphCost,
    ModelBuilder,
    ProbeRun,
    Progress,
    RunContext,
    RunOutcome,
    check_manifest,
    check_picklable,
    execute_runs,
    run_base,
)
from skillit.model.tokenizer import Tokenizer
from skillit.skills.skillset import SkillSet
from skillit.trainer.loop import TrainConfig


class GraphLearner(ABC):
    """Base class: configure with parameters, then ``fit`` → SkillsGraph. Subclasses define the runs and the estimate."""

    name: ClassVar[str]
    Params: ClassVar[type[LearnerParams]]
    description: ClassVar[str] = ""
    # parameters that only change how the runs are read, not which runs are made: changing them reuses
    # the cached runs of a work directory
    ESTIMATE_ONLY: ClassVar[frozenset[str]] = frozenset({"normalise", "negative", "compare", "weight", "scale"})

    def __init__(self, params: LearnerParams | dict[str, Any] | None = None, **kwargs: Any):
        data = params.model_dump() if isinstance(params, BaseModel) else dict(params or {})
        data.update(kwargs)
        self.params = parse_learner_params(self.name, self.Params, data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params.model_dump()})"

    # ---- what subclasses define ----------------------------------------------------------------
    def check(self, skillset: SkillSet) -> None:
        """Raise a clear error if this learner cannot learn a graph for ``skillset`` (called before any run)."""

    def base_points(self) -> list[int]:
        """Steps of the base trajectory whose snapshots the runs start from."""
        return [self.params.base_steps]

    @abstractmethod
    def plan(self, skillset: SkillSet) -> list[ProbeRun]:
        """The independent runs to execute."""

    @abstractmethod
    def estimate(self, skillset: SkillSet, outcomes: dict[str, RunOutcome]) -> tuple[np.ndarray, dict[str, Any]]:
        """The (k, m) matrix (rows ``skillset.train_names``, columns ``skillset.eval_names``) and details."""

    # ---- the template -------------------------------------------------------------------------
    def planned_steps(self, skillset: SkillSet) -> int:
        """Upper bound on the optimiser steps ``fit`` takes (base + every run), for progress bars and budgets."""
        return self.params.base_steps + sum(run.steps for run in self.plan(skillset))

    def fit(
        self,
        skillset: SkillSet,
        model_builder: ModelBuilder,
        tokenizer: Tokenizer,
        training: TrainConfig | dict[str, Any] | None = None,
        *,
        workdir: str | Path | None = None,
        jobs: int = 1,
        seed: int = 0,
        device: str = "cpu",
        progress: Progress | None = None,
    ) -> SkillsGraph:
        """Learn the graph of ``skillset``.

        Args:
            skillset: training skills are the rows, evaluation skills (with validation data) the columns.
            model_builder: returns a fresh, identically initialised model each call (``jobs > 1`` needs it
                picklable: a module-level function or ``functools.partial``).
            tokenizer: the tokenizer the model is built for.
            training: the training settings the runs inherit (optimiser, loss, batch size, lr); the
                learner's own parameters override steps, lr, batch size and warm-up.
            workdir: where the base snapshots and finished runs are cached; running ``fit`` again with
                the same directory resumes (finished runs are not redone). Default: a temporary directory.
            jobs: parallel worker processes for the runs (one torch thread each).
            seed: seed of the base trajectory and of every run's data order.
        """
        started = time.perf_counter()
        check_learnable(skillset)
        self.check(skillset)
        runs = self.plan(skillset)
        settings, base_settings = _training_settings(training, self.params, seed)
        report = progress or (lambda run_id, step: None)
        if workdir is None:
            with tempfile.TemporaryDirectory(prefix="skillit-graph-") as tmp:
                return self._fit_in(Path(tmp), skillset, model_builder, tokenizer, settings, base_settings, runs,
                                    jobs, seed, device, report, started)
        return self._fit_in(Path(workdir), skillset, model_builder, tokenizer, settings, base_settings, runs,
                            jobs, seed, device, report, started)

    def _fit_in(self, workdir, skillset, model_builder, tokenizer, settings, base_settings, runs, jobs, seed, device,
                report, started):
        workdir.mkdir(parents=True, exist_ok=True)
        check_manifest(workdir, {
            "method": self.name,
            "params": {k: v for k, v in self.params.model_dump().items() if k not in self.ESTIMATE_ONLY},
            "train_skills": skillset.train_names,
            "eval_skills": skillset.eval_names,
            "seed": seed,
            "training": {k: v for k, v in settings.items() if k not in ("eval_batch_size", "compile")},
            "base_training": {k: v for k, v in base_settings.items() if k not in ("eval_batch_size", "compile")},
        })
        context = RunContext(skillset, tokenizer, model_builder, settings, str(workdir / "base"), device)
        check_picklable(context, jobs if len(runs) > 1 else 1)
        base_cost = run_base(
            RunContext(skillset, tokenizer, model_builder, base_settings, str(workdir / "base"), device),
            self.params.base_steps, self.base_points(), seed=seed, progress=report,
        )
        outcomes = execute_runs(context, runs, runs_dir=workdir / "runs", jobs=jobs, progress=report)
        matrix, details = self.estimate(skillset, outcomes)
        if self.params.scale == "max" and np.abs(matrix).max() > 0:
            details = {**details, "scaled_by": float(np.abs(matrix).max())}
            matrix = matrix / np.abs(matrix).max()
        cost = base_cost
        for run in runs:
            cost = cost + outcomes[run.run_id].cost()
        cost = GraphCost(cost.train_steps, cost.eval_examples, time.perf_counter() - started,
                         cost.train_examples, cost.runs)
        provenance = {
            "method": self.name,
            "params": self.params.model_dump(),
            "cost": {**cost.to_dict(), "base_steps": self.params.base_steps,
                     "run_steps": sum(outcomes[r.run_id].steps for r in runs)},
            "seed": seed,
            "details": details,
        }
        return SkillsGraph(matrix, skillset.train_names, skillset.eval_names, provenance, where=f"{self.name} graph")


def check_learnable(skillset: SkillSet) -> None:
    if not skillset.train_names:
        raise SkillError("graph learning needs at least one training skill (a skill with training data)")
    if not skillset.eval_names:
        raise SkillError(
            "graph learning needs at least one evaluation skill (a skill with validation data); every column of "
            "the graph is the validation loss of one skill"
        )


def _training_settings(
    training: TrainConfig | dict[str, Any] | None, params: LearnerParams, seed: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """TrainConfig fields for the runs (the experiment's settings with the learner's overrides) and the base.

    The base keeps the experiment's lr and warm-up: it stands for the start of a normal training run.
    """

    if training is None:
        base = asdict(TrainConfig(steps=1))
    elif isinstance(training, TrainConfig):
        base = asdict(training)
    else:
        base = asdict(TrainConfig(**{"steps": 1, **{k: v for k, v in training.items() if k != "steps"}}))
    runs = dict(base)
    runs.update(seed=seed, warmup_steps=params.warmup_steps, checkpoint_every=None)
    if params.lr is not None:
        runs["lr"] = params.lr
    if params.batch_size is not None:
        runs["batch_size"] = params.batch_size
    base.update(seed=seed, checkpoint_every=None, batch_size=runs["batch_size"])
    return runs, base


def pairs_of(names: Sequence[str]) -> list[tuple[str, str]]:
    """Unordered pairs (a, b) with a before b in ``names``."""
    return [(a, b) for n, a in enumerate(names) for b in names[n + 1 :]]


__all__ = ["GraphLearner", "LearnerParams", "check_learnable", "pairs_of"]
