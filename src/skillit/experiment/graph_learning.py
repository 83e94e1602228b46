"""Learn an experiment's skills graph: what ``skillit graph CONFIG`` and ``graph: learn`` run.

The learner's runs use the experiment's task (at one seed), model and training settings; the
``graph_learning`` section of the config chooses and configures the learner (docs/graphs.md).

An output directory holds::

    graph.json             the learned graph: train_skills, eval_skills, matrix, method, params, cost, the
                           model it was learned on (model, training_precision), ...
    graph_heatmap.png      the matrix as a heatmap
    graph_drawing.png      the graph's edges above the drawing threshold
    work/                  base snapshots and finished runs (a second call resumes from them), model.json

A folder's graph is reused only for the same learner, parameters, seed, task and model (:func:`graph_difference`);
``skillit graph`` refuses another set-up's (``--overwrite`` replaces it) and ``graph: learn`` does not copy it.

Learned at several seeds (``graph_learning.seeds``, ``skillit graph --seeds 0-2``), ``work/`` is replaced by one
such folder per seed, ``seed<S>/`` (graph.json + work/), and ``graph.json`` adds ``uncertainty`` (per-edge
mean, std, n, t-interval, stable mask, each seed's matrix) with the stable graph as its ``matrix``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import torch

from skillit.errors import CheckpointError, ConfigError, GraphError
from skillit.experiment.build import (
    SeedData,
    build_model,
    build_seed_data,
    default_jobs,
    resolve_device,
    train_config,
    warm_start,
)
from skillit.experiment.config import MAX_SEED, ExperimentConfig, GraphLearningConfig
from skillit.experiment.plan import ExperimentPlan
from skillit.graph.diagnostics import compare_graphs, density
from skillit.graph.skills_graph import SkillsGraph
from skillit.graph.uncertainty import edge_uncertainty
from skillit.graph_learners import GraphLearner, get_learner
from skillit.records.layout import RunLayout, warm_start_file
from skillit.report.graph_plots import draw_graph, plot_heatmap
from skillit.tasks import get_task, parse_task_params
from skillit.utils.checkpoint import load_checkpoint
from skillit.utils.io import atomic_write_bytes, atomic_write_json

GRAPH_FILE = "graph.json"
WORK_MODEL_FILE = "model.json"  # in work/: the model whose runs it holds (model_record)


def graph_learning_config(config: ExperimentConfig) -> GraphLearningConfig:
    return config.graph_learning or GraphLearningConfig()


BASE_SHARE = 0.3  # base_steps: 30 % of training.steps (600 of docs/graphs.md's 2000-step example)
PROBE_SHARE = 0.0125  # probe steps h: 1.25 % of training.steps (25 of 2000), at least PROBE_MIN
PROBE_MIN = 5


def run_scaled_defaults(config: ExperimentConfig, method: str) -> dict[str, Any]:
    """What an unset ``graph_learning`` field means: the documented example's values scaled to the run.

    ``base_steps = round(0.3 · training.steps)``, ``scale: max`` (the paper's 0..1 scale, so a method's η
    means the same with a learned graph as with a hand-made one) and, for ``probe``, ``steps = max(5,
    round(0.0125 · training.steps))``; ``points`` (3) and ``mix`` (0.5) are the learner's own defaults. For
    a 2000-step run this is docs/graphs.md's example: base_steps 600, steps 25, points 3, scale max.
    """
    steps = config.training.steps
    defaults: dict[str, Any] = {"base_steps": round(BASE_SHARE * steps), "scale": "max"}
    if method == "probe":
        defaults["steps"] = max(PROBE_MIN, round(PROBE_SHARE * steps))
    return defaults


def learner_for(config: ExperimentConfig, method: str | None = None) -> GraphLearner:
    """The configured learner; ``method`` overrides the section's method (its other fields that the
    overriding method does not take are dropped, e.g. ``points`` for ``linear``). Fields the config
    leaves unset take :func:`run_scaled_defaults`."""
    section = graph_learning_config(config)
    params = section.learner_params()
    name = method or section.method
    cls = get_learner(name)
    if method is not None and method != section.method:
        params = {k: v for k, v in params.items() if k in cls.Params.model_fields}
    defaults = {k: v for k, v in run_scaled_defaults(config, name).items() if k in cls.Params.model_fields}
    return cls({**defaults, **params})


def _warm_model(build: Callable[[], torch.nn.Module], path: str) -> torch.nn.Module:
    model = build()
    model.load_state_dict(load_checkpoint(path)["model"])
    return model


def graph_seeds(config: ExperimentConfig) -> list[int]:
    """The learner seeds: ``graph_learning.seeds`` (N: N seeds from ``seed``, else from the config's first
    seed; or a list), else the one seed ``graph_learning.seed`` or the config's first seed."""
    section = graph_learning_config(config)
    first = section.seed if section.seed is not None else config.seeds[0]
    if section.seeds is None:
        return [first]
    if isinstance(section.seeds, int):
        return list(range(first, first + section.seeds))
    return list(section.seeds)


