"""Run an experiment: every method × seed through the one training loop, then records and a report.

Data flow: config → skills (task) → graph (per method) → policy → sampler + trainer → records → report.

A run directory holds::

    config.yaml            the resolved configuration
    runs/METHOD__seedS.json one finished run (written atomically when the run ends)
    checkpoints/METHOD__seedS/checkpoint.pt   (when training.checkpoint_every is set)
    metrics.jsonl          one line per method, seed and evaluation
    summary.json           final metrics across seeds (skillit.records.summary)
    accuracy.png, loss.png, weights.png

Everything that can be checked is checked before the directory is created, so bad input leaves nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from skillit.errors import ConfigError, GraphError, SkillitError, did_you_mean
from skillit.experiment.config import ExperimentConfig, dump_config
from skillit.graph import builtin_graph
from skillit.graph.skills_graph import SkillsGraph
from skillit.model import GPT, CharTokenizer, GPTConfig, WordTokenizer
from skillit.model.tokenizer import Tokenizer
from skillit.policy.base import EvalResult, MixingPolicy, PolicyContext
from skillit.policy.registry import build_policy
from skillit.records.metrics import RunRecord, write_metrics
from skillit.records.summary import summarize
from skillit.skills.skillset import SkillSet
from skillit.tasks import build_task, get_task, parse_task_params
from skillit.trainer.batching import encode_example
from skillit.trainer.distributed import ProcessGroup, wrap_model
from skillit.trainer.draw_log import DrawLog
from skillit.trainer.loop import TrainConfig, TrainerCallback, objective_skills, train
from skillit.utils.io import atomic_write_json, atomic_write_text
from skillit.utils.parallel import run_in_workers

ProgressFn = Callable[[str, int], None]  # (run id, steps done)


# ---- building blocks -----------------------------------------------------------------------------
def task_skillset(config: ExperimentConfig, seed: int) -> SkillSet:
    """Every skill of the task at one seed, before ``task.train_skills``/``eval_skills`` select a subset."""
    return build_task(config.task.name, config.task.params, seed)


def build_skillset(config: ExperimentConfig, seed: int, full: SkillSet | None = None) -> SkillSet:
    """The task's SkillSet for one seed, restricted to the configured training/evaluation skills."""
    skillset = full if full is not None else task_skillset(config, seed)
    if config.task.train_skills is not None or config.task.eval_skills is not None:
        skillset = skillset.select(config.task.train_skills, config.task.eval_skills)
    objective_skills(skillset, config.setting, config.target_skills)  # validates target names early
    return skillset


def build_tokenizer(config: ExperimentConfig, skillset: SkillSet) -> Tokenizer:
    """Char or word tokenizer over the task's alphabet, or over its validation and first training texts."""
    alphabet = skillset.metadata.get("alphabet")
    if config.model.tokenizer == "char" and alphabet:
        return CharTokenizer(sorted(set(alphabet)))
    texts = _sample_texts(skillset)
    return (CharTokenizer if config.model.tokenizer == "char" else WordTokenizer).from_texts(texts)


def _sample_texts(skillset: SkillSet, per_skill: int = 2000) -> list[str]:
    texts = []
    for skill in skillset.skills:
        texts.extend(e.text for e in skill.validation or [])
        if skill.train is not None:
            n = per_skill if skill.train.size is None else min(per_skill, skill.train.size)
            texts.extend(skill.train.get(i).text for i in range(n))
    return texts


def context_length(config: ExperimentConfig, skillset: SkillSet, tokenizer: Tokenizer) -> int:
    """The model's block size: configured, or the longest sampled example + 8 tokens of slack."""
    if config.model.block_size is not None:
        return config.model.block_size
    longest = 0
    for skill in skillset.skills:
        examples = list(skill.validation or [])
        if skill.train is not None:
            n = 200 if skill.train.size is None else min(200, skill.train.size)
            examples += [skill.train.get(i) for i in range(n)]
        for example in examples:
            longest = max(longest, len(encode_example(tokenizer, example)[0]))
    return longest + 8


