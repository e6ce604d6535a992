"""Vectorised helpers of the batch ranking path: many (seeker, posting) pairs at once."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matcher.signals import EARTH_RADIUS_KM

FloatArray = npt.NDArray[np.float32]
F64Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def haversine_pairs(lat1: F64Array, lon1: F64Array, lat2: F64Array, lon2: F64Array) -> F64Array:
    """Great-circle km between aligned arrays of degrees (NaN where a coordinate is NaN)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin((np.radians(lon2) - np.radians(lon1)) / 2) ** 2
    )
    out: F64Array = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    return out


def approx_km(lat1: F64Array, lon1: F64Array, lat2: F64Array, lon2: F64Array) -> F64Array:
    """Equirectangular km (within a fraction of a percent at city scale): for estimates only."""
    dy = np.radians(lat2 - lat1)
    dx = np.radians(lon2 - lon1) * np.cos(np.radians(lat1))
    out: F64Array = EARTH_RADIUS_KM * np.sqrt(dx * dx + dy * dy)
    return out


def pair_dots(
    matrix: sp.csr_matrix, slots: IntArray, rows: IntArray, queries: sp.csr_matrix
) -> FloatArray:
    """Dot of CSR row ``slots[p]`` of ``matrix`` with row ``rows[p]`` of ``queries``: (P,).

    ``rows`` must be sorted (pairs grouped by query). The block's queries are laid out
    densely over only the n-grams they use, so every stored entry of the gathered posting
    rows costs one lookup; no posting row is scored against a query it is not paired with.
    Float32 sums; for unit rows the result is a cosine in [0, 1].
    """
    if slots.size == 0:
        return np.zeros(0, dtype=np.float32)
    used, inverse = np.unique(queries.indices, return_inverse=True)
    width = used.size + 1  # the last column holds zeros: n-grams no query of the block has
    dense = np.zeros((queries.shape[0], width), dtype=np.float32)
    q_rows = np.repeat(np.arange(queries.shape[0]), np.diff(queries.indptr))
    dense[q_rows, inverse] = queries.data
    colmap = np.full(matrix.shape[1], used.size, dtype=np.int32)
    colmap[used] = np.arange(used.size)
    sub: Any = matrix[slots]
    cols = colmap[sub.indices]
    vals = np.empty(cols.size, dtype=np.float32)
    bounds = sub.indptr[group_starts(rows, queries.shape[0])]
    for i in np.flatnonzero(np.diff(bounds)).tolist():
        lo, hi = bounds[i], bounds[i + 1]
        vals[lo:hi] = dense[i][cols[lo:hi]]  # the row's query, laid out densely
    vals *= sub.data
    lengths = np.diff(sub.indptr)
    out = np.zeros(slots.size, dtype=np.float32)
    filled = lengths > 0
    if vals.size:
        out[filled] = np.add.reduceat(vals, sub.indptr[:-1][filled])
    return out


def group_starts(rows: IntArray, n_rows: int) -> IntArray:
    """Start offsets (n_rows + 1,) of each row's run in an array sorted by row."""
    out: IntArray = np.searchsorted(rows, np.arange(n_rows + 1)).astype(np.int64)
    return out
