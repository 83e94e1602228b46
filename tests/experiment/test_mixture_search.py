"""The RegMix-style mixture search: sampling, the ridge fit (values by hand), the proposal, and the driver's
plan and choice (`skillit search` end to end is in tests/test_cli.py)."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillit.errors import ConfigError, DataError
from skillit.experiment.config import parse_config
from skillit.experiment.mixture_search import (
    LinearFit,
    choose,
    fit_linear,
    plan_search,
    propose,
    sample_mixtures,
    stratified_mixture,
)


@settings(max_examples=30, deadline=None)
@given(k=st.integers(2, 12), n=st.integers(1, 20), seed=st.integers(0, 2**32 - 1),
       low=st.floats(0.01, 5.0), spread=st.floats(1.0, 100.0))
def test_every_sampled_mixture_lies_on_the_simplex(k, n, seed, low, spread):
    mixtures = sample_mixtures(k, n, np.random.default_rng(seed), concentration=(low, low * spread))
    assert mixtures.shape == (n, k)
    assert np.all(np.isfinite(mixtures)) and np.all(mixtures >= 0)
    np.testing.assert_allclose(mixtures.sum(axis=1), 1.0)


def test_sampling_is_seeded_and_a_large_concentration_stays_near_the_prior():
    a = sample_mixtures(4, 5, np.random.default_rng(7))
    np.testing.assert_array_equal(a, sample_mixtures(4, 5, np.random.default_rng(7)))
    prior = np.array([0.1, 0.2, 0.3, 0.4])
    near = sample_mixtures(4, 200, np.random.default_rng(0), concentration=(1e5, 1e5), prior=prior)
    assert np.abs(near - prior).max() < 0.01  # Dir(c·k·π) has mean π and variance O(1/(c·k))


@pytest.mark.parametrize("kwargs, message", [
    ({"k": 1, "n": 3}, "at least 2 skills"),
    ({"k": 3, "n": 0}, "at least 2 skills and 1 mixture"),
    ({"k": 3, "n": 2, "concentration": (2.0, 1.0)}, "c_min <= c_max"),
    ({"k": 3, "n": 2, "prior": np.array([0.5, 0.5])}, "3 positive weights"),
    ({"k": 2, "n": 2, "prior": np.array([1.0, 0.0])}, "positive weights"),
])
def test_sampling_refuses_bad_arguments_saying_which(kwargs, message):
    k, n = kwargs.pop("k"), kwargs.pop("n")
    with pytest.raises(ConfigError, match=message):
        sample_mixtures(k, n, np.random.default_rng(0), **kwargs)


# three trials over two skills on the exact line y = 1·x_a + 3·x_b
MIXTURES = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
LOSSES = np.array([1.0, 3.0, 2.0])


def test_the_ridge_fit_shrinks_towards_the_mean_by_the_hand_computed_amount():
    # centred: X̃ = [[.5, −.5], [−.5, .5], [0, 0]], y − ȳ = (−1, 1, 0); X̃ᵀX̃ = [[.5, −.5], [−.5, .5]] has
    # eigenvalue 1 on (−1, 1), and X̃ᵀ(y − ȳ) = (−1, 1), so β = (−1, 1)/(1 + λ) and a = ȳ − mean(X)·β = 2:
    # λ = 1 gives ŷ(x) = 2 − x_a/2 + x_b/2 (the line shrunk half-way to ȳ), λ → 0 the true line 1·x_a + 3·x_b
    half = fit_linear(MIXTURES, LOSSES, ridge=1.0)
    assert half.intercept == pytest.approx(2.0)
    np.testing.assert_allclose(half.coef, [-0.5, 0.5])
    np.testing.assert_allclose(half.predict(MIXTURES), [1.5, 2.5, 2.0])
    np.testing.assert_allclose(fit_linear(MIXTURES, LOSSES, ridge=1e-9).predict(MIXTURES), LOSSES, atol=1e-8)


def test_the_log_model_fits_a_loss_that_falls_with_the_log_of_a_share():
    # y = 2 − 0.5·log(x_a + ε) exactly (x_b has no effect): the fit recovers b_a = −0.5, b_b = 0, a = 2
    mixtures = np.array([[0.1, 0.9], [0.5, 0.5], [0.9, 0.1], [0.3, 0.7]])
    losses = 2.0 - 0.5 * np.log(mixtures[:, 0] + 0.01)
    fit = fit_linear(mixtures, losses, ridge=1e-10, kind="log")
    assert fit.intercept == pytest.approx(2.0, abs=1e-6)
    np.testing.assert_allclose(fit.coef, [-0.5, 0.0], atol=1e-6)
    with pytest.raises(ConfigError, match="unknown features 'quadratic'; choose from linear, log"):
        fit_linear(mixtures, losses, kind="quadratic")


def test_leave_one_out_errors_by_hand():
    fit = fit_linear(MIXTURES, LOSSES, ridge=1e-9)
    # any two of the three points fix the line, so each left-out point is predicted exactly
    assert fit.loo_rmse == pytest.approx(0.0, abs=1e-7)
    # the mean of the other two: 2.5 for y=1, 1.5 for y=3, 2 for y=2 → errors 1.5, −1.5, 0 → rmse √1.5
    assert fit.baseline_rmse == pytest.approx(np.sqrt(1.5))
    np.testing.assert_allclose(fit.predict(np.array([[0.25, 0.75]])), [2.5])


@pytest.mark.parametrize("mixtures, losses, ridge, message", [
    (MIXTURES[:2], LOSSES[:2], 1e-2, "at least 3 trials"),
    (MIXTURES, LOSSES[:2], 1e-2, "n losses"),
    (MIXTURES, LOSSES, 0.0, "ridge must be > 0"),
    (MIXTURES, np.array([1.0, np.nan, 2.0]), 1e-2, "not finite"),
])
def test_the_fit_refuses_what_it_cannot_fit(mixtures, losses, ridge, message):
    with pytest.raises(ConfigError, match=message):
        fit_linear(mixtures, losses, ridge=ridge)


def test_the_proposal_is_the_mean_of_the_best_predicted_simulations():
    fit = LinearFit(intercept=0.0, coef=np.array([1.0, 3.0, 3.0]), kind="linear", loo_rmse=0.0, baseline_rmse=1.0)
    best = propose(fit, 3, np.random.default_rng(1), simulations=1000, top_k=1)
    candidates = sample_mixtures(3, 1000, np.random.default_rng(1))  # the same draws: the same generator state
    np.testing.assert_allclose(best, candidates[np.argmin(candidates @ fit.coef)])
    averaged = propose(fit, 3, np.random.default_rng(1), simulations=1000, top_k=50)
    assert averaged.sum() == pytest.approx(1.0) and averaged[0] > 0.8  # the cheap skill takes most of the data
    with pytest.raises(ConfigError, match="top_k must be from 1 to simulations"):
        propose(fit, 3, np.random.default_rng(1), simulations=10, top_k=11)


# ---- the driver: plan, choose (no training: a hand-written search), and stratified's mixture ----------------

TINY = """\
name: tiny
task: {name: lego, params: {k: 3, validation_size: 6, train_pool_size: 300}}
training: {steps: 12, batch_size: 8, round_steps: 4, eval_every: 4, warmup_steps: 2}
methods: {stratified: {}, random: {}}
seeds: [0, 1]
"""


def test_plan_draws_seeded_trials_around_stratified_at_the_held_out_seed():
    plan = plan_search(parse_config(TINY), trials=3, model="best-trial", steps=6, seeds="2-3")
    assert plan.skills == ["var1", "var2", "var3"] and plan.method == "search-best-trial"
    assert list(plan.search.methods) == ["stratified", "mix-00", "mix-01", "mix-02"]
    assert plan.search.seeds == [100] and plan.config.seeds == [2, 3]  # search and test seeds never meet
    assert plan.search.training.steps == plan.config.training.steps == 6
    expected = sample_mixtures(3, 3, np.random.default_rng([100, 3, 3])).round(6)  # seeded by (seed, k, n)
    np.testing.assert_array_equal(plan.trials, expected)
    narrow = plan_search(parse_config(TINY), trials=3, model="best-trial", steps=6, seeds="2-3",
                         concentration=(1e4, 1e4))  # the same draws' seed, a narrower Dirichlet: near uniform
    assert narrow.concentration == (1e4, 1e4) and np.abs(narrow.trials - 1 / 3).max() < 0.02
    weights = plan.search.methods["mix-01"].params["weights"]
    assert weights == dict(zip(plan.skills, expected[1].tolist()))  # the runs train on the rounded trials


@pytest.mark.parametrize("kwargs, message", [
    ({"trials": 1}, "--trials must be at least 2"),
    ({"model": "lightgbm"}, "unknown --model 'lightgbm'; choose from linear, log, best-trial"),
    ({"ridge": 0.0}, "ridge must be > 0"),
    ({"top_k": 0}, "top_k must be from 1 to simulations (100000)"),
    ({"seeds": "5-2"}, "--seeds: the range '5-2' must go up"),
    ({"seeds": "99-101"}, "the search seed 100 is one of the test seeds"),
    ({"concentration": (2.0, 1.0)}, "concentration range must satisfy 0 < c_min <= c_max"),
])
def test_plan_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError) as error:
        plan_search(parse_config(TINY), **kwargs)
    assert message in str(error.value)


def _searched(tmp_path, losses):
    """A search folder as the search phase leaves it: stratified's first record and the summary's losses."""
    plan = plan_search(parse_config(TINY), trials=3, model="best-trial")
    folder = tmp_path / "search"
    folder.mkdir()
    (folder / "metrics.jsonl").write_text(json.dumps(
        {"method": "stratified", "seed": 100, "step": 0, "weights": {s: 1 / 3 for s in plan.skills}}) + "\n")
    summary = {"methods": {name: {"per_seed": [{"seed": 100, "mean_loss": loss}]}
                           for name, loss in zip(plan.search.methods, losses)}, "wall_seconds": 5.0}
    return plan, summary


def test_best_trial_proposes_the_lowest_trial_and_records_every_trial(tmp_path):
    plan, summary = _searched(tmp_path, [1.0, 0.9, 0.7, 1.2])
    outcome = choose(plan, tmp_path, summary)
    record = json.loads((tmp_path / "search-best-trial.json").read_text())
    assert record == outcome.record and record["best_trial"] == {"method": "mix-01", "loss": 0.7}
    assert [t["loss"] for t in record["trials"]] == [1.0, 0.9, 0.7, 1.2]
    assert record["trials"][0]["mixture"] == pytest.approx([1 / 3] * 3)
    best = plan.trials[1] / plan.trials[1].sum()
    assert outcome.proposal == {s: round(float(w), 6) for s, w in zip(plan.skills, best)} and outcome.fit is None
    log_plan = plan_search(parse_config(TINY), trials=3, model="log", top_k=1)
    fitted = choose(log_plan, tmp_path, summary)  # the same search, another model: only the choice differs
    assert fitted.fit is not None and fitted.record["loo_rmse"] == fitted.fit.loo_rmse
    assert (tmp_path / "search-log.json").is_file()


def test_a_diverged_search_run_is_named(tmp_path):
    plan, summary = _searched(tmp_path, [1.0, None, 0.7, 1.2])
    with pytest.raises(DataError, match=r"the search runs \['mix-00'\] diverged"):
        choose(plan, tmp_path, summary)


def test_stratified_is_fitted_at_the_mixture_it_trained_on(tmp_path):
    # addition-finetune's stratified is uniform over the target's neighbours only: its first record says so
    lines = [{"method": "mix-00", "seed": 100, "step": 0, "weights": {"a": 1.0, "b": 0.0, "c": 0.0}},
             {"method": "stratified", "seed": 7, "step": 0, "weights": {"a": 0.2, "b": 0.8}},
             {"method": "stratified", "seed": 100, "step": 0, "weights": {"a": 0.5, "b": 0.5}}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    np.testing.assert_allclose(stratified_mixture(tmp_path, 100, ["a", "b", "c"]), [0.5, 0.5, 0.0])
    with pytest.raises(DataError, match="no record of the stratified run at seed 3"):
        stratified_mixture(tmp_path, 3, ["a", "b", "c"])


# ---- the prior: uniform, the pools' example share, their token share (RegMix's) ------------------------------

DATA = """\
name: pools
task: {{name: data, params: {{train: {train}, validation: {validation}, text_field: text}}}}
model: {{n_layer: 1, n_head: 2, n_embd: 16, tokenizer: char}}
training: {{steps: 4, batch_size: 2, round_steps: 2, eval_every: 2}}
methods: {{stratified: {{}}}}
"""


def _pools(tmp_path):
    """Skill a: 2 examples of 3 characters (5 tokens with [bos]/[eos]); skill b: 6 of 8 characters (10 tokens)."""
    rows = [{"skill": "a", "text": "abc"}] * 2 + [{"skill": "b", "text": "abcdefgh"}] * 6
    train, validation = tmp_path / "train.jsonl", tmp_path / "validation.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in rows))
    validation.write_text("".join(json.dumps({"skill": s, "text": "ab"}) + "\n" for s in "ab"))
    return parse_config(DATA.format(train=train, validation=validation))


@pytest.mark.parametrize("prior, expected", [
    ("stratified", [1 / 2, 1 / 2]),
    ("random", [2 / 8, 6 / 8]),  # examples: 2 and 6
    ("natural", [10 / 70, 60 / 70]),  # tokens: 2·5 and 6·10
])
def test_the_prior_is_uniform_or_the_pools_example_or_token_share(tmp_path, prior, expected):
    plan = plan_search(_pools(tmp_path), trials=3, model="best-trial", prior=prior)
    assert plan.skills == ["a", "b"] and plan.prior == prior
    np.testing.assert_allclose(plan.prior_mixture, expected)
    # the trials are the same generator's draws around that centre
    drawn = sample_mixtures(2, 3, np.random.default_rng([100, 2, 3]), prior=np.array(expected)).round(6)
    np.testing.assert_array_equal(plan.trials, drawn)


def test_a_stratified_prior_draws_the_trials_the_search_always_drew():
    plan = plan_search(parse_config(TINY), trials=4, model="best-trial", prior="stratified")
    np.testing.assert_array_equal(plan.trials, sample_mixtures(3, 4, np.random.default_rng([100, 3, 4])).round(6))


def test_a_pool_prior_needs_finite_pools_and_a_known_name():
    with pytest.raises(ConfigError, match="--prior natural weighs skills by their pools, but skill 'var1' has no finite"):
        plan_search(parse_config(TINY.replace("train_pool_size: 300", "train_pool_size: null")), trials=3,
                    model="best-trial", prior="natural")
    with pytest.raises(ConfigError, match="unknown --prior 'tokens'; choose from stratified, random, natural"):
        plan_search(parse_config(TINY), trials=3, prior="tokens")


def test_the_record_and_the_simulations_use_the_prior(tmp_path):
    plan = plan_search(_pools(tmp_path), trials=3, model="log", top_k=1, prior="natural")
    folder = tmp_path / "out" / "search"
    folder.mkdir(parents=True)
    (folder / "metrics.jsonl").write_text(json.dumps(
        {"method": "stratified", "seed": 100, "step": 0, "weights": {"a": 0.5, "b": 0.5}}) + "\n")
    summary = {"methods": {name: {"per_seed": [{"seed": 100, "mean_loss": loss}]}
                           for name, loss in zip(plan.search.methods, [1.0, 0.9, 0.8, 1.1])}}
    outcome = choose(plan, tmp_path / "out", summary)
    assert outcome.record["prior"] == "natural"
    assert outcome.record["prior_mixture"] == pytest.approx({"a": 1 / 7, "b": 6 / 7})
    # the proposal is the best of the simulations drawn around the same prior (one generator, seeded by the search)
    candidates = sample_mixtures(2, 100_000, np.random.default_rng([100, 1]), prior=plan.prior_mixture)
    best = candidates[np.argmin(outcome.fit.predict(candidates))]
    assert outcome.record["proposal"] == pytest.approx(dict(zip(plan.skills, best.tolist())))
