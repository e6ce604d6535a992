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


@numba.njit(nogil=True, cache=True, inline="always")
def _feasible(
    i: Any,
    s: Any,
    ess: Any,
    level: Any,
    limit: Any,
    lat: Any,
    lon: Any,
    p_lat: Any,
    p_lon: Any,
    mode: Any,
    remote: Any,
    approx: Any,
) -> Any:  # pragma: no cover - compiled
    """Essential needs offered and commute limit kept, for seeker row ``i`` and slot ``s``."""
    for j in range(ess.shape[1]):
        code = ess[i, j]
        if code >= 0 and level[s, code] == 0:
            return False
    lim = limit[i]
    if lim == lim and mode[s] != remote:  # a limit, and the posting is not remote
        rad = np.pi / 180.0
        if approx:
            dy = (p_lat[s] - lat[i]) * rad
            dx = (p_lon[s] - lon[i]) * rad * np.cos(lat[i] * rad)
            dist = EARTH_RADIUS_KM * np.sqrt(dx * dx + dy * dy)
        else:
            p1 = lat[i] * rad
            p2 = p_lat[s] * rad
            a = (
                np.sin((p2 - p1) / 2) ** 2
                + np.cos(p1) * np.cos(p2) * np.sin((p_lon[s] * rad - lon[i] * rad) / 2) ** 2
            )
            dist = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(min(max(a, 0.0), 1.0)))
        if dist > lim:  # an unknown place (NaN) is kept
            return False
    return True


@numba.njit(nogil=True, cache=True, parallel=True)
def _pools_kernel(
    block: Any,
    base: Any,
    kind: Any,
    n_base: Any,
    ess: Any,
    level: Any,
    limit: Any,
    lat: Any,
    lon: Any,
    p_lat: Any,
    p_lon: Any,
    mode: Any,
    remote: Any,
    want: Any,
    step: Any,
    out: Any,
    sizes: Any,
) -> None:  # pragma: no cover - compiled; exercised through pools
    b, n = block.shape
    for i in numba.prange(b):
        row = block[i]
        ok = base[kind[i]]
        thr = -np.inf
        if n_base[i] > want:
            # A threshold on a strided sample of feasible postings (approximate distances)
            # so that about 1.5 x ``want`` feasible postings score above it.
            m = (n + step - 1) // step
            sample = np.empty(m, dtype=np.float32)
            f = 0
            for c in range(m):
                s = c * step
                if ok[s] and _feasible(
                    i, s, ess, level, limit, lat, lon, p_lat, p_lon, mode, remote, True
                ):
                    sample[f] = row[s]
                    f += 1
            rank = min(m - 1, int(want / step * 1.5) + 2)
            if f > rank:
                thr = np.partition(sample[:f], f - 1 - rank)[f - 1 - rank]
        cand = np.empty(n, dtype=np.int64)
        while True:
            count = 0
            for s in range(n):
                if (
                    row[s] >= thr
                    and ok[s]
                    and _feasible(
                        i, s, ess, level, limit, lat, lon, p_lat, p_lon, mode, remote, False
                    )
                ):
                    cand[count] = s
                    count += 1
            if count >= want or thr == -np.inf:
                break
            thr = -np.inf  # too few feasible above the estimate: every feasible posting
        if count <= want:
            out[i, :count] = cand[:count]
            sizes[i] = count
            continue
        scores = np.empty(count, dtype=np.float32)
        for c in range(count):
            scores[c] = row[cand[c]]
        cut = np.partition(scores, count - want)[count - want]  # the want-th largest
        t = 0
        for c in range(count):
            if scores[c] > cut:
                out[i, t] = cand[c]
                t += 1
        for c in range(count):
            if t == want:
                break
            if scores[c] == cut:
                out[i, t] = cand[c]
                t += 1
        sizes[i] = want


def pools(
    block: FloatArray,
    base: npt.NDArray[np.bool_],
    kind: IntArray,
    n_base: IntArray,
    ess: IntArray,
    level: npt.NDArray[np.uint8],
    limit: F64Array,
    lat: F64Array,
    lon: F64Array,
    p_lat: F64Array,
    p_lon: F64Array,
    mode: npt.NDArray[np.int8],
    remote: int,
    want: int,
) -> tuple[IntArray, IntArray]:
    """(rows, slots) of each row's pool, grouped by row: its ``want`` feasible slots of the
    highest ``block`` score (all if fewer), ties at the cut taken in slot order.

    Feasible: ``base[kind[row]]`` (open, unexpired, mode, schedule, posted after), essential
    needs offered at some level in ``level`` (``ess`` holds code columns, -1 padding) and,
    where ``limit`` is set, the posting within it or remote (an unknown place is kept).
    One compiled pass per row, rows spread over the cores: a threshold from a strided
    sample of feasible postings, then one scan keeping feasible slots above it (every
    feasible slot if fewer than ``want`` are), then the top ``want`` of those.
    """
    b, n = block.shape
    out = np.empty((b, max(want, 0)), dtype=np.int64)
    sizes = np.zeros(b, dtype=np.int64)
    if b and n and want > 0:
        _pools_kernel(
            block,
            base,
            kind,
            n_base,
            ess,
            level,
            limit,
            lat,
            lon,
            p_lat,
            p_lon,
            mode,
            remote,
            want,
            max(1, n // 4096),
            out,
            sizes,
        )
    rows: IntArray = np.repeat(np.arange(b, dtype=np.int64), sizes)
    keep = np.arange(out.shape[1])[None, :] < sizes[:, None]
    slots: IntArray = out[keep]
    return rows, slots
