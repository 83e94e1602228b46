"""How much of a training step does the mixing machinery cost, and each signal a policy may ask for?

Targets: mixing ≤ 1 % of step time; per-skill training loss ≤ 1 %; gradient statistics ≤ 5 % (at the
demo's size, beside a static sampler, in one run).

Runs the one training loop on LEGO (the demo's model: 2 layers, 64 dims, batch 64) with each policy and
times, inside the loop, everything the mixing machinery does: ``policy.weights`` / ``policy.scope`` /
``policy.update`` and the sampler's ``start_round`` / ``next_batch``. Evaluation is excluded (it is the
same for every method and reported separately by the loop). The static policy runs through the same loop,
so its row is the baseline. The signal rows are the static mixture declaring that it requires a signal,
so the Mixer computes it (``signal_seconds`` in the records, timed inside the Mixer's SignalTap):
``train_loss``, ``grad_stats`` on the full output layer (V × d), and ``grad_stats`` through a random
projection to 16 rows (the demo's 30-token vocabulary is below the auto-projection threshold of 512; the
projected row shows the large-vocabulary path).

    python benchmarks/overhead.py [--steps 600] [--batch-size 64] [--round-steps 50]

Prints one row per policy: training ms/step, mixing ms/step, mixing share of the step, the extra cost over
the static sampler as a share of the step, and the signal's own cost as a share of the step.
"""

from __future__ import annotations

import argparse
import time

import torch

import skillit.trainer.mixer as mixer_module
from skillit.graph import builtin_graph
from skillit.model import GPT, CharTokenizer, GPTConfig
from skillit.policy import SkillIt, Static, Stratified
from skillit.policy.wrappers import Wrapper
from skillit.sampler import MixtureSampler
from skillit.tasks import build_task
from skillit.trainer import TrainConfig, train

CLOCK = {"mixing": 0.0}


def timed(fn):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            CLOCK["mixing"] += time.perf_counter() - started

    return wrapper


class TimedSampler(MixtureSampler):
    start_round = timed(MixtureSampler.start_round)
    next_batch = timed(MixtureSampler.next_batch)


class TimedPolicy(Wrapper):
    wrapper_name = "timed"  # not registered: a timing probe for this benchmark only
    init = timed(Wrapper.init)
    update = timed(Wrapper.update)
    weights = timed(Wrapper.weights)
    scope = timed(Wrapper.scope)


def needing(signal: str, policy):
    """``policy`` declaring that it requires ``signal`` (it ignores it): the Mixer then computes it."""
    policy.requires = frozenset({"val_loss", signal})
    return policy


def measure(name, policy, args, projection=None) -> dict:
    skills = build_task("lego", {"k": 5, "shuffle": False, "validation_size": 20}, seed=0)
    tokenizer = CharTokenizer(skills.metadata["alphabet"])
    torch.manual_seed(0)
    model = GPT(GPTConfig(tokenizer.vocab_size, 40, n_layer=2, n_head=4, n_embd=64))
    config = TrainConfig(
        steps=args.steps, batch_size=args.batch_size, round_steps=args.round_steps, eval_every=args.steps, lr=3e-3,
        train_loss="answer", grad_projection=projection,
    )
    CLOCK["mixing"] = 0.0
    result = train(model, tokenizer, skills, TimedPolicy(policy), config)
    signal = sum(result.final.get("signal_seconds", {}).values())
    return {"policy": name, "train_ms": 1e3 * result.train_seconds / args.steps,
            "mixing_ms": 1e3 * CLOCK["mixing"] / args.steps, "signal_ms": 1e3 * signal / args.steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--round-steps", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    mixer_module.MixtureSampler = TimedSampler  # the Mixer builds its sampler from this name
    policies = [
        ("static (baseline)", Static([1, 1, 1, 3, 5]), None),
        ("stratified", Stratified(), None),
        ("skill-it", SkillIt(builtin_graph("lego"), eta=0.5, window=3), None),
        ("+ train_loss", needing("train_loss", Static([1, 1, 1, 3, 5])), None),
        ("+ grad_stats (V×d)", needing("grad_stats", Static([1, 1, 1, 3, 5])), 0),
        ("+ grad_stats (r=16)", needing("grad_stats", Static([1, 1, 1, 3, 5])), 16),
    ]
    rows = [measure(name, policy, args, projection) for name, policy, projection in policies]
    base = rows[0]
    print(f"steps={args.steps} batch={args.batch_size} round_steps={args.round_steps} threads={args.threads}")
    print(f"{'policy':<22}{'train ms/step':>15}{'mixing ms/step':>16}{'mixing share':>14}{'extra vs static':>17}"
          f"{'signal share':>14}")
    for row in rows:
        share = 100 * row["mixing_ms"] / row["train_ms"]
        extra = 100 * (row["train_ms"] - base["train_ms"]) / base["train_ms"]
        signal = 100 * row["signal_ms"] / row["train_ms"]
        print(f"{row['policy']:<22}{row['train_ms']:>15.2f}{row['mixing_ms']:>16.3f}{share:>13.2f}%{extra:>16.2f}%"
              f"{signal:>13.2f}%")


if __name__ == "__main__":
    main()
