"""Whether torchrun started this process: its environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``), read
without torch, so that the command line can ask before it imports the trainer."""

from __future__ import annotations

import os

from skillit.errors import ConfigError


def torchrun_env() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` from the environment torchrun sets; ``(0, 1, 0)`` outside torchrun."""
    try:
        rank = int(os.environ.get("RANK", 0))
        world = int(os.environ.get("WORLD_SIZE", 1))
        local = int(os.environ.get("LOCAL_RANK", rank))
    except ValueError as exc:
        raise ConfigError(f"RANK/WORLD_SIZE/LOCAL_RANK must be integers ({exc}); launch with torchrun") from None
    if world < 1 or not 0 <= rank < world:
        raise ConfigError(f"RANK={rank} is outside WORLD_SIZE={world}; launch with torchrun")
    return rank, world, local


def launched_by_torchrun() -> bool:
    """Whether this process is one of several ranks started by torchrun (``WORLD_SIZE`` > 1)."""
    return torchrun_env()[1] > 1