def build_model(config: ExperimentConfig, tokenizer: Tokenizer, block_size: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    m = config.model
    return GPT(GPTConfig(tokenizer.vocab_size, block_size, m.n_layer, m.n_head, m.n_embd, m.dropout, init_std=m.init_std))


def graph_resolver(config: ExperimentConfig, skillset: SkillSet, config_dir: Path | None) -> Callable[[str], SkillsGraph]:
    """Turns a graph parameter into a SkillsGraph: ``identity``, ``builtin:NAME``, ``prerequisites``, a path,
    or ``learn`` (learned by ``run_experiment`` before the runs, see ``skillit.experiment.graph_learning``)."""
    task_spec = get_task(config.task.name)
    task_params = parse_task_params(config.task.name, config.task.params)

    def resolve(spec: str) -> SkillsGraph:
        if spec == "identity":
            if set(skillset.train_names) != set(skillset.eval_names) and config.setting == "out-of-domain":
                raise GraphError("graph 'identity' needs evaluation skills equal to training skills")
            names = skillset.train_names
            return SkillsGraph.identity(names)
        if spec == "learn":
            # learned once by run_experiment before any run, which then passes the learned graph.json
            # instead (skillit.experiment.graph_learning); this stand-in of the right names only lets
            # validate_experiment check the policy's set-up before the run directory exists
            return SkillsGraph(np.ones((len(skillset.train_names), len(skillset.eval_names))),
                               skillset.train_names, skillset.eval_names, {"source": "learn (stand-in)"})
        if spec == "prerequisites":
            if task_spec.prerequisites is None:
                raise GraphError(f"task {config.task.name!r} has no planted prerequisite graph")
            return task_spec.prerequisites(task_params)
        if spec.startswith("builtin:"):
            return builtin_graph(spec.split(":", 1)[1])
        path = Path(spec)
        if not path.is_absolute() and config_dir is not None and not path.exists():
            path = config_dir / path
        if not path.exists():
            raise GraphError(
                f"graph {spec!r} is not 'identity', 'prerequisites', 'builtin:NAME' or an existing file"
            )
        if path.suffix == ".npy":  # a bare matrix: rows = training skills, columns = objective skills
            columns = objective_skills(skillset, config.setting, config.target_skills)
            return SkillsGraph.load(path, skillset.train_names, columns)
        return SkillsGraph.load(path)

    return resolve


def build_method(config: ExperimentConfig, method: str, skillset: SkillSet, config_dir: Path | None) -> MixingPolicy:
    spec = config.methods[method]
    return build_policy(
        config.policy_of(method),
        spec.params,
        resolve_graph=graph_resolver(config, skillset, config_dir),
        wrappers=spec.wrappers,
        where=f"method {method!r}",
    )


def train_config(config: ExperimentConfig, seed: int) -> TrainConfig:
    return TrainConfig(seed=seed, **config.training.model_dump(exclude={"log_draws"}))


def dry_run_context(config: ExperimentConfig, skillset: SkillSet) -> PolicyContext:
    """A context with made-up losses, to check a policy's set-up (names, shapes) before training."""
    train_names = skillset.train_names
    pools = tuple(skillset[n].train.size for n in train_names)  # type: ignore[union-attr]
    return PolicyContext(
        train_skills=tuple(train_names),
        eval_skills=tuple(skillset.eval_names),
        target_skills=objective_skills(skillset, config.setting, config.target_skills),
        setting=config.setting,
        natural_proportions=tuple(skillset.natural_proportions()),
        pool_sizes=pools,
        n_rounds=train_config(config, 0).n_rounds,
        round_steps=config.training.round_steps,
        initial_eval=EvalResult(0, {n: 1.0 for n in skillset.eval_names}, {n: 0.0 for n in skillset.eval_names}),
        score_pool=lambda: {n: np.zeros(s or 0) for n, s in zip(train_names, pools)},
    )


def validate_experiment(config: ExperimentConfig, config_dir: Path | None = None) -> None:
    """Build the skills and every method's policy and initialise it on a dry context: fail before any output."""
    full = task_skillset(config, config.seeds[0])
    skillset = build_skillset(config, config.seeds[0], full)
    if config.warm_start is not None:
        full.check_names(config.warm_start.skills, role="train", where="warm_start.skills")
    context = dry_run_context(config, skillset)
    for method in config.methods:
        policy = build_method(config, method, skillset, config_dir)
        try:
            state = policy.init(context)
            policy.weights(state)
        except SkillitError as exc:
            raise type(exc)(f"method {method!r}: {exc}") from None


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

    @property
    def run_id(self) -> str:
        return f"{self.method}__seed{self.seed}"


class _Progress(TrainerCallback):
    def __init__(self, run_id: str, report: ProgressFn | None, every: int = 10):
        self.run_id, self.report, self.every = run_id, report, every

    def on_step_end(self, step: int, loss: float) -> None:
        if self.report is not None and step % self.every == 0:
            self.report(self.run_id, step)

    def on_train_end(self, result) -> None:
        if self.report is not None:
            self.report(self.run_id, result.steps)


def run_one(spec: RunSpec, progress: ProgressFn | None = None, *, group: ProcessGroup | None = None) -> RunRecord:
    """Train one method at one seed and return its records.

    Under torchrun pass the ``group`` (``skillit.trainer.distributed.process_group``): the model is wrapped
    in DDP and every rank trains its share of each global batch (rank 0 writes the checkpoints).
    """
    config = spec.config
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
        model.load_state_dict(torch.load(spec.warm_start_path, map_location="cpu", weights_only=False)["model"])
    policy = build_method(config, spec.method, skillset, Path(spec.config_dir) if spec.config_dir else None)
    callbacks: list[TrainerCallback] = [_Progress(spec.run_id, progress)]
    if spec.draws_path is not None:
        path = Path(spec.draws_path)
        if group is not None and group.world_size > 1:
            path = path.with_name(f"{path.stem}.rank{group.rank}{path.suffix}")
        callbacks.append(DrawLog(path))
    trained = wrap_model(model, group) if group is not None else model
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
    )
    return RunRecord(
        method=spec.method,
        seed=spec.seed,
        policy=policy.describe(),
        records=result.records,
        steps=result.steps,
        train_seconds=result.train_seconds,
        eval_seconds=result.eval_seconds,
        eval_examples=result.eval_examples,
        parameters=sum(p.numel() for p in model.parameters()),
    )


