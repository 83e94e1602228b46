"""The tracin learner: lr-weighted inner products of per-skill gradients at checkpoints of the base run.

Hand-computed cases: a zero-initialised bigram model (logits = W[input token], linear in W), where every
gradient has a closed form, and the estimate's arithmetic on given inner products.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from skillit.errors import CheckpointError, ConfigError
from skillit.experiment.config import parse_config
from skillit.experiment.runner import run_experiment
from skillit.graph.diagnostics import edges
from skillit.graph_learners import TracIn, build_learner
from skillit.graph_learners.gradients import Projection, measure_gradients
from skillit.graph_learners.runs import RunOutcome
from skillit.skills import Example
from skillit.trainer.optim import linear_schedule, lr_factor
from skillit.utils.checkpoint import load_checkpoint
from tests.graph.planted import EXPECTED_EDGES, TRAINING, model_builder, planted_skillset, tokenizer


def fit(learner, skillset=None, **kwargs):
    return learner.fit(skillset or planted_skillset(), model_builder(), tokenizer(), TRAINING, **kwargs)


class Bigram(torch.nn.Module):
    """logits[b, t] = W[input_ids[b, t]] with W = 0: softmax is uniform, so ∂CE/∂W[x] = 1/V − onehot(y)."""

    def __init__(self, vocab: int):
        super().__init__()
        self.table = torch.nn.Embedding(vocab, vocab)
        torch.nn.init.zeros_(self.table.weight)

    def forward(self, input_ids, attention_mask=None):
        return self.table(input_ids)


def qa(prompt, answer, skill):
    return Example(prompt=prompt, answer=answer, skill=skill)


def test_inner_products_match_the_hand_computed_gradients_of_a_linear_model():
    tok = tokenizer()
    V = tok.vocab_size
    # only the answer position (input "=", target the answer) is trained and evaluated (train_loss: answer)
    train = {"h": [[qa("a=", "0", "h"), qa("b=", "1", "h")]], "z": [[qa("w=", "p", "z")]]}
    evals = {"t": [qa("a=", "0", "t"), qa("b=", "1", "t")], "z": [qa("x=", "p", "z")]}
    out = measure_gradients(Bigram(V), tok, train, evals, train_loss="answer", chunk=1)
    # g_h = row "=": u − (e0 + e1)/2, g_z = u − e_p, h_t = g_h, h_z = g_z (u = 1/V everywhere)
    # ⟨u − (e0+e1)/2, u − (e0+e1)/2⟩ = 1/V − 2/V + 1/2;  ⟨u − (e0+e1)/2, u − e_p⟩ = 1/V − 1/V − 1/V + 0
    same, other, single = 0.5 - 1 / V, -1 / V, 1 - 1 / V
    np.testing.assert_allclose(out["inner"], [[same, other], [other, single]], rtol=1e-6)
    np.testing.assert_allclose(out["train_gram"], [[same, other], [other, single]], rtol=1e-6)
    np.testing.assert_allclose(out["eval_sqnorm"], [same, single], rtol=1e-6)
    np.testing.assert_allclose(out["train_loss"] + out["eval_loss"], [np.log(V)] * 4, rtol=1e-6)
    # passes: 1 batch per training skill + ⌈n_j / chunk⌉ validation chunks (2 + 1)
    assert (out["batches"], out["examples"], out["dim"]) == (2 + 3, 3 + 3, V * V)


def test_estimate_weights_checkpoints_by_lr_and_subtracts_the_mean_gradient():
    learner = TracIn(base_steps=4, points=2)  # similarity: dot, the default
    skills = planted_skillset()
    inner = [np.array([[4.0, 2.0, 0.0], [2.0, 0.0, 1.0], [0.0, 1.0, 2.0]]), np.array([[1.0, 0.0, 0.0]] * 3)]
    losses = [[2.0, 1.0, 4.0], [1.0, 1.0, 1.0]]
    measured = [{"inner": inner[c].tolist(), "train_gram": np.eye(3).tolist(), "eval_sqnorm": [1.0] * 3,
                 "eval_loss": losses[c], "lr_weight": [0.5, 0.25][c], "dim": 3, "examples": 1} for c in range(2)]
    outcomes = {run.run_id: RunOutcome(run.run_id, [(run.start, {})], 1, 8, 0, 0.0, 0.0, measured=m)
                for run, m in zip(learner.plan(skills), measured)}
    matrix, details = learner.estimate(skills, outcomes)
    # point 1: column means (2, 1, 1); centred [[2, 1, −1], [0, −1, 0], [−2, 0, 1]]; ÷ L = (2, 1, 4)
    # point 2: identical rows → centred 0.  A = 0.5 · point 1
    expected = 0.5 * np.array([[1.0, 1.0, -0.25], [0.0, -1.0, 0.0], [-1.0, 0.0, 0.25]])
    np.testing.assert_allclose(details["raw"], expected, atol=1e-12)
    np.testing.assert_allclose(matrix, np.maximum(expected, 0.0), atol=1e-12)
    assert details["lr_weights"] == [0.5, 0.25]

    plain = TracIn(base_steps=4, points=2, similarity="dot", control=False, normalise=False, negative="keep")
    np.testing.assert_allclose(plain.estimate(skills, outcomes)[0], 0.5 * inner[0] + 0.25 * inner[1])
    # cosine: train gram I centred is I − 1/3, so ‖g_i − ḡ‖ = √(2/3); ‖h_j‖ = 1
    cosine = TracIn(base_steps=4, points=2, similarity="cosine", normalise=False, negative="keep")
    centred = inner[0] - inner[0].mean(axis=0)
    np.testing.assert_allclose(cosine.estimate(skills, outcomes)[0], 0.5 * centred / np.sqrt(2 / 3), atol=1e-12)


def test_projection_preserves_inner_products_and_is_seeded():
    gen = torch.Generator().manual_seed(1)
    x, y = torch.randn(3000, generator=gen, dtype=torch.float64), torch.randn(3000, generator=gen, dtype=torch.float64)
    y = 0.6 * x + 0.8 * y  # cos(x, y) ≈ 0.6
    project = Projection(2000, seed=3, block=700)  # blocks of 700: a partial last block is covered
    exact, approx = float(x @ y), float(project(x) @ project(y))
    assert abs(approx - exact) < 0.1 * float(x.norm() * y.norm())  # JL: error ~ ‖x‖‖y‖·√(2/r) ≈ 0.03
    assert abs(float(project(x).norm() ** 2) / float(x.norm() ** 2) - 1) < 0.1
    torch.testing.assert_close(Projection(2000, seed=3, block=700)(x), project(x))  # same seed: same R
    assert not torch.allclose(Projection(2000, seed=4, block=700)(x), project(x))
    with pytest.raises(ValueError, match="rows must be >= 1"):
        Projection(0)


def test_finds_the_planted_edge_and_counts_gradient_passes_as_steps():
    graph = fit(TracIn(base_steps=20, points=2, steps=1))
    assert edges(graph) == EXPECTED_EDGES
    cost, details = graph.provenance["cost"], graph.provenance["details"]
    # per checkpoint: k = 3 training batches + 3 validation sets of 4 examples in one batch of 8 each
    assert cost["train_steps"] == 20 + 2 * (3 + 3) and cost["run_steps"] == details["gradient_steps"] == 12
    assert details["points"] == [10, 20] and details["gradient_examples"] == 2 * (3 * 8 + 3 * 4)
    # lr weights: the base's lr over steps 1..10 and 11..20 (lr 0.02, no warm-up, decay to 0 at step 20)
    lrs = [0.02 * lr_factor(s - 1, 0, 20) for s in range(1, 21)]
    np.testing.assert_allclose(details["lr_weights"], [sum(lrs[:10]), sum(lrs[10:])])
    projected = fit(TracIn(base_steps=20, points=2, steps=1, projection=256))
    assert edges(projected) == EXPECTED_EDGES and projected.provenance["details"]["gradient_dim"] == 256


def test_lr_factor_is_the_schedule_the_loop_uses():
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=2.0)
    scheduler = linear_schedule(optimizer, 3, 10)
    for step in range(10):
        assert optimizer.param_groups[0]["lr"] == pytest.approx(2.0 * lr_factor(step, 3, 10))
        optimizer.step()
        scheduler.step()


def test_fits_are_deterministic_and_resume_from_the_gradient_runs(tmp_path):
    first = fit(TracIn(base_steps=6, points=2, steps=1), workdir=tmp_path)
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "runs").iterdir()}
    assert sorted(stamps) == ["t3__gradients.json", "t6__gradients.json"]
    again = fit(TracIn(base_steps=6, points=2, steps=1))
    np.testing.assert_array_equal(first.matrix, again.matrix)
    # similarity and control only change how the gradients are read: the work directory is reused
    cosine = fit(TracIn(base_steps=6, points=2, steps=1, similarity="cosine", control=False), workdir=tmp_path)
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "runs").iterdir()} == stamps
    assert cosine.provenance["params"]["similarity"] == "cosine"


def test_run_settings_that_do_not_apply_are_refused():
    with pytest.raises(ConfigError, match="lr: tracin trains nothing besides the base run"):
        TracIn(lr=0.1)
    with pytest.raises(ConfigError, match="base_steps: Input should be greater than or equal to 1"):
        TracIn(base_steps=0)
    assert build_learner("tracin", points=4).base_points() == [75, 150, 225, 300]


TINY = """\
name: tiny-tracin
task: {name: lego, params: {k: 3, validation_size: 6, shuffle: false}}
model: {n_layer: 1, n_head: 2, n_embd: 16}
training: {steps: 8, batch_size: 8, round_steps: 4, eval_every: 4, warmup_steps: 0, lr: 0.01, train_loss: answer}
graph_learning: {method: tracin, params: {base_steps: 4, points: 2, steps: 1, projection: 32, similarity: cosine}, jobs: 1}
methods:
  skill-it: {params: {graph: learn, eta: 0.5}}
