"""Streaming sources: one pass splits a mixed stream into per-skill shard files on local disk.

Why shards. The sampler reads every skill as its own stream of positions 0, 1, 2, ... A file or an
``IterableDataset`` mixes skills, so a per-skill reader must either re-scan the mixed stream, filtering
to its skill (k passes over the data for k skills: fine for 4 skills, hopeless for 10^4), or the stream is
split once. skillit splits once: :func:`build_shards` reads the source front to back and appends each
example to its skill's shard (``NNNNNN.jsonl``, one ``[prompt, answer]`` JSON array per line) and its
byte offset to the skill's index (``NNNNNN.idx``, raw little-endian int64). Costs: one pass and a local
copy of the data's text on disk; in exchange memory stays O(number of skills) (a path, a count and a
cursor per skill, a bounded pool of open files) and a skill's stream resumes at any position in O(1)
(one 8-byte read from its index, one seek).

A :class:`ShardSource` is finite (its ``size`` is the skill's count) and ``ordered``: read in stored order,
so the sampler does not hold a permutation of the pool (which would be O(examples)); each epoch of a
cycled skill replays the file order. Shuffle the file beforehand, or load it map-style, if you need a
fresh order per epoch.

Shards of a file are cached under ``cache_dir`` keyed by the file's path, size, modification time and the
loading options, and written to a temporary folder that is renamed into place only when complete, so an
interrupted or failed pass (a corrupt line) leaves nothing behind.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
from array import array
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skillit.errors import DataError
from skillit.skills.example import Example

SHARD_FORMAT = 1
FLUSH_BYTES = 64 * 2**20  # buffered shard text and offsets before appending to disk (bounds the pass's memory)
OPEN_FILES = 64  # shard files kept open at once, least recently used closed first


def default_cache_dir() -> Path:
    """``$SKILLIT_CACHE/shards`` or ``~/.cache/skillit/shards``."""
    root = os.environ.get("SKILLIT_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "skillit") / "shards"


class _OpenFiles:
    """A small least-recently-used pool of open shard files, per process."""

    def __init__(self, limit: int = OPEN_FILES):
        self.limit = limit
        self._files: OrderedDict[str, Any] = OrderedDict()
        self._pid = os.getpid()

    def get(self, path: str):
        if self._pid != os.getpid():  # a forked child must not share its parent's file offsets
            self._files = OrderedDict()
            self._pid = os.getpid()
        handle = self._files.get(path)
        if handle is None:
            try:
                handle = open(path, "rb")
            except OSError as exc:
                raise DataError(f"shard file {path!r} cannot be read ({exc}); delete its folder to rebuild it") from None
            self._files[path] = handle
            while len(self._files) > self.limit:
                _, old = self._files.popitem(last=False)
                old.close()
        else:
            self._files.move_to_end(path)
        return handle

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()


_FILES = _OpenFiles()
atexit.register(_FILES.close)


class ShardSource:
    """One skill's examples in a shard file: sequential reads cost one ``readline``; any position is O(1).

    Holds only paths, the size and a cursor (next index, its byte offset), so it pickles cheaply and many
    thousands of them fit in memory.
    """

    ordered = True  # the sampler reads it in stored order (no O(size) permutation per epoch)

    def __init__(self, skill: str, path: str | Path, index_path: str | Path, size: int):
        if size < 1:
            raise DataError(f"skill {skill!r}: a shard needs at least one example")
        self.skill = skill
        self.path = str(path)
        self.index_path = str(index_path)
        self._size = int(size)
        self._next = 0  # cursor: the index that the next sequential read returns ...
        self._offset = 0  # ... and its byte offset

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        return self._size

    def get(self, index: int) -> Example:
        index = int(index)
        if not 0 <= index < self._size:
            raise IndexError(f"skill {self.skill!r}: index {index} out of range for {self._size} examples")
        offset = self._offset if index == self._next else self._offset_of(index)
        handle = _FILES.get(self.path)
        handle.seek(offset)
        line = handle.readline()
        self._next, self._offset = index + 1, offset + len(line)
        try:
            prompt, answer = json.loads(line)
        except (ValueError, TypeError):
            raise DataError(
                f"shard {self.path!r} is damaged at example {index}; delete the folder {os.path.dirname(self.path)!r} "
                "and load again to rebuild it"
            ) from None
        return Example(prompt=prompt, answer=answer, skill=self.skill)

    def _offset_of(self, index: int) -> int:
        handle = _FILES.get(self.index_path)
        handle.seek(8 * index)
        return int(np.frombuffer(handle.read(8), dtype="<i8")[0])

    def __repr__(self) -> str:
        return f"ShardSource({self.skill!r}, size={self._size}, path={self.path!r})"


@dataclass
class ShardManifest:
    """What a shard folder holds: per skill (in first-appearance order) its count; held-out validation."""

    directory: Path
    skills: list[str]
    counts: dict[str, int]  # training examples per skill (0: every example was held out or capped away)
    validation: dict[str, list[Example]]
    alphabet: str

    def source(self, skill: str) -> ShardSource | None:
        if self.counts.get(skill, 0) == 0:
            return None
        if not hasattr(self, "_position"):
            self._position = {name: i for i, name in enumerate(self.skills)}
        i = self._position[skill]
        return ShardSource(skill, self.directory / f"{i:06d}.jsonl", self.directory / f"{i:06d}.idx", self.counts[skill])

    def to_json(self) -> dict[str, Any]:
        return {
            "format": SHARD_FORMAT,
            "skills": [{"name": s, "count": self.counts.get(s, 0)} for s in self.skills],
            "validation": {s: [[e.prompt, e.answer] for e in v] for s, v in self.validation.items()},
            "alphabet": self.alphabet,
        }

    @classmethod
    def read(cls, directory: Path) -> ShardManifest:
        data = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        if data.get("format") != SHARD_FORMAT:
            raise DataError(f"shard folder {str(directory)!r} has format {data.get('format')}; delete it to rebuild")
        skills = [entry["name"] for entry in data["skills"]]
        return cls(
            directory,
            skills,
            {entry["name"]: int(entry["count"]) for entry in data["skills"]},
            {s: [Example(p, a, s) for p, a in v] for s, v in data["validation"].items()},
            data.get("alphabet", ""),
        )


def cache_key(parts: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def build_shards(
    examples: Callable[[], Any],
    *,
    directory: Path | None,
    temp_parent: Path | None = None,
) -> ShardManifest:
    """Run one pass of ``examples()`` into shard files, atomically; reuse ``directory`` if already complete.

    ``examples()`` yields ``("train", skill, example)`` and ``("validation", skill, example)`` items in
    stream order (the split and caps are decided by the caller); ``directory=None`` makes a temporary
    folder (inside ``temp_parent`` if given) removed at exit, for streams with no stable identity (an
    ``IterableDataset``, a skill function).
    """
    try:
        return _build_shards(examples, directory, temp_parent)
    except OSError as exc:  # a read-only or full cache folder: one message, no half-built shards
        where = directory.parent if directory is not None else (temp_parent or tempfile.gettempdir())
        raise DataError(
            f"cannot write the streaming cache in {str(where)!r} ({exc.strerror or exc}); set cache_dir to a "
            "writable folder with free space"
        ) from None


def _build_shards(examples: Callable[[], Any], directory: Path | None, temp_parent: Path | None) -> ShardManifest:
    if directory is not None and (directory / "manifest.json").is_file():
        return ShardManifest.read(directory)
    if directory is None:
        parent = Path(temp_parent) if temp_parent is not None else Path(tempfile.gettempdir())
        parent.mkdir(parents=True, exist_ok=True)
    else:
        parent = directory.parent
        parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".skillit-shards-", dir=parent))
    try:
        manifest = _write_shards(examples(), tmp)
        (tmp / "manifest.json").write_text(json.dumps(manifest.to_json()), encoding="utf-8")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if directory is None:
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)
        return manifest
    try:
        os.replace(tmp, directory)
    except OSError:  # another process finished the same shards first: use theirs
        shutil.rmtree(tmp, ignore_errors=True)
        if not (directory / "manifest.json").is_file():
            raise
    return ShardManifest.read(directory)


def _write_shards(items: Any, folder: Path) -> ShardManifest:
    skills: list[str] = []
    ids: dict[str, int] = {}
    counts: dict[str, int] = {}
    sizes: dict[int, int] = {}  # bytes written per shard so far (the next example's offset)
    buffers: dict[int, bytearray] = {}  # compact: the bytes themselves, no object per line
    offsets: dict[int, array] = {}  # int64 per buffered line
    validation: dict[str, list[Example]] = {}
    alphabet: set[str] = set()
    buffered = 0

    def flush() -> None:
        # one append per touched shard and index: opening files is the slow part on many file systems
        for i, data in buffers.items():
            with open(folder / f"{i:06d}.jsonl", "ab") as handle:
                handle.write(data)
            with open(folder / f"{i:06d}.idx", "ab") as handle:
                handle.write(np.asarray(offsets[i], dtype="<i8").tobytes())
        buffers.clear()
        offsets.clear()

    for split, skill, example in items:
        i = ids.get(skill)
        if i is None:
            i = ids[skill] = len(skills)
            skills.append(skill)
        alphabet.update(example.prompt)
        alphabet.update(example.answer)
        if split == "validation":
            validation.setdefault(skill, []).append(example)
            continue
        line = (json.dumps([example.prompt, example.answer], ensure_ascii=False) + "\n").encode("utf-8")
        buffer = buffers.get(i)
        if buffer is None:
            buffer = buffers[i] = bytearray()
            offsets[i] = array("q")
        buffer += line
        offsets[i].append(sizes.get(i, 0))
        sizes[i] = sizes.get(i, 0) + len(line)
        counts[skill] = counts.get(skill, 0) + 1
        buffered += len(line) + 8
        if buffered >= FLUSH_BYTES:
            flush()
            buffered = 0
    flush()
    return ShardManifest(folder, skills, counts, validation, "".join(sorted(alphabet)))