def graph_targets(config: ExperimentConfig, graph: SkillsGraph) -> list[str]:
    """The graph columns the policies optimise: the target skills in fine-tuning, else every column."""
    if config.setting == "finetune" and config.target_skills:
        return [name for name in config.target_skills if name in graph.eval_skills]
    return list(graph.eval_skills)


def learn_graph(
    config: ExperimentConfig,
    out_dir: str | Path,
    *,
    method: str | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    warm_start_dir: str | Path | None = None,
    plots: bool = True,
    workdir: str | Path | None = None,
    seed_data: Callable[[int], SeedData] | None = None,
) -> SkillsGraph:
    """Learn the graph of ``config``'s skills, write ``graph.json`` (+ plots) to ``out_dir`` and return it.

    At one seed (:func:`graph_seeds`) the learner writes ``out_dir/graph.json``. At several, each seed is that
    same single-seed learning in ``out_dir/seed<S>/`` (cached and resumable on its own), and
    ``out_dir/graph.json`` holds the per-edge statistics (:mod:`skillit.graph.uncertainty`) and, as its
    ``matrix``, the stable graph (``stable_only: false``: the mean); its cost is the sum over the seeds.

    A directory that already holds ``graph.json`` for the same set-up is returned as is; an interrupted
    one resumes from ``work/`` (or ``workdir``: learners that differ only in how they read the runs, e.g.
    ``compare`` or ``scale``, can share one). ``progress(done_steps, planned_steps)`` follows the steps.
    ``warm_start_dir``: where the warm-start model of seed S is (or is written) as ``seed<S>.pt`` (default:
    each seed's ``work/``). ``seed_data(seed)``: the seed's skills, tokenizer and context when already built (an
    experiment plan's :meth:`~skillit.experiment.plan.ExperimentPlan.seed`), else built here.
    """
    seeds = graph_seeds(config)
    if len(seeds) == 1:
        return _learn_one(config, out_dir, seeds[0], method=method, jobs=jobs, progress=progress,
                          warm_start_dir=warm_start_dir, plots=plots, workdir=workdir, seed_data=seed_data)
    return _learn_seeds(config, out_dir, seeds, method=method, jobs=jobs, progress=progress,
                        warm_start_dir=warm_start_dir, plots=plots, workdir=workdir, seed_data=seed_data)


