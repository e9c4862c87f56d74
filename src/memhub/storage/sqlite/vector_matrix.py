"""Exact top-k by dot product over many unit vectors, in numpy, reading a quarter of the bytes.

Why exact brute force: an approximate index (HNSW) took minutes to build at 100k rows, found few of the
true top 10 on data without clusters, and cannot filter before ranking; a float32 scan is exact and
filters for free — score only the rows in scope, so ``limit`` hits come back whenever that many exist —
but it is bound by memory bandwidth (docs/decisions/sqlite-exact-vector-search.md has the figures).

So every row also keeps an int8 copy (per-row scale ``max|x|/127``) and the scan runs in two stages:

1. approximate scores ``scale · (codes · q)`` over the selected rows, converted to float32 in
   cache-sized blocks and multiplied in single-threaded BLAS calls (:data:`BLOCK_ELEMENTS` says why
   single-threaded matters so much): 4× fewer bytes from memory;
2. a rigorous bound on each approximation's error — Cauchy–Schwarz on the quantisation residual,
   ``‖x − scale·codes‖·‖q‖``, plus float32 rounding of the sums — gives every row an interval around
   its score. The k-th largest lower end is a threshold the true top k all reach, so only rows whose
   upper end reaches it (about 2k of them for random data) are rescored exactly in float32, and the
   result equals a full float32 scan.

Selections of at most :data:`EXACT_ROWS` rows skip stage 1: gathering them in float32 is cheaper.

Rows are append-only (``extend``) into buffers that grow by doubling; :meth:`VectorMatrix.view` returns
views of the first ``size`` rows that later appends never touch (they write past ``size`` or into new
buffers), so a search can run on a view without holding the index's lock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from memhub.core.ports import Matrix, Vector

Rows = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float32]

EXACT_ROWS = 2048
"""Selections up to this many rows are scored in float32 directly."""

BLOCK_ELEMENTS = 2**18
"""Matrix elements per BLAS call (682 rows of 384 dims: 1 MB of float32, cache-resident). OpenBLAS runs
a GEMV this small on the calling thread; from ~4×10⁵ elements on it splits the work over threads, and
under CPU contention (a busy server, or concurrent searches) each split waits for a descheduled thread:
measured 790 ns per 384-d row instead of 32 ns. Parallelism comes from concurrent requests instead."""

_EPS32 = float(np.finfo(np.float32).eps)


class Column:
    """A numpy array that grows by doubling: amortised O(1) appends, stable views of the prefix.

    Growing leaves a quarter of headroom even after one big append (a full index load), so the small
    appends that follow it don't immediately copy the whole matrix.
    """

    def __init__(self, dtype: npt.DTypeLike, width: int | None = None) -> None:
        self._shape_tail: tuple[int, ...] = () if width is None else (width,)
        self._data: npt.NDArray[np.generic] = np.empty((16, *self._shape_tail), dtype=dtype)
        self.size = 0

    def extend(self, values: npt.ArrayLike) -> None:
        values = np.asarray(values, dtype=self._data.dtype)
        end = self.size + len(values)
        if end > len(self._data):
            capacity = max(end + end // 4, 2 * len(self._data))
            grown = np.empty((capacity, *self._shape_tail), dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : end] = values
        self.size = end

    def reserve(self, capacity: int) -> None:
        """Room for ``capacity`` values without regrowing: a full load that knows its size allocates once,
        instead of doubling through copies that leave up to twice the matrix resident."""
        if capacity > len(self._data):
            grown = np.empty((capacity, *self._shape_tail), dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown

    def view(self) -> npt.NDArray[np.generic]:
        """The filled prefix. Writes to it (``col.view()[i] = v``) update the column in place."""
        return self._data[: self.size]

    def keep(self, positions: Rows) -> None:
        """Keep only ``positions`` (in that order) in fresh buffers; existing views stay valid."""
        self._data = np.array(self._data[positions], copy=True)
        self.size = len(positions)


@dataclass(frozen=True)
class MatrixView:
    """An immutable snapshot of the first ``size`` rows."""

    exact: npt.NDArray[np.float32]
    codes: npt.NDArray[np.int8]
    scale: npt.NDArray[np.float32]
    residual: npt.NDArray[np.float32]

    @property
    def size(self) -> int:
        return len(self.exact)

    @property
    def dim(self) -> int:
        return int(self.exact.shape[1])


class VectorMatrix:
    """Unit vectors of one dimension, each with its int8 quantisation."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._exact = Column(np.float32, dim)
        self._codes = Column(np.int8, dim)
        self._scale = Column(np.float32)
        self._residual = Column(np.float32)

    @property
    def size(self) -> int:
        return self._exact.size

    def extend(self, vectors: Matrix) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        peak = np.abs(vectors).max(axis=1, initial=0.0)
        scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
        codes = np.rint(vectors / scale[:, None]).astype(np.int8)
        residual = np.linalg.norm(vectors - codes.astype(np.float32) * scale[:, None], axis=1)
        self._exact.extend(vectors)
        self._codes.extend(codes)
        self._scale.extend(scale)
        self._residual.extend(residual)

    def reserve(self, rows: int) -> None:
        for column in (self._exact, self._codes, self._scale, self._residual):
            column.reserve(rows)

    def keep(self, positions: Rows) -> None:
        for column in (self._exact, self._codes, self._scale, self._residual):
            column.keep(positions)

    def view(self) -> MatrixView:
        return MatrixView(
            exact=self._exact.view(),  # type: ignore[arg-type]
            codes=self._codes.view(),  # type: ignore[arg-type]
            scale=self._scale.view(),  # type: ignore[arg-type]
            residual=self._residual.view(),  # type: ignore[arg-type]
        )


