"""The experiment plan: everything the phases of a run read, built once per experiment (and once per process).

    plan = ExperimentPlan.build(config, config_dir)     # checks everything; fails before any output
    data = plan.seed(0)                                 # skills, tokenizer, context at seed 0 (built once)
    model = plan.new_model(0)                           # the initial model of every method at seed 0
    policy = plan.policy("skill-it", 0)                 # a fresh policy; its graphs from the parsed specs

:meth:`ExperimentPlan.build` loads the task at the first seed, builds the tokenizer and measures the context
(:class:`~skillit.experiment.build.SeedData`), builds every method's policy once and initialises it on a dry
context (the checks :func:`validate_experiment` runs), and records, per method, the
graph specs its policy asked for, parsed once into the typed union of :mod:`skillit.graph.spec`
(:class:`MethodPlan`). Nothing above the policy layer reads a policy's parameters: the policy's factory asks
for its graphs through the plan's resolver, and the plan knows a method's graphs only from those requests
(a ``staged`` method's stages included).

A plan pickles without its per-seed data: a worker process (``--jobs N``) receives it once
(:func:`skillit.utils.parallel.run_in_workers` with ``shared=``) and builds each seed's data there at most once,
for every run it trains.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from skillit.errors import ConfigError, SkillitError
from skillit.experiment.build import (
    SeedData,
    build_model,
    build_seed_data,
    build_skillset,
    build_tokenizer,
    context_info,
    dry_run_context,
    reference_method,
    resolve_graph_spec,
    task_skillset,
    train_config,
)
from skillit.experiment.config import ExperimentConfig
from skillit.graph.skills_graph import SkillsGraph
from skillit.graph.spec import FileGraph, GraphSpec, LearnGraph, parse_graph_spec
from skillit.policy.base import MixingPolicy
from skillit.policy.registry import build_policy
from skillit.skills.skillset import SkillSet
from skillit.trainer.loop import TrainConfig


@dataclass(frozen=True)
class MethodPlan:
    """One method of the config: its policy's registered name, the graphs that policy asked for (parsed), the
    method whose runs give it reference losses (``ref_loss`` policies, else None) and its ``describe()``."""

    name: str
    policy: str
    graphs: tuple[GraphSpec, ...]
    reference: str | None
    described: dict[str, Any]

    @property
    def learns_graph(self) -> bool:
        """Whether one of its graphs is ``graph: learn`` (learned once before the runs)."""
        return any(isinstance(graph, LearnGraph) for graph in self.graphs)


class ExperimentPlan:
    """What every phase of an experiment reads: the config, the methods (:class:`MethodPlan`), each seed's data
    (:meth:`seed`, built once), the model factory (:meth:`new_model`) and the policies (:meth:`policy`).

    Build it with :meth:`build`; ``learned_graph`` is set by :meth:`with_learned_graph` once the graph-learning
    phase has written the graph that ``graph: learn`` stands for.
    """

    def __init__(
        self,
        config: ExperimentConfig,
        config_dir: Path | None,
        methods: dict[str, MethodPlan],
        graph_specs: dict[str, GraphSpec],
        seeds: dict[int, SeedData] | None = None,
        learned_graph: Path | None = None,
    ):
        self.config = config
        self.config_dir = config_dir
        self.methods = methods
        self._graph_specs = graph_specs  # {text as written: parsed spec}
        self._seeds = dict(seeds or {})
        self.learned_graph = learned_graph

    # ---- building ----------------------------------------------------------------------------------
    @classmethod
    def build(cls, config: ExperimentConfig, config_dir: str | Path | None = None) -> ExperimentPlan:
        """Load the first seed's data, build and dry-initialise every method's policy, find the references.

        Every check that can run before training runs here, so bad input fails before any output: unknown
        skills and objective weights, warm-start skills, an automatic block size too large, a graph that does
        not fit, a policy's own set-up checks, a missing reference method.
        """
        config_dir = Path(config_dir) if config_dir is not None else None
        seed = config.seeds[0]
        full = task_skillset(config, seed)
        skills = build_skillset(config, seed, full)
        if config.warm_start is not None:
            full.check_names(config.warm_start.skills, role="train", where="warm_start.skills")
        tokenizer = build_tokenizer(config, full)
        data = SeedData(seed, full, skills, tokenizer, context_info(config, full, tokenizer))
        graph_specs: dict[str, GraphSpec] = {}
        asked: dict[str, list[GraphSpec]] = {}
        policies: dict[str, MixingPolicy] = {}
        for method in config.methods:
            asked[method] = []
            resolve = _recording_resolver(config, skills, config_dir, graph_specs, asked[method])
            policies[method] = _build_method_policy(config, method, resolve)
        context = dry_run_context(config, skills)
        for method, policy in policies.items():
            try:
                state = policy.init(context)
                policy.weights(state)
            except SkillitError as exc:
                raise type(exc)(f"method {method!r}: {exc}") from None
        methods = {
            method: MethodPlan(method, config.policy_of(method), tuple(dict.fromkeys(asked[method])),
                               reference_method(config, method, policies), policy.describe())
            for method, policy in policies.items()
        }
        return cls(config, config_dir, methods, graph_specs, {seed: data})

    def with_learned_graph(self, path: str | Path) -> ExperimentPlan:
        """This plan with ``graph: learn`` standing for the graph file at ``path`` (the graph-learning phase's)."""
        plan = ExperimentPlan(self.config, self.config_dir, self.methods, self._graph_specs, learned_graph=Path(path))
        plan._seeds = self._seeds  # the same data (copy.copy would drop it, as pickling does)
        return plan

    # ---- what the phases read ----------------------------------------------------------------------
    def seed(self, seed: int) -> SeedData:
        """The task's skills, the selection, tokenizer and context at ``seed``: loaded once per process."""
        if seed not in self._seeds:
            self._seeds[seed] = build_seed_data(self.config, seed)
        return self._seeds[seed]

    @property
    def first(self) -> SeedData:
        """The first seed's data: what the summary and the graph learner's planning read."""
        return self.seed(self.config.seeds[0])

    def new_model(self, seed: int) -> torch.nn.Module:
        """The initial model at ``seed`` (seeded; every method of the seed starts from the same weights)."""
        data = self.seed(seed)
        return build_model(self.config, data.tokenizer, data.block_size, seed)

    def train_config(self, seed: int) -> TrainConfig:
        return train_config(self.config, seed)

    def check_graphs_learned(self, method: str) -> None:
        """A run of a ``graph: learn`` method needs the learned graph (:meth:`with_learned_graph`)."""
        if self.methods[method].learns_graph and self.learned_graph is None:
            raise ConfigError(
                f"method {method!r}: graph 'learn' is learned by run_experiment once before the runs; call "
                "run_experiment, or learn it with `skillit graph CONFIG` and give the graph.json path"
            )

    def policy(self, method: str, seed: int) -> MixingPolicy:
        """A fresh policy of ``method`` for a run at ``seed``; ``graph: learn`` reads :attr:`learned_graph`."""
        self.check_graphs_learned(method)
        skills = self.seed(seed).skills

        def resolve(text: str) -> SkillsGraph:
            return resolve_graph_spec(self.graph_spec(text), self.config, skills)

        return _build_method_policy(self.config, method, resolve)

    def graph_spec(self, text: str) -> GraphSpec:
        """The parsed spec of a graph parameter as written (``learn``: the learned file once there is one)."""
        spec = self._graph_specs.get(text)
        if spec is None:  # a graph the policies did not ask for while the plan was built
            spec = self._graph_specs[text] = parse_graph_spec(text, self.config_dir)
        if isinstance(spec, LearnGraph) and self.learned_graph is not None:
            return FileGraph(self.learned_graph)
        return spec

    @property
    def learning_methods(self) -> list[str]:
        """The methods with a ``graph: learn`` (in any of their policy's graphs)."""
        return [name for name, method in self.methods.items() if method.learns_graph]

    def graph_files(self) -> dict[str, Path]:
        """Per method, the graph file its policy reads (the first, where a policy reads several)."""
        files: dict[str, Path] = {}
        for name, method in self.methods.items():
            found = next((graph.path for graph in method.graphs if isinstance(graph, FileGraph)), None)
            if found is not None:
                files[name] = found
        return files

    @property
    def references(self) -> dict[str, str | None]:
        return {name: method.reference for name, method in self.methods.items()}

    @property
    def described(self) -> dict[str, dict[str, Any]]:
        """Every method's ``policy.describe()`` (the run directory's manifest records them)."""
        return {name: method.described for name, method in self.methods.items()}

    # ---- pickling: a worker process gets the plan once and builds each seed's data itself ----------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_seeds"] = {}
        return state


def validate_experiment(config: ExperimentConfig, config_dir: str | Path | None = None) -> dict[str, str | None]:
    """Build the plan (the skills, every method's policy initialised on a dry context): fail before any output.

    Returns each method's reference method (:func:`~skillit.experiment.build.reference_method`), ``None`` for most.
    """
    return ExperimentPlan.build(config, config_dir).references


def _recording_resolver(config: ExperimentConfig, skills: SkillSet, config_dir: Path | None,
                        specs: dict[str, GraphSpec], asked: list[GraphSpec]) -> Callable[[str], SkillsGraph]:
    """A graph resolver that parses each text once into ``specs`` and records, in ``asked``, what a policy asked for."""

    def resolve(text: str) -> SkillsGraph:
        spec = specs.get(text)
        if spec is None:
            spec = specs[text] = parse_graph_spec(text, config_dir)
        asked.append(spec)
        return resolve_graph_spec(spec, config, skills)

    return resolve


def _build_method_policy(config: ExperimentConfig, method: str, resolve: Callable[[str], SkillsGraph]) -> MixingPolicy:
    spec = config.methods[method]
    return build_policy(config.policy_of(method), spec.params, resolve_graph=resolve, wrappers=spec.wrappers,
                        where=f"method {method!r}")


__all__ = ["ExperimentPlan", "MethodPlan", "validate_experiment"]
