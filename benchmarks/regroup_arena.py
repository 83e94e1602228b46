"""Mixing on the given skills against mixing on regrouped skills, on one yardstick (issue 9, item 5).

The R&B paper's central claim is that how data are grouped matters more than the rule that mixes the groups.
This script measures it on a data set with a skill column (default: ../shared/data/real_text, the
`real-text` benchmark):

1. Take the benchmark's pools (the first ``--max-examples`` training rows and ``--max-validation`` validation
   rows of every skill).
2. Regroup every one of those rows into k TF-IDF k-means clusters (``skillit.discover.regroup``, fitted on the
   training and validation rows together, as ``skillit regroup`` would be on a whole corpus) and write both
   files with the original ``skill`` and the new ``group`` column.
3. Run the benchmark's config twice per method and seed: mixing over ``skill`` and mixing over ``group``.
   Same rows, same model, same steps; only the grouping the sampler and the policy see differ.
4. Score both on one yardstick, the mean loss per validation example (nats per character):

       L = Σ_g n_g · L_g / Σ_g n_g,      n_g = validation rows of group g, L_g = its mean loss,

   which is the same set of rows either way (the given skills have equal n_g, so there L is their mean).
   Paired by seed against stratified on the given skills.

    python benchmarks/regroup_arena.py --out runs/regroup-arena            # 2 groupings x 2 methods x 3 seeds

Printed: the grouping's adjusted Rand index against the skills, then one row per grouping and method
(mean ± std over seeds, and the paired difference to stratified-on-skills with its 95 % interval).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import yaml

from skillit.discover.metrics import adjusted_rand, cluster_accuracy
from skillit.discover.regroup import regroup
from skillit.records.layout import read_summary
from skillit.report.stats import paired_difference
from skillit.utils.io import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "src" / "skillit" / "configs" / "real-text.yaml"


def first_rows(path: Path, per_skill: int, skill: str) -> list[dict]:
    """The first ``per_skill`` rows of every skill, in file order (the data task's max_examples rule)."""
    counts: Counter = Counter()
    rows = []
    with path.open() as handle:
        for line in handle:
            row = json.loads(line)
            if counts[row[skill]] < per_skill:
                counts[row[skill]] += 1
                rows.append(row)
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "".join(json.dumps(row) + "\n" for row in rows))


def example_weighted_loss(per_skill: dict, counts: dict) -> float:
    """Σ_g n_g L_g / Σ_g n_g over the groups of one run's final evaluation."""
    total = sum(counts[g] for g in per_skill)
    return sum(counts[g] * per_skill[g]["loss"] for g in per_skill) / total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "real_text")
    parser.add_argument("--config", type=Path, default=CONFIG, help="the benchmark config to run twice")
    parser.add_argument("--k", type=int, default=8, help="number of groups (default: the number of skills)")
    parser.add_argument("--methods", default="stratified,skill-it-plus")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=None, help="override the config's steps")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--analyzer", choices=["word", "char"], default="word")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    config = yaml.safe_load(args.config.read_text())
    params = config["task"]["params"]
    text_field, skill = params.get("text_field") or "text", params.get("skill_column", "skill")
    train = first_rows(args.data / "train.jsonl", params.get("max_examples") or 10**9, skill)
    validation = first_rows(args.data / "validation.jsonl", params.get("max_validation") or 10**9, skill)
    rows = train + validation
    grouping = regroup([row[text_field] for row in rows], k=args.k, analyzer=args.analyzer, seed=0)
    labels = [f"group{int(label)}" for label in grouping.labels]
    for row, label in zip(rows, labels):
        row["group"] = label
    truth = [row[skill] for row in rows]
    ari, accuracy = adjusted_rand(labels, truth), cluster_accuracy(labels, truth)
    data_dir = args.out / "data"
    write_jsonl(data_dir / "train.jsonl", train)
    write_jsonl(data_dir / "validation.jsonl", validation)

    results: dict[str, dict[str, dict[int, float]]] = defaultdict(dict)
    for column in (skill, "group"):
        counts = Counter(row[column] for row in validation)
        grouped = {**config, "name": f"{config['name']}-by-{column}"}
        grouped["task"] = {**config["task"], "params": {**params, "train": str(data_dir / "train.jsonl"),
                                                         "validation": str(data_dir / "validation.jsonl"),
                                                         "skill_column": column, "max_examples": None,
                                                         "max_validation": None}}
        config_path = args.out / f"by-{column}.yaml"
        config_path.write_text(yaml.safe_dump(grouped, sort_keys=False))
        run_dir = args.out / "runs" / f"by-{column}"
        command = [sys.executable, "-m", "skillit", "run", str(config_path), "--methods", args.methods,
                   "--seeds", str(args.seeds), "--jobs", str(args.jobs), "--out", str(run_dir)]
        if args.steps:
            command += ["--steps", str(args.steps)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        summary = read_summary(run_dir)
        for method, entry in summary["methods"].items():
            results[column][method] = {run["seed"]: example_weighted_loss(run["per_skill"], counts)
                                       for run in entry["per_seed"]}

    baseline = results[skill]["stratified"]
    seeds = sorted(baseline)
    print(f"grouping: {args.k} TF-IDF ({args.analyzer}) k-means groups of {len(rows)} rows; "
          f"ARI against the skills {ari:.3f}, accuracy {100 * accuracy:.1f} %")
    print(f"{'grouping':<10} {'method':<16} {'loss/example':>16} {'Δ vs stratified on skills [95% CI]':>36}")
    table = []
    for column in (skill, "group"):
        for method, by_seed in results[column].items():
            values = np.array([by_seed[s] for s in seeds])
            line = {"grouping": column, "method": method, "mean": float(values.mean()),
                    "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                    "per_seed": values.tolist()}
            if column == skill and method == "stratified":
                delta = "baseline"
            else:
                diff = paired_difference(by_seed, baseline)
                half = diff.half_width if diff.half_width is not None else float("nan")
                line["difference"] = [diff.mean, half]
                delta = f"{diff.mean:+.4f} [{diff.mean - half:+.4f}, {diff.mean + half:+.4f}]"
            table.append(line)
            print(f"{column:<10} {method:<16} {line['mean']:>9.4f} ± {line['std']:.4f} {delta:>36}")
    (args.out / "regroup-arena.json").write_text(json.dumps(
        {"ari": ari, "accuracy": accuracy, "k": args.k, "rows": len(rows), "table": table}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
