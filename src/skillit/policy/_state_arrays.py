"""The arrays behind the JSON lists of the last state a policy returned, so that reading it back is free.

Private to ``skillit.policy`` (Skill-It and Skill-It+). A state must be plain JSON (lists, not arrays), but
converting 10^5 floats from a list back to an array costs ~2 ms each time ``weights`` or the next
``update`` reads it. States are values: nothing changes a list inside a state (``check_policy`` holds
policies to that), so the array a list was made from still equals it, and the policy can keep the pair:
``{id(values): (values, array)}``. A list restored from JSON, or any other list, is a new object and is
converted afresh. Each entry keeps its list alive, so the list's ``id`` cannot be reused by another list
while the entry exists. The pairs are derived values, never state: a pickled policy leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

KeptArrays = Mapping[int, tuple[list, np.ndarray]]


def keep_arrays(pairs: Iterable[tuple[list, np.ndarray]]) -> dict[int, tuple[list, np.ndarray]]:
    """``{id(values): (values, array)}`` for these pairs (``array.tolist() == values``), each array made read-only."""
    kept = {}
    for values, array in pairs:
        array.setflags(write=False)
        kept[id(values)] = (values, array)
    return kept


def kept_array(kept: KeptArrays, values: Any) -> np.ndarray:
    """``np.array(values, dtype=float)``, read-only; the kept array, without converting, when ``values`` is a kept list."""
    hit = kept.get(id(values))
    if hit is not None and hit[0] is values and len(values) == len(hit[1]):
        return hit[1]
    array = np.array(values, dtype=float)  # a copy even of an array: the flag below must not touch the caller's
    array.setflags(write=False)
    return array
