"""Reference losses: a reference model's per-skill validation losses, for policies that require ``ref_loss``
(DoReMi's excess loss, Xie et al. 2023 §2: ℓ_θ(skill) − ℓ_ref(skill)).

The Mixer asks ``reference.at(step)`` at the end of each round of such a policy. Two sources: a recorded run
(:class:`RecordedReference`, what the experiment runner's reference phase gives) or a model evaluated once when
the Mixer starts (:class:`ModelReference`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

import numpy as np
import torch

from skillit.errors import ConfigError
from skillit.trainer.evaluation import SkillEvaluator


class ReferenceLosses(Protocol):
    """Per-skill validation losses of a reference model, for policies that require ``ref_loss`` (DoReMi)."""

    def at(self, step: int) -> Mapping[str, float]: ...


class RecordedReference:
    """Reference losses from a recorded run (a reference model trained on a fixed mixture, DoReMi §2).

    ``records`` are a run's evaluation records (``TrainResult.records``, or one method × seed of a
    ``metrics.jsonl``): dicts with ``step`` and ``losses``. ``at="final"`` (the default, DoReMi's
    semantics: the excess loss is measured against the *trained* reference model) gives the losses of its
    last evaluation at every step; ``at="same_step"`` gives the losses of its last evaluation at or before
    the asking step (a reference trajectory; note that a same-seed stratified run followed step by step by a
    stratified-started policy gives zero excess until the mixtures differ).
    """

    def __init__(self, records: Sequence[Mapping[str, Any]], *, at: Literal["final", "same_step"] = "final"):
        rows = sorted(((int(r["step"]), dict(r["losses"])) for r in records), key=lambda row: row[0])
        if not rows:
            raise ConfigError("a recorded reference needs at least one evaluation record")
        if at not in ("final", "same_step"):
            raise ConfigError(f"a recorded reference is read at 'final' or 'same_step', got {at!r}")
        self.mode = at
        self._steps = [step for step, _ in rows]
        self._losses = [losses for _, losses in rows]

    def at(self, step: int) -> Mapping[str, float]:
        if self.mode == "final":
            return self._losses[-1]
        index = int(np.searchsorted(self._steps, step, side="right")) - 1
        return self._losses[max(index, 0)]


class ModelReference:
    """A reference model evaluated once, on the same validation sets, when the Mixer starts."""

    def __init__(self, model: torch.nn.Module):
        self.model = model
        self._losses: dict[str, float] | None = None

    def evaluate(self, evaluator: SkillEvaluator) -> None:
        self._losses = dict(evaluator(self.model, 0).losses)

    def at(self, step: int) -> Mapping[str, float]:
        if self._losses is None:
            raise ConfigError("the reference model has not been evaluated (Mixer.start does it)")
        return self._losses


__all__ = ["ModelReference", "RecordedReference", "ReferenceLosses"]
