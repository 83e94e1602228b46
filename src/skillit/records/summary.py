"""The summary across seeds: final metrics (mean ± std), per-skill numbers and steps to a target loss.

``summary.json`` has this shape::

    {"task": str, "setting": str, "steps": int, "seeds": [int], "objective_skills": [str],
     "target_loss": float | null, "whole_text": bool,
     "methods": {NAME: {"final": {"mean_loss": float, "mean_accuracy": float,
                                  "mean_loss_std": float, "mean_accuracy_std": float,
                                  "per_skill": {SKILL: {"loss": float, "accuracy": float}}},
                        "per_seed": [{"seed", "mean_loss", "mean_accuracy", "per_skill", "steps_to_target",
                                      "train_seconds", "eval_seconds", "eval_examples", "cpu_seconds"}],
                        "steps_to_target": int | null,
                        "train_seconds": float, "eval_seconds": float, "cpu_seconds": float | null}}}

``whole_text`` is true when every validation example is plain text (no prompt: ``text_field`` data, language
modelling; ``skillit.trainer.evaluation.whole_text_targets``): the answer is the whole text, exact-match
accuracy is then all but always 0 and says nothing, and the readers show the loss and the bits per token
(``loss / ln 2``: the loss is the mean per-token cross-entropy in nats) instead of accuracy. Absent (false)
in summaries written before it existed.

``train_seconds``/``eval_seconds`` are wall-clock seconds (a loaded machine stretches them, and runs that
shared the machine with different neighbours are not comparable); ``cpu_seconds`` is the CPU time of the
run's training and evaluation, which load does not stretch (null for runs recorded without it).

``mean_loss``/``mean_accuracy`` average the *objective* skills (all evaluation skills in pre-training and
out-of-domain, the targets in fine-tuning); ``per_skill`` covers every evaluated skill. ``steps_to_target``
is, per seed, the first evaluation step at which the objective skills' mean loss is ≤ ``target_loss``;
the method's value is the mean over seeds, or null unless every seed reached it.

When the driver knows the training pools (finite sizes), the summary also carries ``pool_sizes``
(``{SKILL: int | null}``) and, per method, ``epochs``: ``{SKILL: examples seen / pool size}`` at the end of
the run, mean over seeds (:func:`epochs_per_skill`). Small pools repeat, and repetition moves the best
mixture, so a result is read beside its epochs.

When the task declared junk skills (``task.params.junk``, :mod:`skillit.tasks.junk`), the summary names them:
``junk_skills`` (``[str]``, the runner writes it; absent without junk). ``skillit compare`` and report.html read
it for the share of each method's examples spent on junk (:mod:`skillit.records.budget`).

With ``objective_weights`` (the config's ``{skill: weight}``, normalised to sum 1; an objective skill not named
weighs 0), ``mean_loss``, ``mean_accuracy`` and ``steps_to_target`` are the *weighted* means
Σ_j w_j · x_j over the objective skills, and the summary carries ``objective_weights`` (:func:`objective_weight_vector`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from skillit.policy.objective import objective_weight_vector
from skillit.records.metrics import RunRecord


def _objective(values: Sequence[float | None], weights: np.ndarray | None) -> float | None:
    """The mean of ``values`` (None if one is None), weighted by ``weights`` when given."""
    if any(v is None for v in values):
        return None
    if weights is None:
        return float(np.mean(values))
    return float(np.dot(weights, np.asarray(values, dtype=float)))


def steps_to_target(records: Sequence[dict[str, Any]], skills: Sequence[str], target_loss: float | None,
                    weights: np.ndarray | None = None) -> int | None:
    """First evaluation step whose (weighted) mean loss over ``skills`` is ≤ ``target_loss`` (None if never)."""
    if target_loss is None:
        return None
    for record in records:
        value = _objective([record["losses"][name] for name in skills], weights)
        if value is not None and value <= target_loss:
            return int(record["step"])
    return None


def _seed_summary(run: RunRecord, skills: Sequence[str], target_loss: float | None,
                  weights: np.ndarray | None = None) -> dict[str, Any]:
    final = run.records[-1]
    return {
        "seed": run.seed,
        "mean_loss": _objective([final["losses"][s] for s in skills], weights),
        "mean_accuracy": _objective([final["accuracies"][s] for s in skills], weights),
        "per_skill": {s: {"loss": final["losses"][s], "accuracy": final["accuracies"][s]} for s in final["losses"]},
        "steps_to_target": steps_to_target(run.records, skills, target_loss, weights),
        "train_seconds": run.train_seconds,
        "eval_seconds": run.eval_seconds,
        "eval_examples": run.eval_examples,
        "cpu_seconds": run.extra.get("cpu_seconds"),  # CPU time of training + evaluation (not stretched by load)
    }


BITS_PER_NAT = 1.0 / math.log(2.0)  # a loss in nats per token × this = bits per token


def _mean(values: Sequence[float | None]) -> float | None:
    if any(v is None for v in values):
        return None
    return float(np.mean(values))


def _std(values: Sequence[float | None]) -> float | None:
    if any(v is None for v in values):
        return None
    return float(np.std(values))


def summarize(
    runs: Sequence[RunRecord],
    *,
    task: str,
    setting: str,
    steps: int,
    objective_skills: Sequence[str],
    target_loss: float | None,
    methods: Sequence[str] | None = None,
    whole_text: bool = False,
    objective_weights: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Aggregate finished runs into the ``summary.json`` structure (methods in the given order).

    ``whole_text``: the validation targets are whole plain texts (module docstring).
    ``objective_weights``: the objective is Σ_j w_j · loss_j instead of the plain mean (module docstring).
    """
    weights = objective_weight_vector(objective_skills, objective_weights)
    order = list(methods) if methods is not None else list(dict.fromkeys(run.method for run in runs))
    seeds = sorted({run.seed for run in runs})
    out: dict[str, Any] = {
        "task": task,
        "setting": setting,
        "steps": steps,
        "seeds": seeds,
        "objective_skills": list(objective_skills),
        "target_loss": target_loss,
        "whole_text": bool(whole_text),
        "methods": {},
    }
    if weights is not None:
        out["objective_weights"] = dict(zip(objective_skills, weights.tolist()))
    for method in order:
        mine = sorted((run for run in runs if run.method == method), key=lambda r: r.seed)
        if not mine:
            continue
        per_seed = [_seed_summary(run, objective_skills, target_loss, weights) for run in mine]
        skills = list(per_seed[0]["per_skill"])
        reached = [s["steps_to_target"] for s in per_seed]
        out["methods"][method] = {
            "final": {
                "mean_loss": _mean([s["mean_loss"] for s in per_seed]),
                "mean_accuracy": _mean([s["mean_accuracy"] for s in per_seed]),
                "mean_loss_std": _std([s["mean_loss"] for s in per_seed]),
                "mean_accuracy_std": _std([s["mean_accuracy"] for s in per_seed]),
                "per_skill": {
                    skill: {
                        "loss": _mean([s["per_skill"][skill]["loss"] for s in per_seed]),
                        "accuracy": _mean([s["per_skill"][skill]["accuracy"] for s in per_seed]),
                    }
                    for skill in skills
                },
            },
            "per_seed": per_seed,
            "steps_to_target": (
                None if target_loss is None or any(r is None for r in reached) else float(np.mean(reached))
            ),
            "train_seconds": float(np.mean([run.train_seconds for run in mine])),
            "eval_seconds": float(np.mean([run.eval_seconds for run in mine])),
            "cpu_seconds": _mean([run.extra.get("cpu_seconds") for run in mine]),
        }
    return out


