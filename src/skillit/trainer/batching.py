"""Examples → padded tensors, and the per-token loss every other part of skillit builds on.

A sequence is ``[bos] + prompt + answer + [eos]``; the model reads it shifted by one. Positions whose target
is an answer token form the *answer mask*: validation loss and exact-match accuracy are measured there.
The training loss (:func:`loss_mask`) covers every target token (``text``, the paper's full-sequence LM
loss), the answer tokens only (``answer``), or the answer tokens and the ``[eos]`` that ends them
(``completion``, what completion-only fine-tuning losses train). ``answer`` never trains ``[eos]``, so a
model trained with it alone does not learn where an answer stops; the evaluation does not need it (it
scores the answer tokens under teacher forcing), a model that will generate does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from skillit.errors import DataError
from skillit.model.tokenizer import Tokenizer
from skillit.skills.example import TRAIN_LOSSES, Example
from skillit.skills.example import TrainLoss as TrainLoss  # re-exported: defined torch-free for the config schema


@dataclass
class Batch:
    input_ids: torch.Tensor  # (B, T) long, right-padded
    attention_mask: torch.Tensor  # (B, T) long, 1 on real tokens
    targets: torch.Tensor  # (B, T) long, next token at each position (pad where none)
    text_mask: torch.Tensor  # (B, T) bool, positions whose target is a real token (prompt, answer, eos)
    answer_mask: torch.Tensor  # (B, T) bool, positions whose target is an answer token

    def to(self, device: torch.device | str) -> Batch:
        return Batch(*(t.to(device) for t in (self.input_ids, self.attention_mask, self.targets, self.text_mask, self.answer_mask)))


def encode_example(tokenizer: Tokenizer, example: Example) -> tuple[list[int], int, int]:
    """Token ids of ``[bos] prompt answer [eos]`` and the (start, end) of the answer tokens in that list."""
    prompt = tokenizer.encode(example.prompt) if example.prompt else []
    answer = tokenizer.encode(example.answer)
    if not answer:
        raise DataError(f"example of skill {example.skill!r} has an empty answer: {example.prompt[:80]!r}")
    ids = [tokenizer.bos_id, *prompt, *answer, tokenizer.eos_id]
    start = 1 + len(prompt)
    return ids, start, start + len(answer)


def collate(tokenizer: Tokenizer, examples: Sequence[Example], max_length: int | None = None) -> Batch:
    """Pad a list of examples into a :class:`Batch` (sequences longer than ``max_length`` are an error)."""
    encoded = [encode_example(tokenizer, example) for example in examples]
    lengths = [len(ids) - 1 for ids, _, _ in encoded]  # model input length (shifted)
    T = max(lengths)
    if max_length is not None and T > max_length:
        worst = encoded[lengths.index(T)]
        raise DataError(
            f"an example of {T + 1} tokens does not fit the model's context of {max_length + 1}: "
            f"{tokenizer.decode(worst[0])[:80]!r}; raise the model's block_size or shorten the data"
        )
    B = len(encoded)
    input_ids = torch.full((B, T), tokenizer.pad_id, dtype=torch.long)
    targets = torch.full((B, T), tokenizer.pad_id, dtype=torch.long)
    attention = torch.zeros((B, T), dtype=torch.long)
    text_mask = torch.zeros((B, T), dtype=torch.bool)
    answer_mask = torch.zeros((B, T), dtype=torch.bool)
    for b, (ids, start, end) in enumerate(encoded):
        n = len(ids) - 1
        input_ids[b, :n] = torch.tensor(ids[:-1])
        targets[b, :n] = torch.tensor(ids[1:])
        attention[b, :n] = 1
        text_mask[b, :n] = True
        answer_mask[b, start - 1 : end - 1] = True  # position t predicts token t + 1
    return Batch(input_ids, attention, targets, text_mask, answer_mask)


def logits_of(output) -> torch.Tensor:
    """Logits from our GPT, a Hugging Face model output (``.logits``) or a bare tensor."""
    return output.logits if hasattr(output, "logits") else output


def loss_mask(batch: Batch, train_loss: str) -> torch.Tensor:
    """The positions (B, T) bool whose next-token loss is trained, for ``train_loss`` (module docstring).

    ``completion`` = the answer positions and the one after the last of them, whose target is ``[eos]``
    (the answer mask shifted right by one position, or-ed with itself).
    """
    if train_loss == "text":
        return batch.text_mask
    if train_loss == "answer":
        return batch.answer_mask
    if train_loss == "completion":
        shifted = torch.zeros_like(batch.answer_mask)
        shifted[:, 1:] = batch.answer_mask[:, :-1]  # position t + 1 predicts the token after answer token t
        return batch.answer_mask | shifted
    raise DataError(f"train_loss must be one of {', '.join(TRAIN_LOSSES)}, got {train_loss!r}")


def token_losses(model: torch.nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-position cross-entropy (B, T) and argmax predictions (B, T)."""
    logits = logits_of(model(input_ids=batch.input_ids, attention_mask=batch.attention_mask))  # (B, T, V)
    losses = F.cross_entropy(logits.transpose(1, 2), batch.targets, reduction="none")  # (B, V, T) -> (B, T)
    return losses, logits.argmax(dim=-1)


def per_example_answer_metrics(losses: torch.Tensor, predictions: torch.Tensor, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean answer-token loss (B,) and exact match (B,) per example.

    Exact match under teacher forcing equals greedy decoding of the answer: if every answer token is the
    argmax given the true prefix, greedy decoding reproduces the answer, and conversely.
    """
    mask = batch.answer_mask
    count = mask.sum(dim=1).clamp(min=1)
    mean_loss = (losses * mask).sum(dim=1) / count
    correct = ((predictions == batch.targets) | ~mask).all(dim=1)
    return mean_loss, correct.float()


def mean_tokens_per_example(tokenizer: Tokenizer, sources: Sequence, sample: int = 256) -> tuple[float, ...]:
    """Per skill source, the mean length in tokens of ``[bos] prompt answer [eos]`` (what the model reads).

    Over at most ``sample`` examples: evenly spaced over a finite pool (``source.size``), or the first
    ``sample`` of a stream or of a pool read in stored order (``source.ordered``), where a jump costs a scan.
    """
    means = []
    for source in sources:
        size = getattr(source, "size", None)
        if size is None or getattr(source, "ordered", False):
            indices = range(sample if size is None else min(sample, size))
        else:
            n = min(sample, size)
            indices = sorted({round(j * (size - 1) / max(1, n - 1)) for j in range(n)})
        lengths = [len(encode_example(tokenizer, source.get(i))[0]) for i in indices]
        if not lengths:
            raise DataError("cannot count tokens per example of a skill with no training examples")
        means.append(sum(lengths) / len(lengths))
    return tuple(means)