def _learn_one(
    config: ExperimentConfig,
    out_dir: str | Path,
    seed: int,
    *,
    method: str | None,
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
    warm_start_dir: str | Path | None,
    plots: bool,
    workdir: str | Path | None,
    seed_data: Callable[[int], SeedData] | None = None,
) -> SkillsGraph:
    """The one learning path: the learner at ``seed``, into ``out_dir`` (cached, resumable)."""
    started = time.perf_counter()
    section = graph_learning_config(config)
    learner = learner_for(config, method)
    device = resolve_device(config.device, config.training.precision, config.training.compile)
    data = seed_data(seed) if seed_data is not None else build_seed_data(config, seed)
    skillset, tokenizer, block_size = data.skills, data.tokenizer, data.block_size
    learner.check(skillset)
    out = Path(out_dir)
    existing = out / GRAPH_FILE
    # a graph learned at another seed, or over several seeds, is not this one
    if existing.is_file() and graph_difference(config, out, method, seeds=[seed]) is None:
        return SkillsGraph.load(existing)
    work = Path(workdir) if workdir is not None else out / "work"
    _claim_work_model(work, config)
    builder: Callable[[], torch.nn.Module] = partial(build_model, config, tokenizer, block_size, seed)
    warm_cost: dict[str, Any] | None = None
    if config.warm_start is not None:
        path = (Path(warm_start_dir) / warm_start_file(seed) if warm_start_dir is not None
                else out / "work" / f"warm_start_seed{seed}.pt")
        if not path.is_file():
            warm_cost = warm_start(config, seed, path, data=data)
            warm_cost = {"steps": warm_cost["steps"], "train_seconds": warm_cost["train_seconds"]}
        builder = partial(_warm_model, builder, str(path))
    planned = learner.planned_steps(skillset)
    done: dict[str, int] = {}

    def report(run_id: str, step: int) -> None:
        done[run_id] = step
        if progress is not None:
            progress(min(sum(done.values()), planned), planned)

    graph = learner.fit(
        skillset, builder, tokenizer, train_config(config, seed),
        workdir=work, jobs=jobs or section.jobs or default_jobs(), seed=seed, device=device, progress=report,
    )
    provenance = dict(graph.provenance)
    provenance["cost"] = {**provenance["cost"], "wall_seconds": time.perf_counter() - started,
                          "training_run_steps": config.training.steps,
                          "ratio_to_training_run": provenance["cost"]["train_steps"] / config.training.steps}
    if warm_cost is not None:
        provenance["cost"]["warm_start"] = warm_cost
    provenance["task"] = {"name": config.task.name, "params": config.task.params, "seed": seed}
    provenance.update(model_record(config))
    provenance["diagnostics"] = diagnostics_of(config, graph)
    graph = SkillsGraph(graph.matrix, graph.train_skills, graph.eval_skills, provenance)
    graph.save(out / GRAPH_FILE)
    if plots:
        plot_heatmap(graph, out / "graph_heatmap.png")
        draw_graph(graph, out / "graph_drawing.png")
    return graph


def _learn_seeds(
    config: ExperimentConfig,
    out_dir: str | Path,
    seeds: list[int],
    *,
    method: str | None,
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
    warm_start_dir: str | Path | None,
    plots: bool,
    workdir: str | Path | None,
    seed_data: Callable[[int], SeedData] | None = None,
) -> SkillsGraph:
    """:func:`_learn_one` at every seed (``out_dir/seed<S>/``), then the per-edge statistics over them."""
    section = graph_learning_config(config)
    learner_for(config, method)  # an unknown method or parameter is refused before any seed is learned
    out = Path(out_dir)
    existing = out / GRAPH_FILE
    # the same learner, parameters and task (graph_difference), and the same seed set and reading of it
    if existing.is_file() and graph_difference(config, out, method, seeds=seeds) is None:
        graph = SkillsGraph.load(existing)
        recorded = graph.provenance["uncertainty"]
        if (recorded.get("seeds") == seeds and recorded.get("level") == section.level
                and recorded.get("stable_only") == section.stable_only):
            return graph
    graphs: list[SkillsGraph] = []
    for n, seed in enumerate(seeds):

        def report(done: int, planned: int, n: int = n) -> None:  # every seed plans the same steps
            if progress is not None:
                progress(n * planned + done, len(seeds) * planned)

        graphs.append(_learn_one(
            config, out / f"seed{seed}", seed, method=method, jobs=jobs, progress=report,
            warm_start_dir=warm_start_dir, plots=False,
            workdir=Path(workdir) / f"seed{seed}" if workdir is not None else None, seed_data=seed_data,
        ))
    uncertainty = edge_uncertainty(graphs, seeds, section.level)
    matrix = uncertainty.stable_matrix() if section.stable_only else uncertainty.mean
    first = graphs[0].provenance
    costs = [graph.provenance["cost"] for graph in graphs]
    # each seed's own cost as recorded when it was learned (a seed reused from the folder counts too)
    summed = {key: sum(cost.get(key) or 0 for cost in costs) for key in
              ("train_steps", "eval_examples", "train_examples", "runs", "base_steps", "run_steps", "wall_seconds")}
    cost: dict[str, Any] = {
        **summed,
        "training_run_steps": config.training.steps,
        "ratio_to_training_run": summed["train_steps"] / config.training.steps,
        "seeds": len(seeds),  # the learner ran once per seed: N seeds cost N times one learning
        "per_seed_train_steps": [cost["train_steps"] for cost in costs],
    }
    warm = [cost["warm_start"] for cost in costs if "warm_start" in cost]
    if warm:
        cost["warm_start"] = {"steps": sum(w["steps"] for w in warm), "train_seconds": sum(w["train_seconds"] for w in warm)}
    provenance: dict[str, Any] = {
        "method": first["method"], "params": first["params"], "cost": cost, "seeds": seeds,
        "details": {"seed_graphs": [f"seed{seed}/{GRAPH_FILE}" for seed in seeds]},
        "uncertainty": {**uncertainty.to_dict(), "stable_only": section.stable_only,
                        "self_edges": "kept at their mean (not filtered by stability)"},
        "task": {"name": config.task.name, "params": config.task.params, "seeds": seeds},
        **model_record(config),
    }
    graph = SkillsGraph(matrix, uncertainty.train_skills, uncertainty.eval_skills, provenance)
    provenance["targets"] = graph_targets(config, graph)
    provenance["diagnostics"] = diagnostics_of(config, graph)
    graph = SkillsGraph(matrix, graph.train_skills, graph.eval_skills, provenance)
    graph.save(out / GRAPH_FILE)
    if plots:
        plot_heatmap(graph, out / "graph_heatmap.png")
        draw_graph(graph, out / "graph_drawing.png")
    return graph


