"""Experiments: typed configs (the YAML schema) and the runner that trains every method × seed."""

from skillit.experiment.config import (
    ExperimentConfig,
    load_config,
    parse_config,
    shipped_config_names,
)
from skillit.experiment.run_dir import RunDirectory
from skillit.experiment.runner import apply_overrides, run_experiment, run_one, validate_experiment

__all__ = [
    "ExperimentConfig",
    "RunDirectory",
    "apply_overrides",
    "load_config",
    "parse_config",
    "run_experiment",
    "run_one",
    "shipped_config_names",
    "validate_experiment",
]
