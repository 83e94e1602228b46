"""An offline mixture search in the manner of RegMix (Liu et al., ICLR 2025, §3): how good can a *static*
mixture be on a benchmark, chosen with hindsight from many short runs?

The arena's question is whether an online rule beats stratified sampling. When none does, two explanations
compete: the rules are weak, or at this scale no mixture is much better than stratified. This search
measures the second. The steps, as in RegMix:

1. draw n mixtures x_1..x_n from Dirichlet distributions around a prior mixture π: x ~ Dir(c·k·π) with the
   concentration c drawn log-uniformly from [c_min, c_max] per trial, so the trials range from near π (large
   c) to a few skills dominating (small c). π (``prior``) is ``stratified`` (1/k, the default), ``random``
   (each pool's share of the training examples) or ``natural`` (each pool's share of the tokens, RegMix's
   prior: n_i = pool_i · τ_i with τ_i the mean tokens of ``[bos] prompt answer [eos]`` over up to 256
   evenly spaced examples of the pool);
2. train one run per mixture, all at the same held-out seed (common random numbers: same initial model,
   so the differences are the mixture's), and read the objective y_t (final mean loss over the objective);
3. fit ŷ = a + φ(x)·β by ridge regression on centred features (the intercept a is not shrunk, so a large
   λ gives the constant prediction ȳ): β = (Φ̃ᵀΦ̃ + λI)⁻¹ Φ̃ᵀ (y − ȳ), a = ȳ − mean(Φ)·β, Φ̃ = Φ − mean(Φ).
   Features: ``linear``, φ(x) = x (RegMix's linear model), or ``log``, φ(x) = log(x + ε), ε = 0.01: a loss
   that falls like a power of the data a skill gets, L ≈ E + B·(x·N)^(−α) ≈ a + b·log x near the run's
   budget, so the model is convex in x and has an interior minimum, where a linear model's is a vertex;
4. draw ``simulations`` further mixtures from the same distribution, predict ŷ = a + φ(x)·β, return the mean of
   the ``top_k`` mixtures with the lowest prediction (RegMix averages its top 128; averaging keeps the result
   away from the vertex a linear model's minimum sits on).

The driver (``skillit search``, :func:`plan_search` then :func:`run_search`) does the steps on a config:
the search phase trains stratified and the n trials at the held-out seed into ``OUT/search``; the fit and
proposal go to ``OUT/search-MODEL.json``; the test phase trains the proposal as a ``static`` method
(``search-MODEL``) beside stratified on the config's seeds into ``OUT/test-MODEL``, whose summary records the
search's runs as ``offline_cost`` (``skillit compare``'s extra steps). A started phase continues through its
run directory (finished runs kept, a changed set-up refused unless ``--overwrite``), so a second model costs
only its test.
``--model best-trial`` skips the fit: the trial with the lowest loss at the search seed.

Where we differ from RegMix, and why: linear models only (RegMix's preferred LightGBM needs more runs than
2 CPU cores allow and is not a dependency), with a log-share variant of ours; a stratified prior by default
(the arena's pools are equal or deliberately balanced; RegMix centres on token counts, ``prior="natural"``
here); no epoch cap (RegMix caps
at 15 epochs; a proposal that repeats a small pool shows in the leaderboard's epochs column). The returned
mixture is meant to be run as a ``static`` method and compared against stratified on the board's seeds,
which the search never saw.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skillit.errors import CheckpointError, ConfigError, DataError, OutputError
from skillit.experiment.build import build_skillset, build_tokenizer, task_skillset
from skillit.experiment.config import ExperimentConfig
from skillit.experiment.runner import apply_overrides, run_experiment
from skillit.experiment.search_choices import FEATURES, MODELS, PRIORS, SEARCH_SEED
from skillit.records.layout import RunLayout
from skillit.skills.skillset import SkillSet
from skillit.trainer.batching import mean_tokens_per_example
from skillit.utils.io import atomic_write_json

LOG_OFFSET = 0.01  # ε in log(x + ε): a share near 0 stays a finite feature
SIMULATIONS = 100_000  # mixtures the fit ranks for the proposal (RegMix's 100k)
CONCENTRATION = (0.3, 10.0)  # [c_min, c_max]: from a few skills dominating to near the prior


def features(mixtures: np.ndarray, kind: str) -> np.ndarray:
    """φ(x): the shares themselves (``linear``, RegMix) or log(x + ε) (``log``); shape (n, k)."""
    if kind not in FEATURES:
        raise ConfigError(f"unknown features {kind!r}; choose from {', '.join(FEATURES)}")
    mixtures = np.asarray(mixtures, dtype=float)
    return mixtures if kind == "linear" else np.log(mixtures + LOG_OFFSET)


@dataclass(frozen=True)
class LinearFit:
    """ŷ = intercept + φ(x)·coef over mixtures x; ``loo_rmse`` is the leave-one-out error of the fit,
    ``baseline_rmse`` that of predicting the mean of the other trials (the fit explains something only if its
    error is the lower)."""

    intercept: float
    coef: np.ndarray  # (k,)
    kind: str
    loo_rmse: float
    baseline_rmse: float

    def predict(self, mixtures: np.ndarray) -> np.ndarray:
        return self.intercept + features(mixtures, self.kind) @ self.coef


def sample_mixtures(k: int, n: int, rng: np.random.Generator, *, concentration: tuple[float, float] = CONCENTRATION,
                    prior: np.ndarray | None = None) -> np.ndarray:
    """n mixtures over k skills, each x ~ Dir(c·k·π) with log c ~ U[log c_min, log c_max]; shape (n, k)."""
    low, high = concentration
    if k < 2 or n < 1:
        raise ConfigError(f"a mixture search needs at least 2 skills and 1 mixture (got k={k}, n={n})")
    if not 0 < low <= high:
        raise ConfigError(f"concentration range must satisfy 0 < c_min <= c_max, got ({low}, {high})")
    prior = np.full(k, 1.0 / k) if prior is None else np.asarray(prior, dtype=float)
    if prior.shape != (k,) or np.any(prior <= 0):
        raise ConfigError(f"the prior must be {k} positive weights, got {prior.tolist()}")
    prior = prior / prior.sum()
    scale = np.exp(rng.uniform(np.log(low), np.log(high), size=n))  # (n,)
    alphas = scale[:, None] * k * prior[None, :]  # (n, k)
    draws = rng.gamma(alphas)  # Dirichlet via normalised gammas, one concentration vector per row
    draws = np.maximum(draws, 1e-300)  # a row of underflowed gammas (tiny alphas) stays a valid mixture
    return draws / draws.sum(axis=1, keepdims=True)


def prior_mixture(prior: str, config: ExperimentConfig, skillset: SkillSet, full: SkillSet | None = None) -> np.ndarray:
    """π over the training skills, shape (k,): ``stratified`` 1/k; ``random`` pool_i / Σ pool (example share);
    ``natural`` pool_i·τ_i / Σ pool·τ (token share, RegMix's prior), τ_i the mean tokens of ``[bos] prompt
    answer [eos]`` over up to 256 evenly spaced examples of skill i's pool, with the runs' tokenizer (built
    from ``full``, the task's every skill, as the runs build it)."""
    check_prior(prior)
    names = skillset.train_names
    if prior == "stratified":
        return np.full(len(names), 1.0 / len(names))
    sources = [skillset[name].train for name in names]
    for name, source in zip(names, sources):
        if source is None or source.size is None:
            raise ConfigError(f"--prior {prior} weighs skills by their pools, but skill {name!r} has no finite "
                              "pool (a generated or unbounded stream); use --prior stratified")
    sizes = np.array([float(source.size) for source in sources])  # (k,) examples per pool
    if np.any(sizes <= 0):
        empty = [name for name, size in zip(names, sizes) if size <= 0]
        raise ConfigError(f"--prior {prior}: the pools of {empty} are empty; use --prior stratified")
    if prior == "natural":
        tokenizer = build_tokenizer(config, full if full is not None else skillset)
        sizes = sizes * np.array(mean_tokens_per_example(tokenizer, sources))  # (k,) tokens per pool
    return sizes / sizes.sum()


def check_prior(prior: str) -> None:
    """π is named: stratified, random or natural."""
    if prior not in PRIORS:
        raise ConfigError(f"unknown --prior {prior!r}; choose from {', '.join(PRIORS)}")


def check_ridge(ridge: float) -> None:
    """λ must be > 0: it keeps the fit defined with fewer trials than skills."""
    if not ridge > 0:
        raise ConfigError(f"ridge must be > 0 (it keeps the fit defined with fewer trials than skills), got {ridge}")


def check_top_k(top_k: int, simulations: int) -> None:
    """The proposal averages 1..simulations of the simulated mixtures."""
    if not 1 <= top_k <= simulations:
        raise ConfigError(f"top_k must be from 1 to simulations ({simulations}), got {top_k}")


def _ridge(phi: np.ndarray, losses: np.ndarray, ridge: float) -> tuple[float, np.ndarray]:
    """(intercept, coef) of the ridge fit on centred features; the intercept is not shrunk."""
    phi_mean, centre = phi.mean(axis=0), float(losses.mean())
    centred = phi - phi_mean  # (n, k)
    coef = np.linalg.solve(centred.T @ centred + ridge * np.eye(phi.shape[1]), centred.T @ (losses - centre))
    return centre - float(phi_mean @ coef), coef


def fit_linear(mixtures: np.ndarray, losses: np.ndarray, *, ridge: float = 1e-2, kind: str = "linear") -> LinearFit:
    """Ridge fit of losses (n,) on φ(mixtures) (n, k), shrunk towards the constant ȳ; with leave-one-out errors."""
    mixtures = np.asarray(mixtures, dtype=float)
    losses = np.asarray(losses, dtype=float)
    if mixtures.ndim != 2 or losses.shape != (mixtures.shape[0],):
        raise ConfigError(f"need mixtures (n, k) and n losses, got {mixtures.shape} and {losses.shape}")
    if mixtures.shape[0] < 3:
        raise ConfigError(f"a fit with leave-one-out errors needs at least 3 trials, got {mixtures.shape[0]}")
    check_ridge(ridge)
    if not np.all(np.isfinite(losses)):
        raise ConfigError("a trial's loss is not finite; rerun it or leave it out of the fit")
    phi = features(mixtures, kind)
    errors, baseline = [], []
    for held in range(len(losses)):
        keep = np.arange(len(losses)) != held
        intercept, coef = _ridge(phi[keep], losses[keep], ridge)
        errors.append(intercept + float(phi[held] @ coef) - float(losses[held]))
        baseline.append(float(losses[keep].mean() - losses[held]))
    intercept, coef = _ridge(phi, losses, ridge)
    return LinearFit(intercept=intercept, coef=coef, kind=kind, loo_rmse=float(np.sqrt(np.mean(np.square(errors)))),
                     baseline_rmse=float(np.sqrt(np.mean(np.square(baseline)))))


def propose(fit: LinearFit, k: int, rng: np.random.Generator, *, simulations: int = 100_000, top_k: int = 128,
            concentration: tuple[float, float] = CONCENTRATION, prior: np.ndarray | None = None) -> np.ndarray:
    """The mean of the ``top_k`` simulated mixtures with the lowest predicted loss; shape (k,), on the simplex."""
    check_top_k(top_k, simulations)
    candidates = sample_mixtures(k, simulations, rng, concentration=concentration, prior=prior)  # (S, k)
    best = np.argsort(fit.predict(candidates), kind="stable")[:top_k]
    mixture = candidates[best].mean(axis=0)
    return mixture / mixture.sum()


# ---- the driver: search phase, proposal, test phase --------------------------------------------------------
@dataclass(frozen=True)
class SearchPlan:
    """Everything a search will do, checked before anything runs (:func:`plan_search`)."""

    config: ExperimentConfig  # the user's config, with --seeds/--steps applied (the test phase's set-up)
    model: str
    ridge: float
    top_k: int
    search_seed: int
    concentration: tuple[float, float]  # [c_min, c_max] of the trials' and the simulations' Dirichlet
    prior: str  # the name of π: stratified, random or natural
    prior_mixture: np.ndarray  # (k,): π, the centre of the trials' and the simulations' Dirichlet
    skills: list[str]
    trials: np.ndarray  # (n, k): the trial mixtures, rounded to the 6 decimals the runs train on
    search: ExperimentConfig  # stratified + one static method per trial (mix-00, ...), at the search seed

    @property
    def method(self) -> str:
        return f"search-{self.model}"


@dataclass(frozen=True)
class SearchOutcome:
    record: dict[str, Any]  # what OUT/search-MODEL.json holds
    proposal: dict[str, float]  # skill -> share, rounded to 6 decimals (the test's static weights)
    fit: LinearFit | None  # None for best-trial
    search_summary: dict[str, Any]
    test_summary: dict[str, Any] | None  # None with search_only
    test_config: ExperimentConfig | None


def _with_methods(config: ExperimentConfig, methods: dict[str, Any], seeds: Sequence[int]) -> ExperimentConfig:
    data = config.model_dump()
    data["methods"] = methods
    data["seeds"] = list(seeds)
    return ExperimentConfig.model_validate(data)


def plan_search(config: ExperimentConfig, *, trials: int = 24, model: str = "log", ridge: float = 1e-2,
                top_k: int = 128, search_seed: int = SEARCH_SEED, seeds: int | str | Sequence[int] | None = None,
                steps: int | None = None, concentration: tuple[float, float] = CONCENTRATION,
                prior: str = "stratified") -> SearchPlan:
    """Check every argument and draw the trial mixtures; nothing is trained or written.

    The trials are Dirichlet draws around the prior π (:func:`sample_mixtures`, :func:`prior_mixture`: uniform
    by default, or the pools' example or token share), seeded by (search_seed, k, trials), so the same
    arguments give the same trials on every machine. A narrower
    ``concentration`` (a larger c_min) keeps the trials away from the simplex's corners, whose outliers
    (a skill at 0.2 %) can dominate a fit where the loss is flat elsewhere."""
    if trials < 2:  # stratified + 2 trials: the fewest a fit with leave-one-out errors takes
        raise ConfigError(f"--trials must be at least 2, got {trials}")
    if model not in MODELS:
        raise ConfigError(f"unknown --model {model!r}; choose from {', '.join(MODELS)}")
    if model != "best-trial":
        check_ridge(ridge)
        check_top_k(top_k, SIMULATIONS)
    config = apply_overrides(config, seeds=seeds, steps=steps)  # the test phase's --seeds and --steps
    if search_seed in config.seeds:
        raise ConfigError(f"the search seed {search_seed} is one of the test seeds {config.seeds}: a mixture chosen "
                          "on a seed must be tested on others; give another --search-seed or --seeds")
    check_prior(prior)
    full = task_skillset(config, config.seeds[0])
    skillset = build_skillset(config, config.seeds[0], full)
    skills = skillset.train_names
    centre = prior_mixture(prior, config, skillset, full)  # (k,)
    rng = np.random.default_rng([search_seed, len(skills), trials])
    # (n, k), rounded: the weights the runs train on
    mixtures = sample_mixtures(len(skills), trials, rng, concentration=concentration, prior=centre).round(6)
    methods: dict[str, Any] = {"stratified": config.model_dump()["methods"].get("stratified", {})}
    for t, mixture in enumerate(mixtures):
        methods[f"mix-{t:02d}"] = {"policy": "static", "params": {"weights": dict(zip(skills, mixture.tolist()))}}
    return SearchPlan(config=config, model=model, ridge=ridge, top_k=top_k, search_seed=search_seed,
                      concentration=(float(concentration[0]), float(concentration[1])), prior=prior,
                      prior_mixture=centre, skills=skills, trials=mixtures,
                      search=_with_methods(config, methods, [search_seed]))


def stratified_mixture(folder: Path, seed: int, skills: list[str]) -> np.ndarray:
    """The mixture the stratified run of ``folder`` trained on at ``seed`` (its first record's weights); (k,).
    Uniform, or uniform over the target's neighbours where the config gives stratified a graph."""
    layout = RunLayout(folder)
    for record in layout.read_metrics():
        if record.get("method") == "stratified" and record.get("seed") == seed:
            return np.array([float(record["weights"].get(skill, 0.0)) for skill in skills])
    raise DataError(f"{layout.metrics}: no record of the stratified run at seed {seed}")


def _phase(config: ExperimentConfig, out: Path, config_dir: Path | None, jobs: int,
           progress: Callable[[int, int], None] | None, notify: Callable[[str], None] | None,
           offline_cost: dict[str, Any] | None = None,
           on_event: Callable[[str, dict[str, Any]], None] | None = None, overwrite: bool = False) -> dict[str, Any]:
    """One phase into ``out``; a phase an earlier call started with the same set-up continues, keeping every
    finished run, and another set-up is refused naming the difference (``RunDirectory.claim``), unless
    ``overwrite``, which deletes it."""
    summary = run_experiment(config, out, config_dir=config_dir, jobs=jobs, overwrite=overwrite, progress=progress,
                             notify=notify, offline_cost=offline_cost, on_event=on_event)
    assert summary is not None  # one process: rank 0
    return summary


def search_phase(plan: SearchPlan, out: str | Path, *, config_dir: str | Path | None = None, jobs: int = 1,
                 progress: Callable[[int, int], None] | None = None,
                 notify: Callable[[str], None] | None = None,
                 on_event: Callable[[str, dict[str, Any]], None] | None = None,
                 overwrite: bool = False) -> dict[str, Any]:
    """Train stratified and every trial at the search seed into ``out/search``; its summary.
    ``progress``, ``notify``, ``on_event`` and ``overwrite`` are :func:`~skillit.experiment.runner.run_experiment`'s."""
    config_dir = Path(config_dir) if config_dir is not None else None
    return _phase(plan.search, Path(out) / "search", config_dir, jobs, progress, notify, on_event=on_event,
                  overwrite=overwrite)


def choose(plan: SearchPlan, out: str | Path, search_summary: dict[str, Any]) -> SearchOutcome:
    """Fit the search's losses and propose a mixture (or take the best trial); writes ``out/search-MODEL.json``."""
    out = Path(out)
    labels = list(plan.search.methods)  # stratified, then the trials
    # stratified is one more sample of the fit, at the mixture it trained on
    mixtures = np.vstack([stratified_mixture(out / "search", plan.search_seed, plan.skills), plan.trials])  # (n+1, k)
    losses = np.array([search_summary["methods"][name]["per_seed"][0]["mean_loss"] for name in labels],
                      dtype=float)  # (n+1,); a diverged run is None → nan
    if not np.all(np.isfinite(losses)):
        bad = [name for name, loss in zip(labels, losses) if not np.isfinite(loss)]
        raise DataError(f"{out / 'search'}: the search runs {bad} diverged (no final loss); lower the learning rate "
                        "or narrow the trials with --concentration")
    best = int(np.argmin(losses))
    fit: LinearFit | None = None
    if plan.model == "best-trial":  # the plainest hindsight: the lowest of the n + 1 losses, at the search seed
        proposal, predicted = mixtures[best] / mixtures[best].sum(), float(losses[best])
    else:
        fit = fit_linear(mixtures, losses, ridge=plan.ridge, kind=plan.model)
        proposal = propose(fit, len(plan.skills), np.random.default_rng([plan.search_seed, 1]),
                           simulations=SIMULATIONS, top_k=plan.top_k, concentration=plan.concentration,
                           prior=plan.prior_mixture)
        predicted = float(fit.predict(proposal[None, :])[0])
    record = {
        "config": plan.config.name, "skills": plan.skills, "search_seed": plan.search_seed, "model": plan.model,
        "ridge": plan.ridge, "top_k": plan.top_k, "concentration": list(plan.concentration),
        "prior": plan.prior, "prior_mixture": dict(zip(plan.skills, plan.prior_mixture.tolist())),
        "trials": [{"method": n, "mixture": x.tolist(), "loss": float(y)} for n, x, y in zip(labels, mixtures, losses)],
        "intercept": fit and fit.intercept, "coef": fit and dict(zip(plan.skills, fit.coef.tolist())),
        "loo_rmse": fit and fit.loo_rmse, "baseline_rmse": fit and fit.baseline_rmse,
        "proposal": dict(zip(plan.skills, proposal.tolist())), "predicted_loss": predicted,
        "best_trial": {"method": labels[best], "loss": float(losses[best])},
        "search_seconds": search_summary.get("wall_seconds"),
    }
    atomic_write_json(out / f"search-{plan.model}.json", record)
    weights = {skill: round(float(w), 6) for skill, w in zip(plan.skills, proposal)}
    return SearchOutcome(record, weights, fit, search_summary, None, None)


def held_out_phase(plan: SearchPlan, out: str | Path, outcome: SearchOutcome, *, config_dir: str | Path | None = None,
                   jobs: int = 1, progress: Callable[[int, int], None] | None = None,
                   notify: Callable[[str], None] | None = None, test_out: str | Path | None = None,
                   on_event: Callable[[str, dict[str, Any]], None] | None = None,
                   overwrite: bool = False) -> SearchOutcome:
    """Train the proposal as the static method ``search-MODEL`` beside stratified on the config's seeds, into
    ``test_out`` (default ``out/test-MODEL``; another folder tests more seeds later, merged by ``skillit
    compare``), with the search's runs as its ``offline_cost``; the outcome with the test added."""
    out = Path(out)
    test_dir = Path(test_out) if test_out is not None else default_test_dir(plan, out)
    config_dir = Path(config_dir) if config_dir is not None else None
    methods = {"stratified": plan.config.model_dump()["methods"].get("stratified", {}),
               plan.method: {"policy": "static", "params": {"weights": outcome.proposal}}}
    test = _with_methods(plan.config, methods, plan.config.seeds)
    runs = len(plan.search.methods)
    cost = {plan.method: {"train_steps": runs * plan.search.training.steps, "runs": runs,
                          "source": f"skillit search, seed {plan.search_seed}: {out / f'search-{plan.model}.json'}"}}
    try:
        summary = _phase(test, test_dir, config_dir, jobs, progress, notify, offline_cost=cost, on_event=on_event,
                         overwrite=overwrite)
    except (CheckpointError, OutputError) as exc:  # e.g. other --seeds into a finished test: the search's own way out
        raise CheckpointError(f"{exc} (a search tests other seeds in another folder: give --test-out DIR, "
                              "then skillit compare both)") from None
    return dataclasses.replace(outcome, test_summary=summary, test_config=test)


def default_test_dir(plan: SearchPlan, out: str | Path) -> Path:
    """Where the held-out test goes by default: ``out/test-MODEL``."""
    return Path(out) / f"test-{plan.model}"


def run_search(plan: SearchPlan, out: str | Path, *, config_dir: str | Path | None = None, jobs: int = 1,
               search_only: bool = False, progress: Callable[[int, int], None] | None = None,
               notify: Callable[[str], None] | None = None, test_out: str | Path | None = None,
               overwrite: bool = False) -> SearchOutcome:
    """:func:`search_phase`, :func:`choose`, then (unless ``search_only``) :func:`held_out_phase`."""
    summary = search_phase(plan, out, config_dir=config_dir, jobs=jobs, progress=progress, notify=notify,
                           overwrite=overwrite)
    outcome = choose(plan, out, summary)
    if search_only:
        return outcome
    return held_out_phase(plan, out, outcome, config_dir=config_dir, jobs=jobs, progress=progress, notify=notify,
                          test_out=test_out, overwrite=overwrite)
