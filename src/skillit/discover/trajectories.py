"""Per-example loss trajectories over a few short training runs (Skill-It §2.3, Table 3).

The paper trains 10 runs on random skill mixtures and records every validation point's loss at 120
checkpoints; the 1200-number loss trajectory of a point, clustered with k-means, recovers LEGO's skills
far better than any embedding (61 % against about 25 %). Examples of one skill are learned at the same
time, so their trajectories move together.

Here each run r draws a mixture p_r ~ Dirichlet(α·1) over *mixing groups* of the data (the known skills
in the paper's protocol; label-free, TF-IDF clusters or a single group) and trains a fresh small GPT with
:func:`skillit.train` under the static policy p_r. Every ``checkpoint_every`` steps a callback scores the
answer loss of every example (``answer_metrics``). The features are

    F[i, r·C + c] = loss of example i after (c + 1)·checkpoint_every steps of run r,   shape (n, R·C).

Cost: R·steps training steps and R·C·n example evaluations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import torch

from skillit.errors import DataError
from skillit.model import GPT, CharTokenizer, GPTConfig, WordTokenizer
from skillit.model.tokenizer import Tokenizer
from skillit.policy.static import Static
from skillit.skills import Example, ListSource, Skill, SkillSet
from skillit.trainer.batching import encode_example
from skillit.trainer.evaluation import answer_metrics
from skillit.trainer.loop import TrainConfig, TrainerCallback, train

ProgressFn = Callable[[int, int], None]  # (training steps done, total)


@dataclass(frozen=True)
class TrajectoryConfig:
    """The probe runs: how many, how long, how often every example is scored, and the model."""

    runs: int = 5
    steps: int = 300
    checkpoint_every: int = 25
    batch_size: int = 64
    lr: float = 3e-3
    warmup_steps: int = 20
    concentration: float = 1.0  # α of the Dirichlet the run mixtures are drawn from
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    init_std: float = 0.1
    tokenizer: Literal["char", "word"] = "char"
    eval_batch_size: int = 512
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("runs", "steps", "checkpoint_every", "batch_size", "n_layer", "n_head", "n_embd"):
            if getattr(self, name) < 1:
                raise DataError(f"trajectory {name} must be >= 1, got {getattr(self, name)}")
        if self.checkpoint_every > self.steps:
            raise DataError(f"checkpoint_every ({self.checkpoint_every}) is longer than a run ({self.steps} steps)")
        if self.n_embd % self.n_head:
            raise DataError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if not self.concentration > 0:
            raise DataError(f"concentration must be > 0, got {self.concentration}")

    @property
    def checkpoints(self) -> int:
        """C: scored checkpoints per run."""
        return self.steps // self.checkpoint_every


@dataclass
class Trajectories:
    """The (n, R·C) loss features, the mixture of each run, the cost, and the last run's model."""

    features: np.ndarray
    mixtures: list[list[float]]
    steps: list[int]  # the checkpoint steps within a run, length C
    train_steps: int
    eval_examples: int
    model: torch.nn.Module
    tokenizer: Tokenizer

    def cost(self) -> dict[str, Any]:
        return {"train_steps": self.train_steps, "eval_examples": self.eval_examples}


class _ScoreEveryExample(TrainerCallback):
    """Scores every example's answer loss every ``every`` steps: rows of a (C, n) array."""

    def __init__(self, model, tokenizer, examples, every: int, batch_size: int, max_length: int):
        self.model, self.tokenizer, self.examples = model, tokenizer, examples
        self.every, self.batch_size, self.max_length = every, batch_size, max_length
        self.rows: list[np.ndarray] = []

    def on_step_end(self, step: int, loss: float) -> None:
        if step % self.every == 0:
            losses, _ = answer_metrics(self.model, self.tokenizer, self.examples, batch_size=self.batch_size,
                                       max_length=self.max_length)
            self.rows.append(losses)


def build_tokenizer(examples: Sequence[Example], kind: Literal["char", "word"] = "char") -> Tokenizer:
    texts = [e.text for e in examples]
    return (CharTokenizer if kind == "char" else WordTokenizer).from_texts(texts)


def build_model(config: TrajectoryConfig, tokenizer: Tokenizer, block_size: int, seed: int) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(tokenizer.vocab_size, block_size, config.n_layer, config.n_head, config.n_embd,
                         init_std=config.init_std))


def group_skillset(examples: Sequence[Example], groups: np.ndarray, n_groups: int | None = None) -> SkillSet:
    """One skill per non-empty mixing group (``g0``, ``g1``, …) holding its examples; 2 of them double as
    its validation set, which the loop needs but the trajectories do not use."""
    del n_groups
    skills = []
    for g in sorted(set(groups.tolist())):
        members = [Example(e.prompt, e.answer, f"g{g}") for e, gi in zip(examples, groups) if gi == g]
        skills.append(Skill(f"g{g}", ListSource(members), members[:2]))
    return SkillSet(skills)


