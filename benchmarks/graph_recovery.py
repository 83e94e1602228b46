"""Graph recovery: learned skills graphs versus the tasks' planted prerequisite structure, and their cost.

For each task config (default: the shipped ``lego-graph`` and ``addition-graph``) and each learner, learn
the graph with ``skillit.experiment.graph_learning.learn_graph`` (the code ``skillit graph`` runs), then
compare its off-diagonal edges with the task's planted prerequisites (LEGO chain: every ancestor;
Addition: every lower digit) and report precision, recall, the weight correlation and the cost in
training steps as a ratio to one training run of the config (``training.steps``, same batch size).

    .venv/bin/python benchmarks/graph_recovery.py [--configs lego-graph,addition-graph]
        [--methods probe,linear,brute-force,threshold,threshold-te,tracin] [--seeds 0,1,2] [--out runs/graph-recovery]
    .venv/bin/python benchmarks/graph_recovery.py --skillit [--configs lego-graph]

``--skillit`` then runs the config's methods (``skillit run``; lego-graph: Skill-It with the learned
graph beside Skill-It with the paper's hand-made graph, same seeds) and prints the comparison table.
Learned graphs are cached under ``--out``: a second call resumes and reuses them; an ``--out`` holding runs
of another set-up is refused (exit 2, one message). The figures and the
command that measured them are in docs/graphs.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch


def _section(method: str, **params: object) -> dict:
    """A graph_learning section: the learner and its parameters (docs/graphs.md)."""
    return {"method": method, "params": params}


# Per config and learner: the graph_learning section used. Runs of h/H steps from a stratified warm start
# of base_steps (single-skill training from scratch mostly teaches the answer format, skillit.md §1.3).
# "threshold-te" reads the threshold runs per example of the target skill (same runs, no extra cost).
# tracin reads gradients at checkpoints of the base (no runs); its variants re-read the same gradients
TRACIN = {
    "tracin": _section("tracin", base_steps=600, points=3, steps=2),  # similarity: dot, control
    "tracin-cosine": _section("tracin", base_steps=600, points=3, steps=2, similarity="cosine"),
    "tracin-raw": _section("tracin", base_steps=600, points=3, steps=2, control=False),
    "tracin-6": _section("tracin", base_steps=600, points=6, steps=2, similarity="cosine"),
}
PARAMS = {
    "lego-graph": {
        "probe": _section("probe", base_steps=600, points=3, steps=25, mix=0.5),
        "linear": _section("linear", base_steps=600, steps=100),
        "brute-force": _section("brute-force", base_steps=600, steps=100),
        "threshold": _section("threshold", base_steps=600, steps=300, threshold=0.1, eval_every=20),
        "threshold-te": _section("threshold", base_steps=600, steps=300, threshold=0.1, eval_every=20,
                                 compare="target-examples"),
        **TRACIN,
    },
    "addition-graph": {
        "probe": _section("probe", base_steps=600, points=3, steps=25, mix=0.5),
        "linear": _section("linear", base_steps=600, steps=100),
        "brute-force": _section("brute-force", base_steps=600, steps=200),
        "threshold": _section("threshold", base_steps=600, steps=800, threshold=0.1, eval_every=25),
        "threshold-te": _section("threshold", base_steps=600, steps=800, threshold=0.1, eval_every=25,
                                 compare="target-examples"),
        **TRACIN,
    },
}
SHARES_RUNS_WITH = {"threshold-te": "threshold", "tracin-raw": "tracin", "tracin-cosine": "tracin"}


def main(argv: list[str] | None = None) -> int:
    """Run the script; a refusal (e.g. ``--out`` holds runs of another set-up) is one message and exit 2, as in
    ``arena_peers.py``."""
    from skillit.errors import SkillitError

    try:
        _main(argv)
    except SkillitError as exc:  # e.g. --out holds graph runs of another set-up: the message names the ways out
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _main(argv: list[str] | None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="lego-graph,addition-graph")
    parser.add_argument("--methods", default="probe,linear,brute-force,threshold,threshold-te")
    parser.add_argument("--out", default="runs/graph-recovery")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seeds", default="0", help="graph-learning seeds (base run, data order, model init), e.g. 0,1,2")
    parser.add_argument("--skillit", action="store_true", help="also run the config's methods with the learned graph")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # the learner's own runs go to worker processes; keep this one from spinning

    from skillit.experiment.config import ExperimentConfig, load_config
    from skillit.experiment.graph_learning import learn_graph

    rows = []
    for name in args.configs.split(","):
        base = load_config(name)
        for method in args.methods.split(","):
          for seed in (int(s) for s in args.seeds.split(",")):
            data = base.model_dump()
            data["graph_learning"] = {**PARAMS[name][method], "jobs": args.jobs, "seed": seed}
            data["seeds"] = [seed]  # the model's initialisation follows the seed too
            config = ExperimentConfig.model_validate(data)
            runs_of = SHARES_RUNS_WITH.get(method, method)
            suffix = "" if seed == 0 else f"-seed{seed}"
            started = time.perf_counter()
            graph = learn_graph(config, Path(args.out) / name / (method + suffix), jobs=args.jobs,
                                workdir=Path(args.out) / name / (runs_of + suffix) / "work")
            cost = graph.provenance["cost"]
            planted = graph.provenance["diagnostics"]["vs_planted"]
            rows.append({
                "config": name, "task": config.task.name, "method": method, "seed": seed,
                "params": PARAMS[name][method],
                "precision": planted.get("precision"), "recall": planted.get("recall"),
                "pearson": planted.get("pearson"),
                "edges": graph.provenance["diagnostics"]["density"]["edges"],
                "train_steps": cost["train_steps"], "ratio": cost["ratio_to_training_run"],
                "eval_examples": cost["eval_examples"], "wall_seconds": round(cost["wall_seconds"], 1),
                "measured_now_seconds": round(time.perf_counter() - started, 1),
                "false_positive": planted.get("false_positive"), "false_negative": planted.get("false_negative"),
            })
            print(_line(rows[-1]), flush=True)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / f"recovery-{'-'.join(args.configs.split(','))}-{args.seeds.replace(',', '')}.json").write_text(
        json.dumps(rows, indent=2) + "\n")
    print()
    print("| config | method | seed | precision | recall | weight r | edges | train steps | × one run | eval examples | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['config']} | {row['method']} | {row['seed']} | {_fmt(row['precision'])} | {_fmt(row['recall'])} | "
            f"{_fmt(row['pearson'])} | {row['edges']} | {row['train_steps']} | {row['ratio']:.2f} | "
            f"{row['eval_examples']} | {row['wall_seconds']:.0f} |"
        )
    if args.skillit:
        from skillit.experiment.runner import run_experiment
        from skillit.report.table import comparison_table

        for name in args.configs.split(","):
            config = load_config(name)
            summary = run_experiment(config, Path(args.out) / name / "skillit", jobs=args.jobs)
            print()
            from rich.console import Console

            Console(width=160).print(comparison_table(summary))
            for method, values in summary["methods"].items():
                final = values["final"]
                print(f"{name} {method}: mean loss {final['mean_loss']:.4f}, mean accuracy {final['mean_accuracy']:.4f}, "
                      f"per skill {json.dumps({k: round(v['loss'], 4) for k, v in final['per_skill'].items()})}")
            print(f"graph cost: {json.dumps(summary.get('graph_cost'))}")


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _line(row: dict) -> str:
    return (f"{row['config']:>16} {row['method']:>12} seed {row['seed']}: precision {_fmt(row['precision'])} recall {_fmt(row['recall'])} "
            f"r {_fmt(row['pearson'])} | {row['train_steps']} steps = {row['ratio']:.2f}× a run, "
            f"{row['wall_seconds']:.0f} s | missed {row['false_negative']} extra {row['false_positive']}")


if __name__ == "__main__":
    raise SystemExit(main())
