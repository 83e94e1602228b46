"""A finished run directory written by hand (no training): hand-known figures for the report's tests.

Two methods (skill-it, stratified) × three seeds, skills a and b (both trained and evaluated), evaluations at
steps 0, 5 and 10. Final losses per seed (both skills equal, so the objective mean is the same number):

    stratified  1.0, 1.2, 1.1      skill-it  0.5, 1.0, 0.6      paired differences −0.5, −0.2, −0.5

so Δ loss = −0.4 with s_d = √0.03 and a 95 % t-interval of −0.4 ± 4.302653·√0.03/√3 = [−0.830, +0.030].
Examples seen at the end: stratified 40/40, skill-it 64/16; pool sizes a = 100 (b is generated: none).
"""

from __future__ import annotations

from pathlib import Path

from skillit.graph import SkillsGraph
from skillit.records.metrics import RunRecord, write_metrics
from skillit.records.summary import summarize
from skillit.utils.io import atomic_write_json, atomic_write_text

FINAL_LOSS = {"stratified": [1.0, 1.2, 1.1], "skill-it": [0.5, 1.0, 0.6]}
FINAL_WEIGHTS = {"stratified": (0.5, 0.5), "skill-it": (0.8, 0.2)}
FINAL_SEEN = {"stratified": (40, 40), "skill-it": (64, 16)}


def records(method: str, seed: int) -> list[dict]:
    final = FINAL_LOSS[method][seed]
    out = []
    for step, loss in ((0, 3.0), (5, (3.0 + final) / 2), (10, final)):
        weights = (0.5, 0.5) if step == 0 else FINAL_WEIGHTS[method]
        seen = tuple(int(n * step / 10) for n in FINAL_SEEN[method])
        out.append({
            "step": step, "round": step // 5, "losses": {"a": loss, "b": loss},
            "accuracies": {"a": 1 - loss / 3, "b": 1 - loss / 3}, "weights": {"a": weights[0], "b": weights[1]},
            "examples_seen": {"a": seen[0], "b": seen[1]}, "train_loss": None if step == 0 else loss + 0.1,
            "lr": 0.001, "train_seconds": step * 0.1, "eval_seconds": 0.2 * (step // 5 + 1), "eval_examples": 16,
        })
    return out


def make_run_dir(path: Path, name: str = "fixture", graph: bool = True) -> Path:
    runs = [RunRecord(m, s, {}, records(m, s), 10, 1.0 if m == "stratified" else 1.5, 0.6, 48)
            for m in ("skill-it", "stratified") for s in (0, 1, 2)]
    summary = summarize(runs, task="lego", setting="pretrain", steps=10, objective_skills=["a", "b"],
                        target_loss=2.0, methods=["skill-it", "stratified"])
    summary.update(name=name, wall_seconds=12.5, device="cpu", jobs=1, pool_sizes={"a": 100, "b": None})
    path.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path / "config.yaml", f"name: {name}\ntask: {{name: lego}}\n")
    write_metrics(path / "metrics.jsonl", runs)
    if graph:
        cost = {"train_steps": 30, "eval_examples": 900, "wall_seconds": 4.0, "ratio_to_training_run": 3.0}
        SkillsGraph([[1.0, 0.4], [0.0, 1.0]], ["a", "b"], ["a", "b"], {"method": "probe", "cost": cost}).save(
            path / "graph" / "graph.json")
        summary["graph_cost"] = {"skill-it": {**cost, "method": "probe", "source": "learned"}}
    atomic_write_json(path / "summary.json", summary)
    return path
