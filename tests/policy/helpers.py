"""Tiny contexts and observations for policy tests."""

from __future__ import annotations

from skillit.policy import EvalResult, Observation, PolicyContext


def context(train=("a", "b", "c"), evals=None, targets=None, setting="pretrain", natural=None, pools=None,
            rounds=6, initial=None, scores=None) -> PolicyContext:
    evals = tuple(evals if evals is not None else train)
    initial_eval = EvalResult(0, initial if initial is not None else {name: 2.0 for name in evals})
    return PolicyContext(
        train_skills=tuple(train),
        eval_skills=evals,
        target_skills=tuple(targets if targets is not None else evals),
        setting=setting,
        natural_proportions=natural,
        pool_sizes=pools,
        n_rounds=rounds,
        round_steps=10,
        initial_eval=initial_eval,
        score_pool=(lambda: scores) if scores is not None else None,
    )


def observe(round_index, *losses_per_eval, step=None):
    evals = tuple(EvalResult(step or (round_index + 1) * 10, dict(losses)) for losses in losses_per_eval)
    return Observation(round=round_index, step=step or (round_index + 1) * 10, evals=evals)
