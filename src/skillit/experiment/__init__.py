"""Experiments: typed configs (the YAML schema), the runner that trains every method × seed, and the
static-mixture search built on it."""

from skillit.experiment.config import (
    ExperimentConfig,
    load_config,
    parse_config,
    shipped_config_names,
)
from skillit.experiment.mixture_search import plan_search, run_search
from skillit.experiment.run_dir import RunDirectory
from skillit.experiment.runner import apply_overrides, run_experiment, run_one, validate_experiment

__all__ = [
    "ExperimentConfig",
    "RunDirectory",
    "apply_overrides",
    "load_config",
    "parse_config",
    "plan_search",
    "run_experiment",
    "run_one",
    "run_search",
    "shipped_config_names",
    "validate_experiment",
]
