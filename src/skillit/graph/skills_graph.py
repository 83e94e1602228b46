"""The skills graph value type: a named k×m matrix of edge strengths.

``A[i, j]`` is the strength of the edge from training skill i (row) to evaluation skill j (column): how
much training on i lowers the loss on j (skillit.md §1.2). In continual pre-training the graph is square
(k×k, columns = rows); in fine-tuning Skill-It uses the target columns; in the out-of-domain setting the
columns are separate evaluation skills (rectangular k×m).

Files: JSON ``{"train_skills": [...], "eval_skills": [...], "matrix": [[...]], ...}`` (the same shape
``skillit graph`` writes, extra keys such as ``method``/``params``/``cost`` are kept as provenance), or a
bare ``.npy`` matrix with the names given separately.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skillit.errors import GraphError, did_you_mean
from skillit.utils.io import atomic_write_bytes, atomic_write_text


class SkillsGraph:
    """An immutable named matrix ``A`` (rows = training skills, columns = evaluation skills)."""

    def __init__(
        self,
        matrix: Any,
        train_skills: Sequence[str],
        eval_skills: Sequence[str] | None = None,
        provenance: dict[str, Any] | None = None,
        *,
        where: str = "skills graph",
    ):
        try:
            array = np.array(matrix, dtype=float)
        except (TypeError, ValueError) as exc:
            raise GraphError(f"{where}: the matrix is not numeric ({exc})") from None
        train = [str(s) for s in train_skills]
        evals = list(train) if eval_skills is None else [str(s) for s in eval_skills]
        if array.ndim != 2:
            raise GraphError(f"{where}: the matrix must be 2-dimensional, got shape {array.shape}")
        if array.shape != (len(train), len(evals)):
            raise GraphError(
                f"{where}: the matrix has shape {array.shape[0]}x{array.shape[1]} but there are {len(train)} "
                f"training skills (rows) and {len(evals)} evaluation skills (columns); give one row per "
                "training skill and one column per evaluation skill"
            )
        for label, names in (("train_skills", train), ("eval_skills", evals)):
            if len(set(names)) != len(names):
                dupes = sorted({n for n in names if names.count(n) > 1})
                raise GraphError(f"{where}: {label} has duplicate names {dupes}")
        if not np.isfinite(array).all():
            i, j = (int(x) for x in np.argwhere(~np.isfinite(array))[0])
            raise GraphError(
                f"{where}: entry [{train[i]!r}, {evals[j]!r}] (row {i}, column {j}) is {array[i, j]}; "
                "every edge weight must be a finite number"
            )
        array.setflags(write=False)
        self._matrix = array
        self.train_skills: tuple[str, ...] = tuple(train)
        self.eval_skills: tuple[str, ...] = tuple(evals)
        self.provenance: dict[str, Any] = dict(provenance or {})

    # ---- views ----------------------------------------------------------------------------------
    @property
    def matrix(self) -> np.ndarray:
        """The (k, m) read-only matrix."""
        return self._matrix

    @property
    def shape(self) -> tuple[int, int]:
        return self._matrix.shape  # type: ignore[return-value]

    @property
    def is_square(self) -> bool:
        return self.train_skills == self.eval_skills

    def __repr__(self) -> str:
        return f"SkillsGraph({self.shape[0]}x{self.shape[1]}, train={list(self.train_skills)}, eval={list(self.eval_skills)})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SkillsGraph)
            and self.train_skills == other.train_skills
            and self.eval_skills == other.eval_skills
            and np.array_equal(self._matrix, other._matrix)
        )

    def weight(self, train_skill: str, eval_skill: str) -> float:
        return float(self._matrix[self._row(train_skill), self._col(eval_skill)])

    def _row(self, name: str) -> int:
        try:
            return self.train_skills.index(name)
        except ValueError:
            raise GraphError(
                f"skill {name!r} is not a row (training skill) of the graph; {did_you_mean(name, self.train_skills)}"
            ) from None

    def _col(self, name: str) -> int:
        try:
            return self.eval_skills.index(name)
        except ValueError:
            raise GraphError(
                f"skill {name!r} is not a column (evaluation skill) of the graph; "
                f"{did_you_mean(name, self.eval_skills)}"
            ) from None

    def submatrix(self, train_skills: Sequence[str], eval_skills: Sequence[str]) -> np.ndarray:
        """``A`` restricted and reordered to the given names: shape (len(train_skills), len(eval_skills))."""
        rows = [self._row(name) for name in train_skills]
        cols = [self._col(name) for name in eval_skills]
        return self._matrix[np.ix_(rows, cols)].copy()

    def restrict(self, train_skills: Sequence[str], eval_skills: Sequence[str]) -> SkillsGraph:
        return SkillsGraph(self.submatrix(train_skills, eval_skills), train_skills, eval_skills, self.provenance)

    # ---- factories ------------------------------------------------------------------------------
    @classmethod
    def identity(cls, skills: Sequence[str]) -> SkillsGraph:
        """A = I: every skill only helps itself (the paper's "no graph" ablation)."""
        return cls(np.eye(len(skills)), skills, skills, provenance={"source": "identity"})

    @classmethod
    def from_edges(
        cls,
        train_skills: Sequence[str],
        eval_skills: Sequence[str] | None,
        edges: dict[tuple[str, str], float],
        *,
        diagonal: float = 1.0,
    ) -> SkillsGraph:
        """Build from ``{(train, eval): weight}``; where a name is both row and column, set ``diagonal``."""
        evals = list(train_skills) if eval_skills is None else list(eval_skills)
        matrix = np.zeros((len(train_skills), len(evals)))
        for i, name in enumerate(train_skills):
            if name in evals:
                matrix[i, evals.index(name)] = diagonal
        graph = cls(matrix, train_skills, evals)
        for (src, dst), value in edges.items():
            matrix[graph._row(src), graph._col(dst)] = value
        return cls(matrix, train_skills, evals)

    # ---- files ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "train_skills": list(self.train_skills),
            "eval_skills": list(self.eval_skills),
            "matrix": self._matrix.tolist(),
        }
        for key, value in self.provenance.items():
            out.setdefault(key, value)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "skills graph") -> SkillsGraph:
        if not isinstance(data, dict):
            raise GraphError(f"{where}: expected a JSON object with train_skills, eval_skills and matrix")
        missing = [key for key in ("train_skills", "matrix") if key not in data]
        if missing:
            raise GraphError(f"{where}: missing key(s) {missing}; a graph file needs train_skills, eval_skills, matrix")
        provenance = {k: v for k, v in data.items() if k not in ("train_skills", "eval_skills", "matrix")}
        # null entries become NaN (numpy does that for dtype=float) and are rejected with their position
        matrix = data["matrix"]
        return cls(matrix, data["train_skills"], data.get("eval_skills"), provenance, where=where)

    def save(self, path: str | Path) -> Path:
        """Write ``.json`` (names + matrix + provenance) or ``.npy`` (matrix only), atomically."""
        path = Path(path)
        if path.suffix == ".npy":
            import io

            buffer = io.BytesIO()
            np.save(buffer, np.asarray(self._matrix))
            atomic_write_bytes(path, buffer.getvalue())
        else:
            atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def load(
        cls,
        path: str | Path,
        train_skills: Sequence[str] | None = None,
        eval_skills: Sequence[str] | None = None,
    ) -> SkillsGraph:
        """Read a ``.json`` graph, or a ``.npy`` matrix with ``train_skills`` (and ``eval_skills``) given."""
        path = Path(path)
        if not path.is_file():
            raise GraphError(f"graph file {str(path)!r} does not exist")
        where = f"graph file {str(path)!r}"
        if path.suffix == ".npy":
            if train_skills is None:
                raise GraphError(f"{where}: a .npy graph has no skill names; pass train_skills (and eval_skills)")
            try:
                matrix = np.load(path, allow_pickle=False)
            except (ValueError, OSError) as exc:
                raise GraphError(f"{where}: not a readable .npy array ({exc})") from None
            return cls(matrix, train_skills, eval_skills, {"source": str(path)}, where=where)
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise GraphError(f"{where}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
        graph = cls.from_dict(data, where=where)
        if train_skills is not None or eval_skills is not None:
            graph = graph.restrict(
                train_skills if train_skills is not None else graph.train_skills,
                eval_skills if eval_skills is not None else graph.eval_skills,
            )
        return graph
