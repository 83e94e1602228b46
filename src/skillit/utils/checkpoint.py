"""Checkpoints: ``torch.save`` through an atomic write, and a load that names an unreadable file.

Apart from :mod:`skillit.utils.io` (torch-free, for everything that is not a checkpoint), so that the modules
that only write JSON and text load without torch.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from skillit.errors import CheckpointError
from skillit.utils.io import atomic_write_bytes


def atomic_torch_save(path: str | Path, payload: Any) -> Path:
    """``torch.save`` through a temporary file and a rename: a checkpoint is either whole or absent
    (a full disk: one OutputError, no ``.tmp`` file left)."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: str | Path) -> Any:
    """``torch.load`` of a file written by :func:`atomic_torch_save`; a clear error when it is unreadable."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError) as exc:
        raise CheckpointError(
            f"{path}: the checkpoint cannot be read ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            "delete it to restart that run from the beginning"
        ) from None
