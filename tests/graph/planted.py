"""A tiny SkillSet with a planted structure whose graph edges are known exactly, and a picklable tiny model.

    h  train V, validate V        V = {a=0, b=1, c=2, d=3}
    t  train U, validate V        U = {e=4, f=5, g=6, i=7}: t's own data does not teach its validation set;
                                  h's data is exactly t's validation set, so h is t's prerequisite
    z  train W, validate W        W = {w=p, x=q, y=r, j=s}: disjoint prompts and answers

Training on h lowers t's loss (identical texts); training on anything else pushes the answer after "="
towards other tokens, which raises the loss. The only off-diagonal edge is h → t.
"""

from __future__ import annotations

from functools import partial

import torch

from skillit.model import GPT, CharTokenizer, GPTConfig
from skillit.skills import Example, ListSource, Skill, SkillSet

V = [("a", "0"), ("b", "1"), ("c", "2"), ("d", "3")]
U = [("e", "4"), ("f", "5"), ("g", "6"), ("i", "7")]
W = [("w", "p"), ("x", "q"), ("y", "r"), ("j", "s")]
ALPHABET = "abcdefgijwxy01234567pqrs="
EXPECTED_EDGES = {("h", "t")}


def examples(pairs, skill):
    return [Example(prompt=f"{p}=", answer=a, skill=skill) for p, a in pairs]


def planted_skillset(*, eval_only: bool = False, train_only: bool = False) -> SkillSet:
    """``eval_only`` adds a skill ``e`` with V as validation and no training data (rectangular graphs);
    ``train_only`` adds a skill ``n`` with U as training data and no validation set."""
    skills = [
        Skill("h", ListSource(examples(V, "h")), examples(V, "h")),
        Skill("t", ListSource(examples(U, "t")), examples(V, "t")),
        Skill("z", ListSource(examples(W, "z")), examples(W, "z")),
    ]
    if train_only:
        skills.append(Skill("n", ListSource(examples(U, "n")), None))
    if eval_only:
        skills.append(Skill("e", None, examples(V, "e")))
    return SkillSet(skills, metadata={"alphabet": ALPHABET})


def tokenizer() -> CharTokenizer:
    return CharTokenizer(sorted(set(ALPHABET)))


def build_tiny_model(vocab_size: int, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=vocab_size, block_size=8, n_layer=1, n_head=2, n_embd=16))


def model_builder(seed: int = 0):
    """A picklable builder (``functools.partial`` of a module-level function) for worker processes."""
    return partial(build_tiny_model, tokenizer().vocab_size, seed)


TRAINING = {"batch_size": 8, "lr": 0.02, "warmup_steps": 0, "train_loss": "answer", "eval_batch_size": 64}
