"""What machine a run ran on: the facts that decide whether a seeded run repeats bit for bit.

A seeded run repeats exactly on one machine, but not across machines: the CPU's vector kernels (torch picks
AVX2 or AVX-512 code at start-up), the number of cores (how a reduction is split between threads), the torch
build and the Python version all change the last bits of a sum, and a loss curve with plateaus (LEGO,
Addition) can turn last-bit differences into different final losses. ``manifest.json`` records
:func:`machine_fingerprint` when a run directory is created, so that ``skillit compare`` can say "these ran
on different machines" instead of only "these differ" when it refuses to merge two directories.

Nothing here initialises CUDA (``torch.version.cuda`` is the build's CUDA, not a device query), so a
process that forks workers afterwards is unaffected.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch

CPUINFO = Path("/proc/cpuinfo")
#: the fields of a fingerprint, in the order messages name them
FIELDS = ("cpu", "cpu_capability", "logical_cpus", "torch", "cuda", "python", "os")


def cpu_model(cpuinfo: str) -> str | None:
    """The first ``model name`` of a Linux ``/proc/cpuinfo`` text (None when it names none)."""
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "model name" and value.strip():
            return " ".join(value.split())
    return None


def _cpu() -> str:
    try:
        found = cpu_model(CPUINFO.read_text(encoding="utf-8", errors="replace"))
    except OSError:  # not Linux, or no /proc
        found = None
    return found or platform.processor() or platform.machine() or "unknown"


def _cpu_capability() -> str:
    get = getattr(torch.backends.cpu, "get_cpu_capability", None)  # torch >= 2.1
    return str(get()) if get is not None else "unknown"


def machine_fingerprint() -> dict[str, str | int | None]:
    """``{cpu, cpu_capability, logical_cpus, torch, cuda, python, os}`` of this process.

    ``cpu``: the CPU model (``/proc/cpuinfo``, else ``platform``); ``cpu_capability``: the vector
    instruction set torch's CPU kernels dispatch to (e.g. ``AVX2``, ``AVX512``); ``logical_cpus``:
    ``os.cpu_count()``; ``torch``: its version with the build suffix (``2.13.0+cpu``); ``cuda``: the CUDA
    version torch was built with (None for a CPU build); ``python``; ``os``: system and machine
    (``Linux x86_64``). JSON-serialisable."""
    return {
        "cpu": _cpu(),
        "cpu_capability": _cpu_capability(),
        "logical_cpus": os.cpu_count(),
        "torch": str(torch.__version__),
        "cuda": torch.version.cuda,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.machine()}".strip(),
    }


def describe_machine(machine: dict) -> str:
    """One line for a report: ``Xeon … (AVX512, 2 logical CPUs), torch 2.13.0+cpu, Python 3.11.9, Linux x86_64``
    (with ``CUDA 12.4`` after the torch build when it has one)."""
    cuda = f", CUDA {machine['cuda']}" if machine.get("cuda") else ""
    return (f"{machine.get('cpu', 'unknown CPU')} ({machine.get('cpu_capability', '?')}, "
            f"{machine.get('logical_cpus', '?')} logical CPUs), torch {machine.get('torch', '?')}{cuda}, "
            f"Python {machine.get('python', '?')}, {machine.get('os', '?')}")


def machine_difference(a: dict | None, b: dict | None) -> str | None:
    """How two fingerprints differ, e.g. ``"cpu_capability: AVX512 / AVX2"`` (fields in :data:`FIELDS`
    order, then any other); None when they agree or either is unknown (a run directory made before
    fingerprints were recorded)."""
    if not a or not b:
        return None
    keys = [k for k in FIELDS if k in a or k in b] + sorted((set(a) | set(b)) - set(FIELDS))
    parts = [f"{k}: {a.get(k)} / {b.get(k)}" for k in keys if a.get(k) != b.get(k)]
    return "; ".join(parts) or None
