"""``check_policy``: the contract every mixing policy must keep, for your own policies too.

    from skillit.testing import check_policy
    check_policy(MyPolicy(...))          # raises PolicyCheckError (an AssertionError) naming what broke

It drives the policy through a few rounds of made-up but deterministic observations carrying every signal
(validation and training losses, reference losses, gradient statistics and probes, counts) and checks:

1. ``requires`` names only known signals (:data:`skillit.policy.base.SIGNALS`);
2. ``weights`` is a finite simplex vector of shape (k,) after ``init`` and after every ``update``, and zero
   outside ``scope`` when the policy restricts examples; ``plan`` returns a valid :class:`RoundPlan`;
3. states are plain JSON, and a JSON round trip restores the policy exactly (same weights now and after
   the next update); ``pack_state``/``unpack_state`` round-trip and refuse another policy's state;
4. ``update`` never mutates its input state (the state is serialised before the call and compared after);
5. the same observations give the same weights (two runs from ``init``);
6. signals the policy did not ask for do not change its weights (the same run with each unrequested
   signal removed, and with it replaced by other values, gives the same weights); the message names the
   signal(s) that changed them.

Without a ``context`` the run uses the policy's own skills where it has them — the rows and columns of its
skills graph (looking through wrappers and stages), see :func:`policy_skills` — and skills ``a``, ``b``, ``c``
otherwise.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from skillit.errors import PolicyError
from skillit.graph import SkillsGraph
from skillit.policy.base import (
    SIGNALS,
    EvalResult,
    GradProbe,
    GradStats,
    MixingPolicy,
    Observation,
    PolicyContext,
    RoundPlan,
)


class PolicyCheckError(AssertionError):
    """A policy broke the contract; the message says which check and where."""


def example_context(skills: Sequence[str] = ("a", "b", "c"), *, seed: int = 0, rounds: int = 6,
                    setting: str = "pretrain", eval_skills: Sequence[str] | None = None,
                    target_skills: Sequence[str] | None = None) -> PolicyContext:
    """A small context: skills of pools 3, 4, 5, 3, ... (natural 3:4:5 for three skills), an initial evaluation
    and pool scores. ``eval_skills`` defaults to ``skills``, ``target_skills`` to ``eval_skills``."""
    rng = np.random.default_rng(seed)
    evals = tuple(skills) if eval_skills is None else tuple(eval_skills)
    targets = evals if target_skills is None else tuple(target_skills)
    pools = tuple(3 + (i % 3) for i in range(len(skills)))
    initial = EvalResult(0, {s: float(2.0 + rng.random()) for s in evals}, {s: 0.0 for s in evals})
    scores = {s: np.round(rng.random(n), 3) for s, n in zip(skills, pools)}
    return PolicyContext(
        train_skills=tuple(skills), eval_skills=evals, target_skills=targets, setting=setting,  # type: ignore[arg-type]
        natural_proportions=tuple(float(n) for n in pools), pool_sizes=pools, n_rounds=rounds, round_steps=10,
        initial_eval=initial, score_pool=lambda: {k: v.copy() for k, v in scores.items()},
        total_steps=rounds * 10, batch_size=8, seed=seed,
    )


def _skills_of(policy: object, seen: set[int]) -> list[tuple[Sequence[str], Sequence[str]]]:
    """(training, evaluation) skills the policy names: its skills graph's rows and columns, its inner
    policy's (wrappers), its stages' and the stages' skill lists (``staged``)."""
    if id(policy) in seen:
        return []
    seen.add(id(policy))
    out = [(g.train_skills, g.eval_skills) for g in (getattr(policy, "graph", None), getattr(policy, "_graph", None))
           if isinstance(g, SkillsGraph)]
    inner = getattr(policy, "inner", None)
    if isinstance(inner, MixingPolicy):
        out += _skills_of(inner, seen)
    for stage in getattr(policy, "stages", None) or ():
        if isinstance(getattr(stage, "policy", None), MixingPolicy):
            out += _skills_of(stage.policy, seen)
        if getattr(stage, "skills", None):
            out.append((tuple(stage.skills), ()))
    return out


