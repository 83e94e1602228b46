"""Reference skills graphs: the expensive definition, at several seeds, computed once and kept as data.

Issue 25, item 5: a learner is scored against a reference graph, so the reference must measure transfer by the
paper's own definition with as little noise as we can afford. Here that is Algorithm 2 (paper §3.2, App. B.2;
``graph_learners/brute_force.py``): from the shared base model, train on each evaluation skill j alone and on
every balanced pair {i, j} for H steps, and A[i, j] = δ_j^{i,j} − δ_j^j (the pair's extra decrease of j's loss),
with H = the benchmark's own training steps (not the learner's short default), at ``--seeds`` learner seeds
(per-edge mean, t-interval and stable mask: ``skillit.graph.uncertainty``).

Each benchmark's result goes to ``benchmarks/reference_graphs/NAME.json``: the graph (the seed mean as the matrix,
so the reference keeps every measured edge; the stable mask beside it), the learner and its parameters, the
seeds, the cost in steps, the wall time, the machine, the date and the command. The runs themselves go to
``--work`` (default ``runs/reference-graphs/NAME``; resumable: run the same command again).

    .venv/bin/python benchmarks/reference_graphs.py math-finetune real-text-finetune --seeds 0-2 --jobs 2
    .venv/bin/python benchmarks/reference_graphs.py math-pretrain --method linear --steps 300   # Alg. 3 instead
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

from skillit.experiment.config import load_config, shipped_config_path
from skillit.experiment.graph_learning import learn_graph
from skillit.experiment.runner import parse_seeds
from skillit.graph.uncertainty import uncertainty_of
from skillit.utils.io import atomic_write_json
from skillit.utils.machine import machine_fingerprint

HERE = Path(__file__).resolve().parent
OUT = HERE / "reference_graphs"
# the benchmarks the issue names; others can be given by name
DEFAULT = ["composition-pretrain", "composition-finetune", "math-pretrain", "math-finetune", "real-text-finetune"]


def reference_config(name: str, method: str, steps: int | None, seeds: list[int], columns: str = "all"):
    """The shipped config with its ``graph_learning`` section replaced by the reference learner's.

    ``columns="targets"`` (fine-tuning benchmarks) measures only the target skills' columns — the columns the
    fine-tuning policies read (``graph_targets``) — by restricting the task's evaluation skills to the targets:
    Alg. 2 then trains the target alone and each pair with it, k runs per seed instead of k + k(k−1)/2.
    """
    config = load_config(shipped_config_path(name))
    section = {"method": method, "params": {"steps": steps or config.training.steps}, "seeds": seeds}
    data = config.model_dump()
    data["graph_learning"] = section
    if columns == "targets":
        if config.setting != "finetune" or not config.target_skills:
            raise SystemExit(f"--columns targets: {name} is not a fine-tuning benchmark with target skills")
        data["task"]["eval_skills"] = list(config.target_skills)
    return type(config).model_validate(data), section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=DEFAULT, help=f"benchmarks (default: {' '.join(DEFAULT)})")
    parser.add_argument("--method", default="brute-force", help="the learner (default brute-force: Alg. 2)")
    parser.add_argument("--steps", type=int, default=None, help="H: steps of each run (default: the benchmark's)")
    parser.add_argument("--seeds", default="0-2", help="learner seeds, e.g. 0-2 or 0,1,2 (default 0-2)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel training processes (default 2)")
    parser.add_argument("--work", type=Path, default=Path("runs") / "reference-graphs", help="where the runs go")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where NAME.json goes (default {OUT})")
    parser.add_argument("--columns", choices=["all", "targets"], default="all",
                        help="all: every evaluation skill's column; targets: only a fine-tuning benchmark's targets")
    parser.add_argument("--overwrite", action="store_true", help="replace a reference NAME.json that exists")
    args = parser.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    if len(seeds) < 2:
        parser.error("--seeds: a reference needs at least 2 seeds (3 or more for a usable interval)")
    kept = [name for name in args.names if (args.out / f"{name}.json").exists()]
    if kept and not args.overwrite:  # a reference is hours of training: never replaced unasked
        parser.error(f"{args.out / (kept[0] + '.json')} exists; leave {kept[0]} out, give another --out, or add "
                     "--overwrite to replace it")
    for name in args.names:
        config, section = reference_config(name, args.method, args.steps, seeds, args.columns)
        started = time.perf_counter()
        graph = learn_graph(config, args.work / name, jobs=args.jobs, plots=False)
        record = json.loads((args.work / name / "graph.json").read_text())
        command = " ".join(["python benchmarks/reference_graphs.py", name, "--method", args.method, "--seeds",
                            args.seeds] + (["--steps", str(args.steps)] if args.steps else [])
                           + (["--columns", args.columns] if args.columns != "all" else []))
        atomic_write_json(args.out / f"{name}.json", {
            "benchmark": name, "learner": section, "columns": args.columns, "graph": record,
            "matrix_mean": uncertainty_of(graph).mean.tolist(),  # every measured edge (the matrix: stable ones)
            "wall_seconds_this_call": time.perf_counter() - started,
            "date": datetime.date.today().isoformat(), "machine": machine_fingerprint(), "command": command,
        })
        print(f"{name}: {args.out / (name + '.json')} ({record.get('cost', {}).get('train_steps')} train steps)",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