def model_record(config: ExperimentConfig) -> dict[str, Any]:
    """What a learned graph records of the model its runs trained (``graph.json``'s ``model`` and
    ``training_precision``; ``work/model.json``): the whole model section (kind, sizes, tokenizer, block size; a ``kind: hf`` model's folders absolute) and
    ``training.precision``. A graph is a property of the skills *for a model*: another model's is not reused."""
    return {"model": json.loads(json.dumps(config.model.model_dump(mode="json"), default=str)),
            "training_precision": config.training.precision}


def _model_difference(config: ExperimentConfig, provenance: dict[str, Any]) -> str | None:
    """How the model a graph was learned on differs from ``config``'s (None: the same, or a graph learned before
    graphs recorded their model, which is taken as it is)."""
    if "model" not in provenance:
        return None
    ours = model_record(config)
    theirs, now = provenance["model"], ours["model"]
    if theirs != now:
        if isinstance(theirs, dict):
            changed = sorted(name for name in {*theirs, *now} if theirs.get(name) != now.get(name))
            return "model " + ", ".join(f"{name} ({theirs.get(name)!r} there, {now.get(name)!r} now)"
                                        for name in changed[:5])
        return f"model ({theirs!r} there, {now!r} now)"
    if provenance.get("training_precision", "fp32") != ours["training_precision"]:
        return (f"training.precision ({provenance.get('training_precision', 'fp32')!r} there, "
                f"{ours['training_precision']!r} now)")
    return None


def _claim_work_model(work: Path, config: ExperimentConfig) -> None:
    """``work/`` (base snapshots, finished runs, a warm start) belongs to one model: its ``model.json``
    (:func:`model_record`) is written with it, and another model's work directory is refused instead of resumed
    (its snapshots would be loaded into this model). A ``work/`` from before ``model.json`` is taken as it is and
    left unmarked (nothing is written into a folder the learner's own checks may still refuse)."""
    path = work / WORK_MODEL_FILE
    record = model_record(config)
    if not path.is_file():
        if work.is_dir() and any(work.iterdir()):  # an older work/ (or another learner's): not ours to mark
            return
        work.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, record)
        return
    try:
        there = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        there = None
    if there != record:
        difference = (_model_difference(config, there) if isinstance(there, dict) else None) or "unreadable"
        raise CheckpointError(f"{work}: this work directory holds the runs of another model ({difference}); use "
                              f"a new directory, or delete {work} to learn this model's graph there")