def policy_skills(policy: MixingPolicy) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The training and evaluation skills a policy is built on, in order of first appearance: the rows and
    columns of its skills graph(s), looking through wrappers and ``staged`` stages (a stage's ``skills`` count
    as training skills); ``None`` when the policy names no skills."""
    found = _skills_of(policy, set())
    train = tuple(dict.fromkeys(s for rows, _ in found for s in rows))
    if not train:
        return None
    evals = tuple(dict.fromkeys(s for _, columns in found for s in columns)) or train
    return train, evals


def policy_context(policy: MixingPolicy, *, seed: int = 0) -> PolicyContext:
    """``check_policy``'s default context: :func:`example_context` over the policy's own skills
    (:func:`policy_skills`), or over ``a``, ``b``, ``c`` when the policy names none.

    Graph columns equal to its rows: pre-training. Columns among the rows: fine-tuning on the columns
    (every row evaluated). Otherwise: out-of-domain, evaluated on the columns."""
    skills = policy_skills(policy)
    if skills is None:
        return example_context(seed=seed)
    train, evals = skills
    if set(evals) == set(train):
        return example_context(train, seed=seed)
    if set(evals) <= set(train):
        return example_context(train, seed=seed, setting="finetune", target_skills=evals)
    return example_context(train, seed=seed, setting="out-of-domain", eval_skills=evals)


def example_observations(context: PolicyContext, *, rounds: int | None = None, seed: int = 0) -> list[Observation]:
    """Observations with every signal filled, deterministic in ``seed``; losses decrease over rounds."""
    rng = np.random.default_rng(seed + 1)
    k, train, evals = context.k, context.train_skills, context.eval_skills
    seen = np.zeros(k, dtype=int)
    out = []
    for t in range(rounds if rounds is not None else context.n_rounds):
        step = (t + 1) * context.round_steps
        decay = 1.0 / (1.0 + 0.3 * t)
        evaluations = tuple(
            EvalResult(step - context.round_steps // 2 * (1 - e), {s: float((1.0 + rng.random()) * decay) for s in evals},
                       {s: float(rng.random()) for s in evals})
            for e in range(2)
        )
        drawn = rng.integers(1, 10, size=k)
        seen = seen + drawn
        vectors = rng.normal(size=(k, 4))
        gram = vectors @ vectors.T
        out.append(Observation(
            round=t, step=step, evals=evaluations, examples_seen={s: int(n) for s, n in zip(train, seen)},
            kind="train", steps=context.round_steps, lr=1e-3,
            round_examples={s: int(n) for s, n in zip(train, drawn)},
            train_tokens={s: int(n) * 7 for s, n in zip(train, drawn)},
            train_loss={s: float((1.2 + rng.random()) * decay) for s in train},
            ref_losses={s: float(0.8 + 0.5 * rng.random()) for s in evals},
            grad=GradStats(tuple(train), gram, np.diag(gram).copy(), rng.random(k) + 0.1, drawn.astype(float), dim=4),
            probe=GradProbe(tuple(train), rng.normal(size=k), rng.random(k) + 0.5, float(rng.random() + 0.5), 8),
        ))
    return out


def _without(observation: Observation, signals: frozenset[str]) -> Observation:
    """The observation with the given signals emptied."""
    changes: dict[str, Any] = {}
    if "train_loss" in signals:
        changes["train_loss"] = {}
    if "ref_loss" in signals:
        changes["ref_losses"] = {}
    if "grad_stats" in signals:
        changes["grad"] = None
    if "grad_probe" in signals:
        changes["probe"] = None
    return replace(observation, **changes)


def _perturbed(observation: Observation, signals: frozenset[str], rng: np.random.Generator) -> Observation:
    """The observation with the given signals replaced by other values."""
    changes: dict[str, Any] = {}
    if "train_loss" in signals:
        changes["train_loss"] = {s: float(rng.random() * 9) for s in observation.train_loss}
    if "ref_loss" in signals:
        changes["ref_losses"] = {s: float(rng.random() * 9) for s in observation.ref_losses}
    if "grad_stats" in signals and observation.grad is not None:
        g = observation.grad
        changes["grad"] = replace(g, gram=g.gram[::-1, ::-1] * 3, sqnorm=g.sqnorm[::-1] * 3, var=g.var[::-1] + 1)
    if "grad_probe" in signals and observation.probe is not None:
        p = observation.probe
        changes["probe"] = replace(p, alignment=p.alignment[::-1] * 3 + 1, sqnorm=p.sqnorm[::-1] * 3)
    return replace(observation, **changes)


def _fail(policy: MixingPolicy, what: str) -> PolicyCheckError:
    return PolicyCheckError(f"policy {policy.name!r}: {what}")


def _check_weights(policy: MixingPolicy, state: Any, k: int, where: str) -> np.ndarray:
    w = np.asarray(policy.weights(state), dtype=float)
    if w.shape != (k,):
        raise _fail(policy, f"{where}: weights have shape {w.shape}, expected ({k},)")
    if not np.isfinite(w).all() or (w < 0).any() or abs(w.sum() - 1.0) > 1e-9:
        raise _fail(policy, f"{where}: weights must be finite, non-negative and sum to 1, got {w.tolist()}")
    scope = policy.scope(state)
    if scope is not None and any(w[s] > 0 for s in range(k) if s not in scope):
        raise _fail(policy, f"{where}: a skill with no admitted example has weight > 0 ({w.tolist()}, scope {sorted(scope)})")
    plan = policy.plan(state, 10)
    if not isinstance(plan, RoundPlan):
        raise _fail(policy, f"{where}: plan() returned {type(plan).__name__}, expected RoundPlan")
    if plan.weights is not None:
        pw = np.asarray(plan.weights, dtype=float)
        if pw.shape != (k,) or not np.isfinite(pw).all() or (pw < 0).any() or abs(pw.sum() - 1.0) > 1e-9:
            raise _fail(policy, f"{where}: the planned mixture must be a simplex vector of shape ({k},), got {pw.tolist()}")
    return w


def _as_json(policy: MixingPolicy, state: Any, where: str) -> str:
    try:
        return json.dumps(state, sort_keys=True, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise _fail(policy, f"{where}: the state is not plain JSON ({exc})") from None


def _trajectory(policy: MixingPolicy, context: PolicyContext, observations: Sequence[Observation],
                transform: Callable[[Observation], Observation] = lambda o: o) -> np.ndarray:
    state = policy.init(context)
    out = [np.asarray(policy.weights(state), dtype=float)]
    for observation in observations:
        state = policy.update(state, transform(observation))
        out.append(np.asarray(policy.weights(state), dtype=float))
    return np.array(out)


def check_policy(
    policy: MixingPolicy,
    context: PolicyContext | None = None,
    observations: Sequence[Observation] | None = None,
    *,
    seed: int = 0,
) -> None:
    """Run every check of the module docstring; raise :class:`PolicyCheckError` on the first failure."""
    context = context or policy_context(policy, seed=seed)
    observations = list(observations) if observations is not None else example_observations(context, seed=seed)
    k = context.k
    unknown = set(policy.requires) - set(SIGNALS)
    if unknown:
        raise _fail(policy, f"requires unknown signal(s) {sorted(unknown)}; known: {list(SIGNALS)}")

    state = policy.init(context)
    _as_json(policy, state, "init")
    _check_weights(policy, state, k, "after init")
    for t, observation in enumerate(observations):
        where = f"round {t}"
        before = _as_json(policy, state, where)
        snapshot = copy.deepcopy(state)
        restored = json.loads(before)
        if not np.array_equal(policy.weights(restored), policy.weights(state)):
            raise _fail(policy, f"{where}: a JSON round trip of the state changes the weights")
        packed = json.loads(json.dumps(policy.pack_state(state), allow_nan=True))
        if not np.array_equal(policy.weights(policy.unpack_state(packed)), policy.weights(state)):
            raise _fail(policy, f"{where}: pack_state/unpack_state does not restore the state")
        new_state = policy.update(state, observation)
        if _as_json(policy, state, where) != before or _as_json(policy, snapshot, where) != before:
            raise _fail(policy, f"{where}: update() mutated its input state (policies must return a new state)")
        again = policy.update(restored, observation)
        if not np.array_equal(policy.weights(again), policy.weights(new_state)):
            raise _fail(policy, f"{where}: a state restored from JSON evolves differently from the original")
        state = new_state
        _as_json(policy, state, where)
        _check_weights(policy, state, k, f"after {where}")

    foreign = {"policy": f"not-{policy.name}", "version": policy.version, "state": {}}
    try:
        policy.unpack_state(foreign)
    except PolicyError:
        pass
    else:
        raise _fail(policy, "unpack_state accepted another policy's state")

    first = _trajectory(policy, context, observations)
    if not np.array_equal(first, _trajectory(policy, context, observations)):
        raise _fail(policy, "the same observations gave different weights (the policy is not deterministic)")

    unrequested = [s for s in SIGNALS if s not in policy.requires and s != "val_loss"]
    changed = []
    for signal in unrequested:  # one at a time, so the message names the signal(s) that mattered
        only = frozenset({signal})
        rng = np.random.default_rng(seed + 7)
        stripped = _trajectory(policy, context, observations, lambda o: _without(o, only))
        perturbed = _trajectory(policy, context, observations, lambda o: _perturbed(o, only, rng))
        if not (np.array_equal(first, stripped) and np.array_equal(first, perturbed)):
            changed.append(signal)
    if changed:
        raise _fail(policy, f"its weights depend on signal(s) it did not declare in requires: {changed}; "
                            f"add them to requires (requires = {{{', '.join(repr(s) for s in sorted({*policy.requires, *changed}))}}})")


__all__ = ["PolicyCheckError", "check_policy", "example_context", "example_observations", "policy_context",
           "policy_skills"]
