"""Training sources: where a skill's training examples come from.

A source is *indexed*: ``source.get(i)`` returns the i-th example. A finite source has ``size`` examples
(a list, a pool); an unbounded source (``size is None``) is a stream that is read in increasing index order.
The sampler only ever asks an unbounded source for indices 0, 1, 2, ... in order, which is what lets a
stream be resumed by position alone and lets sampler memory stay O(number of skills).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from skillit.errors import DataError
from skillit.skills.example import Example


@runtime_checkable
class TrainSource(Protocol):
    """What the sampler needs from a skill's training data."""

    @property
    def size(self) -> int | None:
        """Number of examples, or ``None`` for an unbounded stream."""

    def get(self, index: int) -> Example:
        """The example at ``index`` (0-based). Unbounded sources are read in increasing order."""


class ListSource:
    """A finite, in-memory list of examples."""

    def __init__(self, examples: Sequence[Example]):
        self._examples = list(examples)

    @property
    def size(self) -> int:
        return len(self._examples)

    def get(self, index: int) -> Example:
        return self._examples[index]

    def __len__(self) -> int:
        return len(self._examples)


class GeneratedSource:
    """Examples made on demand by a generator function, deterministic in (seed, index).

    Example ``i`` is ``generate(np.random.default_rng([*seed, i, attempt]))`` for the first ``attempt``
    (0, 1, ...) whose text is not in ``exclude``; this is how train/validation overlap is removed without
    holding the training set in memory. ``size=None`` makes an unbounded stream; an integer makes a
    finite pool of that many examples (needed by the example-level curriculum baselines).
    """

    MAX_ATTEMPTS = 1000

    def __init__(
        self,
        generate: Callable[[np.random.Generator], Example],
        *,
        seed: int | Sequence[int],
        size: int | None = None,
        exclude: frozenset[str] = frozenset(),
    ):
        if size is not None and size <= 0:
            raise DataError(f"a generated source needs a positive size or None, got {size}")
        self._generate = generate
        self._seed = [int(seed)] if isinstance(seed, (int, np.integer)) else [int(s) for s in seed]
        self._size = size
        self._exclude = exclude

    @property
    def size(self) -> int | None:
        return self._size

    def get(self, index: int) -> Example:
        if index < 0 or (self._size is not None and index >= self._size):
            raise IndexError(f"index {index} out of range for a pool of {self._size}")
        for attempt in range(self.MAX_ATTEMPTS):
            example = self._generate(np.random.default_rng([*self._seed, index, attempt]))
            if example.text not in self._exclude:
                return example
        raise DataError(
            f"could not generate a training example outside the validation set after {self.MAX_ATTEMPTS} "
            f"attempts (index {index}); the task's example space is too small for its validation size"
        )
