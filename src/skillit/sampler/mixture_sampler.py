"""Turn a mixture over skills into batches of examples, deterministically and resumably.

A *round* is ``n_batches`` global batches drawn at one mixture p. The sampler first decides which skill
each of the round's ``n = n_batches · batch_size`` slots gets, then which example of that skill fills it:

* skills per slot, ``quota`` mode (the reference code's synthetics, skillit.md §1.5 item 6): exactly
  c_i = round(p_i · n) slots for skill i by largest remainders (the reference gave the whole remainder to
  the last skill), in a random order; ``iid`` mode: each slot's skill drawn independently from p.
* example per slot: each skill is read as a stream of *positions* 0, 1, 2, ... in slot order, so a skill's
  examples are always consumed in increasing order (what lets a streaming source resume from a position).
  A finite pool of N examples maps position q to ``perm_e[q mod N]`` with a fresh permutation per epoch
  e = q // N (or ``q mod N`` itself for an *ordered* pool, e.g. a streamed shard read in file order, so no
  O(N) permutation is held); an unbounded stream uses q itself. A policy ``scope`` (curriculum) restricts
  a skill to the admitted indices, drawn in a per-round random order.

All randomness comes from ``numpy.random.default_rng([seed, family, round or epoch, ...])``: the sampler never touches a
global RNG (the reference code's evaluation reseeded the global RNG and restarted the training stream,
skillit.md §3.6 item 7), and its state is a handful of counters.

Distributed training: every rank builds the same global plan and takes slots ``rank, rank + world, ...``
of each global batch, so ranks draw disjoint shares of every batch at identical weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from skillit.errors import DataError, PolicyError

Mode = Literal["quota", "iid"]
Exhausted = Literal["cycle", "drop", "stop"]

_ROUND_STREAM, _EPOCH_STREAM = 1, 2  # RNG families: per-round draws, per-epoch pool permutations
_ORDER, _SCOPE, _IID = 0, 1, 2  # per-round RNG tags


def largest_remainder(weights: np.ndarray, n: int) -> np.ndarray:
    """Integer counts summing to ``n`` closest to ``weights · n`` (ties go to the lower skill index)."""
    raw = np.asarray(weights, dtype=float) * n
    counts = np.floor(raw).astype(np.int64)
    short = n - int(counts.sum())
    if short > 0:
        remainder = raw - counts
        order = np.lexsort((np.arange(raw.size), -remainder))  # largest remainder first, then index
        counts[order[:short]] += 1
    return counts


class MixtureSampler:
    """Batches of ``(skill position, example index)`` pairs drawn at the current round's mixture.

    Args:
        pool_sizes: per training skill, the finite pool size or ``None`` for an unbounded stream.
        batch_size: the *global* batch size (all ranks together); must be divisible by ``world_size``.
        seed: the sampler's own seed.
        mode: ``quota`` (exact per-round counts) or ``iid`` (independent draws).
        exhausted: what to do when a finite skill runs out: ``cycle`` (start a new shuffled epoch),
            ``drop`` (give its share of the round to the other skills) or ``stop`` (raise).
        world_size, rank: for distributed data parallel training.
        names: skill names, for error messages.
        ordered: per skill, whether its finite pool is read in stored order each epoch (position q -> q mod N)
            instead of a fresh permutation; for streamed sources, whose memory must stay O(1) per skill.
            Default: no pool is ordered.
    """

    def __init__(
        self,
        pool_sizes: Sequence[int | None],
        batch_size: int,
        *,
        seed: int = 0,
        mode: Mode = "quota",
        exhausted: Exhausted = "cycle",
        world_size: int = 1,
        rank: int = 0,
        names: Sequence[str] | None = None,
        ordered: Sequence[bool] | None = None,
    ):
        if batch_size < 1:
            raise DataError(f"batch_size must be >= 1, got {batch_size}")
        if batch_size % world_size != 0:
            raise DataError(f"global batch_size {batch_size} is not divisible by world_size {world_size}")
        if not 0 <= rank < world_size:
            raise DataError(f"rank {rank} outside world of size {world_size}")
        if mode not in ("quota", "iid"):
            raise DataError(f"sampling mode must be quota or iid, got {mode!r}")
        if exhausted not in ("cycle", "drop", "stop"):
            raise DataError(f"exhausted must be cycle, drop or stop, got {exhausted!r}")
        for size in pool_sizes:
            if size is not None and size < 1:
                raise DataError(f"a finite pool needs at least one example, got size {size}")
        self.pool_sizes = [None if s is None else int(s) for s in pool_sizes]
        self.k = len(self.pool_sizes)
        self.names = list(names) if names is not None else [str(i) for i in range(self.k)]
        self.ordered = [False] * self.k if ordered is None else [bool(o) for o in ordered]
        if len(self.ordered) != self.k:
            raise DataError(f"ordered has {len(self.ordered)} entries for {self.k} skills")
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.mode = mode
        self.exhausted = exhausted
        self.world_size = int(world_size)
        self.rank = int(rank)
        # counters (the whole state)
        self._round = -1  # index of the current round; -1 before the first
        self._positions = np.zeros(self.k, dtype=np.int64)  # stream position per skill at round start
        self._weights: np.ndarray | None = None
        self._scope: dict[int, list[int]] | None = None
        self._n_batches = 0
        self._cursor = 0  # global batches consumed in this round
        # derived, rebuilt from the counters
        self._labels = np.zeros(0, dtype=np.int64)
        self._indices = np.zeros(0, dtype=np.int64)
        self._perm_cache: dict[int, tuple[int, np.ndarray]] = {}

    # ---- public API -----------------------------------------------------------------------------
    @property
    def local_batch_size(self) -> int:
        return self.batch_size // self.world_size

    @property
    def weights(self) -> np.ndarray | None:
        """The mixture of the current round (``None`` before the first)."""
        return None if self._weights is None else self._weights.copy()

    @property
    def round(self) -> int:
        return self._round

    @property
    def round_finished(self) -> bool:
        return self._cursor >= self._n_batches

    def start_round(
        self, weights: Sequence[float], n_batches: int, scope: Mapping[int, Sequence[int]] | None = None
    ) -> None:
        """Plan the next ``n_batches`` global batches at mixture ``weights`` (length k, on the simplex)."""
        w = np.asarray(weights, dtype=float)
        if w.shape != (self.k,) or not np.isfinite(w).all() or (w < 0).any() or not np.isclose(w.sum(), 1.0, atol=1e-6):
            raise PolicyError(f"sampler: weights must be a length-{self.k} probability vector, got {w.tolist()}")
        if n_batches < 1:
            raise DataError(f"a round needs at least one batch, got {n_batches}")
        if self._round >= 0:
            self._positions = self._positions_after(self._n_batches)
        self._round += 1
        self._weights = w / w.sum()
        self._scope = None if scope is None else {int(s): [int(i) for i in v] for s, v in scope.items()}
        self._n_batches = int(n_batches)
        self._cursor = 0
        self._plan()

    def next_batch(self) -> list[tuple[int, int]]:
        """This rank's share of the next global batch: ``local_batch_size`` (skill, example index) pairs."""
        if self.round_finished:
            raise DataError("the round's batches are all drawn; call start_round with the next mixture")
        start = self._cursor * self.batch_size
        sl = slice(start + self.rank, start + self.batch_size, self.world_size)
        self._cursor += 1
        return list(zip(self._labels[sl].tolist(), self._indices[sl].tolist()))

    def examples_seen(self) -> np.ndarray:
        """Examples drawn so far per skill (all ranks together), up to the current batch."""
        if self._round < 0:
            return np.zeros(self.k, dtype=np.int64)
        return self._positions_after(self._cursor)

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "seed": self.seed,
            "mode": self.mode,
            "batch_size": self.batch_size,
            "pool_sizes": list(self.pool_sizes),
            "round": self._round,
            "positions": self._positions.tolist(),
            "weights": None if self._weights is None else self._weights.tolist(),
            "scope": None if self._scope is None else {str(s): v for s, v in self._scope.items()},
            "n_batches": self._n_batches,
            "cursor": self._cursor,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for key in ("seed", "mode", "batch_size", "pool_sizes"):
            mine = getattr(self, key)
            theirs = state[key] if key != "pool_sizes" else list(state[key])
            if mine != theirs:
                raise DataError(
                    f"sampler state was saved with {key}={theirs!r} but this sampler has {key}={mine!r}; "
                    "resume with the same data and settings"
                )
        self._round = int(state["round"])
        self._positions = np.asarray(state["positions"], dtype=np.int64)
        self._weights = None if state["weights"] is None else np.asarray(state["weights"], dtype=float)
        self._scope = None if state["scope"] is None else {int(s): list(v) for s, v in state["scope"].items()}
        self._n_batches = int(state["n_batches"])
        self._cursor = int(state["cursor"])
        if self._round >= 0:
            self._plan()

    # ---- planning -------------------------------------------------------------------------------
    def _rng(self, *tags: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, _ROUND_STREAM, self._round, *tags])

    def _available(self) -> np.ndarray:
        """Examples left per skill before its pool is exhausted (inf for streams and cycling pools)."""
        left = np.full(self.k, np.inf)
        if self.exhausted == "cycle":
            return left
        for s, size in enumerate(self.pool_sizes):
            if size is not None and (self._scope is None or s not in self._scope):
                left[s] = size - self._positions[s]
        return left

    def _plan(self) -> None:
        assert self._weights is not None
        n = self._n_batches * self.batch_size
        labels = self._choose_skills(n)
        # occurrence number of each slot within its skill, in slot order -> stream positions; O(n + k)
        order = np.argsort(labels, kind="stable")  # slots grouped by skill, slot order kept within a skill
        bounds = np.searchsorted(labels[order], np.arange(self.k + 1))
        indices = np.empty(n, dtype=np.int64)
        for s in np.flatnonzero(np.diff(bounds)):
            slots = order[bounds[s] : bounds[s + 1]]
            indices[slots] = self._resolve(int(s), np.arange(slots.size, dtype=np.int64))
        self._labels, self._indices = labels, indices

    def _choose_skills(self, n: int) -> np.ndarray:
        w = self._weights.copy()
        left = self._available()
        if self.exhausted == "stop":
            counts = self._counts(w, n)
            over = np.flatnonzero(counts > left)
            if over.size:
                s = int(over[0])
                raise DataError(
                    f"skill {self.names[s]!r} is exhausted: its pool has {self.pool_sizes[s]} examples, "
                    f"{int(self._positions[s])} are drawn and round {self._round} asks for {int(counts[s])} more "
                    f"at weight {w[s]:.4f}; set exhausted to 'cycle' (reuse the pool) or 'drop' (give its share "
                    "to the other skills), or enlarge the pool"
                )
        elif self.exhausted == "drop":
            w = np.where(left > 0, w, 0.0)
            if w.sum() <= 0:
                raise DataError(
                    "every skill with weight is exhausted under exhausted='drop'; nothing is left to train on"
                )
            w = w / w.sum()
            counts = self._counts(w, n)
            # move any overflow to skills that still have examples, in proportion to their weight
            for _ in range(self.k):
                overflow = np.maximum(counts - left, 0)
                if not overflow.any():
                    break
                counts = np.minimum(counts, left).astype(np.int64)
                room = np.where(counts < left, w, 0.0)
                if room.sum() <= 0:
                    raise DataError("every skill is exhausted under exhausted='drop'; nothing is left to train on")
                counts += largest_remainder(room / room.sum(), int(overflow.sum()))
            w = counts / n
            if self.mode == "iid":
                return self._shuffle(np.repeat(np.arange(self.k), counts))
        else:
            counts = self._counts(w, n)
        if self.mode == "iid":
            return self._iid_labels(w, n)
        return self._shuffle(np.repeat(np.arange(self.k), counts))

    def _counts(self, w: np.ndarray, n: int) -> np.ndarray:
        if self.mode == "quota":
            return largest_remainder(w, n)
        return np.bincount(self._iid_labels(w, n), minlength=self.k)

    def _iid_labels(self, w: np.ndarray, n: int) -> np.ndarray:
        return self._rng(_IID).choice(self.k, size=n, p=w).astype(np.int64)

    def _shuffle(self, labels: np.ndarray) -> np.ndarray:
        return labels[self._rng(_ORDER).permutation(labels.size)]

    def _resolve(self, s: int, occurrence: np.ndarray) -> np.ndarray:
        """Example indices for skill ``s`` at round-relative occurrences ``occurrence`` (increasing)."""
        if self._scope is not None:
            admitted = np.asarray(self._scope.get(s, []), dtype=np.int64)
            if admitted.size == 0:
                raise PolicyError(f"skill {self.names[s]!r} has weight but no admitted example in the policy's scope")
            perm = self._rng(_SCOPE, s).permutation(admitted.size)
            return admitted[perm[occurrence % admitted.size]]
        position = self._positions[s] + occurrence
        size = self.pool_sizes[s]
        if size is None:
            return position
        if self.ordered[s]:
            return position % size
        out = np.empty_like(position)
        epochs = position // size
        for epoch in np.unique(epochs):
            mask = epochs == epoch
            out[mask] = self._epoch_permutation(s, int(epoch))[position[mask] % size]
        return out

    def _epoch_permutation(self, s: int, epoch: int) -> np.ndarray:
        cached = self._perm_cache.get(s)
        if cached is None or cached[0] != epoch:
            perm = np.random.default_rng([self.seed, _EPOCH_STREAM, s, epoch]).permutation(self.pool_sizes[s])
            self._perm_cache[s] = cached = (epoch, perm)
        return cached[1]

    def _positions_after(self, batches: int) -> np.ndarray:
        """Stream positions per skill after ``batches`` global batches of the current round."""
        drawn = self._labels[: batches * self.batch_size]
        return self._positions + np.bincount(drawn, minlength=self.k)
