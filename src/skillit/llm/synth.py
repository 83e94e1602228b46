"""Instruct-SkillMix (Kaur et al., arXiv 2408.14774, ICLR 2025): instruction data from pairs of skills.

For every data point draw a random k-combination of skills (k = 2 in the paper) and a random query type,
then ask a strong generator for a realistic user query of that type whose good answer needs all k skills,
and for that answer (paper §3). With ``refine`` the conversation continues as in the paper's data
generation: the generator critiques its own pair as the user would, then writes an improved final pair.
The final pair is read from the last ``### Instruction:`` / ``### Response:`` blocks.

Every record keeps the skills that produced it, so the output is a skillit data set as it is::

    {"id", "instruction", "input": "", "output",           # Alpaca fields
     "skills": [s1, s2], "skill": "s1 + s2",                # each combination is one skillit skill
     "query_type", "prompt", "answer", "generator"}         # prompt/answer: what skillit trains on

    load_skills("synth.jsonl")  # skill column "skill", prompt/answer columns: one skill per combination
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillit.errors import DataError, SkillError
from skillit.llm.backends import LLMBackend, LLMOutputError, Message
from skillit.llm.jsonl import read_jsonl

SKILL_SEPARATOR = " + "
PROMPT_TEMPLATE = "### Instruction:\n{instruction}\n\n### Response:\n"


@dataclass(frozen=True)
class QueryType:
    """A kind of user request, e.g. ``Information-Seeking: the user wants facts or explanations``."""

    name: str
    definition: str = ""


def load_query_types(path: str | Path) -> list[QueryType]:
    """Query types from a ``.jsonl``/``.json`` (``name``, ``definition``) or a text file of ``name: definition``
    lines (the definition is optional)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"query-types file {str(path)!r} does not exist")
    if path.suffix in (".json", ".jsonl"):
        if path.suffix == ".jsonl":
            rows = read_jsonl(path, what="query types")
        else:
            try:
                rows = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}: not JSON ({exc.msg})") from None
        out = []
        for i, row in enumerate(rows, start=1):
            if isinstance(row, str):
                out.append(QueryType(row))
            elif isinstance(row, dict) and row.get("name"):
                out.append(QueryType(str(row["name"]), str(row.get("definition") or "")))
            else:
                raise DataError(f"{path}: query type {i} needs a 'name'")
    else:
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                name, _, definition = line.partition(":")
                out.append(QueryType(name.strip(), definition.strip()))
    if not out:
        raise DataError(f"{path}: no query types")
    return out


def sample_specs(skills: Sequence[str], query_types: Sequence[QueryType], k: int, n: int,
                 seed: int = 0) -> list[dict[str, Any]]:
    """``n`` (k distinct skills, query type) specifications, deterministic in ``seed``; ids ``ism-k{k}-s{seed}-{i}``."""
    skills = list(skills)
    if not 1 <= k <= len(skills):
        raise SkillError(f"k must be between 1 and the number of skills ({len(skills)}), got {k}")
    if not query_types:
        raise DataError("Instruct-SkillMix needs at least one query type")
    rng = random.Random(seed)
    specs = []
    for i in range(n):
        order = list(skills)
        rng.shuffle(order)
        query = rng.choice(list(query_types))
        specs.append({"id": f"ism-k{k}-s{seed}-{i}", "skills": order[:k], "query_type": query.name,
                      "query_definition": query.definition})
    return specs


def first_messages(spec: dict[str, Any], definitions: dict[str, str] | None = None) -> list[Message]:
    """Turn 1: ask for a query of the given type that needs every skill, and a detailed answer."""
    definitions = definitions or {}
    listed = "\n".join(f"- {s}" + (f": {definitions[s]}" if definitions.get(s) else "") for s in spec["skills"])
    kind = spec["query_type"] + (f" ({spec['query_definition']})" if spec.get("query_definition") else "")
    content = (
        f"Invent one realistic request a user might send to an AI assistant. Its type: {kind}. A really good "
        f"answer to it must draw on all of these skills:\n{listed}\n\nThen write that answer: specific, "
        "complete and not generic. Do not name the skills. Reply in exactly this format:\n\n"
        "### Instruction:\n<the request>\n\n### Response:\n<the answer>"
    )
    return [{"role": "user", "content": content}]


CRITIQUE = ("Now read the pair as the user who sent the request would. List the answer's strengths and its "
            "weaknesses: what is missing, vague, wrong or padded, and whether every skill is really needed.")
REFINE = ("Using that critique, write the final improved request and answer, in exactly this format:\n\n"
          "### Instruction:\n<the request>\n\n### Response:\n<the answer>")


def parse_pair(reply: str) -> tuple[str, str]:
    """(instruction, response) from the last ``### Instruction:`` / ``### Response:`` blocks of a reply."""
    instruction_marks = list(re.finditer(r"#+\s*instruction\s*:?", reply, flags=re.IGNORECASE))
    if not instruction_marks:
        raise LLMOutputError(f"no '### Instruction:' block in the generator's reply: {reply.strip()[:200]!r}")
    tail = reply[instruction_marks[-1].end():]
    response_mark = re.search(r"#+\s*response\s*:?", tail, flags=re.IGNORECASE)
    if not response_mark:
        raise LLMOutputError(f"no '### Response:' block after the instruction: {reply.strip()[:200]!r}")
    instruction = tail[: response_mark.start()].strip()
    response = tail[response_mark.end():].strip()
    if not instruction or not response:
        raise LLMOutputError(f"an empty instruction or response in the generator's reply: {reply.strip()[:200]!r}")
    return instruction, response


def synthesize(generator: LLMBackend, spec: dict[str, Any], *, definitions: dict[str, str] | None = None,
               refine: bool = True, temperature: float = 0.7, max_tokens: int = 1024) -> dict[str, Any]:
    """One record (module docstring) for ``spec``: generate, and with ``refine`` critique and rewrite."""
    messages = first_messages(spec, definitions)
    reply = generator.chat(messages, temperature=temperature, max_tokens=max_tokens)[0]
    try:
        pair = parse_pair(reply)
        if refine:
            conversation = [*messages, {"role": "assistant", "content": reply}, {"role": "user", "content": CRITIQUE}]
            critique = generator.chat(conversation, temperature=temperature, max_tokens=max_tokens)[0]
            conversation += [{"role": "assistant", "content": critique}, {"role": "user", "content": REFINE}]
            final = generator.chat(conversation, temperature=temperature, max_tokens=max_tokens)[0]
            pair = parse_pair(final)
    except LLMOutputError as exc:
        raise LLMOutputError(f"item {spec['id']!r}: {exc}") from None
    instruction, response = pair
    return {
        "id": spec["id"],
        "instruction": instruction,
        "input": "",
        "output": response,
        "skills": list(spec["skills"]),
        "skill": SKILL_SEPARATOR.join(spec["skills"]),
        "query_type": spec["query_type"],
        "prompt": PROMPT_TEMPLATE.format(instruction=instruction),
        "answer": response,
        "generator": generator.describe(),
    }


__all__ = ["PROMPT_TEMPLATE", "SKILL_SEPARATOR", "QueryType", "first_messages", "load_query_types", "parse_pair",
           "sample_specs", "synthesize"]
