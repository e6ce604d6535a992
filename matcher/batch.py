"""Vectorised helpers of the batch ranking path: many (seeker, posting) pairs at once."""

from __future__ import annotations

import functools
import logging
import types
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from llvmlite import ir
from numba.core import types as nbtypes
from numba.extending import intrinsic

from matcher.signals import (
    ARRANGEABLE_CREDIT,
    EARTH_RADIUS_KM,
    REQUIRED_SHARE,
    SAME_CENTRE_SCORE,
    SAME_STREET_SCORE,
)

# Ranking runs in service threads (and digests in a worker thread beside the main one), so the
# compiled parallel loops need a threading layer that may be entered from several threads at
# once (TBB or OpenMP), never the workqueue fallback, which aborts on concurrent launches.
if numba.config.THREADING_LAYER == "default":  # type: ignore[attr-defined]
    numba.config.THREADING_LAYER = "threadsafe"  # type: ignore[attr-defined]

_log = logging.getLogger(__name__)


@functools.cache
def threads_usable() -> bool:
    """Whether the compiled parallel loops can run (a thread-safe threading layer loads).

    Checked once, by starting numba's threading layer as a first parallel launch would; where
    neither TBB nor OpenMP loads (no libgomp, no tbb) every kernel runs its serial twin
    instead of raising at first use.
    """
    try:
        from numba.np.ufunc.parallel import _launch_threads
    except ImportError:  # a numba without it: its first launch will start the layer
        return True
    try:
        _launch_threads()  # type: ignore[no-untyped-call]
    except (ValueError, ImportError, OSError) as exc:
        _log.warning("no thread-safe numba threading layer (%s); ranking runs serially", exc)
        return False
    return True


FloatArray = npt.NDArray[np.float32]
F64Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def serial_twin(kernel: Any) -> Any:
    """The same compiled loop without threads (``prange`` runs as ``range``), cached apart.

    For small inputs (one seeker's ranking): a parallel launch costs more than the work, and
    on a busy machine it waits for a descheduled thread (milliseconds).
    """
    f = kernel.py_func
    name = f"{f.__name__}_serial"
    twin = types.FunctionType(f.__code__, f.__globals__, name, f.__defaults__, f.__closure__)
    twin.__qualname__ = name
    return numba.njit(nogil=True, cache=True)(twin)


# Parallel loops are used from this many rows (seekers) or pairs on.
PARALLEL_ROWS = 16


