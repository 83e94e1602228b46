"""The independent training runs a graph learner is made of, their cache and their cost.

Every learner reduces to: (1) one shared *base* trajectory — stratified training for ``base_steps`` from the
initial model, with model snapshots at chosen steps (step 0 = the initial model itself) — and (2) a set of
independent short runs, each starting from one snapshot and training on a fixed mixture (one skill alone,
a balanced pair, ...) through the one training loop (``skillit.trainer.train`` with a ``Static`` policy),
or, for a *gradient run* (``ProbeRun.gradients``, the ``tracin`` learner), not training at all: measuring
per-skill mean gradients at the snapshot (``skillit.graph_learners.gradients``).
The runs only read the snapshot, so they run in parallel worker processes, and each finished run is
written to ``runs/<run id>.json`` at once, so an interrupted learner resumes without redoing it.

Work directory layout::

    manifest.json          what was planned (learner, parameters, skills, seed); checked on resume
    base/step<T>.pt        model snapshot after T base steps (+ examples each skill's stream has used,
                           + the lr of each base step 1..T)
    base/base.json         the base trajectory's records and cost
    runs/<run id>.json     one finished run: losses per evaluation, steps, evaluation examples, seconds
"""

from __future__ import annotations

import json
import pickle
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from skillit.errors import CheckpointError, ConfigError
from skillit.graph_learners.gradients import Projection, measure_gradients
from skillit.model.tokenizer import Tokenizer
from skillit.policy.static import Static, Stratified
from skillit.skills.example import Example
from skillit.skills.skillset import Skill, SkillSet
from skillit.skills.sources import TrainSource
from skillit.trainer.loop import TrainConfig, TrainerCallback, train
from skillit.trainer.optim import lr_factor
from skillit.utils.checkpoint import atomic_torch_save, load_checkpoint
from skillit.utils.io import atomic_write_json
from skillit.utils.parallel import run_in_workers

ModelBuilder = Callable[[], torch.nn.Module]
Progress = Callable[[str, int], None]  # (run id, steps done)


