"""The graph learners' parameter models, by name: what a config's ``graph_learning`` section is checked against.

Torch-free (pydantic only), so that the config schema and ``skillit --help`` load without the learners, which
train; the learners (``skillit.graph_learners.linear`` and the others) take their ``Params`` from here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from skillit.errors import ConfigError, pydantic_details
from skillit.utils.schema import StrictModel


class LearnerParams(StrictModel):
    """Settings every learner has. ``steps`` is the length of each run (h or H in the paper).

    As every config section: unknown keys, ``true`` for a number and NaN/inf are refused (``steps: true``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    steps: int = Field(ge=1, description="optimiser steps of each run (h in Alg. 3, H in Alg. 2)")
    base_steps: int = Field(0, ge=0, description="stratified warm-start steps before the runs (0: the initial model)")
    lr: float | None = Field(None, gt=0, description="learning rate of the runs; default: the training lr")
    batch_size: int | None = Field(None, ge=1, description="batch size of the runs; default: the training batch size")
    eval_every: int | None = Field(None, ge=1, description="evaluate every this many steps within a run; default: at the end")
    warmup_steps: int = Field(0, ge=0, description="lr warm-up of each run (the base uses the training warm-up)")
    scale: Literal["none", "max"] = Field(
        "none", description="max: divide A by its largest |entry| (the paper's graphs are on a 0..1 scale)"
    )


class LinearParams(LearnerParams):
    steps: int = Field(100, ge=1, description="h: steps of each single-skill run")
    normalise: bool = Field(True, description="relative loss decrease δ/L(base) instead of the raw δ")
    negative: Literal["zero", "keep"] = Field("zero", description="what to do with loss increases (δ < 0)")


class BruteForceParams(LearnerParams):
    steps: int = Field(200, ge=1, description="H: steps of each single and pair run")
    normalise: bool = Field(True, description="relative loss decreases δ/L(base) instead of raw δ")
    negative: Literal["zero", "keep"] = Field("zero", description="keep negative differences or set them to 0")


class ThresholdParams(LearnerParams):
    steps: int = Field(500, ge=1, description="H: at most this many steps per run")
    threshold: float = Field(0.1, gt=0, description="validation loss to reach (the paper: 0.01), or a fraction with relative")
    relative: bool = Field(False, description="threshold is a fraction of each skill's loss at the start of a run")
    compare: Literal["steps", "target-examples"] = Field(
        "steps", description="steps: the pair must beat j alone per step (paper); target-examples: per example of j"
    )
    eval_every: int | None = Field(None, ge=1, description="evaluation spacing (the step resolution); default H/20")
    weight: Literal["paper", "speedup"] = Field("paper", description="edge weight: 0.5 (diagonal 1) or relative saving")


class ProbeParams(LearnerParams):
    steps: int = Field(25, ge=1, description="h: steps of each probe")
    base_steps: int = Field(300, ge=0, description="length of the shared stratified trajectory that is probed")
    points: int = Field(3, ge=1, description="probe points along the base trajectory (evenly spaced, the last at base_steps)")
    mix: float | None = Field(None, gt=0, le=1, description="f: share of the probed skill in a probe's mixture (rest "
                              "uniform); default 0.5, or 0.75 with 2 training skills (0.5 = 1/k cannot be de-mixed)")
    control: bool = Field(False, description="subtract the loss decrease of a stratified control probe")
    normalise: bool = Field(True, description="relative loss decreases δ/L(t) instead of raw δ")
    negative: Literal["zero", "keep"] = Field("zero", description="keep negative entries or set them to 0")


class TracInParams(LearnerParams):
    steps: int = Field(2, ge=1, description="training batches per skill whose mean gradient is g_i, at each checkpoint")
    base_steps: int = Field(300, ge=1, description="length of the stratified base run whose checkpoints are read")
    points: int = Field(3, ge=1, description="C: checkpoints along the base run (evenly spaced, the last at base_steps)")
    eval_examples: int | None = Field(
        None, ge=1, description="validation examples per skill for h_j at each checkpoint (the subset rotates "
        "from checkpoint to checkpoint); default: all of them")
    projection: int = Field(0, ge=0, description="r: project every gradient by a seeded Gaussian R (r × P); 0: exact")
    similarity: Literal["dot", "cosine"] = Field(
        "dot", description="the inner product (TracIn), or the cosine (LESS); measured side by side in docs/graphs.md")
    control: bool = Field(True, description="subtract the mean training gradient ḡ (a stratified batch's effect)")
    normalise: bool = Field(True, description="divide column j by L_j(t): relative loss decreases")
    negative: Literal["zero", "keep"] = Field("zero", description="keep negative entries or set them to 0")

    @model_validator(mode="after")
    def _no_run_settings(self) -> TracInParams:
        unused = [name for name in ("lr", "eval_every") if getattr(self, name) is not None] + (
            ["warmup_steps"] if self.warmup_steps else [])
        if unused:
            raise ValueError(
                f"{', '.join(unused)}: tracin trains nothing besides the base run (which keeps the training lr and "
                "warm-up), so these run settings do not apply; leave them out"
            )
        return self


# name -> parameter model, in the order `skillit graph --help` and the docs list the learners; each learner class
# of skillit.graph_learners.LEARNERS has the same name and Params (tests/graph/test_learner_params.py)
LEARNER_PARAMS: dict[str, type[LearnerParams]] = {
    "linear": LinearParams,
    "brute-force": BruteForceParams,
    "threshold": ThresholdParams,
    "probe": ProbeParams,
    "tracin": TracInParams,
}


def learner_names() -> list[str]:
    return list(LEARNER_PARAMS)


def learner_params_model(name: str) -> type[LearnerParams]:
    """The parameter model of the learner ``name``; an unknown name is a ConfigError with the closest names."""
    if name in LEARNER_PARAMS:
        return LEARNER_PARAMS[name]
    # not built in: a learner registered by an imported module or an installed package's entry point (this
    # imports the learners, and torch, only for such a name); an unknown name is refused there, with the ways
    # to make a learner known
    from skillit.graph_learners.registry import get_learner

    return get_learner(name).Params


def parse_learner_params(name: str, model: type[LearnerParams], data: dict[str, Any]) -> LearnerParams:
    """``data`` validated by ``model``; invalid values are a ConfigError naming the learner ``name``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"graph learner {name!r}: invalid parameters: {pydantic_details(exc)}") from None


def check_learner_params(name: str, params: dict[str, Any]) -> LearnerParams:
    """What ``build_learner(name, params)`` would refuse, refused without building (or importing) the learner."""
    return parse_learner_params(name, learner_params_model(name), params)
