"""Score graph learners against the reference graphs (issue 25, item 5): one row per learner × benchmark.

For each benchmark with a reference (``benchmarks/reference_graphs/NAME.json``, written by
``benchmarks/reference_graphs.py``) and each learner, learn the benchmark's graph at ``--seeds`` learner seeds
with ``learn_graph`` (the code ``skillit graph`` runs; the config's own ``graph_learning`` section with
``method`` replaced), then report:

* cost: the learner's training steps (gradient passes counted as steps) as a multiple of one training run;
* precision / recall of its off-diagonal edges (entries > 0) against the reference's stable edges, mean over
  seeds (``skillit.graph.diagnostics.compare_graphs``), and against the planted structure where the task has
  one (``prerequisites``);
* the Spearman rank correlation of its off-diagonal weights with the reference's mean weights;
* stability: the mean pairwise Jaccard index of the seeds' edge sets (1 = every seed finds the same edges).

Every score is over the reference's columns: a fine-tuning reference learned with ``--columns targets``
measures the target's column only, and the learners are scored on that column.

Learned graphs are cached under ``--work``: a second call reuses them.

    .venv/bin/python benchmarks/learner_scores.py math-finetune --learners probe,tracin --seeds 0-4
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

from skillit.experiment.config import load_config, shipped_config_path
from skillit.experiment.graph_learning import learn_graph, planted_graph, with_graph_seed
from skillit.experiment.runner import parse_seeds
from skillit.graph import SkillsGraph
from skillit.graph.diagnostics import compare_graphs, edges

REFERENCES = Path(__file__).resolve().parent / "reference_graphs"


def reference_graphs(name: str, folder: Path = REFERENCES) -> tuple[SkillsGraph, SkillsGraph]:
    """The reference's stable graph (its edges) and its seed-mean graph (its weights)."""
    path = folder / f"{name}.json"
    if not path.is_file():
        raise SystemExit(f"no reference graph {path}: run benchmarks/reference_graphs.py {name} first")
    data = json.loads(path.read_text())
    stable = SkillsGraph.from_dict(data["graph"], where=str(path))
    mean = SkillsGraph(np.asarray(data["matrix_mean"], dtype=float), stable.train_skills, stable.eval_skills)
    return stable, mean


def jaccard(a: set, b: set) -> float:
    return 1.0 if not a and not b else len(a & b) / len(a | b)


def mean_of(values: list[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return float(np.mean(found)) if found else None


def score(name: str, learner: str, seeds: list[int], work: Path, jobs: int, references: Path = REFERENCES) -> dict:
    config = load_config(shipped_config_path(name))
    stable, mean = reference_graphs(name, references)
    planted = planted_graph(config)
    # the config's own graph_learning section, its method replaced (fields the learner does not take are dropped)
    graphs = [learn_graph(with_graph_seed(config, seed), work / name / learner / f"seed{seed}", method=learner,
                          jobs=jobs, plots=False) for seed in seeds]
    versus = [compare_graphs(g, stable) for g in graphs]
    weights = [compare_graphs(g, mean) for g in graphs]
    # stability over the reference's columns (a fine-tuning reference measures the target's column only)
    found = [{(i, j) for i, j in edges(g) if j in stable.eval_skills} for g in graphs]
    row = {
        "benchmark": name, "learner": learner, "seeds": seeds,
        "cost_x_run": mean_of([g.provenance["cost"].get("ratio_to_training_run") for g in graphs]),
        "precision": mean_of([c.precision for c in versus]), "recall": mean_of([c.recall for c in versus]),
        "spearman": mean_of([c.spearman for c in weights]),
        "stability": mean_of([jaccard(a, b) for a, b in itertools.combinations(found, 2)]),
        "reference_edges": len(edges(stable)),
    }
    if planted is not None:
        columns = [j for j in planted.eval_skills if j in stable.eval_skills]  # the reference's columns
        planted = planted.restrict(planted.train_skills, columns)
        to_planted = [compare_graphs(g, planted) for g in graphs]
        row["planted_precision"] = mean_of([c.precision for c in to_planted])
        row["planted_recall"] = mean_of([c.recall for c in to_planted])
    return row


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="benchmarks with a reference graph")
    parser.add_argument("--learners", default="probe,tracin", help="comma-separated learners (default probe,tracin)")
    parser.add_argument("--seeds", default="0-4", help="learner seeds (default 0-4)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("runs") / "learner-scores")
    args = parser.parse_args(argv)
    rows = [score(name, learner, parse_seeds(args.seeds), args.work, args.jobs)
            for name in args.names for learner in args.learners.split(",")]
    print("| benchmark | learner | cost (× one run) | precision / recall vs reference | vs planted | rank corr. "
          "| stability (Jaccard) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        planted = (f"{fmt(r.get('planted_precision'))} / {fmt(r.get('planted_recall'))}"
                   if "planted_precision" in r else "—")
        print(f"| {r['benchmark']} | {r['learner']} | {fmt(r['cost_x_run'])} | {fmt(r['precision'])} / "
              f"{fmt(r['recall'])} ({r['reference_edges']} edges) | {planted} | {fmt(r['spearman'])} | "
              f"{fmt(r['stability'])} |")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
