"""How good can a static mixture be? A RegMix-style search on one benchmark, then a held-out test (issue 9).

Search: ``--trials`` static mixtures drawn around stratified (plus stratified itself), one run each at one
held-out seed (``--search-seed``, default 100: not a board seed), through the one experiment driver; a ridge
fit of the objective on the mixture (``--model linear``, RegMix's, or ``log``, on log-shares); the mean of the
top-k simulated mixtures by predicted loss (``skillit.experiment.mixture_search`` has the equations); or
``--model best-trial``, no fit: the trial with the lowest loss. Test:
the proposed mixture as a ``static`` method (``search-MODEL``) beside the benchmark's own stratified, on the
evaluation seeds (default: the config's, 0-2), which the search never saw.

    python benchmarks/mixture_search.py math-pretrain --trials 24 --model log --jobs 2 --out runs/search/math-pretrain
    skillit compare runs/search/math-pretrain/test-log --out runs/search/math-pretrain/board-log

Outputs in OUT: ``search/`` (the trial runs, shared by every model), ``search-MODEL.json`` (every trial's
mixture and loss, the fit's coefficients and leave-one-out error, the proposal), ``test-MODEL/`` (the
held-out runs; its ``summary.json`` records the search's ``trials + 1`` runs as ``offline_cost``, which
``skillit compare`` shows as extra steps). Run again with the same arguments, a started phase resumes (its
finished runs are kept; a changed set-up is refused), so an interrupted search loses only its unfinished
runs and a second model costs only its test. The search costs ``trials + 1`` runs of the benchmark's length:
the price of the hindsight.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from skillit.errors import DataError, SkillitError
from skillit.experiment.build import build_skillset
from skillit.experiment.config import ExperimentConfig, load_config, shipped_config_path
from skillit.experiment.mixture_search import (
    FEATURES,
    check_ridge,
    check_top_k,
    fit_linear,
    propose,
    sample_mixtures,
)
from skillit.experiment.runner import apply_overrides, run_experiment
from skillit.records.metrics import read_metrics
from skillit.utils.io import atomic_write_json

SIMULATIONS = 100_000  # mixtures the fit ranks for the proposal (RegMix's 100k)


def _train_skills(config: ExperimentConfig) -> list[str]:
    return build_skillset(config, config.seeds[0]).train_names


def _with_methods(config: ExperimentConfig, methods: dict, seeds, steps: int | None) -> ExperimentConfig:
    data = config.model_dump()
    data["methods"] = methods
    return apply_overrides(type(config).model_validate(data), seeds=seeds, steps=steps)


def _run(config: ExperimentConfig, out: Path, config_dir: Path, jobs: int) -> dict:
    """Run one phase into ``out``; a phase an earlier call started resumes: the run directory checks that it is
    the same set-up (else it refuses, naming the difference), keeps every finished run and trains the rest."""
    resume = out.exists()
    if resume:
        print(f"{out}: started earlier, resumed (finished runs kept)", file=sys.stderr)
    return run_experiment(config, out, config_dir=config_dir, jobs=jobs, resume=resume,
                          progress=lambda done, total: print(f"\r{done}/{total} steps", end="", file=sys.stderr))


def stratified_mixture(folder: Path, seed: int, skills: list[str]) -> np.ndarray:
    """The mixture the stratified run of ``folder`` trained on at ``seed`` (its first record's weights); (k,)."""
    for record in read_metrics(folder / "metrics.jsonl"):
        if record.get("method") == "stratified" and record.get("seed") == seed:
            return np.array([float(record["weights"].get(skill, 0.0)) for skill in skills])
    raise DataError(f"{folder / 'metrics.jsonl'}: no record of the stratified run at seed {seed}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmark", help="a shipped benchmark config name, e.g. math-pretrain")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--trials", type=int, default=24, help="static mixtures to train (plus stratified)")
    parser.add_argument("--search-seed", type=int, default=100, help="the one seed of the search runs (held out)")
    parser.add_argument("--seeds", default=None, help="evaluation seeds: N or a list such as 0-2 (default: the config's)")
    parser.add_argument("--model", choices=(*FEATURES, "best-trial"), default="linear",
                        help="features of the fit: linear (RegMix) or log (log-shares, ours); or best-trial: no "
                             "fit, the trial with the lowest loss at the search seed")
    parser.add_argument("--ridge", type=float, default=1e-2)
    parser.add_argument("--top-k", type=int, default=128)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--steps", type=int, default=None, help="override the benchmark's steps (smoke runs)")
    parser.add_argument("--search-only", action="store_true", help="stop after the proposal")
    args = parser.parse_args(argv)
    if args.trials < 2:  # stratified + 2 trials: the fewest a fit with leave-one-out errors takes
        parser.error(f"--trials must be at least 2, got {args.trials}")
    try:  # every argument checked before anything runs or is written
        path = shipped_config_path(args.benchmark)
        config = load_config(path)
        apply_overrides(config, seeds=args.seeds, steps=args.steps)  # the test phase's --seeds and --steps
        if args.model != "best-trial":
            check_ridge(args.ridge)
            check_top_k(args.top_k, SIMULATIONS)
        skills = _train_skills(config)
        rng = np.random.default_rng([args.search_seed, len(skills), args.trials])
        trials = sample_mixtures(len(skills), args.trials, rng).round(6)  # (n, k): the weights the runs train on
        methods = {"stratified": config.model_dump()["methods"].get("stratified", {})}
        for t, mixture in enumerate(trials):
            methods[f"mix-{t:02d}"] = {"policy": "static", "params": {"weights": dict(zip(skills, mixture.tolist()))}}
        search = _with_methods(config, methods, [args.search_seed], args.steps)
    except SkillitError as exc:
        parser.error(str(exc))
    try:
        return _search_and_test(args, config, path, skills, methods, trials, search)
    except SkillitError as exc:  # e.g. a changed set-up resumed into the same folder: one message, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _search_and_test(args, config, path, skills, methods, trials, search) -> int:
    start = time.perf_counter()
    summary = _run(search, args.out / "search", path.parent, args.jobs)
    searched = time.perf_counter() - start
    # the stratified run is one more sample of the fit, at the mixture it trained on (uniform, or uniform over
    # the skills with an edge to the target where the config gives stratified a graph)
    labels = list(methods)  # stratified, then the trials
    mixtures = np.vstack([stratified_mixture(args.out / "search", args.search_seed, skills), trials])
    losses = np.array([summary["methods"][name]["per_seed"][0]["mean_loss"] for name in labels])
    best = int(np.argmin(losses))
    if args.model == "best-trial":  # the plainest hindsight: the lowest of the n + 1 losses, at the search seed
        fit, proposal, predicted = None, mixtures[best] / mixtures[best].sum(), float(losses[best])
    else:
        fit = fit_linear(mixtures, losses, ridge=args.ridge, kind=args.model)
        proposal = propose(fit, len(skills), np.random.default_rng([args.search_seed, 1]), simulations=SIMULATIONS,
                           top_k=args.top_k)
        predicted = float(fit.predict(proposal[None, :])[0])
    record = {
        "benchmark": args.benchmark, "skills": skills, "search_seed": args.search_seed, "model": args.model,
        "ridge": args.ridge, "top_k": args.top_k,
        "trials": [{"method": n, "mixture": x.tolist(), "loss": float(y)}
                   for n, x, y in zip(labels, mixtures, losses)],
        "intercept": fit and fit.intercept, "coef": fit and dict(zip(skills, fit.coef.tolist())),
        "loo_rmse": fit and fit.loo_rmse, "baseline_rmse": fit and fit.baseline_rmse,
        "proposal": dict(zip(skills, proposal.tolist())), "predicted_loss": predicted,
        "best_trial": {"method": labels[best], "loss": float(losses[best])},
        "search_seconds": searched,
    }
    atomic_write_json(args.out / f"search-{args.model}.json", record)
    print(f"\nsearch: {len(losses)} runs in {searched:.0f} s; losses {losses.min():.4f}-{losses.max():.4f} "
          f"(stratified {losses[0]:.4f})")
    if fit is not None:
        print(f"{args.model} fit: leave-one-out rmse {fit.loo_rmse:.4f} against {fit.baseline_rmse:.4f} for the mean; "
              f"proposal predicted {predicted:.4f}")
        if fit.loo_rmse >= fit.baseline_rmse:
            print(f"warning: the {args.model} fit predicts held-out trials no better than their mean; its proposal is "
                  "an extrapolation, not a finding", file=sys.stderr)
    print("proposal: " + ", ".join(f"{s} {w:.3f}" for s, w in zip(skills, proposal)))
    if args.search_only:
        return 0
    weights = {s: round(float(w), 6) for s, w in zip(skills, proposal)}
    method = f"search-{args.model}"
    test = _with_methods(config, {"stratified": methods["stratified"],
                                  method: {"policy": "static", "params": {"weights": weights}}}, args.seeds, args.steps)
    start = time.perf_counter()
    test_dir = args.out / f"test-{args.model}"
    summary = _run(test, test_dir, path.parent, args.jobs)
    if method not in (summary.get("offline_cost") or {}):  # the search's runs, for compare's extra-steps column
        summary["offline_cost"] = {method: {
            "train_steps": len(losses) * search.training.steps, "runs": len(losses),
            "source": f"benchmarks/mixture_search.py, seed {args.search_seed}: {args.out / f'search-{args.model}.json'}"}}
        atomic_write_json(test_dir / "summary.json", summary)
    diffs = [b["mean_loss"] - a["mean_loss"] for a, b in zip(summary["methods"]["stratified"]["per_seed"],
                                                            summary["methods"][method]["per_seed"])]
    print(f"\ntest: {time.perf_counter() - start:.0f} s; {method} - stratified per seed: "
          + ", ".join(f"{d:+.4f}" for d in diffs) + f"; mean {np.mean(diffs):+.4f}")
    print(f"paired table: skillit compare {test_dir} --out {args.out / ('board-' + args.model)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