def epochs_per_skill(runs: Sequence[RunRecord], pool_sizes: dict[str, int | None]) -> dict[str, float | None]:
    """Examples seen at the end of each run / the skill's pool size, averaged over ``runs``.

    ``epochs_i = mean over runs of seen_i / N_i``; ``None`` for a skill with an unbounded pool (a stream) or no
    record of examples seen.
    """
    out: dict[str, float | None] = {}
    for skill, size in pool_sizes.items():
        seen = [run.records[-1].get("examples_seen", {}).get(skill) for run in runs if run.records]
        if not size or not seen or any(n is None for n in seen):
            out[skill] = None
        else:
            out[skill] = float(np.mean([n / size for n in seen]))
    return out


def divergence_warnings(runs: Sequence[RunRecord], skills: Sequence[str]) -> list[str]:
    """One line per run whose final loss on an objective skill is NaN or infinite (training diverged).

    A diverged run stays a result (``skillit compare`` ranks it last), but it is never passed over in silence:
    the line names the first evaluation step at which the objective's loss stopped being finite, and the fix.
    """
    out = []
    for run in runs:
        finite = [all(_finite(record.get("losses", {}).get(s)) for s in skills) for record in run.records]
        if not run.records or finite[-1]:
            continue
        first = next(i for i in range(len(finite)) if all(not ok for ok in finite[i:]))
        out.append(
            f"{run.method} (seed {run.seed}): the objective's validation loss is NaN or infinite from step "
            f"{run.records[first].get('step')} on: training diverged, and its results are not a measurement; lower "
            "training.lr, set training.grad_clip (e.g. 1.0) or more warmup_steps"
        )
    return out


def _finite(value: Any) -> bool:
    return value is not None and math.isfinite(float(value))