def warm_start(config: ExperimentConfig, seed: int, path: Path, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Train the seed's initial model on ``config.warm_start.skills`` (stratified) and save it atomically.

    Every method of the seed then starts from this model, so they differ only in the mixture.
    """
    from skillit.policy.static import Stratified

    assert config.warm_start is not None
    ws = config.warm_start
    full = task_skillset(config, seed)
    tokenizer = build_tokenizer(config, full)
    model = build_model(config, tokenizer, context_length(config, full, tokenizer), seed)
    skills = full.select(train=ws.skills, eval=[name for name in ws.skills if name in full.eval_names])
    settings = config.training.model_dump(exclude={"log_draws"})
    settings.update(
        steps=ws.steps, round_steps=ws.steps, eval_every=ws.steps, checkpoint_every=None,
        batch_size=ws.batch_size or settings["batch_size"], lr=ws.lr or settings["lr"],
        warmup_steps=min(settings["warmup_steps"], ws.steps // 10),
    )
    result = train(model, tokenizer, skills, Stratified(), TrainConfig(seed=seed, **settings),
                   callbacks=[_Progress(f"warm-start__seed{seed}", progress)])
    payload = {"model": model.state_dict(), "records": result.records, "steps": result.steps,
               "train_seconds": result.train_seconds, "eval_seconds": result.eval_seconds}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return {"seed": seed, "steps": result.steps, "train_seconds": result.train_seconds, "final": result.final}


# ---- the experiment ------------------------------------------------------------------------------
def apply_overrides(
    config: ExperimentConfig, *, seeds: int | None = None, steps: int | None = None, methods: Sequence[str] | None = None
) -> ExperimentConfig:
    """The config with ``--seeds N`` (seeds 0..N-1), ``--steps N`` and ``--methods a,b`` applied."""
    data = config.model_dump()
    if seeds is not None:
        if seeds < 1:
            raise ConfigError(f"--seeds must be >= 1, got {seeds}")
        data["seeds"] = list(range(seeds))
    if steps is not None:
        if steps < 1:
            raise ConfigError(f"--steps must be >= 1, got {steps}")
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
    if methods is not None:
        unknown = [m for m in methods if m not in config.methods]
        if unknown:
            raise ConfigError(
                f"unknown method {unknown[0]!r} in --methods; {did_you_mean(unknown[0], list(config.methods))}"
            )
        data["methods"] = {m: data["methods"][m] for m in methods}
    return ExperimentConfig.model_validate(data)


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but CUDA is not available; use device: cpu or auto")
    return device


def run_experiment(
    config: ExperimentConfig,
    out_dir: str | Path,
    *,
    config_dir: str | Path | None = None,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Run every method × seed, write the run directory and return the summary.

    ``progress(done_steps, total_steps)`` is called as training advances. With ``resume=True`` finished runs
    are kept and unfinished ones continue from their checkpoints.
    """
    started = time.perf_counter()
    config_dir = Path(config_dir) if config_dir is not None else None
    device = resolve_device(config.device)
    validate_experiment(config, config_dir)
    out = Path(out_dir)
    if resume and not (out / "config.yaml").is_file():
        from skillit.errors import CheckpointError

        raise CheckpointError(f"nothing to resume in {str(out)!r}: it has no config.yaml")
    out.mkdir(parents=True, exist_ok=True)
    (out / "runs").mkdir(exist_ok=True)
    atomic_write_text(out / "config.yaml", dump_config(config))
    from skillit.experiment.graph_learning import prepare_graphs

    # `graph: learn` is learned once (out/graph/graph.json, resumable) and replaced by that file
    config, graph_costs, graph_steps = prepare_graphs(config, out, config_dir, jobs=jobs, progress=progress)

    specs = []
    for method in config.methods:
        for seed in config.seeds:
            ckpt = out / "checkpoints" / f"{method}__seed{seed}" if config.training.checkpoint_every else None
            specs.append(
                RunSpec(
                    config, method, seed, str(config_dir) if config_dir else None,
                    str(ckpt) if ckpt else None,
                    resume=bool(resume and ckpt is not None and (ckpt / "checkpoint.pt").is_file()),
                    device=device,
                    warm_start_path=str(out / "warm_start" / f"seed{seed}.pt") if config.warm_start else None,
                    draws_path=str(out / "draws" / f"{method}__seed{seed}.jsonl") if config.training.log_draws else None,
                )
            )
    done: dict[str, RunRecord] = {}
    if resume:
        for spec in specs:
            path = out / "runs" / f"{spec.run_id}.json"
            if path.is_file():
                done[spec.run_id] = RunRecord.load(path)
    todo = [spec for spec in specs if spec.run_id not in done]

    total = len(specs) * config.training.steps + graph_steps
    steps_done = {spec.run_id: (config.training.steps if spec.run_id in done else 0) for spec in specs}
    steps_done["graph"] = graph_steps
    warm_costs: list[dict[str, Any]] = []
    if config.warm_start is not None:
        total += len(config.seeds) * config.warm_start.steps
        for seed in config.seeds:
            steps_done[f"warm-start__seed{seed}"] = 0

    def report(run_id: str, step: int) -> None:
        steps_done[run_id] = step
        if progress is not None:
            progress(sum(steps_done.values()), total)

    def finish(record: RunRecord) -> None:
        record.save(out / "runs" / f"{record.method}__seed{record.seed}.json")
        done[f"{record.method}__seed{record.seed}"] = record
        report(f"{record.method}__seed{record.seed}", config.training.steps)

    report(specs[0].run_id, steps_done[specs[0].run_id])
    if config.warm_start is not None:  # once per seed, shared by every method; kept for --resume
        missing = []
        for seed in config.seeds:
            path = out / "warm_start" / f"seed{seed}.pt"
            if path.is_file():
                saved = torch.load(path, map_location="cpu", weights_only=False)
                warm_costs.append({"seed": seed, "steps": saved["steps"], "train_seconds": saved["train_seconds"]})
                report(f"warm-start__seed{seed}", config.warm_start.steps)
            else:
                missing.append((config, seed, str(path)))
        for cost in run_in_workers(_warm_start_job, missing, jobs=jobs if device == "cpu" else 1, on_progress=report):
            warm_costs.append({k: cost[k] for k in ("seed", "steps", "train_seconds")})
        warm_costs.sort(key=lambda cost: cost["seed"])
    jobs = max(1, min(jobs, len(todo))) if todo else 1
    if jobs == 1 or device != "cpu":
        for spec in todo:
            finish(run_one(spec, report))
    else:
        _run_parallel(todo, jobs, report, finish)

    runs = [done[spec.run_id] for spec in specs]
    write_metrics(out / "metrics.jsonl", runs)
    probe = build_skillset(config, config.seeds[0])
    summary = summarize(
        runs,
        task=config.task.name,
        setting=config.setting,
        steps=config.training.steps,
        objective_skills=objective_skills(probe, config.setting, config.target_skills),
        target_loss=config.target_loss,
        methods=list(config.methods),
    )
    summary["name"] = config.name
    summary["wall_seconds"] = time.perf_counter() - started
    summary["device"] = device
    summary["jobs"] = jobs
    if config.warm_start is not None:
        summary["warm_start"] = {"skills": config.warm_start.skills, "runs": warm_costs}
    if graph_costs:
        summary["graph_cost"] = graph_costs  # per method: the cost of learning its graph (learned or from a file)
    from skillit.records.metrics import finite_or_none

    atomic_write_json(out / "summary.json", finite_or_none(summary))
    from skillit.report.plots import plot_run

    plot_run(out, runs, summary)
    return summary


def _warm_start_job(item: tuple[ExperimentConfig, int, str], report: ProgressFn) -> dict[str, Any]:
    config, seed, path = item
    return warm_start(config, seed, Path(path), report)


def _run_parallel(todo: list[RunSpec], jobs: int, report: ProgressFn, finish: Callable[[RunRecord], None]) -> None:
    """Every spec in spawn worker processes, one torch thread each; each record handed to ``finish`` as it ends."""
    run_in_workers(run_one, todo, jobs=jobs, on_result=lambda spec, record: finish(record), on_progress=report)


def default_jobs() -> int:
    """Parallel runs for ``skillit run``: one per core, at most 2 by default."""
    return max(1, min(2, os.cpu_count() or 1))


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
