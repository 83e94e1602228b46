"""Data-parallel training under ``torchrun``: the process group, the all-reduce skillit needs, DDP wrapping.

    torchrun --nproc_per_node 2 -m skillit run CONFIG --out DIR

or, in your own script::

    with process_group() as group:            # reads RANK, WORLD_SIZE, LOCAL_RANK from torchrun
        model = wrap_model(model, group)      # DistributedDataParallel (identity in a single process)
        train(model, tokenizer, skills, policy, config, device=group.device, distributed=group.distributed)

What every rank shares, and why the ranks agree (skillit's distributed contract):

* the sampler: the same seed, so every rank plans the same global batch and takes slots
  ``rank, rank + W, ...`` of it: disjoint shares drawn at identical weights;
* evaluation: each rank scores a disjoint shard of every validation set; the per-skill loss sums,
  correct counts and example counts are summed over ranks (``all_reduce``), so every rank computes the
  same per-skill losses and therefore the same (pure, deterministic) policy update; no broadcast needed;
* the loss: the token-weighted mean over the whole global batch (``skillit.trainer.loop``).

Backends: ``gloo`` on CPU, ``nccl`` when CUDA is available (one GPU per local rank). The process group is
always destroyed on the way out, error or not: gloo workers that exit without ``destroy_process_group``
abort at interpreter shutdown about a third of the time.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as torch_dist
from torch.nn.parallel import DistributedDataParallel

from skillit.errors import ConfigError
from skillit.trainer.evaluation import AllReduce
from skillit.trainer.loop import Distributed
from skillit.utils.launch import torchrun_env


@dataclass(frozen=True)
class ProcessGroup:
    """Where this process sits: global rank, world size, local rank on its node, backend and device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None  # None: a single process, no process group
    device: str = "cpu"

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> Distributed:
        """The :class:`~skillit.trainer.loop.Distributed` handle the training loop takes."""
        reduce = make_all_reduce(self.device) if self.backend is not None else None
        return Distributed(self.rank, self.world_size, reduce)

    def barrier(self) -> None:
        if self.backend is not None:
            if self.backend == "nccl":
                torch_dist.barrier(device_ids=[self.local_rank])
            else:
                torch_dist.barrier()


def make_all_reduce(device: str | torch.device) -> AllReduce:
    """An ``AllReduce`` over the default process group: Σ over ranks of a float64 array.

    float64 keeps the per-skill sums exact enough that every rank gets bit-identical results (all ranks
    receive the same reduced tensor in any case); NCCL needs the tensor on this rank's GPU.
    """

    def all_reduce(array: np.ndarray) -> np.ndarray:
        tensor = torch.as_tensor(np.ascontiguousarray(array, dtype=np.float64), device=device).clone()
        torch_dist.all_reduce(tensor, op=torch_dist.ReduceOp.SUM)
        return tensor.cpu().numpy()

    return all_reduce


def init_process_group(backend: str | None = None, device: str | None = None) -> ProcessGroup:
    """Join the process group torchrun describes (nothing to join in a single process).

    ``backend`` defaults to ``nccl`` when CUDA is available and ``gloo`` otherwise; ``device`` defaults to
    ``cuda:LOCAL_RANK`` under nccl and ``cpu`` under gloo.
    """
    rank, world, local = torchrun_env()
    if world == 1 and not torch_dist.is_initialized():
        return ProcessGroup(device=device or ("cuda" if backend == "nccl" else "cpu"))
    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    if backend not in ("gloo", "nccl"):
        raise ConfigError(f"distributed backend must be gloo or nccl, got {backend!r}")
    if backend == "nccl":
        if not torch.cuda.is_available():
            raise ConfigError("backend nccl needs CUDA; use gloo on CPU")
        device = device or f"cuda:{local}"
        torch.cuda.set_device(torch.device(device))
    else:
        device = device or "cpu"
    if not torch_dist.is_initialized():
        if backend == "nccl":
            torch_dist.init_process_group(backend, device_id=torch.device(device))
        else:
            torch_dist.init_process_group(backend)
    return ProcessGroup(rank, world, local, backend, device)


def destroy_process_group(*, synchronise: bool = True) -> None:
    """Leave the process group if this process joined one (safe to call twice).

    With ``synchronise`` (a normal exit) every rank first frees its dead DDP wrappers and meets the others at
    a barrier, so no collective is still in flight when gloo stops its worker threads: gloo's destructor joins
    a thread that may need the GIL to free a finished collective's tensors, and a DDP ``Reducer`` freed after
    the group is gone (or with a collective pending) deadlocks there (seen here with a stock HF Trainer).
    After an error there is no barrier: another rank may be gone.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        if synchronise:
            gc.collect()
            torch_dist.barrier()
        torch_dist.destroy_process_group()


@contextmanager
def process_group(backend: str | None = None, device: str | None = None) -> Iterator[ProcessGroup]:
    """``init_process_group`` on entry, ``destroy_process_group`` on every exit (normal or error).

    Free DDP-wrapped models inside the ``with`` block (they are, when they are locals of a function called there).
    """
    group = init_process_group(backend, device)
    try:
        yield group
    except BaseException:
        destroy_process_group(synchronise=False)
        raise
    destroy_process_group()


def wrap_model(model: torch.nn.Module, group: ProcessGroup) -> torch.nn.Module:
    """``DistributedDataParallel(model)`` on the group's device; the model itself in a single process.

    DDP broadcasts rank 0's parameters at construction, so every rank starts from the same model.
    skillit evaluates ``model.module`` (no DDP collectives during sharded evaluation).
    """
    model.to(group.device)
    if group.backend is None:
        return model
    device_ids = [torch.device(group.device).index] if group.backend == "nccl" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def cpu_threads_per_rank() -> int:
    """Intra-op threads per rank: ``OMP_NUM_THREADS`` when set, else the cores shared evenly by the node's
    ranks (two torch processes on two cores each using every core run ~15x slower)."""
    if os.environ.get("OMP_NUM_THREADS", "").isdigit() and int(os.environ["OMP_NUM_THREADS"]) > 0:
        return int(os.environ["OMP_NUM_THREADS"])
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("WORLD_SIZE", 1)) or 1)
    return max(1, (os.cpu_count() or 1) // max(1, local_world))


__all__ = [
    "ProcessGroup",
    "cpu_threads_per_rank",
    "destroy_process_group",
    "init_process_group",
    "make_all_reduce",
    "process_group",
    "torchrun_env",
    "wrap_model",
]