def haversine_pairs(lat1: F64Array, lon1: F64Array, lat2: F64Array, lon2: F64Array) -> F64Array:
    """Great-circle km between aligned arrays of degrees (NaN where a coordinate is NaN)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin((np.radians(lon2) - np.radians(lon1)) / 2) ** 2
    )
    out: F64Array = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    return out


def _prefetch(typingctx: Any, array: Any, index: Any) -> Any:  # pragma: no cover - compiled
    """In compiled code, ``prefetch(array, i)`` asks the CPU to start loading ``array[i]``'s
    cache line (LLVM's prefetch: a read, kept briefly). A hint only: no result, never a fault,
    even past the end. Loops that read scattered rows (a posting's n-grams, its columns) ask
    for the rows a few pairs ahead, so the memory waits overlap instead of adding up."""
    sig = nbtypes.void(array, index)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        address = builder.bitcast(builder.gep(data, [args[1]]), ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fn = builder.module.declare_intrinsic(
            "llvm.prefetch", fnty=ir.FunctionType(ir.VoidType(), [address.type, i32, i32, i32])
        )
        # read (0), low temporal locality (1), data cache (1)
        builder.call(fn, [address, ir.Constant(i32, 0), ir.Constant(i32, 1), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


prefetch: Any = intrinsic(_prefetch)

# Pairs ahead of the current one whose scattered rows are prefetched (measured: 1 halves a
# block's lexical pass, 2 to 4 do a little better, 8 no better).
AHEAD = 4


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
    pairs = slots.size
    for p in range(pairs):
        r = rows[p]
        if r != current:
            if current >= 0:
                for j in range(q_indptr[current], q_indptr[current + 1]):
                    scratch[q_indices[j]] = 0.0
            for j in range(q_indptr[r], q_indptr[r + 1]):
                scratch[q_indices[j]] = q_data[j]
            current = r
        if p + AHEAD < pairs:  # the stored entries of a row a few pairs ahead
            ahead = slots[p + AHEAD]
            for j in range(indptr[ahead], indptr[ahead + 1], 16):  # 16 entries a cache line
                prefetch(indices, j)
                prefetch(data, j)
        if p + 2 * AHEAD < pairs:  # and where a row further ahead starts
            prefetch(indptr, slots[p + 2 * AHEAD])
        s = slots[p]
        acc = np.float32(0.0)
        for j in range(indptr[s], indptr[s + 1]):
            acc += data[j] * scratch[indices[j]]
        out[p] = acc
    if current >= 0:
        for j in range(q_indptr[current], q_indptr[current + 1]):
            scratch[q_indices[j]] = 0.0


@numba.njit(nogil=True, cache=True, parallel=True)
def _pair_dots_chunks(
    indptr: Any,
    indices: Any,
    data: Any,
    slots: Any,
    rows: Any,
    q_indptr: Any,
    q_indices: Any,
    q_data: Any,
    bounds: Any,
    scratch: Any,
    out: Any,
) -> None:  # pragma: no cover - compiled; exercised through pair_dots
    for c in numba.prange(bounds.size - 1):
        lo, hi = bounds[c], bounds[c + 1]
        _pair_dots_kernel(
            indptr,
            indices,
            data,
            slots[lo:hi],
            rows[lo:hi],
            q_indptr,
            q_indices,
            q_data,
            scratch[c],
            out[lo:hi],
        )


_pair_dots_chunks_serial = serial_twin(_pair_dots_chunks)


def chunk_bounds(items: int, least: int) -> IntArray:
    """Bounds (chunks + 1,) of one contiguous run of ``items`` per core, each of at least
    ``least`` items (one run when the items are few or no threading layer loads)."""
    threads = numba.get_num_threads() if threads_usable() else 1
    chunks = max(1, min(threads, items // least))
    out: IntArray = np.linspace(0, items, chunks + 1).astype(np.int64)
    return out


def pair_dots(
    matrix: sp.csr_matrix, slots: IntArray, rows: IntArray, queries: sp.csr_matrix
) -> FloatArray:
    """Dot of CSR row ``slots[p]`` of ``matrix`` with row ``rows[p]`` of ``queries``: (P,).

    Pairs grouped by query (``rows`` sorted) are fastest; any order is correct. A compiled
    loop: each query is laid out densely once, then every stored entry of its paired posting
    rows costs one lookup (no copy of the gathered rows). Large inputs are cut into one
    contiguous run of pairs per core, each with its own dense query row. Float32 sums; for
    unit rows a cosine in [0, 1].
    """
    out = np.zeros(slots.size, dtype=np.float32)
    if slots.size == 0:
        return out
    bounds = chunk_bounds(slots.size, 4096)
    chunks = bounds.size - 1
    scratch = np.zeros((chunks, matrix.shape[1]), dtype=np.float32)
    run = _pair_dots_chunks if chunks > 1 else _pair_dots_chunks_serial
    run(
        matrix.indptr,
        matrix.indices,
        np.asarray(matrix.data, dtype=np.float32),
        np.asarray(slots, dtype=np.int64),
        np.asarray(rows, dtype=np.int64),
        queries.indptr,
        queries.indices,
        np.asarray(queries.data, dtype=np.float32),
        bounds,
        scratch,
        out,
    )
    return out


# Sample statistics: n-grams held by at least this share of the sampled postings are laid out
# as dense rows (a vectorised add over the sample instead of a scatter), at most DENSE_TERMS.
DENSE_SHARE = 1 / 16
DENSE_TERMS = 1024


@dataclass(frozen=True)
class SampleIndex:
    """The lexical sample as the batch path reads it: the (vocabulary, S) inverted matrix,
    and the rows of the most frequent n-grams again as a dense (terms, S) array."""

    inverted: sp.csr_matrix
    dense: FloatArray
    dense_row: npt.NDArray[np.int32]  # per n-gram: its row in ``dense``, or -1

    @classmethod
    def of(cls, inv: sp.csr_matrix) -> SampleIndex:
        """From the sample's inverted (vocabulary, S) matrix (``matcher.lexical.inverted``)."""
        size = inv.shape[1]
        df = np.diff(inv.indptr)
        frequent = np.flatnonzero(df >= max(1.0, size * DENSE_SHARE))
        if frequent.size > DENSE_TERMS:
            frequent = np.sort(frequent[np.argsort(-df[frequent], kind="stable")[:DENSE_TERMS]])
        dense_row = np.full(inv.shape[0], -1, dtype=np.int32)
        dense_row[frequent] = np.arange(frequent.size, dtype=np.int32)
        dense = np.asarray(inv[frequent].toarray(), dtype=np.float32)
        return cls(inv, dense, dense_row)

    def nbytes(self) -> int:
        m = self.inverted
        return int(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes + self.dense.nbytes)


@numba.njit(nogil=True, cache=True, parallel=True)
def _sample_stats_kernel(
    inv_indptr: Any,
    inv_indices: Any,
    inv_data: Any,
    dense: Any,
    dense_row: Any,
    size: Any,
    q_indptr: Any,
    q_indices: Any,
    q_data: Any,
    bounds: Any,
    mean: Any,
    std: Any,
) -> None:  # pragma: no cover - compiled; exercised through sample_stats
    for c in numba.prange(bounds.size - 1):
        acc = np.zeros(size, dtype=np.float32)
        for i in range(bounds[c], bounds[c + 1]):
            acc[:] = 0.0
            for j in range(q_indptr[i], q_indptr[i + 1]):
                t = q_indices[j]
                w = q_data[j]
                r = dense_row[t]
                if r >= 0:  # adds w * 0 where a posting lacks the n-gram: the same sums
                    row = dense[r]
                    for x in range(size):
                        acc[x] += row[x] * w
                else:
                    for m in range(inv_indptr[t], inv_indptr[t + 1]):
                        acc[inv_indices[m]] += inv_data[m] * w
            total = 0.0
            for x in range(size):
                total += acc[x]
            mu = total / size
            sq = 0.0
            for x in range(size):
                d = acc[x] - mu
                sq += d * d
            mean[i] = mu
            std[i] = np.sqrt(sq / size)


_sample_stats_kernel_serial = serial_twin(_sample_stats_kernel)


def sample_stats(sample: SampleIndex, queries: sp.csr_matrix) -> tuple[F64Array, F64Array]:
    """Mean and standard deviation (float64, (m,) each) of each query row's dots with the
    sampled postings; NaN for an empty sample.

    Equals the mean and ``std`` of ``(sample @ queries.T)`` column by column (the float32 dots
    summed in the same term order) without building that (S, m) matrix: each core adds one
    query at a time into a dense row of S sums, frequent n-grams as dense rows, the rest
    scattered from the inverted matrix.
    """
    m = queries.shape[0]
    size = sample.inverted.shape[1]
    mean = np.full(m, np.nan)
    std = np.full(m, np.nan)
    if size == 0 or m == 0:
        return mean, std
    bounds = chunk_bounds(m, 64)
    run = _sample_stats_kernel if bounds.size > 2 else _sample_stats_kernel_serial
    run(
        sample.inverted.indptr,
        sample.inverted.indices,
        sample.inverted.data,
        sample.dense,
        sample.dense_row,
        size,
        queries.indptr,
        queries.indices,
        np.asarray(queries.data, dtype=np.float32),
        bounds,
        mean,
        std,
    )
    return mean, std


def group_starts(rows: IntArray, n_rows: int) -> IntArray:
    """Start offsets (n_rows + 1,) of each row's run in an array sorted by row."""
    out: IntArray = np.searchsorted(rows, np.arange(n_rows + 1)).astype(np.int64)
    return out


# Bit of a slot's flags (``pool_record``) marking a remote posting; offer codes below it.
REMOTE_BIT = 52


def pool_record(
    geo: F64Array, level: npt.NDArray[np.uint8], remote: npt.NDArray[np.bool_]
) -> F64Array:
    """(n, 4) per slot, everything pool selection reads about a posting in one cache line:
    latitude, longitude (radians), cos(latitude) (NaN where unknown), and flags: bit j set
    when offer code j is offered at some level (codes below ``REMOTE_BIT``; further codes are
    read from ``level``), bit ``REMOTE_BIT`` for a remote posting. Integers below 2^53 are
    exact in float64."""
    flags = np.zeros(level.shape[0], dtype=np.int64)
    for j in range(min(level.shape[1], REMOTE_BIT)):
        flags |= (level[:, j] > 0).astype(np.int64) << j
    flags |= remote.astype(np.int64) << REMOTE_BIT
    out: F64Array = np.column_stack([geo[:, :3], flags.astype(np.float64)])
    return np.ascontiguousarray(out)


def essential_bits(ess: IntArray) -> IntArray:
    """Per seeker row, the flag bits its essential needs' codes require (``pool_record``);
    -1 where a code lies beyond the flag bits, to be read from the level matrix instead."""
    out = np.zeros(ess.shape[0], dtype=np.int64)
    for j in range(ess.shape[1]):
        code = ess[:, j]
        out |= np.where(code >= 0, np.int64(1) << np.minimum(np.maximum(code, 0), 62), 0)
    wide = ((ess >= REMOTE_BIT) & (ess >= 0)).any(axis=1)
    out[wide] = -1
    return out


@numba.njit(nogil=True, cache=True, inline="always")
def _feasible(
    i: Any, s: Any, bits: Any, ess: Any, level: Any, geo: Any, rec: Any, approx: Any
) -> Any:  # pragma: no cover - compiled
    """Essential needs offered and commute limit kept, for seeker row ``i`` and slot ``s``.

    ``geo[i]``: latitude, longitude (radians), cos(latitude), then the limit as a bound on
    the haversine term (sin^2(limit / 2R); inf without a limit) and on the squared
    equirectangular angle ((limit / R)^2). ``rec[s]``: the slot's ``pool_record`` (an
    unknown place is kept); ``bits[i]``: ``essential_bits``.
    """
    flags = np.int64(rec[s, 3])
    need = bits[i]
    if need >= 0:
        if (flags & need) != need:
            return False
    else:
        for j in range(ess.shape[1]):
            code = ess[i, j]
            if code >= 0 and level[s, code] == 0:
                return False
    if geo[i, 3] == np.inf or flags >= np.int64(1) << REMOTE_BIT:
        return True
    dy = rec[s, 0] - geo[i, 0]
    dl = rec[s, 1] - geo[i, 1]
    if approx:
        dx = dl * geo[i, 2]
        return not (dx * dx + dy * dy > geo[i, 4])
    # The haversine term h = sin^2(dy/2) + c1 c2 sin^2(dl/2) lies between bounds free of
    # sines (u^2 (1 - u^2/3) <= sin^2 u <= u^2), which settle all but a sliver of pairs at
    # the limit; the margins keep rounding from deciding a pair the exact term would not.
    y2 = 0.25 * dy * dy
    x2 = 0.25 * dl * dl * geo[i, 2] * rec[s, 2]
    if y2 + x2 < geo[i, 3] * (1.0 - 1e-9):
        return True
    if y2 * (1.0 - dy * dy / 12.0) + x2 * (1.0 - dl * dl / 12.0) > geo[i, 3] * (1.0 + 1e-9):
        return False
    h1 = np.sin(dy / 2)
    h2 = np.sin(dl / 2)
    return not (h1 * h1 + geo[i, 2] * rec[s, 2] * (h2 * h2) > geo[i, 3])


# The threshold sample is taken in runs of this many neighbouring slots (read in order,
# cache-friendly), spread evenly over the row.
SAMPLE_RUN = 128


@numba.njit(nogil=True, cache=True, parallel=True)
def _pools_kernel(
    block: Any,
    base: Any,
    full: Any,
    kind: Any,
    n_base: Any,
    bits: Any,
    ess: Any,
    level: Any,
    geo: Any,
    rec: Any,
    want: Any,
    samples: Any,
    out: Any,
    out_score: Any,
    sizes: Any,
) -> None:  # pragma: no cover - compiled; exercised through pools
    b, n = block.shape
    for i in numba.prange(b):
        row = block[i]
        ok = base[kind[i]]
        every = full[kind[i]]  # no base mask to read
        thr = np.float32(-np.inf)
        if n_base[i] > want:
            # A threshold on a sample of feasible postings (approximate distances), taken
            # in runs spread over the row, so that about 1.5 x ``want`` feasible postings
            # score above it.
            runs = max(1, min(samples // SAMPLE_RUN, n // SAMPLE_RUN))
            gap = n // runs
            m = 0
            sample = np.empty(runs * SAMPLE_RUN, dtype=np.float32)
            f = 0
            for r in range(runs):
                lo = r * gap
                hi = min(lo + SAMPLE_RUN, n)
                m += hi - lo
                for s in range(lo, hi):
                    if (every or ok[s]) and _feasible(i, s, bits, ess, level, geo, rec, True):
                        sample[f] = row[s]
                        f += 1
            rank = min(m - 1, int(want * m / n * 1.5) + 2)
            if f > rank:
                thr = np.partition(sample[:f], f - 1 - rank)[f - 1 - rank]
        cand = np.empty(n + 1, dtype=np.int64)
        width = rec.shape[1]
        while True:
            # The slots above the threshold in the base mask (reading the row in order, every
            # slot written and kept by a step of 0 or 1: no branch to mispredict), then those
            # of them that are feasible, with the records of slots ahead prefetched.
            above = 0
            if every:
                for s in range(n):
                    cand[above] = s
                    above += row[s] >= thr
            else:
                for s in range(n):
                    cand[above] = s
                    above += (row[s] >= thr) & ok[s]
            count = 0
            for c in range(above):
                if c + AHEAD < above:
                    prefetch(rec, cand[c + AHEAD] * width)
                s = cand[c]
                if _feasible(i, s, bits, ess, level, geo, rec, False):
                    cand[count] = s
                    count += 1
            if count >= want or thr == -np.inf:
                break
            thr = np.float32(-np.inf)  # too few feasible above the estimate: every feasible
        scores = np.empty(count, dtype=np.float32)
        for c in range(count):
            scores[c] = row[cand[c]]
        if count <= want:
            out[i, :count] = cand[:count]
            out_score[i, :count] = scores
            sizes[i] = count
            continue
        cut = np.partition(scores, count - want)[count - want]  # the want-th largest
        t = 0
        for c in range(count):
            if scores[c] > cut:
                out[i, t] = cand[c]
                out_score[i, t] = scores[c]
                t += 1
        for c in range(count):
            if t == want:
                break
            if scores[c] == cut:
                out[i, t] = cand[c]
                out_score[i, t] = scores[c]
                t += 1
        sizes[i] = want


_pools_kernel_serial = serial_twin(_pools_kernel)


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
    rec: F64Array,
    want: int,
) -> tuple[IntArray, IntArray, FloatArray]:
    """(rows, slots, scores) of each row's pool, grouped by row: its ``want`` feasible slots
    of the highest ``block`` score (all if fewer), ties at the cut taken in slot order, and
    their ``block`` scores (read while the row is at hand rather than gathered after).

    Feasible: ``base[kind[row]]`` (open, unexpired, mode, schedule, posted after), essential
    needs offered at some level in ``level`` (``ess`` holds code columns, -1 padding) and,
    where ``limit`` is set, the posting within it or remote (an unknown place is kept);
    ``rec`` holds each slot's ``pool_record``. One compiled pass per row, rows spread over
    the cores: a threshold from a sample of feasible postings, then one scan keeping
    feasible slots above it (every feasible slot if fewer than ``want`` are), then the top
    ``want`` of those.
    """
    b, n = block.shape
    out = np.empty((b, max(want, 0)), dtype=np.int64)
    out_score = np.empty((b, max(want, 0)), dtype=np.float32)
    sizes = np.zeros(b, dtype=np.int64)
    if b and n and want > 0:
        with np.errstate(invalid="ignore"):
            has = ~np.isnan(limit)
            half = np.where(has, np.minimum(limit / (2 * EARTH_RADIUS_KM), np.pi / 2), 0.0)
            geo = np.column_stack(
                [
                    np.radians(lat),
                    np.radians(lon),
                    np.cos(np.radians(lat)),
                    np.where(has & (half < np.pi / 2), np.sin(half) ** 2, np.inf),
                    np.where(has, (limit / EARTH_RADIUS_KM) ** 2, np.inf),
                ]
            )
        run = _pools_kernel if b >= PARALLEL_ROWS and threads_usable() else _pools_kernel_serial
        run(
            block,
            base,
            base.all(axis=1),
            kind,
            n_base,
            essential_bits(ess),
            ess,
            level,
            geo,
            rec,
            want,
            4096,
            out,
            out_score,
            sizes,
        )
    rows: IntArray = np.repeat(np.arange(b, dtype=np.int64), sizes)
    keep = np.arange(out.shape[1])[None, :] < sizes[:, None]
    slots: IntArray = out[keep]
    scores: FloatArray = out_score[keep]
    return rows, slots, scores


@numba.njit(nogil=True, cache=True, parallel=True)
def _unheld_kernel(
    starts: Any, slots: Any, indptr: Any, indices: Any, hits: Any, out: Any
) -> None:  # pragma: no cover - compiled; exercised through unheld_listed
    for i in numba.prange(starts.size - 1):
        lo, hi = starts[i], starts[i + 1]
        for t in range(lo, hi):
            if t + AHEAD < hi:
                prefetch(indptr, slots[t + AHEAD])
            s = slots[t]
            for j in range(indptr[s], indptr[s + 1]):
                col = indices[j]
                if not hits[i, col]:
                    out[i, col] = True


_unheld_kernel_serial = serial_twin(_unheld_kernel)


def unheld_listed(
    starts: IntArray, slots: IntArray, matrices: tuple[sp.csr_matrix, ...], hits: BoolArray
) -> BoolArray:
    """(rows, columns): the columns some pair of a row lists in one of ``matrices`` (CSR,
    a row per slot) that ``hits`` does not already hold for that row. Pairs
    ``starts[i]:starts[i + 1]`` belong to row ``i``; one compiled pass, rows over the cores."""
    out = np.zeros(hits.shape, dtype=bool)
    rows = starts.size - 1
    run = _unheld_kernel if rows >= PARALLEL_ROWS and threads_usable() else _unheld_kernel_serial
    for matrix in matrices:
        run(starts, slots, matrix.indptr, matrix.indices, hits, out)
    return out


@numba.njit(nogil=True, cache=True, inline="always")
def _coverage(hits: Any, i: Any, indptr: Any, indices: Any, s: Any) -> Any:
    """(hit count, listed count) of slot ``s``'s skills among seeker row ``i``'s hits."""
    got = 0.0
    for j in range(indptr[s], indptr[s + 1]):
        if hits[i, indices[j]]:
            got += 1.0
    return got, float(indptr[s + 1] - indptr[s])


@numba.njit(nogil=True, cache=True, parallel=True)
def _top_pairs_kernel(
    starts: Any,
    slots: Any,
    dense: Any,
    lex: Any,
    q: Any,
    fq: Any,
    iq: Any,
    needs: Any,
    hits: Any,
    p: Any,
    ip: Any,
    level: Any,
    req_indptr: Any,
    req_indices: Any,
    opt_indptr: Any,
    opt_indices: Any,
    share_tab: Any,
    w: Any,
    consts: Any,
    k: Any,
    out: Any,
    out_total: Any,
    sizes: Any,
) -> None:  # pragma: no cover - compiled; exercised through top_pairs
    # q: (b, 9) float64 per seeker: d_mean, d_std, l_mean, l_std, lat, lon, loc_limit, wage,
    #    n_needs. fq: (b, 4) bool: dense z usable, lexical z usable, dense_ok, lex_ok.
    # iq: (b, 4) int64: language, street id, centre id, schedule (-1 any).
    # p: (n, 4) float64 per slot: lat, lon, wage, posted. ip: (n, 5) int64: language,
    #    street id, centre id, schedule, work mode.
    # consts: now_ts, half-life days, text_center, text_scale, remote mode id.
    now_ts, half_life = consts[0], consts[1]
    center, scale = np.float32(consts[2]), np.float32(consts[3])
    remote = int(consts[4])
    rad = np.pi / 180.0
    credit = np.array([0.0, ARRANGEABLE_CREDIT, 1.0])
    for i in numba.prange(starts.size - 1):
        lo, hi = starts[i], starts[i + 1]
        best = np.empty(k, dtype=np.int64)
        best_total = np.empty(k, dtype=np.float64)
        held = 0
        for t in range(lo, hi):
            if t + AHEAD < hi:  # the columns of a slot a few pairs ahead (flat indices)
                ahead = slots[t + AHEAD]
                prefetch(p, ahead * p.shape[1])
                prefetch(ip, ahead * ip.shape[1])
                prefetch(level, ahead * level.shape[1])
                prefetch(req_indices, req_indptr[ahead])
                prefetch(opt_indices, opt_indptr[ahead])
            if t + 2 * AHEAD < hi:
                further = slots[t + 2 * AHEAD]
                prefetch(req_indptr, further)
                prefetch(opt_indptr, further)
            s = slots[t]
            # text relevance: z-scored channels fused by the language pair's dense share
            zd = np.float32(0.0)
            if fq[i, 0]:
                zd = np.float32((dense[t] - q[i, 0]) / q[i, 1])
            zl = np.float32(0.0)
            if fq[i, 1]:
                zl = np.float32((lex[t] - q[i, 2]) / q[i, 3])
            share = np.float32(0.0)
            if fq[i, 2]:
                share = share_tab[iq[i, 0], ip[s, 0]] if fq[i, 3] else np.float32(1.0)
            fused = share * zd + (np.float32(1.0) - share) * zl
            x = min(max((fused - center) / scale, np.float32(-30.0)), np.float32(30.0))
            text = float(np.float32(1.0) / (np.float32(1.0) + np.exp(-x)))
            # side signals (NaN unknown), in SIDE_SIGNALS order
            r_hit, r_n = _coverage(hits, i, req_indptr, req_indices, s)
            o_hit, o_n = _coverage(hits, i, opt_indptr, opt_indices, s)
            if r_n > 0:
                skills = (
                    REQUIRED_SHARE * (r_hit / r_n) + (1 - REQUIRED_SHARE) * (o_hit / o_n)
                    if o_n > 0
                    else r_hit / r_n
                )
            else:
                skills = o_hit / o_n if o_n > 0 else np.nan
            n_needs = q[i, 8]
            need = np.nan
            if n_needs > 0:
                got = 0.0
                for j in range(needs.shape[1]):
                    code = needs[i, j]
                    if code >= 0:
                        got += credit[level[s, code]]
                need = got / max(n_needs, 1.0)
            p1, p2 = q[i, 4] * rad, p[s, 0] * rad
            a = (
                np.sin((p2 - p1) / 2) ** 2
                + np.cos(p1) * np.cos(p2) * np.sin((p[s, 1] * rad - q[i, 5] * rad) / 2) ** 2
            )
            dist = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(min(max(a, 0.0), 1.0)))
            if ip[s, 4] == remote:
                loc = 1.0
            elif dist == dist:
                loc = min(max(1.0 - dist / q[i, 6], 0.0), 1.0)
            elif iq[i, 1] == ip[s, 1]:
                loc = SAME_STREET_SCORE
            elif iq[i, 2] == ip[s, 2]:
                loc = SAME_CENTRE_SCORE
            else:
                loc = np.nan
            expected, top = q[i, 7], p[s, 2]
            wage = np.nan
            if expected == expected and top == top:
                wage = 1.0 if top >= expected else max(top / expected, 0.0) ** 2
            fresh = np.nan
            if p[s, 3] == p[s, 3]:
                age = max(0.0, (now_ts - p[s, 3]) / 86400.0)
                fresh = 0.5 ** (age / half_life)
            fit = 1.0 if iq[i, 3] < 0 or ip[s, 3] == iq[i, 3] else 0.75
            total = 0.0
            text_weight = w[0]
            for j, value in enumerate((skills, need, loc, wage, fresh, fit)):
                if value == value:
                    total += w[j + 1] * value
                else:
                    text_weight += w[j + 1]
            total += text_weight * text
            # keep the k best by (score desc, slot asc), sorted
            if held == k and (
                total < best_total[k - 1] or (total == best_total[k - 1] and s > slots[best[k - 1]])
            ):
                continue
            at = held if held < k else k - 1
            while at > 0 and (
                best_total[at - 1] < total
                or (best_total[at - 1] == total and slots[best[at - 1]] > s)
            ):
                if at < k:
                    best[at] = best[at - 1]
                    best_total[at] = best_total[at - 1]
                at -= 1
            best[at] = t
            best_total[at] = total
            if held < k:
                held += 1
        out[i, :held] = best[:held]
        out_total[i, :held] = best_total[:held]
        sizes[i] = held


_top_pairs_kernel_serial = serial_twin(_top_pairs_kernel)


def top_pairs(
    starts: IntArray,
    slots: IntArray,
    dense: FloatArray,
    lex: FloatArray,
    seeker_cols: tuple[F64Array, npt.NDArray[np.bool_], IntArray, IntArray],
    slot_cols: tuple[F64Array, IntArray],
    hits: npt.NDArray[np.bool_],
    level: npt.NDArray[np.uint8],
    skills: tuple[sp.csr_matrix, sp.csr_matrix],
    share_tab: FloatArray,
    weights: F64Array,
    consts: F64Array,
    k: int,
) -> tuple[IntArray, F64Array, IntArray]:
    """Positions of each row's ``k`` best pairs by fused score, best first (ties: lower slot).

    Pairs ``starts[i]:starts[i + 1]`` belong to seeker row ``i``; ``dense`` and ``lex`` are
    their raw cosines. The score is ``Ranker``'s: text relevance from the z-scored channels
    and the side signals weighted, an unknown signal's weight going to text relevance. One
    compiled pass per row, rows over the cores. Returns (positions grouped by row, their
    scores, sizes).
    """
    b = starts.size - 1
    out = np.zeros((b, max(k, 0)), dtype=np.int64)
    out_total = np.zeros((b, max(k, 0)), dtype=np.float64)
    sizes = np.zeros(b, dtype=np.int64)
    if b and k > 0 and slots.size:
        q, fq, iq, needs = seeker_cols
        p, ip = slot_cols
        req, opt = skills
        run = (
            _top_pairs_kernel
            if b >= PARALLEL_ROWS and threads_usable()
            else _top_pairs_kernel_serial
        )
        run(
            starts,
            slots,
            dense,
            lex,
            q,
            fq,
            iq,
            needs,
            hits,
            p,
            ip,
            level,
            req.indptr.astype(np.int64),
            req.indices.astype(np.int64),
            opt.indptr.astype(np.int64),
            opt.indices.astype(np.int64),
            share_tab,
            weights,
            consts,
            k,
            out,
            out_total,
            sizes,
        )
    keep = np.arange(out.shape[1])[None, :] < sizes[:, None]
    picked: IntArray = out[keep]
    totals: F64Array = out_total[keep]
    return picked, totals, sizes