def graph_difference(config: ExperimentConfig, out_dir: str | Path, method: str | None = None,
                     seeds: list[int] | None = None) -> str | None:
    """How the graph in ``out_dir/graph.json`` differs from the one :func:`learn_graph` would learn for
    ``config`` (and ``method``, at ``seeds``, default :func:`graph_seeds`): its learner, the learner's
    parameters, the seed, the task, the model (:func:`model_record`: its section, tokenizer included, and
    ``training.precision``); None when the folder holds no graph or the same one.

    At several seeds the seed set itself is not a difference: a new set reuses the seeds already learned
    (each ``seed<S>/`` is checked on its own), so only one seed against several is."""
    path = Path(out_dir) / GRAPH_FILE
    if not path.is_file():
        return None
    provenance = SkillsGraph.load(path).provenance
    learner = learner_for(config, method)
    seeds = list(seeds) if seeds is not None else graph_seeds(config)
    several_there = "uncertainty" in provenance
    if several_there != (len(seeds) > 1):
        there = provenance.get("seeds") or provenance.get("task", {}).get("seed")
        return f"seeds ({there!r} there, {seeds if len(seeds) > 1 else seeds[0]!r} now)"
    task = {"name": config.task.name, "params": config.task.params}
    if not several_there:
        task["seed"] = seeds[0]
    task = json.loads(json.dumps(task, default=str))
    recorded = dict(provenance.get("task", task))
    if several_there:
        recorded.pop("seeds", None)
    ours = {"method": learner.name, "params": learner.params.model_dump(mode="json"), "task": task}
    theirs = {"method": provenance.get("method"), "params": provenance.get("params"), "task": recorded}
    for key in ("method", "params", "task"):
        if key == "params" and isinstance(theirs[key], dict):
            changed = sorted(name for name in {*ours[key], *theirs[key]} if ours[key].get(name) != theirs[key].get(name))
            if changed:
                return "learner parameters " + ", ".join(
                    f"{name} ({theirs[key].get(name)!r} there, {ours[key].get(name)!r} now)" for name in changed[:5])
        elif ours[key] != theirs[key]:
            if key == "task" and isinstance(theirs[key], dict):
                changed = sorted(name for name in {*ours[key], *theirs[key]} if ours[key].get(name) != theirs[key].get(name))
                return "task " + ", ".join(f"{name} ({theirs[key].get(name)!r} there, {ours[key].get(name)!r} now)"
                                           for name in changed)
            return f"{key} ({theirs[key]!r} there, {ours[key]!r} now)"
    return _model_difference(config, provenance)


def planted_graph(config: ExperimentConfig) -> SkillsGraph | None:
    """The task's planted prerequisite graph (LEGO, Addition, a data task's ``prerequisites`` file); None
    where the task plants none."""
    spec = get_task(config.task.name)
    if spec.prerequisites is None:
        return None
    try:
        return spec.prerequisites(parse_task_params(config.task.name, config.task.params))
    except GraphError:  # a data task without a prerequisites file plants no graph
        return None


def diagnostics_of(config: ExperimentConfig, graph: SkillsGraph) -> dict[str, Any]:
    """Density (with its warning) and, where the task plants a prerequisite graph, the comparison with it."""
    out: dict[str, Any] = {"density": density(graph).to_dict()}
    planted = planted_graph(config)
    if planted is not None:
        try:
            out["vs_planted"] = compare_graphs(graph, planted).to_dict()
        except GraphError as exc:  # names that do not overlap: no comparison, say why
            out["vs_planted"] = {"error": str(exc)}
    return out


def with_graph_seed(config: ExperimentConfig, seed: int) -> ExperimentConfig:
    """The config with ``graph_learning.seed = seed`` and no ``seeds`` (the learner's base run, probes and
    data at that one seed)."""
    if not 0 <= seed <= MAX_SEED:  # --seed: one message, not the schema's
        raise ConfigError(f"graph learner seed {seed} (--seed) is not an integer from 0 to {MAX_SEED}")
    data = config.model_dump()
    data["graph_learning"] = {**(data.get("graph_learning") or {}), "seed": seed, "seeds": None}
    return ExperimentConfig.model_validate(data)


def with_graph_seeds(config: ExperimentConfig, seeds: list[int]) -> ExperimentConfig:
    """The config with ``graph_learning.seeds = seeds`` (one seed: :func:`with_graph_seed`)."""
    if len(seeds) == 1:
        return with_graph_seed(config, seeds[0])
    data = config.model_dump()
    data["graph_learning"] = {**(data.get("graph_learning") or {}), "seed": None, "seeds": list(seeds)}
    return ExperimentConfig.model_validate(data)


def seeds_label(seeds: list[int]) -> str:
    """A folder-name label: runs of consecutive seeds as ``a-b``, joined by ``_`` (``[0, 1, 2, 5]`` → ``0-2_5``)."""
    parts: list[str] = []
    start = previous = seeds[0]
    for seed in [*seeds[1:], None]:
        if seed is not None and seed == previous + 1:
            previous = seed
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if seed is not None:
            start = previous = seed
    return "_".join(parts)


