"""Experiments: typed configs (the YAML schema), the runner that trains every method × seed, and the
static-mixture search built on it."""

from __future__ import annotations

from skillit.utils.lazy import lazy_names

# name -> the module that defines it, imported on first use (PEP 562): the config schema
# (skillit.experiment.config) loads without the runner, which trains (torch)
_LAZY: dict[str, str] = {
    **dict.fromkeys(("ExperimentConfig", "load_config", "parse_config", "shipped_config_names"),
                    "skillit.experiment.config"),
    **dict.fromkeys(("plan_search", "run_search"), "skillit.experiment.mixture_search"),
    "RunDirectory": "skillit.experiment.run_dir",
    **dict.fromkeys(("apply_overrides", "run_experiment", "run_one", "validate_experiment"),
                    "skillit.experiment.runner"),
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


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