def top_k(view: MatrixView, query: Vector, rows: Rows, k: int) -> tuple[Rows, Scores]:
    """The ``k`` rows among ``rows`` with the largest ``row · query``, best first (ties: lower row)."""
    k = min(k, len(rows))
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    if len(rows) > EXACT_ROWS:
        rows = _candidates(view, query, rows, k)
    scores = _dot(_gather(view.exact, rows), query)
    return _best(rows, scores, k)


def _block_rows(dim: int) -> int:
    return max(16, BLOCK_ELEMENTS // dim)


def _dot(matrix: npt.NDArray[np.float32], query: Vector) -> Scores:
    """``matrix @ query`` in single-threaded BLAS calls (see :data:`BLOCK_ELEMENTS`)."""
    out = np.empty(len(matrix), dtype=np.float32)
    step = _block_rows(len(query))
    for start in range(0, len(matrix), step):
        np.dot(matrix[start : start + step], query, out=out[start : start + step])
    return out


def _best(rows: Rows, scores: Scores, k: int) -> tuple[Rows, Scores]:
    """Top k by score, then by row: rows tied with the k-th score all stay in the running."""
    if k < len(rows):
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        keep = scores >= kth
        rows, scores = rows[keep], scores[keep]
    order = np.lexsort((rows, -scores))[:k]
    return rows[order], scores[order]


def _candidates(view: MatrixView, query: Vector, rows: Rows, k: int) -> Rows:
    """The rows whose score interval reaches the k-th best lower bound: a superset of the true top k."""
    approx = _approximate(view, query, rows)
    slack = _error_bound(view, query, rows)
    lower = approx - slack
    threshold = np.partition(lower, len(lower) - k)[len(lower) - k]
    selected: Rows = rows[approx + slack >= threshold]
    return selected


def _error_bound(view: MatrixView, query: Vector, rows: Rows) -> Scores:
    """Per row, a bound on |approximate − float32 exact| score.

    Quantisation: ``|(x − scale·codes)·q| ≤ ‖residual‖·‖q‖₂`` (Cauchy–Schwarz). Rounding: a float32 sum
    of d terms is off by at most ``d·ε·Σ|terms|``, which is ``≤ d·ε·127·scale·‖q‖₁`` for the int8 side and
    ``≤ d·ε·‖q‖₂`` for the exact side (unit rows). Doubling ε keeps the bound valid whatever the
    summation order; it costs a handful of extra rescored rows.
    """
    d_eps = 2.0 * len(query) * _EPS32
    q_l2 = float(np.linalg.norm(query))
    q_l1 = float(np.abs(query).sum())
    bound = view.residual[rows] * q_l2 + view.scale[rows] * (d_eps * 127.0 * q_l1) + d_eps * q_l2
    return bound.astype(np.float32, copy=False)


def _approximate(view: MatrixView, query: Vector, rows: Rows) -> Scores:
    """``scale · (codes · q)`` for ``rows``; a dense selection scans contiguous blocks and picks after."""
    dense = 2 * len(rows) > view.size
    source = view.codes if dense else None
    count = view.size if dense else len(rows)
    out = np.empty(count, dtype=np.float32)
    step = _block_rows(view.dim)
    block = np.empty((min(step, count), view.dim), dtype=np.float32)
    for start in range(0, count, step):
        stop = min(count, start + step)
        chunk = source[start:stop] if source is not None else view.codes[rows[start:stop]]
        np.copyto(block[: stop - start], chunk, casting="unsafe")
        np.dot(block[: stop - start], query, out=out[start:stop])
    if dense:
        return out[rows] * view.scale[rows]
    return out * view.scale[rows]


def _gather(matrix: npt.NDArray[np.float32], rows: Rows) -> npt.NDArray[np.float32]:
    if len(rows) == len(matrix) and (len(rows) == 0 or rows[-1] == len(rows) - 1):
        return matrix  # all rows, in order: no copy
    return matrix[rows]
