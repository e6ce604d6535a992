"""Vectorised helpers of the batch ranking path: many (seeker, posting) pairs at once."""

from __future__ import annotations

from typing import Any

import numba
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


@numba.njit(nogil=True, cache=True)  # compiled once, kept in __pycache__ for every process
def _pair_dots_kernel(
    indptr: Any,
    indices: Any,
    data: Any,
    slots: Any,
    rows: Any,
    q_indptr: Any,
    q_indices: Any,
    q_data: Any,
    scratch: Any,
    out: Any,
) -> None:  # pragma: no cover - compiled; exercised through pair_dots
    current = -1
    for p in range(slots.size):
        r = rows[p]
        if r != current:
            if current >= 0:
                for j in range(q_indptr[current], q_indptr[current + 1]):
                    scratch[q_indices[j]] = 0.0
            for j in range(q_indptr[r], q_indptr[r + 1]):
                scratch[q_indices[j]] = q_data[j]
            current = r
        s = slots[p]
        acc = np.float32(0.0)
        for j in range(indptr[s], indptr[s + 1]):
            acc += data[j] * scratch[indices[j]]
        out[p] = acc
    if current >= 0:
        for j in range(q_indptr[current], q_indptr[current + 1]):
            scratch[q_indices[j]] = 0.0


def pair_dots(
    matrix: sp.csr_matrix, slots: IntArray, rows: IntArray, queries: sp.csr_matrix
) -> FloatArray:
    """Dot of CSR row ``slots[p]`` of ``matrix`` with row ``rows[p]`` of ``queries``: (P,).

    Pairs grouped by query (``rows`` sorted) are fastest; any order is correct. A compiled
    loop: each query is laid out densely once, then every stored entry of its paired posting
    rows costs one lookup (no copy of the gathered rows). Float32 sums; for unit rows a
    cosine in [0, 1].
    """
    out = np.zeros(slots.size, dtype=np.float32)
    if slots.size == 0:
        return out
    scratch = np.zeros(matrix.shape[1], dtype=np.float32)
    _pair_dots_kernel(
        matrix.indptr,
        matrix.indices,
        np.asarray(matrix.data, dtype=np.float32),
        np.asarray(slots, dtype=np.int64),
        np.asarray(rows, dtype=np.int64),
        queries.indptr,
        queries.indices,
        np.asarray(queries.data, dtype=np.float32),
        scratch,
        out,
    )
    return out


def group_starts(rows: IntArray, n_rows: int) -> IntArray:
    """Start offsets (n_rows + 1,) of each row's run in an array sorted by row."""
    out: IntArray = np.searchsorted(rows, np.arange(n_rows + 1)).astype(np.int64)
    return out