def loss_trajectories(
    examples: Sequence[Example],
    config: TrajectoryConfig = TrajectoryConfig(),
    groups: Sequence[int] | None = None,
    *,
    pool: SkillSet | None = None,
    progress: ProgressFn | None = None,
) -> Trajectories:
    """Every example's held-out answer loss along ``config.runs`` short runs on random mixtures.

    With a ``pool`` (a SkillSet whose training skills are the mixing groups, e.g. a task's generated
    stream), every run trains on the pool and scores all ``examples`` (the paper's protocol: validation
    points, never trained on). Without one, the examples are split into two seeded halves and run r is a
    *pair* of runs with the same mixture p_r and initial model: one trains on half A and scores half B,
    the other the reverse, so every trajectory is a held-out loss (cross-fitting; 2·R runs). ``groups``
    (n,) then assigns each example to a mixing group (default: one group, uniform mixtures).
    """
    if len(examples) < 2:
        raise DataError(f"skill discovery needs at least 2 examples, got {len(examples)}")
    groups_arr = np.zeros(len(examples), dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    if groups_arr.shape != (len(examples),):
        raise DataError(f"{groups_arr.size} group labels for {len(examples)} examples")
    seen = list(examples)
    if pool is not None:  # the runs also see the pool's training data and evaluate its validation sets
        for skill in pool.skills:
            seen += list(skill.validation or [])
            if skill.train is not None:
                size = skill.train.size
                n_seen = size if size is not None and size <= 5000 else 200  # finite pools: every example
                seen += [skill.train.get(i) for i in range(n_seen)]
    tokenizer = build_tokenizer(seen, config.tokenizer)
    block_size = max(len(encode_example(tokenizer, e)[0]) for e in seen) + 8  # + slack for unseen pool examples
    rng = np.random.default_rng([config.seed, 7])
    if pool is not None:
        plans = [(pool, np.arange(len(examples)))]
        n_groups = len(pool.train_names)
    else:
        half = rng.permutation(len(examples)) < len(examples) // 2  # (n,) True: half A
        plans = []
        for train_half in (half, ~half):
            kept = np.flatnonzero(train_half)
            plans.append((group_skillset([examples[i] for i in kept], groups_arr[kept], len(set(groups_arr.tolist()))),
                          np.flatnonzero(~train_half)))
        n_groups = len(set(groups_arr.tolist()))
    features = np.zeros((len(examples), config.runs * config.checkpoints))
    mixtures: list[list[float]] = []
    total = config.runs * config.steps * len(plans)
    done = 0
    eval_examples = 0
    model: torch.nn.Module | None = None
    for r in range(config.runs):
        mixture = rng.dirichlet(np.full(n_groups, config.concentration)) if n_groups > 1 else np.ones(1)
        mixtures.append(mixture.tolist())
        run_seed = config.seed * 1000 + r
        for skillset, scored in plans:
            model = build_model(config, tokenizer, block_size, run_seed)
            scored_examples = [examples[i] for i in scored]
            scorer = _ScoreEveryExample(model, tokenizer, scored_examples, config.checkpoint_every,
                                        config.eval_batch_size, block_size)
            callbacks: list[TrainerCallback] = [scorer]
            if progress is not None:
                callbacks.append(_Progress(progress, done, total))
            weights = _weights_for(skillset, mixture)
            train(model, tokenizer, skillset, Static(weights),
                  TrainConfig(steps=config.steps, batch_size=config.batch_size, round_steps=config.steps,
                              eval_every=config.steps, lr=config.lr, warmup_steps=config.warmup_steps,
                              train_loss="answer", seed=run_seed),
                  callbacks=callbacks, max_length=block_size)
            columns = slice(r * config.checkpoints, (r + 1) * config.checkpoints)
            features[scored, columns] = np.stack(scorer.rows[: config.checkpoints], axis=1)  # (n_scored, C)
            eval_examples += len(scorer.rows) * len(scored_examples)
            done += config.steps
    assert model is not None
    return Trajectories(
        features=features,
        mixtures=mixtures,
        steps=[config.checkpoint_every * (c + 1) for c in range(config.checkpoints)],
        train_steps=total,
        eval_examples=eval_examples,
        model=model,
        tokenizer=tokenizer,
    )


def _weights_for(skillset: SkillSet, mixture: np.ndarray) -> dict[str, float]:
    """The run's mixture by training-skill name; group skills are named ``g<index>``, pool skills in order."""
    names = skillset.train_names
    if all(name.startswith("g") and name[1:].isdigit() for name in names):
        return {name: float(mixture[int(name[1:])]) for name in names}
    return {name: float(w) for name, w in zip(names, mixture)}


class _Progress(TrainerCallback):
    def __init__(self, report: ProgressFn, offset: int, total: int):
        self.report, self.offset, self.total = report, offset, total

    def on_step_end(self, step: int, loss: float) -> None:
        if step % 10 == 0:
            self.report(self.offset + step, self.total)


def config_dict(config: TrajectoryConfig) -> dict[str, Any]:
    return asdict(config)