seeds: [0]
"""


def test_graph_learn_with_tracin_end_to_end(tmp_path):
    config = parse_config(TINY)
    summary = run_experiment(config, tmp_path / "run", jobs=1)
    learned = json.loads((tmp_path / "run" / "graph" / "graph.json").read_text())
    assert learned["method"] == "tracin" and learned["params"]["projection"] == 32
    assert learned["details"]["gradient_dim"] == 32
    # base 4 + 2 checkpoints × (3 training batches + 3 validation sets of 6 in one batch of 8)
    assert summary["graph_cost"]["skill-it"]["train_steps"] == learned["cost"]["train_steps"] == 4 + 2 * 6
    assert learned["cost"]["ratio_to_training_run"] == pytest.approx(16 / 8)
    assert np.all(np.isfinite(learned["matrix"]))


def test_gradient_runs_in_worker_processes_give_the_same_graph(tmp_path):
    serial = fit(TracIn(base_steps=6, points=2, steps=1))
    parallel = fit(TracIn(base_steps=6, points=2, steps=1), workdir=tmp_path, jobs=2)
    np.testing.assert_allclose(parallel.matrix, serial.matrix, rtol=1e-6, atol=1e-9)


def test_a_snapshot_without_the_base_lrs_is_refused_with_the_fix(tmp_path):
    fit(TracIn(base_steps=4, points=1, steps=1), workdir=tmp_path)
    snapshot = tmp_path / "base" / "step4.pt"
    saved = load_checkpoint(snapshot)
    del saved["lrs"]  # as an older skillit wrote it
    torch.save(saved, snapshot)
    (tmp_path / "runs" / "t4__gradients.json").unlink()
    with pytest.raises(CheckpointError, match=r"step4.pt: this base snapshot does not record .* delete"):
        fit(TracIn(base_steps=4, points=1, steps=1), workdir=tmp_path)
    assert not (tmp_path / "runs" / "t4__gradients.json").exists()