@dataclass(frozen=True)
class GraphCost:
    """What learning a graph cost: optimiser steps, evaluated examples and wall time, over all runs."""

    train_steps: int = 0
    eval_examples: int = 0
    wall_seconds: float = 0.0
    train_examples: int = 0
    runs: int = 0

    def __add__(self, other: GraphCost) -> GraphCost:
        return GraphCost(
            self.train_steps + other.train_steps,
            self.eval_examples + other.eval_examples,
            self.wall_seconds + other.wall_seconds,
            self.train_examples + other.train_examples,
            self.runs + other.runs,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GraphCost:
        return cls(**{k: data[k] for k in ("train_steps", "eval_examples", "wall_seconds", "train_examples", "runs") if k in data})


@dataclass(frozen=True)
class ProbeRun:
    """One independent run: from base snapshot ``start``, train ``steps`` steps on ``mixture``.

    ``stop_below`` ends the run early once every named skill's validation loss is at or below its value
    (checked at each evaluation; the steps-to-threshold learner uses it). With ``stop_relative`` the
    values are fractions of each skill's loss at the start of the run (0.5: stop once the loss halved).

    ``gradients`` makes it a gradient run: no training; at snapshot ``start`` it measures the per-skill
    mean gradients (:func:`execute_gradient_run`) with these options: ``batches`` (training batches per
    skill), ``previous`` (the checkpoint before, whose interval's lr it sums), ``eval_examples`` (validation
    examples per skill, None: all), ``index`` (the checkpoint's number, rotates the validation subset),
    ``projection`` (rows of R, 0: none) and ``seed`` (of R). ``steps`` is then the planned number of
    forward + backward passes over training batches (validation passes are added when measured).
    """

    run_id: str
    mixture: dict[str, float]
    steps: int
    start: int = 0
    eval_every: int | None = None
    stop_below: dict[str, float] | None = None
    stop_relative: bool = False
    gradients: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunOutcome:
    """What one run measured: ``losses[e]`` = (step, {evaluation skill: loss}) for evaluation e (e=0: start).

    A gradient run has one entry in ``losses`` (the snapshot's validation losses), ``steps`` = its forward +
    backward passes (each counted as one step: a training step without the update) and ``measured``: the
    inner products of :func:`~skillit.graph_learners.gradients.measure_gradients` plus ``lr_weight``.
    """

    run_id: str
    losses: list[tuple[int, dict[str, float]]]
    steps: int
    batch_size: int
    eval_examples: int
    train_seconds: float
    eval_seconds: float
    stopped_early: bool = False
    measured: dict[str, Any] | None = None

    def loss_at_start(self, skill: str) -> float:
        return self.losses[0][1][skill]

    def loss_at_end(self, skill: str) -> float:
        return self.losses[-1][1][skill]

    def steps_to(self, skill: str, threshold: float, *, relative: bool = False) -> int | None:
        """The first evaluated step at which ``skill``'s loss is ≤ ``threshold`` (× its start loss if
        ``relative``); ``None`` if never."""
        level = threshold * self.loss_at_start(skill) if relative else threshold
        for step, losses in self.losses:
            if losses[skill] <= level:
                return step
        return None

    def cost(self) -> GraphCost:
        return GraphCost(self.steps, self.eval_examples, self.train_seconds + self.eval_seconds,
                         self.steps * self.batch_size, 1)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["losses"] = [[step, losses] for step, losses in self.losses]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunOutcome:
        data = dict(data)
        data["losses"] = [(int(step), {k: float(v) for k, v in losses.items()}) for step, losses in data["losses"]]
        return cls(**data)


class OffsetSource:
    """A training source read from position ``offset`` on, so probe runs see examples the base did not."""

    def __init__(self, source: TrainSource, offset: int):
        self._source, self._offset = source, int(offset)

    @property
    def size(self) -> int | None:
        return self._source.size

    def get(self, index: int) -> Example:
        size = self._source.size
        position = index + self._offset
        return self._source.get(position % size if size else position)


def offset_skillset(skillset: SkillSet, offsets: dict[str, int]) -> SkillSet:
    skills = [
        Skill(s.name, OffsetSource(s.train, offsets.get(s.name, 0)) if s.train is not None else None,
              s.validation, s.natural_weight)
        for s in skillset.skills
    ]
    return SkillSet(skills, metadata=dict(skillset.metadata))


@dataclass
class RunContext:
    """Everything a worker needs to execute a :class:`ProbeRun` (picklable when the model builder is)."""

    skillset: SkillSet
    tokenizer: Tokenizer
    model_builder: ModelBuilder
    training: dict[str, Any]  # TrainConfig fields for the runs (steps/eval_every set per run)
    base_dir: str
    device: str = "cpu"


class _StopRun(Exception):
    """Raised by the recorder callback to end a run whose stop condition is met (see ``ProbeRun.stop_below``)."""
class _Recorder(TrainerCallback):
    def __init__(self, run: ProbeRun, report: Progress):
        self.run, self.report = run, report
        self.records: list[dict[str, Any]] = []
        self.step = 0

    def on_step_end(self, step: int, loss: float) -> None:
        self.step = step
        if step % 10 == 0:
            self.report(self.run.run_id, step)

    def on_evaluate(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        stop = self.run.stop_below
        if not stop or record["step"] == 0:
            return
        start = self.records[0]["losses"]
        scale = {name: (start[name] if self.run.stop_relative else 1.0) for name in stop}
        if all(record["losses"][name] <= value * scale[name] for name, value in stop.items()):
            raise _StopRun


def snapshot_path(base_dir: str | Path, step: int) -> Path:
    return Path(base_dir) / f"step{step}.pt"


def execute_run(job: tuple[RunContext, ProbeRun], report: Progress) -> RunOutcome:
    """Train one run from its base snapshot through the one training loop and return what it measured."""
    context, run = job
    if run.gradients is not None:
        return execute_gradient_run(context, run, report)
    model = context.model_builder()
    saved = load_checkpoint(snapshot_path(context.base_dir, run.start))
    model.load_state_dict(saved["model"])
    skills = context.skillset.select(list(run.mixture), context.skillset.eval_names)
    skills = offset_skillset(skills, saved.get("examples_seen", {}))
    settings = dict(context.training)
    settings.update(steps=run.steps, round_steps=run.steps, eval_every=run.eval_every or run.steps, checkpoint_every=None)
    settings["warmup_steps"] = min(settings.get("warmup_steps", 0), run.steps)
    recorder = _Recorder(run, report)
    stopped = False
    try:
        train(model, context.tokenizer, skills, Static(dict(run.mixture)), TrainConfig(**settings),
              device=context.device, callbacks=[recorder])
    except _StopRun:
        stopped = True
    report(run.run_id, run.steps)  # done (an early stop counts as done for progress)
    last = recorder.records[-1]
    return RunOutcome(
        run_id=run.run_id,
        losses=[(int(r["step"]), {k: float(v) for k, v in r["losses"].items()}) for r in recorder.records],
        steps=int(last["step"]),
        batch_size=int(settings["batch_size"]),
        eval_examples=int(last["eval_examples"]),
        train_seconds=float(last["train_seconds"]),
        eval_seconds=float(last["eval_seconds"]),
        stopped_early=stopped,
    )


def execute_gradient_run(context: RunContext, run: ProbeRun, report: Progress) -> RunOutcome:
    """Measure per-skill mean gradients at snapshot ``run.start`` (no training; see ``ProbeRun.gradients``).

    g_i: ``batches`` batches of ``batch_size`` examples of training skill i, read from where the base's
    stream for i stopped (fresh examples, as the training runs read them); h_j: ``eval_examples``
    validation examples of j (all by default), the subset rotated by the checkpoint's ``index``, in
    chunks of ``batch_size``. ``lr_weight`` = Σ of the base's lr over steps (previous, start].
    """
    options = dict(run.gradients or {})
    started = time.perf_counter()
    path = snapshot_path(context.base_dir, run.start)
    saved = load_checkpoint(path)
    if "lrs" not in saved:
        raise CheckpointError(
            f"{path}: this base snapshot does not record the base run's learning rates, which gradient runs "
            f"weight their checkpoints with (it was written by an older skillit); delete {Path(context.base_dir).parent} "
            "and learn the graph again"
        )
    model = context.model_builder()
    model.load_state_dict(saved["model"])
    skills = offset_skillset(context.skillset, saved.get("examples_seen", {}))
    size = int(context.training["batch_size"])
    n_batches = int(options["batches"])
    train_batches = {
        name: [[skills[name].train.get(b * size + e) for e in range(size)] for b in range(n_batches)]  # type: ignore[union-attr]
        for name in skills.train_names
    }
    eval_examples = {name: _rotated(list(skills[name].validation or []), options.get("eval_examples"), options.get("index", 0))
                     for name in skills.eval_names}
    rows = int(options.get("projection") or 0)
    measured = measure_gradients(
        model, context.tokenizer, train_batches, eval_examples, train_loss=context.training.get("train_loss", "text"),
        chunk=size, projection=Projection(rows, int(options.get("seed", 0))) if rows else None, device=context.device,
    )
    lrs = saved["lrs"]  # lrs[s - 1]: the lr of base step s
    measured["lr_weight"] = float(sum(lrs[int(options.get("previous", 0)) : run.start]))
    measured["step"] = run.start
    report(run.run_id, run.steps)
    seconds = time.perf_counter() - started
    return RunOutcome(
        run_id=run.run_id,
        losses=[(run.start, dict(zip(skills.eval_names, measured["eval_loss"])))],
        steps=int(measured["batches"]),
        batch_size=size,
        eval_examples=0,
        train_seconds=seconds,
        eval_seconds=0.0,
        measured=measured,
    )


def _rotated(examples: list[Example], count: int | None, index: int) -> list[Example]:
    """``count`` examples read cyclically from position index·count (all of them when count is None or ≥ n)."""
    n = len(examples)
    if count is None or count >= n:
        return examples
    return [examples[(index * count + e) % n] for e in range(count)]


class _Snapshots(TrainerCallback):
    """Saves the model (and each skill's stream position) at the given steps of the base trajectory.

    Saved after the optimiser step, without an evaluation: the base evaluates only at its start and end,
    so its cost does not depend on where the snapshots fall (at the gcd of the snapshot steps, 200 steps
    with 3 points meant an evaluation of every skill at every step). The stream positions are the draws
    counted from ``on_batch`` (one process draws the whole batch), which is the loop's ``examples_seen``.
    ``lr(s)`` is the lr of optimiser step s; each snapshot keeps those of steps 1..T (gradient runs weight
    their checkpoint by them).
    """

    def __init__(self, model: torch.nn.Module, steps: Sequence[int], base_dir: Path,
                 lr: Callable[[int], float] = lambda step: 0.0):
        self.model, self.steps, self.base_dir, self.lr = model, set(steps), base_dir, lr
        self.drawn: dict[str, int] = {}

    def on_evaluate(self, record: dict[str, Any]) -> None:
        if record["step"] == 0 and 0 in self.steps:
            save_snapshot(self.base_dir, 0, self.model.state_dict(), record["examples_seen"], [])

    def on_batch(self, step: int, round_index: int, pairs: Sequence[tuple[str, int]]) -> None:
        for skill, _ in pairs:
            self.drawn[skill] = self.drawn.get(skill, 0) + 1

    def on_step_end(self, step: int, loss: float) -> None:
        if step in self.steps:
            save_snapshot(self.base_dir, step, self.model.state_dict(), self.drawn,
                          [self.lr(s) for s in range(1, step + 1)])


def save_snapshot(base_dir: Path, step: int, state: dict[str, Any], examples_seen: dict[str, int],
                  lrs: Sequence[float]) -> None:
    atomic_torch_save(snapshot_path(base_dir, step),
                      {"model": state, "examples_seen": dict(examples_seen), "lrs": [float(v) for v in lrs]})


def run_base(
    context: RunContext,
    base_steps: int,
    points: Sequence[int],
    *,
    seed: int,
    progress: Progress,
) -> GraphCost:
    """The shared warm start: stratified training for ``base_steps`` with snapshots at ``points``; cached.

    ``points`` are steps in [0, base_steps]; step 0 is the initial model. A base that finished before
    (``base/base.json`` and every snapshot present) is not trained again.
    """
    base_dir = Path(context.base_dir)
    meta_path = base_dir / "base.json"
    if meta_path.is_file() and all(snapshot_path(base_dir, p).is_file() for p in points):
        meta = json.loads(meta_path.read_text())
        progress("base", base_steps)
        return GraphCost.from_dict(meta["cost"])
    base_dir.mkdir(parents=True, exist_ok=True)
    model = context.model_builder()
    if base_steps == 0:
        save_snapshot(base_dir, 0, model.state_dict(), {}, [])
        cost = GraphCost()
        atomic_write_json(meta_path, {"steps": 0, "points": [0], "cost": cost.to_dict(), "records": []})
        return cost
    settings = dict(context.training)
    # evaluated at step 0 and base_steps only; the snapshots are saved between evaluations (_Snapshots)
    settings.update(steps=base_steps, round_steps=base_steps, eval_every=base_steps, checkpoint_every=None, seed=seed)
    settings["warmup_steps"] = min(settings.get("warmup_steps", 0), base_steps // 10)
    lr, warmup = float(settings["lr"]), int(settings["warmup_steps"])
    snapshots = _Snapshots(model, points, base_dir, lambda step: lr * lr_factor(step - 1, warmup, base_steps))
    started = time.perf_counter()

    class _Report(TrainerCallback):
        def on_step_end(self, step: int, loss: float) -> None:
            if step % 10 == 0:
                progress("base", step)

    result = train(model, context.tokenizer, context.skillset, Stratified(), TrainConfig(**settings),
                   device=context.device, callbacks=[snapshots, _Report()])
    cost = GraphCost(result.steps, result.eval_examples, time.perf_counter() - started,
                     result.steps * int(settings["batch_size"]), 1)
    records = [{"step": r["step"], "losses": r["losses"]} for r in result.records]
    atomic_write_json(meta_path, {"steps": base_steps, "points": list(points), "cost": cost.to_dict(), "records": records})
    return cost


def execute_runs(
    context: RunContext,
    runs: Sequence[ProbeRun],
    *,
    runs_dir: Path,
    jobs: int,
    progress: Progress,
) -> dict[str, RunOutcome]:
    """Execute every run not already in ``runs_dir`` (resume), ``jobs`` at a time; return all outcomes."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    outcomes: dict[str, RunOutcome] = {}
    todo = []
    for run in runs:
        path = runs_dir / f"{run.run_id}.json"
        if path.is_file():
            outcomes[run.run_id] = RunOutcome.from_dict(json.loads(path.read_text()))
            progress(run.run_id, run.steps)
        else:
            todo.append(run)
    if len(todo) > 1:
        check_picklable(context, jobs)

    def save(job: tuple[RunContext, ProbeRun], outcome: RunOutcome) -> None:
        atomic_write_json(runs_dir / f"{outcome.run_id}.json", outcome.to_dict())
        outcomes[outcome.run_id] = outcome

    run_in_workers(execute_run, [(context, run) for run in todo], jobs=jobs, on_result=save, on_progress=progress)
    return outcomes


def check_picklable(context: RunContext, jobs: int) -> None:
    """Worker processes receive the context by pickling: fail early, with the fix, when that cannot work."""
    if jobs <= 1:
        return
    try:
        pickle.dumps(context)
    except Exception as exc:  # noqa: BLE001 - any pickling failure means the same thing here
        raise ConfigError(
            f"jobs={jobs} runs the graph-learning runs in worker processes, which needs a picklable "
            f"model builder and SkillSet (module-level functions or functools.partial), but pickling failed: "
            f"{exc}; pass jobs=1 to run them in this process"
        ) from None


def check_manifest(workdir: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest of a new work directory, or check that an existing one planned the same thing."""
    path = workdir / "manifest.json"
    if path.is_file():
        old = json.loads(path.read_text())
        if old != json.loads(json.dumps(manifest)):
            changed = sorted(k for k in set(old) | set(manifest) if old.get(k) != json.loads(json.dumps(manifest.get(k))))
            raise CheckpointError(
                f"{path}: this work directory was made for a different graph learning set-up "
                f"(differs in: {', '.join(changed)}); use a new directory or delete {workdir}"
            )
        return
    atomic_write_json(path, manifest)


__all__ = ["GraphCost", "ProbeRun", "RunContext", "RunOutcome", "check_picklable", "execute_gradient_run", "execute_runs",
           "run_base"]
