"""The one experiment driver: every method × seed (× rank under torchrun) through the one training loop.

Data flow: config → skills (task) → graph (per method) → policy → Mixer + trainer → records → report.

``skillit run`` calls :func:`run_experiment`; so does ``torchrun ... skillit run`` (detected from
``RANK``/``WORLD_SIZE``) and the ``skillit.experiment.distributed_run`` module: with a process group, the
runs go one after another, each data-parallel over every rank, and rank 0 writes the directory. The run
directory (its layout, lock, manifest and resume checks) is one object,
:class:`skillit.experiment.run_dir.RunDirectory`; this module asks it for every path.

A method whose policy requires reference losses (``ref_loss``, DoReMi) runs after its reference method
(``reference:`` in the method's config, default ``stratified``) and reads that run's records at the same seed.
Everything that can be checked is checked before the directory is created, so bad input leaves nothing.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from pydantic import ValidationError

from skillit.errors import (
    ConfigError,
    OutputError,
    SkillitError,
    did_you_mean,
    pydantic_details,
)
from skillit.experiment.build import (
    WARM_START_RUN,
    ProgressFn,
    StepProgress,
    build_method,
    build_model,
    build_skillset,
    build_tokenizer,
    data_notes,
    default_jobs,
    model_notes,
    resolve_device,
    warm_start,
)
from skillit.experiment.config import MAX_SEED, MAX_STEPS, ExperimentConfig, import_config_modules
from skillit.experiment.graph_learning import graph_difference, prepare_graphs
from skillit.experiment.plan import ExperimentPlan, validate_experiment
from skillit.experiment.run_dir import RunDirectory, claim_graph_folder, data_fingerprint
from skillit.policy.diagnostics import mixture_warnings
from skillit.policy.registry import params_for_steps
from skillit.records.layout import run_id
from skillit.records.metrics import RunRecord, finite_or_none, write_metrics
from skillit.records.summary import divergence_warnings, epochs_per_skill, summarize
from skillit.report.html import write_report
from skillit.report.plots import plot_run
from skillit.trainer.distributed import ProcessGroup, wrap_model
from skillit.trainer.draw_log import DrawLog
from skillit.trainer.evaluation import whole_text_targets
from skillit.trainer.loop import TrainerCallback, train
from skillit.trainer.mixer import RecordedReference, objective_skills
from skillit.utils.checkpoint import load_checkpoint
from skillit.utils.io import atomic_write_json
from skillit.utils.parallel import run_in_workers, torch_threads


# ---- one run -------------------------------------------------------------------------------------
@dataclass
class RunSpec:
    config: ExperimentConfig
    method: str
    seed: int
    config_dir: str | None = None
    checkpoint_dir: str | None = None
    resume: bool = False
    device: str = "cpu"
    warm_start_path: str | None = None
    draws_path: str | None = None  # training.log_draws: the draw log (DrawLog) of this run
    reference_records: list[dict[str, Any]] | None = field(default=None, repr=False)  # ref_loss policies

    @property
    def run_id(self) -> str:
        return run_id(self.method, self.seed)


def run_one(spec: RunSpec, progress: ProgressFn | None = None, *, group: ProcessGroup | None = None,
            plan: ExperimentPlan | None = None) -> RunRecord:
    """Train one method at one seed and return its records.

    ``plan``: the experiment's :class:`~skillit.experiment.plan.ExperimentPlan` (its seed data, model factory and
    policies; ``run_experiment`` passes it, with the learned graph of ``graph: learn``); without one it is built
    from ``spec.config``. Under torchrun pass the ``group`` (``skillit.trainer.distributed.process_group``): the
    model is wrapped in DDP and every rank trains its share of each global batch (rank 0 writes the checkpoints).
    """
    config = spec.config
    import_config_modules(config, spec.config_dir)  # a --jobs worker registers the config's own policies first
    if plan is None:
        plan = ExperimentPlan.build(config, spec.config_dir)
    plan.check_graphs_learned(spec.method)
    data = plan.seed(spec.seed)
    model = plan.new_model(spec.seed)
    if spec.warm_start_path is not None:
        model.load_state_dict(load_checkpoint(spec.warm_start_path)["model"])
    policy = plan.policy(spec.method, spec.seed)
    reference = RecordedReference(spec.reference_records) if spec.reference_records is not None else None
    callbacks: list[TrainerCallback] = [StepProgress(spec.run_id, progress)]
    if spec.draws_path is not None:
        path = Path(spec.draws_path)
        if group is not None and group.world_size > 1:
            path = path.with_name(f"{path.stem}.rank{group.rank}{path.suffix}")
        callbacks.append(DrawLog(path))
    trained = wrap_model(model, group) if group is not None else model
    cpu_started = time.process_time()  # CPU seconds: unlike wall seconds, not stretched by other processes
    result = train(
        trained,
        data.tokenizer,
        data.skills,
        policy,
        plan.train_config(spec.seed),
        setting=config.setting,
        target_skills=config.target_skills,
        objective_weights=config.objective_weights,
        device=group.device if group is not None else spec.device,
        callbacks=callbacks,
        checkpoint_dir=spec.checkpoint_dir,
        resume=spec.resume,
        distributed=group.distributed if group is not None else None,
        reference=reference,
    )
    record = RunRecord(
        method=spec.method,
        seed=spec.seed,
        policy=policy.describe(),
        records=result.records,
        steps=result.steps,
        train_seconds=result.train_seconds,
        eval_seconds=result.eval_seconds,
        eval_examples=result.eval_examples,
        parameters=sum(p.numel() for p in model.parameters()),
        extra={"cpu_seconds": time.process_time() - cpu_started},
    )
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if trainable < record.parameters:  # model.lora: the adapters only
        record.extra["trainable_parameters"] = trainable
    if group is not None and group.world_size > 1:
        record.extra["world_size"] = group.world_size
    return record


# ---- the experiment ------------------------------------------------------------------------------
MAX_SEEDS = 10_000  # seeds one --seeds may ask for


def first_seeds(count: int) -> list[int]:
    """``--seeds N``: seeds 0..N-1."""
    if not 1 <= count <= MAX_SEEDS:
        raise ConfigError(f"--seeds N must be from 1 to {MAX_SEEDS}, got {count}")
    return list(range(count))


def parse_seeds(text: str) -> list[int]:
    """``--seeds``: ``N`` (seeds 0..N-1), or a comma-separated list of seeds and inclusive ranges ``a-b``.

    ``3`` → [0, 1, 2]; ``3-6`` → [3, 4, 5, 6]; ``0,2,5-6`` → [0, 2, 5, 6]. A list gives the extra seeds of a
    board run later (`skillit compare` merges them with the first directory's seeds).
    """
    text = text.strip()
    if text.isdigit():
        return first_seeds(int(text))
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        first, dash, last = part.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise ConfigError(f"--seeds: {part!r} in {text!r} is not a seed or a range a-b; "
                              "give N (seeds 0..N-1) or a list like 3-6 or 0,2,5")
        low, high = int(first), int(last) if dash else int(first)
        if high < low or high > MAX_SEED:
            raise ConfigError(f"--seeds: the range {part!r} must go up, from 0 to at most {MAX_SEED}")
        if len(seeds) + high - low + 1 > MAX_SEEDS:
            raise ConfigError(f"--seeds {text!r} asks for more than {MAX_SEEDS} seeds")
        seeds.extend(range(low, high + 1))
    repeated = sorted(seed for seed, times in Counter(seeds).items() if times > 1)
    if repeated:
        raise ConfigError(f"--seeds {text!r} names seed(s) {repeated} twice")
    return seeds


def apply_overrides(
    config: ExperimentConfig, *, seeds: int | str | Sequence[int] | None = None, steps: int | None = None,
    methods: Sequence[str] | None = None,
) -> ExperimentConfig:
    """The config with ``--seeds`` (N: seeds 0..N-1; or a list, :func:`parse_seeds`), ``--steps N`` and
    ``--methods a,b`` applied."""
    data = config.model_dump()
    if seeds is not None:
        if isinstance(seeds, int):
            data["seeds"] = first_seeds(seeds)
        else:
            data["seeds"] = parse_seeds(seeds) if isinstance(seeds, str) else [int(s) for s in seeds]
    if steps is not None:
        if not 1 <= steps <= MAX_STEPS:
            raise ConfigError(f"--steps must be from 1 to {MAX_STEPS}, got {steps}")
        training = data["training"]
        scale = steps / training["steps"]
        training["steps"] = steps
        # keep the schedule's shape: same number of rounds and evaluations where possible
        training["round_steps"] = max(1, min(steps, round(training["round_steps"] * scale)))
        training["eval_every"] = max(1, min(steps, round(training["eval_every"] * scale)))
        training["warmup_steps"] = min(training["warmup_steps"], max(0, steps // 10))
        if training.get("checkpoint_every"):
            training["checkpoint_every"] = max(1, min(steps, round(training["checkpoint_every"] * scale)))
        if data.get("warm_start"):
            data["warm_start"]["steps"] = max(1, round(data["warm_start"]["steps"] * scale))
        for name, spec in data["methods"].items():  # parameters that count steps (staged: stage boundaries)
            spec["params"] = params_for_steps(spec.get("policy") or name, spec.get("params") or {}, scale)
    if methods is not None:
        unknown = [m for m in methods if m not in config.methods]
        if unknown:
            raise ConfigError(
                f"unknown method {unknown[0]!r} in --methods; {did_you_mean(unknown[0], list(config.methods))}"
            )
        data["methods"] = {m: data["methods"][m] for m in methods}
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"the config with --seeds/--steps/--methods applied is invalid: {pydantic_details(exc)}") from None


def run_experiment(
    config: ExperimentConfig,
    out_dir: str | Path,
    *,
    config_dir: str | Path | None = None,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    group: ProcessGroup | None = None,
    notify: Callable[[str], None] | None = None,
    on_event: Callable[[str, dict[str, Any]], None] | None = None,
    offline_cost: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """Run every method × seed, write the run directory and return the summary.

    ``progress(done_steps, total_steps)`` is called as training advances. The run directory follows
    :meth:`~skillit.experiment.run_dir.RunDirectory.claim`: a folder holding a run of the same config is
    continued (finished runs kept, unfinished ones continue from their checkpoints, or restart without
    ``training.checkpoint_every``), another config's run is refused unless ``overwrite`` (which deletes it);
    ``resume=True`` requires a run to continue. With a ``group`` of several ranks (torchrun)
    every rank calls this; runs go one after another over all ranks, rank 0 writes everything and returns
    the summary, other ranks return ``None``. ``notify(line)`` receives the notes about the data
    (:func:`~skillit.experiment.build.data_notes`) before training starts and the mixture warnings after it.
    ``on_event(run_id, event)`` (optional, for live views) gets ``{"step"}`` as a run advances and
    ``{"step", "losses", "weights"}`` at each evaluation. ``offline_cost`` (``{method: {"train_steps", "runs",
    "source"}}``): training done before these runs to choose a method (a static mixture found by
    :func:`~skillit.experiment.mixture_search.run_search`); the summary keeps it for methods of
    this config, and ``skillit compare`` counts it as extra steps.

    The phases, in order, each a function of this module that takes the :class:`Experiment`: the plan
    (:meth:`ExperimentPlan.build <skillit.experiment.plan.ExperimentPlan.build>`, every check before any
    output), the run directory (:func:`claim_run_dir`), :func:`check_resume`, :func:`learn_graphs`,
    :func:`warm_starts`, :func:`train_runs` (reference runs first, through an :class:`Executor`) and
    :func:`write_summary`.
    """
    started = time.perf_counter()
    config_dir = Path(config_dir) if config_dir is not None else None
    distributed = group is not None and group.world_size > 1
    device = group.device if distributed else resolve_device(config.device, config.training.precision, config.training.compile)
    import_config_modules(config, config_dir)  # load_config did it; a config built in Python may not have
    plan = ExperimentPlan.build(config, config_dir)  # every rank: same checks, same error, nothing written
    if notify is not None and (group is None or group.is_main):
        for line in data_notes(config, plan.first.full, plan.first.context) + model_notes(config, plan.first):
            notify(line)
    if distributed:
        shares = group.world_size * config.training.gradient_accumulation_steps
        if config.training.batch_size % shares:
            raise ConfigError(
                f"training.batch_size {config.training.batch_size} must split evenly over {group.world_size} rank(s) × "
                f"{config.training.gradient_accumulation_steps} accumulation micro-batches; choose a multiple of {shares}"
            )
    run_dir = claim_run_dir(plan, Path(out_dir), group=group, resume=resume, overwrite=overwrite)
    experiment = Experiment(plan, run_dir, device=device, jobs=jobs, group=group, started=started,
                            progress=progress, notify=notify, on_event=on_event)
    try:
        check_resume(experiment)
        learn_graphs(experiment)
        experiment.count_steps()
        warm_starts(experiment)
        train_runs(experiment)
        if not experiment.main:
            return None
        return write_summary(experiment, offline_cost)
    finally:
        run_dir.close()


# ---- the phases ----------------------------------------------------------------------------------
@dataclass
class Experiment:
    """What the phases of :func:`run_experiment` share: the plan, the claimed run directory, where and how the
    runs execute, the finished records and the progress so far."""

    plan: ExperimentPlan
    run_dir: RunDirectory
    device: str
    jobs: int = 1
    group: ProcessGroup | None = None
    started: float = 0.0
    progress: Callable[[int, int], None] | None = None
    notify: Callable[[str], None] | None = None
    on_event: Callable[[str, dict[str, Any]], None] | None = None
    done: dict[str, RunRecord] = field(default_factory=dict)  # run id -> finished record
    resumable: set[str] = field(default_factory=set)  # run ids that continue from their checkpoints
    graph_costs: dict[str, Any] = field(default_factory=dict)  # method -> the cost of its graph
    graph_steps: int = 0  # graph-learning steps planned (progress)
    warm_costs: list[dict[str, Any]] = field(default_factory=list)
    steps_done: dict[str, int] = field(default_factory=dict)  # run id (or "graph") -> steps done
    total: int = 0

    @property
    def config(self) -> ExperimentConfig:
        return self.plan.config

    @property
    def distributed(self) -> bool:
        return self.group is not None and self.group.world_size > 1

    @property
    def main(self) -> bool:
        return self.group is None or self.group.is_main

    def barrier(self) -> None:
        _barrier(self.group)

    def specs(self) -> list[RunSpec]:
        """One :class:`RunSpec` per method × seed, in config order, with its paths in the run directory."""
        config, run_dir = self.config, self.run_dir
        config_dir = str(self.plan.config_dir) if self.plan.config_dir else None
        specs = [
            RunSpec(
                config, method, seed, config_dir,
                str(run_dir.checkpoint_dir(method, seed)) if config.training.checkpoint_every else None,
                device=self.device,
                warm_start_path=str(run_dir.warm_start_path(seed)) if config.warm_start else None,
                draws_path=str(run_dir.draws_path(method, seed)) if config.training.log_draws else None,
            )
            for method in config.methods
            for seed in config.seeds
        ]
        for spec in specs:
            spec.resume = spec.run_id in self.resumable
        return specs

    def count_steps(self) -> None:
        """The steps planned (graph learning, warm starts, runs) and those already done, for progress."""
        config = self.config
        runs = [run_id(method, seed) for method in config.methods for seed in config.seeds]
        self.total = len(runs) * config.training.steps + self.graph_steps
        self.steps_done = {name: (config.training.steps if name in self.done else 0) for name in runs}
        self.steps_done["graph"] = self.graph_steps
        if config.warm_start is not None:
            self.total += len(config.seeds) * config.warm_start.steps
            for seed in config.seeds:
                self.steps_done[run_id(WARM_START_RUN, seed)] = 0
        self.report(runs[0], self.steps_done[runs[0]])

    def report(self, name: str, step: int | dict[str, Any]) -> None:
        """A run's progress (steps done) or, as a dict, an evaluation event (:class:`StepProgress`)."""
        if self.on_event is not None:
            self.on_event(name, step if isinstance(step, dict) else {"step": step})
        if isinstance(step, dict):
            return
        self.steps_done[name] = step
        if self.progress is not None:
            self.progress(sum(self.steps_done.values()), self.total)

    def finish(self, record: RunRecord) -> None:
        """A finished run: saved at once (rank 0), so an interrupted experiment keeps it."""
        name = run_id(record.method, record.seed)
        if self.main:
            self.run_dir.save_record(record)
        self.done[name] = record
        self.report(name, self.config.training.steps)


def claim_run_dir(plan: ExperimentPlan, out_dir: Path, *, group: ProcessGroup | None, resume: bool,
                  overwrite: bool) -> RunDirectory:
    """The run directory: rank 0 claims it (:meth:`RunDirectory.claim`: new, continued or refused), writes and
    holds the lock; the other ranks learn its decision, so a refusal stops every rank alike."""
    config = plan.config
    distributed = group is not None and group.world_size > 1
    main = group is None or group.is_main
    refusal: SkillitError | None = None
    run_dir: RunDirectory | None = None
    if main:
        try:
            folder = RunDirectory(out_dir.expanduser())
            if plan.learning_methods and not (resume or overwrite) and not folder.holds_run():
                # a new run beside a graph/ that `skillit graph` learned: `graph: learn` would replace a graph of
                # another set-up there, so that is refused (claim_graph_folder) before anything is written
                claim_graph_folder(folder.graph_dir, graph_difference(config, folder.graph_dir))
            run_dir = RunDirectory.claim(out_dir, config, policies=plan.described,
                                         data=data_fingerprint(config.task.params), resume=resume, overwrite=overwrite)
        except SkillitError as exc:
            refusal = exc
    if distributed:  # a refusal on rank 0 stops every rank (no rank left waiting at a barrier)
        refused, continued = group.distributed.all_reduce(  # type: ignore[union-attr]
            np.array([0.0 if refusal is None else 1.0, 1.0 if run_dir is not None and run_dir.continued else 0.0]))
        if refused and refusal is None:
            raise OutputError("rank 0 refused the run directory (it prints why)")
        if not main:
            run_dir = RunDirectory(out_dir.expanduser())  # the folder rank 0 claimed
            run_dir.continued = bool(continued)
    if refusal is not None:
        raise refusal
    assert run_dir is not None
    return run_dir


def check_resume(experiment: Experiment) -> None:
    """In a continued run directory: every finished run and checkpoint checked against the manifest before any
    work; finished runs are kept (``done``), runs with a valid checkpoint continue from it (``resumable``)."""
    config, run_dir = experiment.config, experiment.run_dir
    if run_dir.continued:
        for method in config.methods:
            for seed in config.seeds:
                finished = run_dir.finished_record(method, seed, config.training.steps)
                if finished is not None:
                    experiment.done[run_id(method, seed)] = finished
                elif config.training.checkpoint_every and run_dir.check_checkpoint(
                        method, seed, dataclasses.asdict(experiment.plan.train_config(seed))):
                    experiment.resumable.add(run_id(method, seed))
        if experiment.notify is not None and experiment.main:
            experiment.notify(continued_note(run_dir.path, len(config.methods) * len(config.seeds),
                                             len(experiment.done), len(experiment.resumable),
                                             bool(config.training.checkpoint_every)))
    experiment.barrier()


def learn_graphs(experiment: Experiment) -> None:
    """``graph: learn`` is learned once (out/graph/graph.json, resumable) and the plan then reads that file;
    under torchrun rank 0 learns it and the other ranks read the finished file."""
    out = experiment.run_dir.path
    if experiment.main:
        jobs = experiment.jobs if not experiment.distributed else 1
        experiment.plan, experiment.graph_costs, experiment.graph_steps = prepare_graphs(
            experiment.plan, out, jobs=jobs, progress=experiment.progress)
    experiment.barrier()
    if not experiment.main:
        experiment.plan, _, _ = prepare_graphs(experiment.plan, out, jobs=1)


def warm_starts(experiment: Experiment) -> None:
    """Once per seed, shared by every method: the warm-start model (kept for --resume); rank 0 trains the
    missing ones (in worker processes on the CPU), the other ranks wait for the files."""
    config, run_dir = experiment.config, experiment.run_dir
    if config.warm_start is None:
        return
    missing = []
    for seed in config.seeds:
        path = run_dir.warm_start_path(seed)
        if path.is_file():
            saved = load_checkpoint(path)
            experiment.warm_costs.append({"seed": seed, "steps": saved["steps"], "train_seconds": saved["train_seconds"]})
            experiment.report(run_id(WARM_START_RUN, seed), config.warm_start.steps)
        else:
            missing.append((seed, str(path)))
    if experiment.main:  # a small single-process pre-training; other ranks wait for the files
        jobs = experiment.jobs if experiment.device == "cpu" and not experiment.distributed else 1
        for cost in run_in_workers(_warm_start_job, missing, jobs=jobs, on_progress=experiment.report,
                                   shared=experiment.plan):
            experiment.warm_costs.append({k: cost[k] for k in ("seed", "steps", "train_seconds")})
    experiment.warm_costs.sort(key=lambda cost: cost["seed"])
    experiment.barrier()


def train_runs(experiment: Experiment) -> None:
    """Every run not finished yet, through the :class:`Executor` that fits; methods that read a reference run's
    losses go after the reference runs they read."""
    references = experiment.plan.references
    specs = experiment.specs()
    phases = [[s for s in specs if references[s.method] is None], [s for s in specs if references[s.method] is not None]]
    for phase in phases:
        todo = [spec for spec in phase if spec.run_id not in experiment.done]
        for spec in todo:
            reference = references[spec.method]
            if reference is not None:
                spec.reference_records = experiment.done[run_id(reference, spec.seed)].records
        executor_for(experiment, len(todo)).run(experiment.plan, todo, experiment.finish, experiment.report)


def write_summary(experiment: Experiment, offline_cost: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """metrics.jsonl, summary.json, the plots and the report (rank 0); returns the summary."""
    plan, run_dir, config = experiment.plan, experiment.run_dir, experiment.config
    runs = [experiment.done[run_id(method, seed)] for method in config.methods for seed in config.seeds]
    write_metrics(run_dir.metrics_path, runs)
    probe = plan.first.skills
    summary = summarize(
        runs,
        task=config.task.name,
        setting=config.setting,
        steps=config.training.steps,
        objective_skills=objective_skills(probe, config.setting, config.target_skills),
        target_loss=config.target_loss,
        methods=list(config.methods),
        whole_text=whole_text_targets(probe),
        objective_weights=config.objective_weights,
    )
    summary["name"] = config.name
    summary["pool_sizes"] = {name: probe[name].train.size for name in probe.train_names}  # type: ignore[union-attr]
    if probe.metadata.get("junk_skills"):  # declared junk (task.params.junk): the budget view's (records.budget)
        summary["junk_skills"] = [name for name in probe.metadata["junk_skills"] if name in probe.train_names]
    for method, entry in summary["methods"].items():  # small pools repeat: examples seen / pool size
        entry["epochs"] = epochs_per_skill([run for run in runs if run.method == method], summary["pool_sizes"])
    summary["wall_seconds"] = time.perf_counter() - experiment.started
    summary["device"] = experiment.device
    summary["jobs"] = 1 if experiment.distributed else max(1, min(experiment.jobs, len(runs)))
    if experiment.distributed:
        summary["world_size"] = experiment.group.world_size  # type: ignore[union-attr]
        summary["backend"] = experiment.group.backend  # type: ignore[union-attr]
    if config.warm_start is not None:
        summary["warm_start"] = {"skills": config.warm_start.skills, "runs": experiment.warm_costs}
    mixture_notes = [line for run in runs for line in mixture_warnings(run.method, run.policy, run.records, run.seed)]
    if mixture_notes:  # Skill-It's rule is kept as the paper states it; a collapse is reported, not prevented
        summary["mixture_warnings"] = mixture_notes
        for line in mixture_notes:
            if experiment.notify is not None:
                experiment.notify(f"warning: {line}")
    diverged = divergence_warnings(runs, summary["objective_skills"])
    if diverged:  # kept as results (compare ranks them last), never passed over in silence
        summary["divergence_warnings"] = diverged
        for line in diverged:
            if experiment.notify is not None:
                experiment.notify(f"warning: {line}")
    if experiment.graph_costs:
        summary["graph_cost"] = experiment.graph_costs  # per method: the cost of its graph (learned or from a file)
    offline = {method: dict(cost) for method, cost in (offline_cost or {}).items() if method in config.methods}
    if offline:
        summary["offline_cost"] = offline
    atomic_write_json(run_dir.summary_path, finite_or_none(summary))
    plot_run(run_dir.path, runs, summary)
    write_report(run_dir.path)
    return summary


# ---- executors: where the runs of a phase train --------------------------------------------------
class Executor(Protocol):
    """Trains a list of runs, handing each finished record to ``finish`` and progress to ``report``."""

    def run(self, plan: ExperimentPlan, specs: list[RunSpec], finish: Callable[[RunRecord], None],
            report: ProgressFn) -> None: ...


@dataclass(frozen=True)
class InProcess:
    """One run after another in this process (one torch thread on the CPU, as in the workers)."""

    device: str = "cpu"

    def run(self, plan: ExperimentPlan, specs: list[RunSpec], finish: Callable[[RunRecord], None],
            report: ProgressFn) -> None:
        with torch_threads(1) if self.device == "cpu" else nullcontext():  # --jobs 1: one core, as in the workers
            for spec in specs:
                finish(run_one(spec, report, plan=plan))


@dataclass(frozen=True)
class WorkerProcesses:
    """``jobs`` spawn worker processes, each given the plan once (so each loads a seed's data at most once)."""

    jobs: int

    def run(self, plan: ExperimentPlan, specs: list[RunSpec], finish: Callable[[RunRecord], None],
            report: ProgressFn) -> None:
        run_in_workers(_run_job, specs, jobs=min(self.jobs, len(specs)), on_result=lambda spec, record: finish(record),
                       on_progress=report, shared=plan)


@dataclass(frozen=True)
class Torchrun:
    """Every run data-parallel over the ranks of a process group, one after another."""

    group: ProcessGroup

    def run(self, plan: ExperimentPlan, specs: list[RunSpec], finish: Callable[[RunRecord], None],
            report: ProgressFn) -> None:
        for spec in specs:
            finish(run_one(spec, report, group=self.group, plan=plan))
            _barrier(self.group)


def executor_for(experiment: Experiment, runs: int) -> Executor:
    """Torchrun under a process group of several ranks; worker processes for several CPU runs with ``jobs`` > 1;
    else in this process."""
    if experiment.distributed:
        return Torchrun(experiment.group)  # type: ignore[arg-type]
    if experiment.jobs <= 1 or runs <= 1 or experiment.device != "cpu":
        return InProcess(experiment.device)
    return WorkerProcesses(experiment.jobs)


def continued_note(out: Path, runs: int, finished: int, resumable: int, checkpoints: bool) -> str:
    """The line that says what a continued run directory keeps (a rerun of the same config, or --resume)."""
    restart = runs - finished - resumable
    parts = [f"{finished} of {runs} run(s) finished earlier, kept"]
    if resumable:
        parts.append(f"{resumable} continue from their checkpoints")
    if restart:
        parts.append(f"{restart} start from step 0"
                     + ("" if checkpoints else " (training.checkpoint_every would let an interrupted run continue)"))
    return f"{out}: continuing the run of this configuration there: " + "; ".join(parts) + " (--overwrite starts over)"


def _barrier(group: ProcessGroup | None) -> None:
    if group is not None and group.world_size > 1:
        group.barrier()


def _warm_start_job(plan: ExperimentPlan, item: tuple[int, str], report: ProgressFn) -> dict[str, Any]:
    seed, path = item
    import_config_modules(plan.config, plan.config_dir)
    return warm_start(plan.config, seed, Path(path), report, data=plan.seed(seed))


def _run_job(plan: ExperimentPlan, spec: RunSpec, report: ProgressFn) -> RunRecord:
    return run_one(spec, report, plan=plan)


__all__ = [
    "RunSpec",
    "apply_overrides",
    "build_method",
    "build_model",
    "build_skillset",
    "build_tokenizer",
    "default_jobs",
    "resolve_device",
    "run_experiment",
    "run_one",
    "validate_experiment",
]
