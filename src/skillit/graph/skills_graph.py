"""The skills graph value type: a named k×m matrix of edge strengths.

``A[i, j]`` is the strength of the edge from training skill i (row) to evaluation skill j (column): how
much training on i lowers the loss on j (skillit.md §1.2). In continual pre-training the graph is square
(k×k, columns = rows); in fine-tuning Skill-It uses the target columns; in the out-of-domain setting the
columns are separate evaluation skills (rectangular k×m).

Files: JSON ``{"train_skills": [...], "eval_skills": [...], "matrix": [[...]], ...}`` (the same shape
``skillit graph`` writes, extra keys such as ``method``/``params``/``cost`` are kept as provenance), or a
bare ``.npy`` matrix with the names given separately.

Sparse graphs (many skills, few edges each): pass a :class:`SparseMatrix` or a ``scipy.sparse`` matrix, or
build with ``from_edges(..., sparse=True)`` / ``identity(..., sparse=True)``; in JSON, ``"edges": [[train,
eval, weight], ...]`` replaces ``"matrix"``. A dense k×k float matrix at k = 10^4 is 800 MB and one A·x is
~10^8 multiply-adds; a sparse one is O(edges). Dense stays the default; ``matrix`` and ``submatrix``
always return dense arrays, ``operator`` returns whichever the graph stores (what Skill-It multiplies by).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skillit.errors import GraphError, did_you_mean
from skillit.utils.io import atomic_write_bytes, atomic_write_text


class SparseMatrix:
    """A read-only k×m matrix stored as sorted, duplicate-free ``(row, column, value)`` triples.

    ``A @ x`` for a vector x is ``(A x)_i = Σ_{e: rows_e = i} values_e · x[cols_e]``, summed from 0.0 in the
    stored (row, column) order: O(number of entries). Duplicate entries are summed and explicit zeros
    dropped, so equal matrices have equal triples.

    The product is scipy's CSR mat-vec over the stored triples (:meth:`_csr`: a C loop that adds each row's
    products from 0.0 in stored order, ~1.3 ms at 1.1·10^6 entries); the numpy products below
    (:meth:`_matvec_by_layers`, :meth:`_matvec_by_bincount`, ~2.4 ms) compute the same sums in the same
    order, bit for bit, and are used when scipy.sparse cannot be imported.
    """

    LAYER_MIN_ENTRIES = 4096
    """A layered product (:meth:`_matvec_by_layers`) is used when there are at least this many entries per layer."""

    def __init__(self, rows: Any, cols: Any, values: Any, shape: tuple[int, int]):
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        values = np.asarray(values, dtype=float).ravel()
        k, m = (int(n) for n in shape)
        if not rows.size == cols.size == values.size:
            raise GraphError(f"sparse graph: {rows.size} rows, {cols.size} columns and {values.size} values given")
        if rows.size and (rows.min() < 0 or rows.max() >= k or cols.min() < 0 or cols.max() >= m):
            raise GraphError(f"sparse graph: an entry lies outside the {k}x{m} matrix")
        key = rows * m + cols
        unique, inverse = np.unique(key, return_inverse=True)  # sorted by (row, column)
        summed = np.bincount(inverse.ravel(), weights=values, minlength=unique.size)
        keep = summed != 0
        self.rows, self.cols, self.values = unique[keep] // max(m, 1), unique[keep] % max(m, 1), summed[keep]
        for array in (self.rows, self.cols, self.values):
            array.setflags(write=False)
        self.shape = (k, m)
        self._layers: list[tuple[np.ndarray | None, np.ndarray, np.ndarray]] | None = None  # built on first use
        self._csr_matrix: Any = None  # scipy.sparse.csr_matrix of the triples, built on first use; False: no scipy

    @classmethod
    def from_any(cls, matrix: Any) -> SparseMatrix:
        """A SparseMatrix as is, or any object with ``tocoo()`` (a ``scipy.sparse`` matrix or array)."""
        if isinstance(matrix, SparseMatrix):
            return matrix
        coo = matrix.tocoo()
        return cls(coo.row, coo.col, coo.data, coo.shape)

    @property
    def nnz(self) -> int:
        return int(self.values.size)

    def __matmul__(self, x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.shape != (self.shape[1],):
            raise GraphError(f"sparse graph: cannot multiply a {self.shape[0]}x{self.shape[1]} matrix by shape {x.shape}")
        csr = self._csr()
        if csr is not None:
            return np.asarray(csr @ x, dtype=float)  # (k,): zeros, then each row's products added in stored order
        layers = self._layer_plan()
        return self._matvec_by_bincount(x) if layers is None else self._matvec_by_layers(x, layers)

    def _csr(self) -> Any:
        """The triples as a ``scipy.sparse.csr_matrix`` (built once; ``None`` when scipy.sparse is missing).

        CSR keeps the stored order: row i's entries are ``indices/data[indptr[i]:indptr[i+1]]``, which are the
        triples of row i in column order, and scipy's ``csr_matvec`` computes ``y_i = 0.0; y_i += data · x[index]``
        along them: the ordered sum of the class docstring. Indices are int32 when they fit (half the memory
        traffic of the product's random reads).
        """
        if self._csr_matrix is None:
            try:
                from scipy.sparse import csr_matrix  # here: importing the graph (and --help) needs no scipy
            except ImportError:  # pragma: no cover - scipy is a dependency; the numpy products stand in
                self._csr_matrix = False
            else:
                k, m = self.shape
                index = np.int32 if max(k, m, self.nnz) < np.iinfo(np.int32).max else np.int64
                indptr = np.zeros(k + 1, dtype=index)  # (k+1,) where each row's entries start
                np.cumsum(np.bincount(self.rows, minlength=k), out=indptr[1:])
                self._csr_matrix = csr_matrix((self.values.copy(), self.cols.astype(index), indptr), shape=(k, m))
        return self._csr_matrix if self._csr_matrix is not False else None

    def _matvec_by_bincount(self, x: np.ndarray) -> np.ndarray:
        """``A @ x`` by one scatter-add over the entries in stored order (numpy's bincount adds sequentially)."""
        out = np.bincount(self.rows, weights=self.values * x[self.cols], minlength=self.shape[0])  # (k,)
        return out.astype(float, copy=False)  # bincount gives integer zeros for a matrix with no entry

    def _matvec_by_layers(self, x: np.ndarray, layers: list[tuple[np.ndarray | None, np.ndarray, np.ndarray]]) -> np.ndarray:
        """``A @ x`` layer by layer: layer d holds the d-th stored entry of every row that has one.

        Each row still adds its products from 0.0 in stored order, so the result is bit-identical to
        :meth:`_matvec_by_bincount`; but the work is a few long vector operations per layer instead of a
        scatter-add over every entry (~2.5× faster at 1.1·10^6 entries, 10^5 rows).
        """
        out = np.zeros(self.shape[0])  # (k,)
        scratch = np.empty(layers[0][1].size)  # layer 0 is the largest
        for rows, cols, values in layers:
            products = scratch[: cols.size]  # (entries in the layer,)
            np.take(x, cols, out=products, mode="clip")  # = x[cols]: every column index is in range, so
            np.multiply(values, products, out=products)  # "clip" only skips numpy's bounds check
            if rows is None:  # every row has a d-th entry: rows are 0..k-1 in order
                out += products
            else:
                out[rows] += products  # rows are distinct within a layer
        return out

    def _layer_plan(self) -> list[tuple[np.ndarray | None, np.ndarray, np.ndarray]] | None:
        """The entries split by their position within their row, or ``None`` when rows are too uneven to pay.

        Layer d = ``(rows, cols, values)`` of each row's d-th entry, rows ascending (``rows`` is ``None`` when
        the layer covers every row). The number of layers is the largest row's entry count, and each costs a
        few numpy calls, so a hub row (10^4 entries among 10^5) would make it slow: then the bincount.
        Built once per matrix (the matrix is read-only).
        """
        if self._layers is None:
            k, nnz = self.shape[0], self.nnz
            per_row = np.bincount(self.rows, minlength=k)  # (k,) entries per row
            depth = int(per_row.max()) if nnz else 0
            if depth == 0 or depth * self.LAYER_MIN_ENTRIES > nnz:
                self._layers = []
            else:
                first = np.cumsum(per_row) - per_row  # (k,) index of each row's first entry (entries sorted by row)
                position = np.arange(nnz) - first[self.rows]  # (nnz,) index of each entry within its row
                order = np.argsort(position, kind="stable")  # layer 0 first; rows ascending within a layer
                ends = np.cumsum(np.bincount(position, minlength=depth))  # (depth,)
                layers = []
                for start, end in zip(np.concatenate([[0], ends[:-1]]), ends):
                    index = order[start:end]
                    rows = None if index.size == k else self.rows[index]
                    layers.append((rows, self.cols[index], self.values[index]))
                self._layers = layers
        return self._layers or None

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape)
        out[self.rows, self.cols] = self.values
        return out

    def take(self, row_index: Sequence[int], col_index: Sequence[int]) -> SparseMatrix:
        """Rows ``row_index`` and columns ``col_index`` (distinct original positions), in that order."""
        row_map = np.full(self.shape[0], -1, dtype=np.int64)
        row_map[np.asarray(row_index, dtype=np.int64)] = np.arange(len(row_index))
        col_map = np.full(self.shape[1], -1, dtype=np.int64)
        col_map[np.asarray(col_index, dtype=np.int64)] = np.arange(len(col_index))
        rows, cols = row_map[self.rows], col_map[self.cols]
        keep = (rows >= 0) & (cols >= 0)
        return SparseMatrix(rows[keep], cols[keep], self.values[keep], (len(row_index), len(col_index)))


class SkillsGraph:
    """An immutable named matrix ``A`` (rows = training skills, columns = evaluation skills), dense or sparse."""

    def __init__(
        self,
        matrix: Any,
        train_skills: Sequence[str],
        eval_skills: Sequence[str] | None = None,
        provenance: dict[str, Any] | None = None,
        *,
        where: str = "skills graph",
    ):
        train = [str(s) for s in train_skills]
        evals = list(train) if eval_skills is None else [str(s) for s in eval_skills]
        sparse = SparseMatrix.from_any(matrix) if isinstance(matrix, SparseMatrix) or hasattr(matrix, "tocoo") else None
        array: np.ndarray | None = None
        if sparse is None:
            try:
                array = np.array(matrix, dtype=float)
            except (TypeError, ValueError) as exc:
                raise GraphError(f"{where}: the matrix is not numeric ({exc})") from None
            if array.ndim != 2:
                raise GraphError(f"{where}: the matrix must be 2-dimensional, got shape {array.shape}")
        shape = sparse.shape if sparse is not None else array.shape  # type: ignore[union-attr]
        if shape != (len(train), len(evals)):
            raise GraphError(
                f"{where}: the matrix has shape {shape[0]}x{shape[1]} but there are {len(train)} "
                f"training skills (rows) and {len(evals)} evaluation skills (columns); give one row per "
                "training skill and one column per evaluation skill"
            )
        for label, names in (("train_skills", train), ("eval_skills", evals)):
            if len(set(names)) != len(names):
                dupes = sorted({n for n in names if names.count(n) > 1})
                raise GraphError(f"{where}: {label} has duplicate names {dupes}")
        if sparse is not None:
            bad = np.flatnonzero(~np.isfinite(sparse.values))
            if bad.size:
                i, j = int(sparse.rows[bad[0]]), int(sparse.cols[bad[0]])
                raise GraphError(
                    f"{where}: entry [{train[i]!r}, {evals[j]!r}] (row {i}, column {j}) is {sparse.values[bad[0]]}; "
                    "every edge weight must be a finite number"
                )
        else:
            if not np.isfinite(array).all():  # type: ignore[arg-type]
                i, j = (int(x) for x in np.argwhere(~np.isfinite(array))[0])  # type: ignore[arg-type]
                raise GraphError(
                    f"{where}: entry [{train[i]!r}, {evals[j]!r}] (row {i}, column {j}) is {array[i, j]}; "  # type: ignore[index]
                    "every edge weight must be a finite number"
                )
            array.setflags(write=False)  # type: ignore[union-attr]
        self._matrix = array
        self._sparse = sparse
        self._shape = (len(train), len(evals))
        self.train_skills: tuple[str, ...] = tuple(train)
        self.eval_skills: tuple[str, ...] = tuple(evals)
        self._row_of = {name: i for i, name in enumerate(train)}  # O(1) name lookups at 10^4 skills
        self._col_of = {name: j for j, name in enumerate(evals)}
        self.provenance: dict[str, Any] = dict(provenance or {})

    # ---- views ----------------------------------------------------------------------------------
    @property
    def matrix(self) -> np.ndarray:
        """The (k, m) read-only matrix, dense (a sparse graph builds it on each call)."""
        if self._matrix is not None:
            return self._matrix
        dense = self._sparse.toarray()  # type: ignore[union-attr]
        dense.setflags(write=False)
        return dense

    @property
    def is_sparse(self) -> bool:
        return self._sparse is not None

    @property
    def sparse(self) -> SparseMatrix | None:
        """The stored sparse matrix, or ``None`` for a dense graph."""
        return self._sparse

    @property
    def shape(self) -> tuple[int, int]:
        return self._shape

    @property
    def is_square(self) -> bool:
        return self.train_skills == self.eval_skills

    def __repr__(self) -> str:
        return f"SkillsGraph({self.shape[0]}x{self.shape[1]}, train={list(self.train_skills)}, eval={list(self.eval_skills)})"

    def __eq__(self, other: object) -> bool:
        if not (isinstance(other, SkillsGraph) and self.train_skills == other.train_skills
                and self.eval_skills == other.eval_skills):
            return False
        if self._sparse is not None and other._sparse is not None:
            mine, theirs = self._sparse, other._sparse
            return all(np.array_equal(a, b) for a, b in ((mine.rows, theirs.rows), (mine.cols, theirs.cols),
                                                         (mine.values, theirs.values)))
        return np.array_equal(self.matrix, other.matrix)

    def weight(self, train_skill: str, eval_skill: str) -> float:
        i, j = self._row(train_skill), self._col(eval_skill)
        if self._sparse is not None:
            hit = np.flatnonzero((self._sparse.rows == i) & (self._sparse.cols == j))
            return float(self._sparse.values[hit[0]]) if hit.size else 0.0
        return float(self._matrix[i, j])  # type: ignore[index]

    def _row(self, name: str) -> int:
        try:
            return self._row_of[name]
        except KeyError:
            raise GraphError(
                f"skill {name!r} is not a row (training skill) of the graph; {did_you_mean(name, self.train_skills)}"
            ) from None

    def _col(self, name: str) -> int:
        try:
            return self._col_of[name]
        except KeyError:
            raise GraphError(
                f"skill {name!r} is not a column (evaluation skill) of the graph; "
                f"{did_you_mean(name, self.eval_skills)}"
            ) from None

    def submatrix(self, train_skills: Sequence[str], eval_skills: Sequence[str]) -> np.ndarray:
        """``A`` restricted and reordered to the given names: shape (len(train_skills), len(eval_skills))."""
        operator = self.operator(train_skills, eval_skills)
        return operator.toarray() if isinstance(operator, SparseMatrix) else operator

    def operator(self, train_skills: Sequence[str], eval_skills: Sequence[str]) -> np.ndarray | SparseMatrix:
        """``A`` restricted to the given names as the graph stores it: a dense copy or a :class:`SparseMatrix`.

        Both support ``A @ x`` for a vector x of length ``len(eval_skills)``.
        """
        rows = [self._row(name) for name in train_skills]
        cols = [self._col(name) for name in eval_skills]
        if self._sparse is not None:
            return self._sparse.take(rows, cols)
        return self._matrix[np.ix_(rows, cols)].copy()  # type: ignore[index]

    def restrict(self, train_skills: Sequence[str], eval_skills: Sequence[str]) -> SkillsGraph:
        return SkillsGraph(self.operator(train_skills, eval_skills), train_skills, eval_skills, self.provenance)

    # ---- factories ------------------------------------------------------------------------------
    @classmethod
    def identity(cls, skills: Sequence[str], *, sparse: bool = False) -> SkillsGraph:
        """A = I: every skill only helps itself (the paper's "no graph" ablation)."""
        n = len(skills)
        matrix = SparseMatrix(np.arange(n), np.arange(n), np.ones(n), (n, n)) if sparse else np.eye(n)
        return cls(matrix, skills, skills, provenance={"source": "identity"})

    @classmethod
    def from_edges(
        cls,
        train_skills: Sequence[str],
        eval_skills: Sequence[str] | None,
        edges: dict[tuple[str, str], float],
        *,
        diagonal: float = 1.0,
        sparse: bool = False,
    ) -> SkillsGraph:
        """Build from ``{(train, eval): weight}``; where a name is both row and column, set ``diagonal``.

        ``sparse=True`` stores only the edges (and the diagonal), never a dense k×m matrix.
        """
        evals = list(train_skills) if eval_skills is None else list(eval_skills)
        if sparse:
            names = cls(SparseMatrix([], [], [], (len(train_skills), len(evals))), train_skills, evals)
            entries = {(i, names._col_of[name]): diagonal for i, name in enumerate(train_skills) if name in names._col_of}
            for (src, dst), value in edges.items():
                entries[(names._row(src), names._col(dst))] = value
            rows, cols = zip(*entries) if entries else ((), ())
            matrix = SparseMatrix(rows, cols, list(entries.values()), names.shape)
            return cls(matrix, train_skills, evals)
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
        out: dict[str, Any] = {"train_skills": list(self.train_skills), "eval_skills": list(self.eval_skills)}
        if self._sparse is not None:  # [train, eval, weight] per stored entry
            out["edges"] = [[self.train_skills[i], self.eval_skills[j], float(v)]
                            for i, j, v in zip(self._sparse.rows, self._sparse.cols, self._sparse.values)]
        else:
            out["matrix"] = self._matrix.tolist()  # type: ignore[union-attr]
        for key, value in self.provenance.items():
            out.setdefault(key, value)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "skills graph") -> SkillsGraph:
        if not isinstance(data, dict):
            raise GraphError(f"{where}: expected a JSON object with train_skills, eval_skills and matrix")
        missing = [key for key in ("train_skills", "matrix") if key not in data and not (key == "matrix" and "edges" in data)]
        if missing:
            raise GraphError(f"{where}: missing key(s) {missing}; a graph file needs train_skills, eval_skills, matrix")
        provenance = {k: v for k, v in data.items() if k not in ("train_skills", "eval_skills", "matrix", "edges")}
        if "matrix" not in data:  # sparse: "edges": [[train, eval, weight], ...]
            train, evals = data["train_skills"], data.get("eval_skills", data["train_skills"])
            names = cls(SparseMatrix([], [], [], (len(train), len(evals))), train, evals, where=where)
            try:
                triples = [(names._row(str(a)), names._col(str(b)), float(w)) for a, b, w in data["edges"]]
            except (TypeError, ValueError):
                raise GraphError(f"{where}: edges must be a list of [train_skill, eval_skill, weight] triples") from None
            rows, cols, values = zip(*triples) if triples else ((), (), ())
            return cls(SparseMatrix(rows, cols, values, names.shape), train, evals, provenance, where=where)
        # null entries become NaN (numpy does that for dtype=float) and are rejected with their position
        matrix = data["matrix"]
        return cls(matrix, data["train_skills"], data.get("eval_skills"), provenance, where=where)

    def save(self, path: str | Path) -> Path:
        """Write ``.json`` (names + matrix + provenance) or ``.npy`` (matrix only), atomically."""
        path = Path(path)
        if path.suffix == ".npy":

            buffer = io.BytesIO()
            np.save(buffer, np.asarray(self.matrix))
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
            if matrix.dtype.kind not in "biuf":  # complex, strings, dates, records: a cast would lose or invent values
                raise GraphError(f"{where}: the array holds {matrix.dtype} values; a graph needs real numbers (save it "
                                 "with a float dtype, e.g. np.save(path, A.astype(float)))")
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
