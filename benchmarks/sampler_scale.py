"""Sampler and policy at scale: 10^7 draws over 10^4 skills, and Skill-It's update at 10^4 (or 10^5) skills.

Measures (figures in docs/data.md, with the command that produced them):

1. MixtureSampler throughput: ``--examples`` draws over ``--skills`` unbounded per-skill streams, in rounds
   of ``--round`` draws (``start_round`` at a fresh random mixture, then ``next_batch`` until the round
   ends), pairs only and pairs + ``source.get`` on a trivial counter source; peak traced memory of one
   round (tracemalloc) and the process's peak RSS; the size of the sampler's state.
2. The same over finite pools (the whole stream split into equal pools), shuffled (a permutation per
   skill and epoch, O(examples)) and ordered (streamed shards, O(skills)).
3. ``SkillIt.update`` + ``SkillIt.weights`` per round at ``--skills`` skills, with a dense graph and with a
   sparse graph of ``--edges`` random edges per skill (plus the diagonal): wall time, and the thread's CPU
   time (less inflated than wall time when other jobs share the machine, though still above an idle
   machine's). Target for the sparse graph: <= 10 ms at 10^5 skills (``--skills 100000 --only policy
   --no-dense``). Each round's evaluation is made as the trainer's ``SkillEvaluator`` makes it
   (``EvalResult.from_arrays``, outside the timed part); ``sparse, dict evaluations`` is the same with an
   evaluation given as a plain ``{skill: loss}`` dict in the skills' order (hand-made or restored results).
4. The streaming loader: ``--shard-rows`` mixed rows over ``--skills`` skills split into per-skill shards
   (rows/s, peak traced memory), then sequential reads through ``ShardSource``.

    .venv/bin/python benchmarks/sampler_scale.py                      # the documented figures
    .venv/bin/python benchmarks/sampler_scale.py --examples 1000000   # quicker
    .venv/bin/python benchmarks/sampler_scale.py --skills 100000 --only policy --no-dense   # Skill-It at 10^5
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
import tracemalloc

import numpy as np

from skillit.graph.skills_graph import SkillsGraph, SparseMatrix
from skillit.policy import EvalResult, Observation, PolicyContext, SkillIt
from skillit.sampler import MixtureSampler
from skillit.skills import Example


class CounterSource:
    """The cheapest possible unbounded source: example i of a skill is its index as text."""

    size = None

    def __init__(self, skill: str):
        self.skill = skill

    def get(self, index: int) -> Example:
        return Example("", str(index), self.skill)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def draw(sampler: MixtureSampler, examples: int, round_size: int, batch: int, sources=None, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    k = sampler.k
    drawn = 0
    plan_seconds = batch_seconds = 0.0
    while drawn < examples:
        n_batches = min(round_size, examples - drawn) // batch
        weights = rng.dirichlet(np.ones(k))
        started = time.perf_counter()
        sampler.start_round(weights, n_batches)
        plan_seconds += time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(n_batches):
            pairs = sampler.next_batch()
            if sources is not None:
                for s, i in pairs:
                    sources[s].get(i)
        batch_seconds += time.perf_counter() - started
        drawn += n_batches * batch
    total = plan_seconds + batch_seconds
    return {"examples": drawn, "seconds": round(total, 2), "per_second": round(drawn / total),
            "plan_seconds": round(plan_seconds, 2), "batch_seconds": round(batch_seconds, 2)}


def round_memory(make, round_size: int, batch: int) -> float:
    """Peak traced memory (MB) of building a sampler and drawing one round."""
    tracemalloc.start()
    sampler = make()
    sampler.start_round(np.full(sampler.k, 1.0 / sampler.k), round_size // batch)
    while not sampler.round_finished:
        sampler.next_batch()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return round(peak / 2**20, 1)


def sampler_figures(args) -> dict:
    k, batch = args.skills, args.batch
    names = [f"skill{i}" for i in range(k)]
    out = {}
    stream = MixtureSampler([None] * k, batch, seed=0, names=names)
    out["streams: pairs only"] = draw(stream, args.examples, args.round, batch)
    out["streams: pairs only"]["state_json_bytes"] = len(json.dumps(stream.state_dict()))
    out["streams: pairs only"]["round_peak_traced_mb"] = round_memory(
        lambda: MixtureSampler([None] * k, batch, seed=0, names=names), args.round, batch)
    sources = [CounterSource(name) for name in names]
    fetch = min(args.examples, args.fetch_examples)
    out["streams: pairs + source.get"] = draw(MixtureSampler([None] * k, batch, seed=0, names=names), fetch,
                                              args.round, batch, sources)
    pool = max(1, args.examples // k)
    for label, ordered in (("finite pools, shuffled", False), ("finite pools, ordered", True)):
        def make(ordered=ordered):
            return MixtureSampler([pool] * k, batch, seed=0, names=names, ordered=[ordered] * k)

        sampler = make()
        figures = draw(sampler, args.examples, args.round, batch)
        figures["pool_per_skill"] = pool
        figures["round_peak_traced_mb"] = round_memory(make, args.round, batch)
        figures["permutations_held"] = len(sampler._perm_cache)
        out[label] = figures
    out["peak_rss_mb_so_far"] = round(peak_rss_mb())
    return out


def policy_figures(args) -> dict:
    k = args.skills
    names = [f"skill{i}" for i in range(k)]
    rng = np.random.default_rng(0)
    out = {}
    rows = np.concatenate([np.arange(k), np.repeat(np.arange(k), args.edges)])
    cols = np.concatenate([np.arange(k), rng.integers(0, k, size=k * args.edges)])
    values = np.concatenate([np.ones(k), rng.random(k * args.edges)])
    sparse = SparseMatrix(rows, cols, values, (k, k))
    def evaluator_result(step: int) -> EvalResult:  # as SkillEvaluator returns it: per-skill arrays in order
        return EvalResult.from_arrays(step, names, rng.random(k), np.zeros(k))

    def dict_result(step: int) -> EvalResult:  # a plain mapping in the skills' order (hand-made, or restored)
        return EvalResult(step, dict(zip(names, rng.random(k).tolist())))

    def sparse_graph() -> SkillsGraph:
        return SkillsGraph(sparse, names, names)

    cases = {"sparse": (sparse_graph, evaluator_result), "sparse, dict evaluations": (sparse_graph, dict_result)}
    if not args.no_dense:
        cases["dense"] = (lambda: SkillsGraph(sparse.toarray(), names, names), evaluator_result)
    for label, (build, evaluate) in cases.items():
        started = time.perf_counter()
        graph = build()
        policy = SkillIt(graph, eta=0.5, window=3)
        context = PolicyContext(train_skills=tuple(names), eval_skills=tuple(names), initial_eval=evaluate(0))
        state = policy.init(context)
        policy.weights(state)
        setup = time.perf_counter() - started
        update_ms, weights_ms, cpu_ms = [], [], []
        for r in range(args.policy_rounds):
            evaluation = evaluate(r + 1)
            cpu_started, started = time.thread_time(), time.perf_counter()
            state = policy.update(state, Observation(r, r + 1, (evaluation,)))
            update_ms.append(1e3 * (time.perf_counter() - started))
            started = time.perf_counter()
            policy.weights(state)
            weights_ms.append(1e3 * (time.perf_counter() - started))
            cpu_ms.append(1e3 * (time.thread_time() - cpu_started))
        total = [u + w for u, w in zip(update_ms, weights_ms)]
        out[label] = {
            "entries": graph.sparse.nnz if graph.is_sparse else k * k,
            "setup_seconds": round(setup, 2),
            "update_ms_median": round(statistics.median(update_ms), 2),
            "weights_ms_median": round(statistics.median(weights_ms), 2),
            "update_plus_weights_ms_median": round(statistics.median(total), 2),
            "update_plus_weights_ms_max": round(max(total), 2),
            # CPU time of this thread: on a machine shared with other jobs, closer to the idle time than wall time
            "update_plus_weights_cpu_ms_median": round(statistics.median(cpu_ms), 2),
        }
        del graph, policy
    return out


def shard_figures(args) -> dict:
    from skillit.skills.io import load_skills

    k, n = args.skills, args.shard_rows

    def rows():
        for i in range(n):
            yield {"skill": f"skill{(i * 7919) % k}", "prompt": f"q{i}=", "answer": str(i % 97)}

    with tempfile.TemporaryDirectory() as folder:
        tracemalloc.start()
        started = time.perf_counter()
        skills = load_skills(rows(), cache_dir=folder)
        seconds = time.perf_counter() - started
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        started = time.perf_counter()
        read = 0
        for skill in skills.skills[:: max(1, k // 100)]:  # sequential reads of every 100th skill's stream
            for i in range(skill.train.size):
                skill.train.get(i)
                read += 1
        read_seconds = time.perf_counter() - started
    return {"rows": n, "skills": len(skills), "shard_seconds": round(seconds, 2),
            "rows_per_second": round(n / seconds), "peak_traced_mb": round(peak / 2**20, 1),
            "skillset_traced_mb": round(current / 2**20, 1),
            "sequential_reads_per_second": round(read / read_seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description="sampler and policy figures at 10^4 skills")
    parser.add_argument("--examples", type=int, default=10_000_000)
    parser.add_argument("--skills", type=int, default=10_000)
    parser.add_argument("--round", type=int, default=1_000_000, help="draws per round")
    parser.add_argument("--batch", type=int, default=1_000, help="global batch size")
    parser.add_argument("--fetch-examples", type=int, default=2_000_000, help="draws also fetched from a source")
    parser.add_argument("--edges", type=int, default=10, help="random edges per skill in the sparse graph")
    parser.add_argument("--policy-rounds", type=int, default=20)
    parser.add_argument("--shard-rows", type=int, default=1_000_000)
    parser.add_argument("--no-dense", action="store_true", help="skip the dense 10^4 x 10^4 graph (800 MB)")
    parser.add_argument("--only", choices=["sampler", "policy", "shards"], default=None)
    args = parser.parse_args()
    report = {"settings": vars(args)}
    for name, fn in (("sampler", sampler_figures), ("policy", policy_figures), ("shards", shard_figures)):
        if args.only in (None, name):
            report[name] = fn(args)
            print(json.dumps({name: report[name]}, indent=2), flush=True)
    report["peak_rss_mb"] = round(peak_rss_mb())
    print(json.dumps({"peak_rss_mb": report["peak_rss_mb"]}))


if __name__ == "__main__":
    main()
