"""Per-skill validation: loss on the answer tokens and exact-match accuracy, for every evaluation skill.

Validation sets are fixed and encoded once. One call evaluates every skill in a few batched forward
passes; the cost (examples and seconds) is counted separately from training. In distributed runs every
rank evaluates a disjoint shard and the per-skill sums and counts are all-reduced, so every rank gets the
same numbers (and its policy the same update).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from skillit.model.tokenizer import Tokenizer
from skillit.policy.base import EvalResult
from skillit.skills.example import Example
from skillit.skills.skillset import SkillSet
from skillit.trainer.batching import collate, per_example_answer_metrics, token_losses

AllReduce = Callable[[np.ndarray], np.ndarray]  # sums an array over ranks


@torch.no_grad()
def answer_metrics(
    model: torch.nn.Module,
    tokenizer: Tokenizer,
    examples: Sequence[Example],
    *,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
    max_length: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-example mean answer loss and exact match, shape (len(examples),) each."""
    was_training = model.training
    model.eval()
    losses, correct = [], []
    try:
        for start in range(0, len(examples), batch_size):
            batch = collate(tokenizer, examples[start : start + batch_size], max_length).to(device)
            token_loss, predictions = token_losses(model, batch)
            loss, match = per_example_answer_metrics(token_loss, predictions, batch)
            losses.append(loss.float().cpu().numpy())
            correct.append(match.cpu().numpy())
    finally:
        model.train(was_training)
    if not losses:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(losses), np.concatenate(correct)


def pool_answer_losses(
    model: torch.nn.Module,
    tokenizer: Tokenizer,
    pools: dict[str, Any],
    *,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
    max_length: int | None = None,
) -> dict[str, np.ndarray]:
    """The model's answer loss on every example of each finite pool, ``{skill: array (pool_size,)}``.

    ``pools`` maps a skill to its indexed training source (``size`` examples, ``get(i)``). This is what the
    example-level curricula rank by (``PolicyContext.score_pool``, with the initial model).
    """
    scores = {}
    for name, source in pools.items():
        examples = [source.get(i) for i in range(source.size)]
        scores[name], _ = answer_metrics(model, tokenizer, examples, batch_size=batch_size, device=device,
                                         max_length=max_length)
    return scores


def whole_text_targets(skillset: SkillSet) -> bool:
    """Whether every validation example of every evaluation skill is plain text (``prompt == ""``: the whole
    text is the answer, as ``text_field`` data gives). Then exact-match accuracy asks for the whole text
    token by token, which a language model all but never reproduces, so accuracy says nothing and the
    readers show loss and bits per token instead (``summary.json`` ``whole_text``)."""
    examples = [example for name in skillset.eval_names for example in (skillset[name].validation or [])]
    return bool(examples) and all(example.prompt == "" for example in examples)


class SkillEvaluator:
    """Evaluates a model on the validation set of every evaluation skill of a SkillSet.

    Args:
        skillset: the skills; every skill with a validation set is evaluated, in SkillSet order.
        tokenizer: the tokenizer the model was built for.
        batch_size: examples per forward pass.
        rank, world_size, all_reduce: for sharded evaluation under DDP.
    """

    def __init__(
        self,
        skillset: SkillSet,
        tokenizer: Tokenizer,
        *,
        batch_size: int = 256,
        device: torch.device | str = "cpu",
        max_length: int | None = None,
        rank: int = 0,
        world_size: int = 1,
        all_reduce: AllReduce | None = None,
    ):
        self.skills = skillset.eval_names
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.device = device
        self.max_length = max_length
        self.all_reduce = all_reduce
        examples: list[Example] = []
        owner: list[int] = []
        for s, name in enumerate(self.skills):
            for example in skillset[name].validation or []:
                examples.append(example)
                owner.append(s)
        self.total_examples = len(examples)
        # this rank's shard
        self._examples = examples[rank::world_size]
        self._owner = np.asarray(owner[rank::world_size], dtype=np.int64)
        self.seconds = 0.0  # cumulative evaluation wall time
        self.examples = 0  # cumulative examples evaluated (all ranks)

    def __call__(self, model: torch.nn.Module, step: int) -> EvalResult:
        started = time.perf_counter()
        loss, correct = answer_metrics(
            model, self.tokenizer, self._examples, batch_size=self.batch_size, device=self.device, max_length=self.max_length
        )
        m = len(self.skills)
        sums = np.zeros((3, m))  # rows: loss sum, correct sum, count
        np.add.at(sums[0], self._owner, loss)
        np.add.at(sums[1], self._owner, correct)
        np.add.at(sums[2], self._owner, 1.0)
        if self.all_reduce is not None:
            sums = self.all_reduce(sums)
        count = np.maximum(sums[2], 1.0)
        self.seconds += time.perf_counter() - started
        self.examples += self.total_examples
        # the arrays travel with the mappings: a policy reads them without converting k floats (Skill-It at 10^5)
        return EvalResult.from_arrays(step, self.skills, sums[0] / count, sums[1] / count)
