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
from typing import Any

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
    context_length,
    data_notes,
    default_jobs,
    reference_method,
    resolve_device,
    task_skillset,
    train_config,
    validate_experiment,
    validated_policies,
    warm_start,
)
from skillit.experiment.config import MAX_SEED, MAX_STEPS, ExperimentConfig, import_config_modules
from skillit.experiment.graph_learning import graph_difference, prepare_graphs, uses_learned_graph
from skillit.experiment.run_dir import RunDirectory, claim_graph_folder, data_fingerprint
from skillit.policy.diagnostics import mixture_warnings
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


def run_one(spec: RunSpec, progress: ProgressFn | None = None, *, group: ProcessGroup | None = None) -> RunRecord:
    """Train one method at one seed and return its records.

    Under torchrun pass the ``group`` (``skillit.trainer.distributed.process_group``): the model is wrapped
    in DDP and every rank trains its share of each global batch (rank 0 writes the checkpoints).
    """
    config = spec.config
    import_config_modules(config, spec.config_dir)  # a --jobs worker registers the config's own policies first
    if config.methods[spec.method].params.get("graph") == "learn":
        raise ConfigError(
            f"method {spec.method!r}: graph 'learn' is learned by run_experiment once before the runs; call "
            "run_experiment, or learn it with `skillit graph CONFIG` and give the graph.json path"
        )
    full = task_skillset(config, spec.seed)
    skillset = build_skillset(config, spec.seed, full)
    tokenizer = build_tokenizer(config, full)  # covers warm-start skills outside the selection too
    block_size = context_length(config, full, tokenizer)
    model = build_model(config, tokenizer, block_size, spec.seed)
    if spec.warm_start_path is not None:
        model.load_state_dict(load_checkpoint(spec.warm_start_path)["model"])
    policy = build_method(config, spec.method, skillset, Path(spec.config_dir) if spec.config_dir else None)
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
        tokenizer,
        skillset,
        policy,
        train_config(config, spec.seed),
        setting=config.setting,
        target_skills=config.target_skills,
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
        for spec in data["methods"].values():  # staged methods: stage boundaries keep their place in the run
            stages = (spec.get("params") or {}).get("stages") if (spec.get("policy") == "staged") else None
            for stage in stages if isinstance(stages, list) else []:
                if isinstance(stage, dict) and isinstance(stage.get("steps"), int):
                    stage["steps"] = max(1, round(stage["steps"] * scale))
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
    """
    started = time.perf_counter()
    config_dir = Path(config_dir) if config_dir is not None else None
    distributed = group is not None and group.world_size > 1
    main = group is None or group.is_main
    device = group.device if distributed else resolve_device(config.device, config.training.precision)
    import_config_modules(config, config_dir)  # load_config did it; a config built in Python may not have
    policies = validated_policies(config, config_dir)  # every rank: same checks, same error, nothing written
    references = {method: reference_method(config, method, policies) for method in config.methods}
    if notify is not None and main:
        for line in data_notes(config, task_skillset(config, config.seeds[0])):
            notify(line)
    if distributed:
        shares = group.world_size * config.training.gradient_accumulation_steps
        if config.training.batch_size % shares:
            raise ConfigError(
                f"training.batch_size {config.training.batch_size} must split evenly over {group.world_size} rank(s) × "
                f"{config.training.gradient_accumulation_steps} accumulation micro-batches; choose a multiple of {shares}"
            )
    # the one run-directory object: rank 0 claims it (RunDirectory.claim: new, continued or refused), writes
    # and holds the lock; the other ranks learn its decision, so a refusal stops every rank alike
    described = {method: policy.describe() for method, policy in policies.items()}
    fingerprint = data_fingerprint(config.task.params)
    refusal: SkillitError | None = None
    run_dir: RunDirectory | None = None
    if main:
        try:
            folder = RunDirectory(Path(out_dir).expanduser())
            if uses_learned_graph(config) and not (resume or overwrite) and not folder.holds_run():
                # a new run beside a graph/ that `skillit graph` learned: `graph: learn` would replace a graph of
                # another set-up there, so that is refused (claim_graph_folder) before anything is written
                claim_graph_folder(folder.graph_dir, graph_difference(config, folder.graph_dir))
            run_dir = RunDirectory.claim(out_dir, config, policies=described, data=fingerprint, resume=resume,
                                         overwrite=overwrite)
        except SkillitError as exc:
            refusal = exc
    if distributed:  # a refusal on rank 0 stops every rank (no rank left waiting at a barrier)
        refused, continued = group.distributed.all_reduce(  # type: ignore[union-attr]
            np.array([0.0 if refusal is None else 1.0, 1.0 if run_dir is not None and run_dir.continued else 0.0]))
        if refused and refusal is None:
            raise OutputError("rank 0 refused the run directory (it prints why)")
        if not main:
            run_dir = RunDirectory(Path(out_dir).expanduser())  # the folder rank 0 claimed
            run_dir.continued = bool(continued)
    if refusal is not None:
        raise refusal
    assert run_dir is not None
    try:
        return _run_in(run_dir, config, config_dir, group=group, device=device, references=references, jobs=jobs,
                       progress=progress, started=started, notify=notify,
                       on_event=on_event, offline_cost=offline_cost)
    finally:
        run_dir.close()


def _run_in(
    run_dir: RunDirectory,
    config: ExperimentConfig,
    config_dir: Path | None,
    *,
    group: ProcessGroup | None,
    device: str,
    references: dict[str, str | None],
    jobs: int,
    progress: Callable[[int, int], None] | None,
    started: float,
    notify: Callable[[str], None] | None = None,
    on_event: Callable[[str, dict[str, Any]], None] | None = None,
    offline_cost: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """``run_experiment``'s body, inside the run directory (locked by rank 0)."""
    distributed = group is not None and group.world_size > 1
    main = group is None or group.is_main
    out = run_dir.path
    done: dict[str, RunRecord] = {}
    resumable: set[str] = set()
    if run_dir.continued:  # every finished run and checkpoint checked against the manifest before any work
        for method in config.methods:
            for seed in config.seeds:
                finished = run_dir.finished_record(method, seed, config.training.steps)
                if finished is not None:
                    done[run_id(method, seed)] = finished
                elif config.training.checkpoint_every and run_dir.check_checkpoint(
                        method, seed, dataclasses.asdict(train_config(config, seed))):
                    resumable.add(run_id(method, seed))
        if notify is not None and main:
            notify(continued_note(out, len(config.methods) * len(config.seeds), len(done), len(resumable),
                                  bool(config.training.checkpoint_every)))
    _barrier(group)

    # `graph: learn` is learned once (out/graph/graph.json, resumable) and replaced by that file; under
    # torchrun rank 0 learns it and the other ranks then read the finished file
    graph_costs: dict[str, Any] = {}
    graph_steps = 0
    if main:
        config, graph_costs, graph_steps = prepare_graphs(config, out, config_dir, jobs=jobs if not distributed else 1,
                                                          progress=progress)
    _barrier(group)
    if not main:
        config, _, _ = prepare_graphs(config, out, config_dir, jobs=1)

    specs = [
        RunSpec(
            config, method, seed, str(config_dir) if config_dir else None,
            str(run_dir.checkpoint_dir(method, seed)) if config.training.checkpoint_every else None,
            device=device,
            warm_start_path=str(run_dir.warm_start_path(seed)) if config.warm_start else None,
            draws_path=str(run_dir.draws_path(method, seed)) if config.training.log_draws else None,
        )
        for method in config.methods
        for seed in config.seeds
    ]
    for spec in specs:
        spec.resume = spec.run_id in resumable

    total = len(specs) * config.training.steps + graph_steps
    steps_done = {spec.run_id: (config.training.steps if spec.run_id in done else 0) for spec in specs}
    steps_done["graph"] = graph_steps
    warm_costs: list[dict[str, Any]] = []
    if config.warm_start is not None:
        total += len(config.seeds) * config.warm_start.steps
        for seed in config.seeds:
            steps_done[run_id(WARM_START_RUN, seed)] = 0

    def report(name: str, step: int | dict[str, Any]) -> None:
        if on_event is not None:
            on_event(name, step if isinstance(step, dict) else {"step": step})
        if isinstance(step, dict):  # an evaluation event (see StepProgress.on_evaluate)
            return
        steps_done[name] = step
        if progress is not None:
            progress(sum(steps_done.values()), total)

    def finish(record: RunRecord) -> None:
        name = run_id(record.method, record.seed)
        if main:
            run_dir.save_record(record)
        done[name] = record
        report(name, config.training.steps)

    report(specs[0].run_id, steps_done[specs[0].run_id])
    if config.warm_start is not None:  # once per seed, shared by every method; kept for --resume
        missing = []
        for seed in config.seeds:
            path = run_dir.warm_start_path(seed)
            if path.is_file():
                saved = load_checkpoint(path)
                warm_costs.append({"seed": seed, "steps": saved["steps"], "train_seconds": saved["train_seconds"]})
                report(run_id(WARM_START_RUN, seed), config.warm_start.steps)
            else:
                missing.append((config, seed, str(path)))
        if main:  # a small single-process pre-training; other ranks wait for the files
            warm_jobs = jobs if device == "cpu" and not distributed else 1
            for cost in run_in_workers(_warm_start_job, missing, jobs=warm_jobs, on_progress=report):
                warm_costs.append({k: cost[k] for k in ("seed", "steps", "train_seconds")})
        warm_costs.sort(key=lambda cost: cost["seed"])
        _barrier(group)

    # methods that read a reference run's losses go after the reference runs they read
    phases = [[s for s in specs if references[s.method] is None], [s for s in specs if references[s.method] is not None]]
    for phase in phases:
        todo = [spec for spec in phase if spec.run_id not in done]
        for spec in todo:
            ref = references[spec.method]
            if ref is not None:
                spec.reference_records = done[run_id(ref, spec.seed)].records
        if distributed:
            for spec in todo:
                finish(run_one(spec, report, group=group))
                _barrier(group)
        elif jobs <= 1 or len(todo) <= 1 or device != "cpu":
            with torch_threads(1) if device == "cpu" else nullcontext():  # --jobs 1: one core, as in the workers
                for spec in todo:
                    finish(run_one(spec, report))
        else:
            run_in_workers(run_one, todo, jobs=min(jobs, len(todo)), on_result=lambda spec, record: finish(record),
                           on_progress=report)
    if not main:
        return None

    runs = [done[spec.run_id] for spec in specs]
    write_metrics(run_dir.metrics_path, runs)
    probe = build_skillset(config, config.seeds[0])
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
    summary["wall_seconds"] = time.perf_counter() - started
    summary["device"] = device
    summary["jobs"] = 1 if distributed else max(1, min(jobs, len(specs)))
    if distributed:
        summary["world_size"] = group.world_size
        summary["backend"] = group.backend
    if config.warm_start is not None:
        summary["warm_start"] = {"skills": config.warm_start.skills, "runs": warm_costs}
    mixture_notes = [line for run in runs for line in mixture_warnings(run.method, run.policy, run.records, run.seed)]
    if mixture_notes:  # Skill-It's rule is kept as the paper states it; a collapse is reported, not prevented
        summary["mixture_warnings"] = mixture_notes
        for line in mixture_notes:
            if notify is not None:
                notify(f"warning: {line}")
    diverged = divergence_warnings(runs, summary["objective_skills"])
    if diverged:  # kept as results (compare ranks them last), never passed over in silence
        summary["divergence_warnings"] = diverged
        for line in diverged:
            if notify is not None:
                notify(f"warning: {line}")
    if graph_costs:
        summary["graph_cost"] = graph_costs  # per method: the cost of learning its graph (learned or from a file)
    offline = {method: dict(cost) for method, cost in (offline_cost or {}).items() if method in config.methods}
    if offline:
        summary["offline_cost"] = offline
    atomic_write_json(run_dir.summary_path, finite_or_none(summary))
    plot_run(out, runs, summary)
    write_report(out)
    return summary


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


def _warm_start_job(item: tuple[ExperimentConfig, int, str], report: ProgressFn) -> dict[str, Any]:
    config, seed, path = item
    return warm_start(config, seed, Path(path), report)


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
