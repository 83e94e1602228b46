"""A synthetic task whose skills are known by construction, a student that answers, and an oracle teacher.

The CPU demonstrations of STAT and grafting (benchmarks/stat_demo.py, benchmarks/graft_demo.py) need a
task where "the skill a question needs" is a fact, not a judgement:

* **digit operations**: one skill per operation on two digits a, b ∈ 0..9, each a table of 100 facts::

      addition        "3+4="  → "7"          subtraction     "3-4="  → "1"   (|a − b|)
      multiplication  "3*4="  → "12"         maxmin          "3^4="  → "43"  (max then min)

  Validation = all 100 questions of each skill; training examples are drawn from the same table (the
  skill *is* the table, as times tables are), so accuracy measures whether the skill was acquired.
* :func:`greedy_answers`: a skillit ``GPT`` answering questions (greedy decoding), i.e. the student.
* :func:`oracle_teacher`: a function for :class:`~skillit.llm.backends.CallableBackend` that reads the STAT
  teacher prompt (:func:`skillit.llm.stat.teacher_messages`), recomputes the answer, and replies in the
  tagged format, naming the question's skill in free capitalisation (so fuzzy matching is exercised). With
  ``noise`` > 0 it also names a wrong skill for a deterministic share of questions, as a fallible teacher
  would (the paper's two teachers agree on only 43 % of skill labels, §E.3).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

import numpy as np
import torch

from skillit.errors import SkillError
from skillit.model.tokenizer import Tokenizer
from skillit.skills import Example, GeneratedSource, Skill, SkillSet

OPERATIONS: dict[str, tuple[str, Callable[[int, int], int]]] = {
    "addition": ("+", lambda a, b: a + b),
    "subtraction": ("-", lambda a, b: abs(a - b)),
    "multiplication": ("*", lambda a, b: a * b),
    "maxmin": ("^", lambda a, b: 10 * max(a, b) + min(a, b)),
}
ALPHABET = "0123456789+-*^="
_BY_SYMBOL = {symbol: name for name, (symbol, _) in OPERATIONS.items()}


def digit_question(skill: str, a: int, b: int) -> Example:
    symbol, function = OPERATIONS[skill]
    return Example(f"{a}{symbol}{b}=", str(function(a, b)), skill)


def digit_ops_task(skills: Sequence[str] = tuple(OPERATIONS), seed: int = 0) -> SkillSet:
    """The digit-operations SkillSet (module docstring); training streams are seeded by ``seed``."""
    unknown = [s for s in skills if s not in OPERATIONS]
    if unknown:
        raise SkillError(f"unknown digit operation {unknown[0]!r}; choices: {', '.join(OPERATIONS)}")
    out = []
    for i, name in enumerate(skills):
        def generate(rng: np.random.Generator, name: str = name) -> Example:
            a, b = (int(x) for x in rng.integers(0, 10, size=2))
            return digit_question(name, a, b)

        validation = [digit_question(name, a, b) for a in range(10) for b in range(10)]
        out.append(Skill(name, train=GeneratedSource(generate, seed=(seed, i)), validation=validation))
    return SkillSet(out, metadata={"task": "digit-ops", "alphabet": ALPHABET})


def solve(question: str) -> tuple[str, str]:
    """(skill, correct answer) of a digit-operations question such as ``"3*4="``."""
    match = re.fullmatch(r"\s*(\d)([+\-*^])(\d)=?\s*", question)
    if not match:
        raise SkillError(f"not a digit-operations question: {question!r}")
    skill = _BY_SYMBOL[match.group(2)]
    return skill, str(OPERATIONS[skill][1](int(match.group(1)), int(match.group(3))))


@torch.no_grad()
def greedy_answers(model: torch.nn.Module, tokenizer: Tokenizer, prompts: Sequence[str], max_new_tokens: int = 4,
                   batch_size: int = 512) -> list[str]:
    """The model's greedy continuation of each prompt, up to ``eos`` or ``max_new_tokens``."""
    was_training = model.training
    model.eval()
    answers: list[str] = []
    try:
        for start in range(0, len(prompts), batch_size):
            chunk = list(prompts[start : start + batch_size])
            encoded = [[tokenizer.bos_id, *tokenizer.encode(p)] for p in chunk]
            lengths = {len(e) for e in encoded}
            if len(lengths) != 1:  # different prompt lengths: one at a time (right padding would shift them)
                for prompt in chunk:
                    answers.extend(greedy_answers(model, tokenizer, [prompt], max_new_tokens, 1))
                continue
            ids = torch.tensor(encoded)  # (B, T)
            done = torch.zeros(len(chunk), dtype=torch.bool)
            new: list[list[int]] = [[] for _ in chunk]
            for _ in range(max_new_tokens):
                output = model(input_ids=ids, attention_mask=torch.ones_like(ids))
                logits = output.logits if hasattr(output, "logits") else output
                token = logits[:, -1].argmax(dim=-1)  # (B,)
                for b, t in enumerate(token.tolist()):
                    if not done[b]:
                        if t == tokenizer.eos_id:
                            done[b] = True
                        else:
                            new[b].append(t)
                if bool(done.all()):
                    break
                ids = torch.cat([ids, token[:, None]], dim=1)
            answers.extend(tokenizer.decode(n) for n in new)
    finally:
        model.train(was_training)
    return answers


def _hash01(text: str) -> float:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") / 2**64


def oracle_teacher(noise: float = 0.0) -> Callable[[list[dict[str, str]]], str]:
    """A STAT teacher for digit-operations questions (module docstring)."""

    def teacher(messages: list[dict[str, str]]) -> str:
        content = messages[-1]["content"]
        question = content.split("Question:\n", 1)[1].split("\n", 1)[0]
        response = content.split("Student's response:\n", 1)[1].split("\n", 1)[0].strip()
        listed = re.findall(r"^- (.+)$", content.split("Skills:\n", 1)[1], flags=re.MULTILINE)
        skill, answer = solve(question)
        if response == answer:
            return "<judge>correct</judge>\n<reason>The answer is right.</reason>\n<skill></skill>"
        named = [skill.capitalize()]
        if noise > 0 and _hash01(question) < noise:
            others = [s for s in listed if s != skill]
            named.append(others[int(_hash01(question + "#") * len(others))].upper())
        return (f"<judge>incorrect</judge>\n<reason>{question} is {answer}, not {response or 'empty'}.</reason>\n"
                f"<skill>{', '.join(named)}</skill>")

    return teacher


__all__ = ["ALPHABET", "OPERATIONS", "digit_ops_task", "digit_question", "greedy_answers", "oracle_teacher", "solve"]