def file_graph_costs(plan: ExperimentPlan) -> dict[str, Any]:
    """Per method whose graph is a ``graph.json`` with a recorded ``cost`` (from ``skillit graph``): that cost."""
    costs: dict[str, Any] = {}
    for name, path in plan.graph_files().items():
        if path.suffix == ".json" and path.is_file():
            data = json.loads(path.read_text())
            if isinstance(data, dict) and isinstance(data.get("cost"), dict):
                costs[name] = {**data["cost"], "method": data.get("method"), "source": str(path)}
    return costs


def shared_graph_dir(config: ExperimentConfig) -> Path:
    """Where ``skillit graph CONFIG`` writes without --out or --seed: ``runs/<name>/graph`` (the graph folder of
    the run directory ``skillit run CONFIG`` uses by default)."""
    return RunLayout(Path("runs") / config.name).graph_dir


def reuse_shared_graph(config: ExperimentConfig, graph_dir: Path) -> Path | None:
    """A run's ``graph: learn`` into another --out: when ``graph_dir`` holds no graph and :func:`shared_graph_dir`
    holds the one this config would learn (:func:`graph_difference` finds nothing), copy it (graph.json and
    its plots) instead of learning it again; the folder it came from, or None."""
    shared = shared_graph_dir(config)
    if (graph_dir / GRAPH_FILE).exists() or not (shared / GRAPH_FILE).is_file():
        return None
    if shared.resolve() == graph_dir.resolve() or graph_difference(config, shared) is not None:
        return None
    graph_dir.mkdir(parents=True, exist_ok=True)
    for name in ("graph_heatmap.png", "graph_drawing.png", GRAPH_FILE):  # graph.json last: it marks the copy done
        if (shared / name).is_file():
            atomic_write_bytes(graph_dir / name, (shared / name).read_bytes())
    return shared


def prepare_graphs(
    plan: ExperimentPlan,
    out: Path,
    *,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[ExperimentPlan, dict[str, Any], int]:
    """For ``run_experiment``: learn the ``graph: learn`` graph once into ``out/graph`` (cached, resumable), or
    copy the same graph that ``skillit graph CONFIG`` learned (:func:`reuse_shared_graph`).

    Returns the plan with ``learn`` standing for the learned file, the graph cost per method (learned graphs
    and graph files that record a cost), and the planned graph-learning steps (for progress).
    """
    config = plan.config
    costs = file_graph_costs(plan)
    learned = plan.learning_methods
    if not learned:
        return plan, costs, 0
    seeds = graph_seeds(config)
    planned = learner_for(config).planned_steps(plan.seed(seeds[0]).skills) * len(seeds)
    runs_total = len(config.methods) * len(config.seeds) * config.training.steps
    if config.warm_start is not None:
        runs_total += len(config.seeds) * config.warm_start.steps

    def report(done: int, _planned: int) -> None:
        if progress is not None:
            progress(done, planned + runs_total)

    graph_dir = RunLayout(out).graph_dir
    reused = reuse_shared_graph(config, graph_dir)
    # the runner's own warm-start folder (RunDirectory.warm_start_path): a learner seed that is also a run seed
    # shares the warm model with the runs
    warm = RunLayout(out).warm_start_dir if config.warm_start is not None else None
    graph = learn_graph(config, graph_dir, jobs=jobs, progress=report, warm_start_dir=warm, seed_data=plan.seed)
    cost = {**graph.provenance["cost"], "method": graph.provenance["method"], "source": "learned",
            "path": str(graph_dir / GRAPH_FILE)}
    if reused is not None:
        cost["copied_from"] = str(reused)
    for name in learned:
        costs[name] = cost
    return plan.with_learned_graph((graph_dir / GRAPH_FILE).resolve()), costs, planned


__all__ = [
    "GRAPH_FILE",
    "diagnostics_of",
    "file_graph_costs",
    "graph_difference",
    "model_record",
    "graph_seeds",
    "graph_targets",
    "learn_graph",
    "learner_for",
    "planted_graph",
    "prepare_graphs",
    "reuse_shared_graph",
    "shared_graph_dir",
    "run_scaled_defaults",
    "seeds_label",
    "with_graph_seed",
    "with_graph_seeds",
]
