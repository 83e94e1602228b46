"""Run the arena's peer methods on one of the earlier benchmarks, for `skillit compare` to merge (issue 9).

The arena configs (`real-text`, `math-pretrain`, `math-finetune`) list every method; the earlier benchmarks
(`addition-*`, `composition-*`, `lego-*`, `ni-stance`) list only their own, so their `skillit bench` stays
inside its time budget. This script runs the peers there without editing the shipped configs: it takes the
benchmark's config as shipped, replaces its methods by the benchmark's own `stratified` (as the config gives
it: in `addition-finetune` and `composition-finetune` it is stratified over the skills with an edge to the
target) and the peers — each with the parameters the arena configs give it (read from `math-pretrain.yaml`,
the one source) — and runs them into ``--out``. Stratified is run again because DoReMi online uses it as its
reference; it repeats the board's stratified runs exactly (seeded), which is what lets `skillit compare`
merge the two directories (it refuses if they differ):

    skillit run addition-finetune --jobs 2 --out runs/arena/addition-finetune
    python benchmarks/arena_peers.py addition-finetune --jobs 2 --out runs/arena-peers/addition-finetune
    skillit compare runs/arena/addition-finetune runs/arena-peers/addition-finetune --out runs/board

``--out`` follows `skillit run`'s rule: the same set-up again keeps its finished runs, another set-up's run
there is refused (exit 2, one message) unless ``--overwrite``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from skillit.errors import SkillitError
from skillit.experiment.config import load_config, shipped_config_path
from skillit.experiment.runner import apply_overrides, run_experiment

# every arena method that is not a graph-specific Skill-It variant (those take the benchmark's own graph)
PEERS = ("aioli", "aioli-train-loss", "ado", "ado-low-floor", "odm", "doremi-online", "rb-balance", "pike",
         "velocitune", "natural", "temperature")
SOURCE = "math-pretrain"


def peer_config(benchmark: str, seeds: int | str | None = None, peers: tuple[str, ...] = PEERS):
    """The benchmark's shipped config with methods = the peers (the arena's parameters), after the benchmark's
    own stratified when DoReMi online (its reference) is among them or all of them run."""
    unknown = [name for name in peers if name not in PEERS]
    if unknown:
        raise SystemExit(f"unknown peer(s) {', '.join(unknown)}; choose from {', '.join(PEERS)}")
    config = load_config(shipped_config_path(benchmark))
    arena = load_config(shipped_config_path(SOURCE)).model_dump()["methods"]
    data = config.model_dump()
    baseline = {"stratified": data["methods"]["stratified"]} if "doremi-online" in peers or peers == PEERS else {}
    data["methods"] = {**baseline, **{name: arena[name] for name in peers}}
    return apply_overrides(type(config).model_validate(data), seeds=seeds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmark", help="a shipped benchmark config name, e.g. addition-finetune")
    parser.add_argument("--out", type=Path, required=True, help="the run directory to write")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seeds", default=None,
                        help="N: seeds 0..N-1, or seeds and ranges such as 3-6 (default: the config's)")
    parser.add_argument("--peers", default=",".join(PEERS),
                        help="comma-separated peers to run (default: all; a peer added later runs alone)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a run of another set-up that --out holds (without it that is refused)")
    args = parser.parse_args(argv)
    try:
        config = peer_config(args.benchmark, args.seeds, tuple(p.strip() for p in args.peers.split(",") if p.strip()))
    except SkillitError as exc:  # a bad --seeds or benchmark name: one message, nothing run or written
        parser.error(str(exc))
    start = time.perf_counter()
    try:
        run_experiment(config, args.out, config_dir=shipped_config_path(args.benchmark).parent, jobs=args.jobs,
                       overwrite=args.overwrite,
                       progress=lambda done, total: print(f"\r{done}/{total} steps", end="", file=sys.stderr))
    except SkillitError as exc:  # e.g. --out holds another set-up's run: the message names the ways out
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"\n{args.benchmark}: {len(config.methods)} methods x {len(config.seeds)} seeds in "
          f"{time.perf_counter() - start:.0f} s; results in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
