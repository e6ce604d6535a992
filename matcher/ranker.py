"""Rankers: postings for a seeker (``Ranker``) and seekers for a posting (``CandidateRanker``)."""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from operator import itemgetter
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matcher.batch import (
    BoolArray,
    F64Array,
    IntArray,
    SampleIndex,
    group_starts,
    haversine_pairs,
    pair_dots,
    pool_record,
    pools,
    sample_stats,
    top_pairs,
    unheld_listed,
)
from matcher.constraints import violations
from matcher.encoders import FloatArray, TextEncoder
from matcher.errors import MatcherError, NotFittedError
from matcher.explain import SHARE_TIE, Labels, build_explanation
from matcher.fusion import SIDE_SIGNALS, FusionWeights, combine, dense_part, zscore
from matcher.lexical import CharTfidf, inverted
from matcher.signals import (
    ARRANGEABLE_CREDIT,
    DEFAULT_COMMUTE_KM,
    EARTH_RADIUS_KM,
    FRESHNESS_HALF_LIFE_DAYS,
    MAX_TEXT_CHARS,
    REQUIRED_SHARE,
    SAME_CENTRE_SCORE,
    SAME_STREET_SCORE,
    NeedsFit,
    SkillCoverage,
    _skill_key,
    distance_km,
    freshness,
    in_text_key,
    key_matches,
    location_fit,
    mode_schedule_fit,
    needs_fit,
    skill_coverage,
    skill_matches,
    wage_fit,
)
from matcher.text import detect_language, language_pair
from matcher.types import (
    Explanation,
    Language,
    Match,
    PostingDoc,
    SeekerDoc,
    positional_maker,
)

LANGS: tuple[str, ...] = ("zh", "en", "unknown")
MODES: tuple[str, ...] = ("on_site", "hybrid", "remote")
SCHEDULES: tuple[str, ...] = ("full_time", "part_time", "flexible", "any")
LEXICAL_SAMPLE = 2048
# A top-k pair whose compiled score is this far below its seeker's floor is dropped before it
# is explained; the compiled score and a Match's differ by float rounding only (< 1e-12).
FLOOR_SLACK = 1e-6


def posting_text(posting: PostingDoc) -> str:
    """The text of a posting that is embedded and matched (title, text, skills)."""
    skills = " ".join([*posting.required_skills, *posting.optional_skills])
    return " ".join(part for part in (posting.title, posting.text, skills) if part.strip())


def seeker_text(seeker: SeekerDoc) -> str:
    """The text of a seeker's profile that is embedded and matched (roles, skills, text)."""
    parts = [*seeker.desired_roles, " ".join(seeker.skills), seeker.text]
    return " ".join(part for part in parts if part.strip())


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise MatcherError("now must be timezone-aware")
    return now


def _after(posted_after: datetime | None) -> float:
    if posted_after is None:
        return -math.inf
    if posted_after.tzinfo is None:
        raise MatcherError("posted_after must be timezone-aware")
    return posted_after.timestamp()


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while ranking a batch.

    Ranking makes no cycles; without the pause, the allocations of its arrays and result
    objects trigger collections that walk the whole heap (every indexed PostingDoc), a third
    of the cost of building the results.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _timestamp(value: datetime | None, missing: float) -> float:
    return missing if value is None else value.timestamp()


@dataclass(slots=True)
class _MaskCache:
    """Base masks of one ranking call, per (work modes, schedule), with their counts.

    ``after`` is the ``posted_after`` bound of the call (a POSIX timestamp, -inf for none).
    """

    after: float = -math.inf
    table: dict[tuple[frozenset[str], str], tuple[BoolArray, int]] = field(default_factory=dict)
    # Per set of (kind, first essential need) in a block: the postings any of them could be
    # offered (None: the whole index, when too many for a narrow product), their vectors,
    # offer levels and pool records.
    columns: dict[
        frozenset[tuple[tuple[frozenset[str], str], str | None]],
        tuple[IntArray | None, FloatArray, npt.NDArray[np.uint8], F64Array],
    ] = field(default_factory=dict)
    # Where the blocks' dense products are written, one block after another (the pools
    # taken from a block hold copies of their scores).
    product: FloatArray = field(default_factory=lambda: np.empty(0, dtype=np.float32))


# A block's dense product skips the postings none of its seekers could be offered when at
# most a quarter of the index is left, or at most NARROW_SHARE of it in a block of at least
# NARROW_ROWS seekers (a product that large pays for copying the vectors it keeps; a single
# query's product only reads them). Measured with scripts/bench_match.py.
NARROW_SHARE = 0.9
NARROW_ROWS = 64
# A block ends where the seekers' kind or first essential need changes only once it holds
# this many (a product of fewer rows does little work for each vector it reads).
MIN_BLOCK = 32


# The batch path builds many matches: constructors that skip the frozen dataclasses'
# per-field object.__setattr__ (see positional_maker).
_new_match = positional_maker(Match)
_new_explanation = positional_maker(Explanation)


def _kind(seeker: SeekerDoc) -> tuple[frozenset[str], str]:
    """What a seeker's base mask depends on: accepted work modes and schedule."""
    return frozenset(seeker.work_modes), seeker.schedule


def _essentials(seeker: SeekerDoc) -> tuple[str, ...]:
    """A seeker's essential need codes, sorted."""
    return tuple(sorted({n.code for n in seeker.needs if n.essential}))


def top_indices(scores: FloatArray, take: int) -> IntArray:
    """Indices of the ``take`` largest finite scores, unordered (fewer if fewer are finite).

    A threshold estimated on a strided sample keeps the selection to one pass over the
    array plus a partition of the few survivors, instead of a partition of all of it.
    """
    n = scores.shape[0]
    if take >= n:
        out: IntArray = np.flatnonzero(np.isfinite(scores))
        return out
    step = max(1, n // 4096)
    if step > 1:
        sample = scores[::step]
        rank = min(sample.size - 1, int(take / step * 1.5) + 2)
        thr = float(np.partition(sample, sample.size - 1 - rank)[sample.size - 1 - rank])
        if math.isfinite(thr):
            cand = np.flatnonzero(scores >= thr)
            if cand.size >= take:
                part = np.argpartition(-scores[cand], take - 1)[:take]
                out = cand[part]
                return out
    finite = np.flatnonzero(np.isfinite(scores))
    if finite.size <= take:
        return finite
    out = finite[np.argpartition(-scores[finite], take - 1)[:take]]
    return out


def stored_or_encoded(
    stored: Sequence[tuple[str, npt.NDArray[np.float32] | None]],
    texts: Sequence[str],
    encode: Callable[[Sequence[str]], FloatArray],
    dim: int,
) -> FloatArray:
    """(n, dim) unit rows: each stored (id, vector) as given (normalised), the rest encoded."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    missing = [i for i, (_, vec) in enumerate(stored) if vec is None]
    given = [i for i, (_, vec) in enumerate(stored) if vec is not None]
    if given:
        vecs = [np.asarray(stored[i][1], dtype=np.float32).ravel() for i in given]
        for i, vec in zip(given, vecs, strict=True):
            if vec.shape[0] != dim:
                raise MatcherError(
                    f"{stored[i][0]} has an embedding of width {vec.shape[0]}, the index has {dim}"
                )
        rows = np.stack(vecs)
        norms = np.sqrt(np.einsum("ij,ij->i", rows, rows))[:, None]
        out[given] = np.where(norms > 0, rows / np.where(norms > 0, norms, 1), rows)
    if missing:
        out[missing] = encode([texts[i] for i in missing])
    return out


def gather_rows(
    matrix: sp.csr_matrix, rows: IntArray
) -> tuple[IntArray, npt.NDArray[np.int32], npt.NDArray[Any]]:
    """(position in ``rows``, column, value) of every stored entry of the given CSR rows."""
    start = matrix.indptr[rows].astype(np.int64)
    lengths = matrix.indptr[rows + 1] - start
    total = int(lengths.sum())
    owner = np.repeat(np.arange(rows.size), lengths)
    offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    at = offsets + np.repeat(start, lengths)
    return owner, matrix.indices[at], matrix.data[at]


def row_dot(matrix: sp.csr_matrix, rows: IntArray, vector: npt.NDArray[Any]) -> FloatArray:
    """Dot of each given CSR row with a dense vector, without building a sub-matrix."""
    owner, cols, vals = gather_rows(matrix, rows)
    out: FloatArray = np.bincount(owner, weights=vals * vector[cols], minlength=rows.size).astype(
        np.float32
    )
    return out


F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class _BlockQueries:
    """Per-seeker columns of one block (NaN / -1 where unknown or absent): shapes (b,) or (b, J).

    ``ess`` and ``needs`` hold offer-code ids per need position (-1 padding; a code no posting
    offers maps to the all-zero column of ``Ranker._offer_levels``).
    """

    lat: F64
    lon: F64
    limit: F64
    loc_limit: F64
    ess: IntArray
    needs: IntArray
    n_needs: F64
    wage: F64
    street: IntArray
    centre: IntArray
    sched: IntArray
    lang: IntArray
    dense_ok: BoolArray
    lex_ok: BoolArray


@dataclass(frozen=True, slots=True)
class _PairChannels:
    """Text channels of chosen pairs, each (T,): raw cosines, z-scores, dense share, relevance."""

    dense: FloatArray
    lexical: FloatArray
    zd: FloatArray
    zl: FloatArray
    share: FloatArray
    text: npt.NDArray[np.float64]


@dataclass(slots=True)
class _Query:
    """One seeker prepared for ranking."""

    seeker: SeekerDoc
    lang: int
    dense_ok: bool
    lex_ok: bool


class Ranker:
    """Postings for a seeker: hard constraints, then dense + lexical + side signals, explained.

    Candidate generation takes the ``candidates`` feasible postings closest in the dense
    space (all feasible ones in a corpus that small); only those are scored lexically and by
    the side signals, so a query never scans the whole sparse matrix.
    """

    def __init__(
        self,
        encoder: TextEncoder,
        weights: FusionWeights | None = None,
        candidates: int = 1000,
        block_size: int = 256,
        freshness_half_life_days: float = FRESHNESS_HALF_LIFE_DAYS,
        labels: Labels | None = None,
        lexical: CharTfidf | None = None,
    ) -> None:
        self.encoder = encoder
        self.weights = weights or FusionWeights()
        self.candidates = candidates
        self.block_size = block_size
        self.freshness_half_life_days = freshness_half_life_days
        self.labels = labels
        self.lexical = lexical
        self._fitted = False

    # --- state ----------------------------------------------------------------------------

    def _reset(self, capacity: int, dim: int) -> None:
        cap = max(capacity, 16)
        self._n = 0  # high-water mark of used slots
        self._dim = dim
        self._emb = np.zeros((cap, dim), dtype=np.float32)
        self._alive = np.zeros(cap, dtype=bool)
        self._open = np.zeros(cap, dtype=bool)
        self._expires = np.full(cap, np.inf)
        self._posted = np.full(cap, np.nan)
        self._mode = np.zeros(cap, dtype=np.int8)
        self._sched = np.zeros(cap, dtype=np.int8)
        self._lang = np.zeros(cap, dtype=np.int8)
        self._lat = np.full(cap, np.nan)
        self._lon = np.full(cap, np.nan)
        self._wage = np.full(cap, np.nan)
        self._street: list[str | None] = [None] * cap
        self._centre: list[str | None] = [None] * cap
        self._offer_any: dict[str, BoolArray] = {}
        self._offer_now: dict[str, BoolArray] = {}
        self._postings: list[PostingDoc | None] = [None] * cap
        # Skills as a vocabulary of names and, per slot, the column ids of required/optional
        # skills; the slot x skill matrices are rebuilt lazily after a change.
        self._skill_vocab: dict[str, int] = {}
        self._skill_ids: list[tuple[list[int], list[int]] | None] = [None] * cap
        self._skill_csr: tuple[sp.csr_matrix, sp.csr_matrix] | None = None
        self._slot: dict[str, int] = {}
        self._free: list[int] = []
        self._lex_delta: dict[int, sp.csr_matrix] = {}
        self._lex_stale = np.zeros(cap, dtype=bool)
        # For the batch path: place codes as ids, skill keys, accommodation levels, and the sum
        # and Gram matrix of the vectors (exact mean and spread of dense scores per query).
        self._place_ids: dict[str, int] = {}
        self._street_id = np.full(cap, -1, dtype=np.int32)
        self._centre_id = np.full(cap, -1, dtype=np.int32)
        self._skill_keys: list[str] = []
        self._have_cache: dict[str, tuple[int, IntArray]] = {}
        self._offer_codes: dict[str, int] = {}
        self._offer_level: npt.NDArray[np.uint8] | None = None
        self._slot_pack: tuple[F64Array, F64Array, IntArray] | None = None
        self._emb_sum = np.zeros(dim, dtype=np.float64)
        self._gram = np.zeros((dim, dim), dtype=np.float64)

    def _grow(self, need: int) -> None:
        cap = self._alive.shape[0]
        if need <= cap:
            return
        new = max(need, 2 * cap)

        def widen(a: npt.NDArray[Any], fill: Any) -> npt.NDArray[Any]:
            out = np.full((new, *a.shape[1:]), fill, dtype=a.dtype)
            out[: a.shape[0]] = a
            return out

        self._emb = widen(self._emb, 0.0)
        self._alive = widen(self._alive, False)
        self._open = widen(self._open, False)
        self._expires = widen(self._expires, np.inf)
        self._posted = widen(self._posted, np.nan)
        self._mode = widen(self._mode, 0)
        self._sched = widen(self._sched, 0)
        self._lang = widen(self._lang, 0)
        self._lat = widen(self._lat, np.nan)
        self._lon = widen(self._lon, np.nan)
        self._wage = widen(self._wage, np.nan)
        self._lex_stale = widen(self._lex_stale, True)
        self._street_id = widen(self._street_id, -1)
        self._centre_id = widen(self._centre_id, -1)
        for table in (self._offer_any, self._offer_now):
            for code in table:
                table[code] = widen(table[code], False)
        extra = new - cap
        self._street += [None] * extra
        self._centre += [None] * extra
        self._postings += [None] * extra
        self._skill_ids += [None] * extra

    def _check(self) -> None:
        if not self._fitted:
            raise NotFittedError("Ranker.fit must be called before ranking")

    @property
    def postings_(self) -> list[PostingDoc]:
        """The indexed postings, in slot order."""
        self._check()
        return [p for p in self._postings[: self._n] if p is not None]

    @property
    def embeddings_(self) -> FloatArray:
        """(n, dim) float32 unit rows of the indexed postings, same order as ``postings_``."""
        self._check()
        out: FloatArray = self._emb[: self._n][self._alive[: self._n]]
        return out

    def __len__(self) -> int:
        """Number of indexed postings."""
        return len(self._slot) if self._fitted else 0

    def memory_bytes(self) -> int:
        """Bytes held by the index arrays (vectors, lexical matrix, constraint columns)."""
        self._check()
        arrays: list[Any] = [
            self._emb,
            self._alive,
            self._open,
            self._expires,
            self._posted,
            self._mode,
            self._sched,
            self._lang,
            self._lat,
            self._lon,
            self._wage,
            self._lex_stale,
            *self._offer_any.values(),
            *self._offer_now.values(),
        ]
        total = sum(int(a.nbytes) for a in arrays)
        for matrix in (self._lex_main, self._lex_sample, *self._lex_delta.values()):
            total += int(matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes)
        total += self._lex_sample_index.nbytes()
        return total

    # --- fitting and updates --------------------------------------------------------------

    def _embed(self, postings: Sequence[PostingDoc]) -> FloatArray:
        return stored_or_encoded(
            [(p.id, p.embedding) for p in postings],
            [posting_text(p) for p in postings],
            self.encoder.encode_passages,
            self._dim,
        )

    def fit(self, postings: Iterable[PostingDoc]) -> Self:
        """Index postings (encoding only those without a precomputed embedding)."""
        docs = list(postings)
        ids = [p.id for p in docs]
        if len(set(ids)) != len(ids):
            raise MatcherError("posting ids must be unique")
        # Only ask the encoder (and so load its model) when something must be encoded.
        given = next((p.embedding for p in docs if p.embedding is not None), None)
        all_given = given is not None and all(p.embedding is not None for p in docs)
        dim = int(np.asarray(given).size) if all_given else self.encoder.dim
        self._reset(len(docs), dim)
        self.lexical_ = CharTfidf() if self.lexical is None else self.lexical
        texts = [posting_text(p) for p in docs]
        self.lexical_.fit(texts)
        self._lex_main = self.lexical_.transform(texts)
        emb = self._embed(docs)
        for i, p in enumerate(docs):
            self._write(i, p, emb[i])
        self._n = len(docs)
        self._lex_stale[: self._n] = False
        for start in range(0, self._n, 8192):
            chunk = self._emb[start : min(self._n, start + 8192)].astype(np.float64)
            self._emb_sum += chunk.sum(axis=0)
            self._gram += chunk.T @ chunk
        self._refresh_sample()
        self._fitted = True
        return self

    def _write(self, slot: int, p: PostingDoc, vec: FloatArray) -> None:
        self._emb[slot] = vec
        self._alive[slot] = True
        self._open[slot] = p.status == "open"
        self._expires[slot] = _timestamp(p.expires_at, np.inf)
        self._posted[slot] = _timestamp(p.posted_at, np.nan)
        self._mode[slot] = MODES.index(p.work_mode) if p.work_mode in MODES else 0
        self._sched[slot] = SCHEDULES.index(p.schedule) if p.schedule in SCHEDULES else 3
        self._lang[slot] = LANGS.index(detect_language(posting_text(p)))
        self._lat[slot] = np.nan if p.lat is None else p.lat
        self._lon[slot] = np.nan if p.lon is None else p.lon
        top = p.wage_max if p.wage_max is not None else p.wage_min
        self._wage[slot] = np.nan if top is None else top
        self._street[slot] = p.street_code
        self._street_id[slot] = self._place_id(p.street_code)
        self._centre_id[slot] = self._place_id(p.centre_code)
        self._offer_level = None
        self._slot_pack = None
        self._centre[slot] = p.centre_code
        for table in (self._offer_any, self._offer_now):
            for mask in table.values():
                mask[slot] = False
        cap = self._alive.shape[0]
        for offer in p.offers:
            for table, on in (
                (self._offer_any, True),
                (self._offer_now, offer.availability == "available"),
            ):
                if offer.code not in table:
                    table[offer.code] = np.zeros(cap, dtype=bool)
                table[offer.code][slot] = table[offer.code][slot] or on
        self._postings[slot] = p
        has_skills = p.required_skills or p.optional_skills
        self._skill_ids[slot] = (
            (
                [self._skill_id(x) for x in p.required_skills],
                [self._skill_id(x) for x in p.optional_skills],
            )
            if has_skills
            else None
        )
        self._skill_csr = None
        self._slot[p.id] = slot

    def add_or_update(self, posting: PostingDoc) -> None:
        """Insert or replace one posting without a full refit (lexical vocabulary stays)."""
        self._check()
        vec = self._embed([posting])[0]
        slot = self._slot.get(posting.id)
        if slot is not None:
            self._add_stats(self._emb[slot], -1.0)
        if slot is None:
            if self._free:
                slot = self._free.pop()
            else:
                slot = self._n
                self._grow(slot + 1)
                self._n += 1
        self._write(slot, posting, vec)
        self._add_stats(self._emb[slot], 1.0)
        self._lex_stale[slot] = True
        self._lex_delta[slot] = self.lexical_.transform([posting_text(posting)])
        self._maybe_compact()

    def remove(self, posting_id: str) -> bool:
        """Drop a posting from the index; False when it was not there."""
        self._check()
        slot = self._slot.pop(posting_id, None)
        if slot is None:
            return False
        self._alive[slot] = False
        self._postings[slot] = None
        self._skill_ids[slot] = None
        self._skill_csr = None
        self._offer_level = None
        self._slot_pack = None
        self._add_stats(self._emb[slot], -1.0)
        self._emb[slot] = 0.0
        self._lex_stale[slot] = True
        self._lex_delta.pop(slot, None)
        self._free.append(slot)
        self._maybe_compact()
        return True

    def _maybe_compact(self) -> None:
        if len(self._lex_delta) > max(256, self._n // 8):
            rows = [self._lex_row(s) for s in range(self._n)]
            self._lex_main = sp.csr_matrix(sp.vstack(rows), dtype=np.float32)
            self._lex_delta.clear()
            self._lex_stale[: self._n] = ~self._alive[: self._n]
        if len(self._slot) and (
            self._sample_dirty > max(64, len(self._sample_slots) // 4)
            or not self._alive[self._sample_slots].all()
        ):
            self._refresh_sample()
        else:
            self._sample_dirty += 1

    def _lex_row(self, slot: int) -> sp.csr_matrix:
        if slot in self._lex_delta:
            return self._lex_delta[slot]
        if self._lex_stale[slot] or slot >= self._lex_main.shape[0]:
            return sp.csr_matrix((1, self._lex_main.shape[1]), dtype=np.float32)
        row: sp.csr_matrix = self._lex_main[slot]
        return row

    def _refresh_sample(self) -> None:
        alive = np.flatnonzero(self._alive[: self._n])
        if alive.size > LEXICAL_SAMPLE:
            rng = np.random.default_rng(0)
            alive = np.sort(rng.choice(alive, LEXICAL_SAMPLE, replace=False))
        self._sample_slots = alive
        self._lex_sample = self._lex_rows(alive)
        # The batch path's statistics read the sample through its inverted matrix.
        self._lex_sample_index = SampleIndex.of(inverted(self._lex_sample))
        self._sample_dirty = 0

    def _lex_rows(self, slots: IntArray) -> sp.csr_matrix:
        """Lexical rows of ``slots`` (stale main rows replaced by their updates)."""
        if not self._lex_delta and not self._lex_stale[slots].any():
            out: sp.csr_matrix = self._lex_main[slots]
            return out
        return sp.csr_matrix(sp.vstack([self._lex_row(int(s)) for s in slots]), dtype=np.float32)

    def _lex_scores(self, slots: IntArray, query: sp.csr_matrix) -> FloatArray:
        """Lexical cosine of one query row with the postings in ``slots``: shape (len(slots),)."""
        dense_q = np.zeros(self._lex_main.shape[1], dtype=np.float32)
        dense_q[query.indices] = query.data
        main = slots < self._lex_main.shape[0]
        out = np.zeros(slots.size, dtype=np.float32)
        out[main] = row_dot(self._lex_main, slots[main], dense_q)
        stale = ~main | self._lex_stale[slots]
        for j in np.flatnonzero(stale):
            row = self._lex_delta.get(int(slots[j]))
            out[j] = 0.0 if row is None else float(row.data @ dense_q[row.indices])
        return out

    # --- constraints, vectorised ---------------------------------------------------------

    def _base_mask(self, seeker: SeekerDoc, now_ts: float, cache: _MaskCache) -> BoolArray:
        """Open, unexpired postings of an accepted work mode and schedule (cached per kind),
        posted after ``cache.after`` when that is set (an unknown posting date is not after)."""
        key = (frozenset(seeker.work_modes), seeker.schedule)
        if key not in cache.table:
            n = self._n
            mask = self._alive[:n] & self._open[:n] & (self._expires[:n] > now_ts)
            modes = [MODES.index(m) for m in seeker.work_modes if m in MODES]
            mask &= np.isin(self._mode[:n], modes)
            if seeker.schedule not in ("any", "flexible"):
                s = self._sched[:n]
                wanted = SCHEDULES.index(seeker.schedule)
                mask &= (s == wanted) | (s >= 2)  # flexible or any on the posting side
            if cache.after > -math.inf:
                with np.errstate(invalid="ignore"):
                    mask &= self._posted[:n] > cache.after
            cache.table[key] = (mask, int(mask.sum()))
        return cache.table[key][0]

    def _strict_ok(self, seeker: SeekerDoc, slots: IntArray) -> BoolArray:
        """Essential needs offered and within the commute limit, for the given slots."""
        ok = np.ones(slots.size, dtype=bool)
        for need in seeker.needs:
            if need.essential:
                offered = self._offer_any.get(need.code)
                if offered is None:
                    return np.zeros(slots.size, dtype=bool)
                ok &= offered[slots]
        if (
            seeker.commute_limit_km is not None
            and seeker.lat is not None
            and seeker.lon is not None
        ):
            dist = self._distances(seeker, slots)
            remote = self._mode[slots] == MODES.index("remote")
            ok &= ~((dist > seeker.commute_limit_km) & ~remote)  # unknown place (NaN) is kept
        return ok

    def _distances(self, seeker: SeekerDoc, slots: IntArray) -> npt.NDArray[np.float64]:
        if seeker.lat is None or seeker.lon is None:
            return np.full(slots.shape[0], np.nan)
        lat1, lon1 = math.radians(seeker.lat), math.radians(seeker.lon)
        lat2, lon2 = np.radians(self._lat[slots]), np.radians(self._lon[slots])
        a = (
            np.sin((lat2 - lat1) / 2) ** 2
            + math.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        )
        out: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
        return out

    # --- side signals on a candidate pool (NaN = unknown) --------------------------------

    def _side(self, q: _Query, pool: IntArray, now_ts: float) -> dict[str, npt.NDArray[np.float64]]:
        s = q.seeker
        m = pool.shape[0]
        nan = np.full(m, np.nan)
        out: dict[str, npt.NDArray[np.float64]] = {}
        if s.needs:
            got = np.zeros(m)
            for need in s.needs:
                now_mask = self._offer_now.get(need.code)
                any_mask = self._offer_any.get(need.code)
                if any_mask is None or now_mask is None:
                    continue
                avail = now_mask[pool]
                got += np.where(avail, 1.0, np.where(any_mask[pool], ARRANGEABLE_CREDIT, 0.0))
            out["needs"] = got / len(s.needs)
        else:
            out["needs"] = nan
        dist = self._distances(s, pool)
        limit = s.commute_limit_km or DEFAULT_COMMUTE_KM
        loc = np.where(np.isnan(dist), np.nan, np.clip(1.0 - dist / max(limit, 1e-9), 0.0, 1.0))
        if np.isnan(loc).any() and (s.street_code or s.centre_code):
            for j, slot in enumerate(pool):
                if np.isnan(loc[j]):
                    if s.street_code and s.street_code == self._street[slot]:
                        loc[j] = SAME_STREET_SCORE
                    elif s.centre_code and s.centre_code == self._centre[slot]:
                        loc[j] = SAME_CENTRE_SCORE
        loc[self._mode[pool] == MODES.index("remote")] = 1.0
        out["location"] = loc
        if s.expected_wage and s.expected_wage > 0:
            top = self._wage[pool]
            ratio = np.clip(top / s.expected_wage, 0.0, None)
            out["wage"] = np.where(top >= s.expected_wage, 1.0, ratio**2)
        else:
            out["wage"] = nan
        age_days = np.maximum(0.0, (now_ts - self._posted[pool]) / 86400.0)
        out["freshness"] = 0.5 ** (age_days / self.freshness_half_life_days)
        sched = self._sched[pool]
        exact = (s.schedule == "any") | (sched == SCHEDULES.index(s.schedule))
        out["fit"] = np.where(exact, 1.0, 0.75)
        out["skills"] = self._skills(q, pool)
        return out

    def _skill_id(self, name: str) -> int:
        if name not in self._skill_vocab:
            self._skill_vocab[name] = len(self._skill_vocab)
            self._skill_keys.append(_skill_key(name))
        return self._skill_vocab[name]

    def _place_id(self, code: str | None) -> int:
        if not code:
            return -1
        return self._place_ids.setdefault(code, len(self._place_ids))

    def _add_stats(self, vec: FloatArray, sign: float) -> None:
        v = vec.astype(np.float64)
        self._emb_sum += sign * v
        self._gram += sign * np.outer(v, v)

    def _skill_matrices(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        if self._skill_csr is None:
            shape = (self._n, max(1, len(self._skill_vocab)))
            mats = []
            for part in (0, 1):
                lists = [[] if ids is None else ids[part] for ids in self._skill_ids[: self._n]]
                indptr = np.zeros(self._n + 1, dtype=np.int64)
                np.cumsum([len(x) for x in lists], out=indptr[1:])
                cols = np.fromiter((c for x in lists for c in x), dtype=np.int64)
                data = np.ones(cols.size, dtype=np.float64)
                mats.append(sp.csr_matrix((data, cols, indptr), shape=shape))
            self._skill_csr = (mats[0], mats[1])
        return self._skill_csr

    def _skills(self, q: _Query, pool: IntArray) -> npt.NDArray[np.float64]:
        """Skill coverage of the pool's postings, NaN where a posting lists none."""
        if not self._skill_vocab:
            return np.full(pool.shape[0], np.nan)
        req, opt = self._skill_matrices()
        names = list(self._skill_vocab)
        have = [_skill_key(x) for x in q.seeker.skills]
        text_key = _skill_key(q.seeker.text[:MAX_TEXT_CHARS])
        hit = np.zeros(req.shape[1])
        counts = []
        for matrix in (req, opt):
            owner, cols, _ = gather_rows(matrix, pool)
            for col in np.unique(cols):
                hit[col] = skill_matches(names[col], have, text_key)
            counts.append(
                (
                    np.bincount(owner, weights=hit[cols], minlength=pool.size),
                    np.bincount(owner, minlength=pool.size).astype(np.float64),
                )
            )
        (r_hit, r_n), (o_hit, o_n) = counts
        with np.errstate(invalid="ignore", divide="ignore"):
            r = r_hit / r_n
            o = o_hit / o_n
        both = REQUIRED_SHARE * r + (1 - REQUIRED_SHARE) * o
        out: npt.NDArray[np.float64] = np.where(
            r_n > 0, np.where(o_n > 0, both, r), np.where(o_n > 0, o, np.nan)
        )
        return out

    # --- ranking --------------------------------------------------------------------------

    def _encode_seekers(self, seekers: Sequence[SeekerDoc], texts: list[str]) -> FloatArray:
        """Query vectors: the stored ones where given, the encoder for the rest."""
        return stored_or_encoded(
            [(s.id, s.embedding) for s in seekers], texts, self.encoder.encode_queries, self._dim
        )

    def _prepare(self, seekers: Sequence[SeekerDoc]) -> tuple[list[_Query], FloatArray, Any]:
        texts = [seeker_text(s) for s in seekers]
        dense = self._encode_seekers(seekers, texts)
        if dense.shape[1] != self._dim:
            raise MatcherError(
                f"encoder {self.encoder.name} gives width {dense.shape[1]}, index has {self._dim}"
            )
        lex = self.lexical_.transform(texts)
        lex_ok: list[bool] = (np.diff(lex.indptr) > 0).tolist()
        dense_ok: list[bool] = np.any(dense != 0, axis=1).tolist()
        queries = []
        for i, s in enumerate(seekers):
            lang = detect_language(texts[i])
            queries.append(
                _Query(
                    seeker=s,
                    lang=LANGS.index(lang),
                    dense_ok=dense_ok[i],
                    lex_ok=lex_ok[i],
                )
            )
        return queries, dense, lex

    def rank(
        self,
        seeker: SeekerDoc,
        k: int = 20,
        now: datetime | None = None,
        posted_after: datetime | None = None,
    ) -> list[Match]:
        """Top ``k`` feasible postings for one seeker, best first; scores in [0, 1].

        With ``posted_after`` only postings posted after that moment are ranked (a posting
        without a posting date is left out); scores stay normalised against every indexed
        posting, so a posting scores the same as in an unrestricted ranking.
        """
        return self.rank_many([seeker], k, now, posted_after)[0]

    def rank_many(
        self,
        seekers: Sequence[SeekerDoc],
        k: int = 20,
        now: datetime | None = None,
        posted_after: datetime | None = None,
        min_scores: Sequence[float] | None = None,
    ) -> list[list[Match]]:
        """``rank`` for many seekers at once: top ``k`` explained matches each, scores in [0, 1].

        With ``min_scores`` (one per seeker) the matches of a seeker's top ``k`` scoring below
        its minimum are left out before they are explained: the result is each full list
        filtered by ``match.score >= min_score`` (a digest's threshold), built for less.

        Seekers are ranked in blocks of ``block_size``: one (block, n) dense product, candidate
        pools chosen for the whole block, and constraints, lexical scores and side signals
        computed as arrays over the block's (seeker, posting) pairs; explanations are built
        only for the returned matches. Results equal ``rank_reference`` (up to float ties).
        """
        if min_scores is not None and len(min_scores) != len(seekers):
            raise ValueError("min_scores needs one minimum per seeker")
        order = self.block_order(seekers)
        floors = None if min_scores is None else [min_scores[i] for i in order]
        ranked = self.rank_blocks([seekers[i] for i in order], k, now, posted_after, floors)
        out: list[list[Match]] = [[] for _ in seekers]
        for i, matches in zip(order, (m for block in ranked for m in block), strict=True):
            out[i] = matches
        return out

    @staticmethod
    def block_order(seekers: Sequence[SeekerDoc]) -> list[int]:
        """Positions of ``seekers`` in the order ``rank_blocks`` ranks fastest: those who can
        be offered the same postings together (same accepted work modes and schedule, then
        the same essential needs, those sharing their first need side by side), so a block's
        dense product can skip the postings none of its seekers could get. Stable: the given
        order within each group."""
        kinds: dict[tuple[frozenset[str], str], int] = {}
        keys = [(kinds.setdefault(_kind(s), len(kinds)), _essentials(s)) for s in seekers]
        return sorted(range(len(seekers)), key=keys.__getitem__)

    @staticmethod
    def _block_starts(seekers: Sequence[SeekerDoc], rows: int) -> list[int]:
        """Where the blocks of ``seekers`` start: every ``rows`` seekers, and also where a run
        of ``MIN_BLOCK`` or more seekers of one kind and first essential need begins, once
        the block holds ``MIN_BLOCK`` (a block of one group can take its product against
        fewer postings). Seekers not in ``block_order`` make short runs and plain blocks."""
        keys = []
        for seeker in seekers:
            essentials = _essentials(seeker)
            keys.append((_kind(seeker), essentials[0] if essentials else None))
        run_end = [0] * len(keys)  # where the run of equal keys holding each seeker ends
        end = len(keys)
        for i in range(len(keys) - 1, -1, -1):
            if i + 1 < len(keys) and keys[i + 1] != keys[i]:
                end = i + 1
            run_end[i] = end
        starts = [0]
        for i in range(1, len(keys)):
            size = i - starts[-1]
            new_run = keys[i] != keys[i - 1] and run_end[i] - i >= MIN_BLOCK
            if size >= rows or (new_run and size >= MIN_BLOCK):
                starts.append(i)
        return starts

    def rank_blocks(
        self,
        seekers: Sequence[SeekerDoc],
        k: int = 20,
        now: datetime | None = None,
        posted_after: datetime | None = None,
        min_scores: Sequence[float] | None = None,
    ) -> Iterator[list[list[Match]]]:
        """``rank_many``'s result in consecutive blocks of seekers, each yielded as soon as it
        is built: the next block is prepared and scored (compiled kernels and BLAS, which
        release the GIL) in a worker thread while the caller works on the one it was given.
        Seekers in ``block_order`` rank faster than in any other order.
        """
        self._check()
        moment = _aware(now)
        floors = None if min_scores is None else np.asarray(min_scores, dtype=np.float64)
        if floors is not None and floors.shape != (len(seekers),):
            raise ValueError("min_scores needs one minimum per seeker")
        if not seekers:
            return
        if k <= 0 or not self._slot:
            yield [[] for _ in seekers]
            return
        with _cyclic_gc_paused():
            masks = _MaskCache(_after(posted_after))
            weights = self.weights.signal_weights()
            rows = self._block_rows(seekers, moment.timestamp(), masks)

            starts = self._block_starts(seekers, rows)
            ends = dict(zip(starts, [*starts[1:], len(seekers)], strict=True))

            def score(start: int) -> Callable[[], list[list[Match]]]:
                stop = ends[start]
                queries, dense_q, lex_q = self._prepare(seekers[start:stop])
                return self._rank_block(
                    queries,
                    dense_q,
                    lex_q,
                    k,
                    moment,
                    masks,
                    weights,
                    None if floors is None else floors[start:stop],
                )

            if len(starts) == 1:
                yield score(0)()
                return
            with ThreadPoolExecutor(max_workers=1) as worker:
                pending = worker.submit(score, starts[0])
                for nxt in [*starts[1:], None]:
                    build = pending.result()
                    if nxt is not None:
                        pending = worker.submit(score, nxt)
                    yield build()

    def _block_rows(self, seekers: Sequence[SeekerDoc], now_ts: float, masks: _MaskCache) -> int:
        """Seekers per block: ``block_size``, or more when they can only be offered a few
        postings (a digest's new ones), keeping the block's product no larger than a full
        one of ``block_size`` rows and leaving four blocks or more to overlap in two stages.
        """
        if len(seekers) <= self.block_size:
            return self.block_size
        union = np.zeros(self._n, dtype=bool)
        seen: set[tuple[frozenset[str], str]] = set()
        for seeker in seekers:
            key = (frozenset(seeker.work_modes), seeker.schedule)
            if key not in seen:
                seen.add(key)
                union |= self._base_mask(seeker, now_ts, masks)
        cols = max(1, int(union.sum()))
        if cols * 4 > self._n:
            return self.block_size
        by_size = self.block_size * self._n // cols
        return max(self.block_size, min(by_size, -(-len(seekers) // 4)))

    def rank_reference(
        self,
        seekers: Sequence[SeekerDoc],
        k: int = 20,
        now: datetime | None = None,
        posted_after: datetime | None = None,
    ) -> list[list[Match]]:
        """``rank_many`` the slow way, one seeker and one scalar ``score_pair`` at a time.

        The specification the batch path is tested against; not for production use.
        """
        self._check()
        moment = _aware(now)
        if not seekers:
            return []
        if k <= 0 or not self._slot:
            return [[] for _ in seekers]
        queries, dense_q, lex_q = self._prepare(seekers)
        n = self._n
        alive = self._alive[:n].astype(np.float32)
        n_alive = float(alive.sum())
        emb = self._emb[:n]
        masks = _MaskCache(_after(posted_after))
        weights = self.weights.signal_weights()
        results: list[list[Match]] = []
        for start in range(0, len(queries), self.block_size):
            stop = min(start + self.block_size, len(queries))
            block = dense_q[start:stop] @ emb.T  # (b, n)
            sample_scores = np.asarray(
                (self._lex_sample @ lex_q[start:stop].T).toarray(), dtype=np.float32
            )
            sums = block @ alive
            mean = sums / n_alive
            var = np.maximum((block * block) @ alive / n_alive - mean * mean, 0.0)
            for i in range(stop - start):
                j = start + i
                results.append(
                    self._rank_one(
                        queries[j],
                        block[i],
                        float(mean[i]),
                        float(math.sqrt(var[i])),
                        lex_q[j],
                        sample_scores[:, i],
                        k,
                        moment,
                        masks,
                        weights,
                    )
                )
        return results

    def pair_signals(
        self, seeker: SeekerDoc, postings: Sequence[PostingDoc], now: datetime | None = None
    ) -> list[dict[str, float | None]]:
        """The signals of one seeker against given postings, as ranking computes them.

        Each dict holds ``dense``, ``lexical`` and ``text`` (text relevance, z-scored against
        the indexed corpus) in [0, 1] and every side signal in [0, 1] or None when unknown;
        one per posting, in order. Postings need not be indexed nor feasible (a closed posting
        or an unmet essential need still gets its signals), so labelled pairs can be scored.
        """
        self._check()
        moment = _aware(now)
        if not postings:
            return []
        queries, dense_q, lex_q = self._prepare([seeker])
        q = queries[0]
        texts = [posting_text(p) for p in postings]
        vecs = stored_or_encoded(
            [(p.id, p.embedding) for p in postings], texts, self.encoder.encode_passages, self._dim
        )
        if self._slot:
            # Over the slot array and then the live slots: no copy of the index's vectors.
            scores = (self._emb[: self._n] @ dense_q[0])[self._alive[: self._n]]
            d_mean = float(scores.mean(dtype=np.float64))
            d_var = float((scores.astype(np.float64) ** 2).mean()) - d_mean**2
            d_std = math.sqrt(max(d_var, 0.0))
            sample = np.asarray((self._lex_sample @ lex_q[0].T).toarray(), dtype=np.float32).ravel()
            # An empty sample (an index grown from nothing) gives no lexical evidence, as in rank.
            l_mean, l_std = (float(sample.mean()), float(sample.std())) if sample.size else (0, 0)
        else:
            d_mean = d_std = l_mean = l_std = 0.0
        dense = (vecs @ dense_q[0]).astype(np.float32)  # raw cosines: z-scored as in rank
        lex = np.asarray((self.lexical_.transform(texts) @ lex_q[0].T).toarray(), np.float32)
        zd = zscore(dense, d_mean, d_std) if q.dense_ok else np.zeros_like(dense)
        zl = zscore(lex.ravel(), l_mean, l_std) if q.lex_ok else np.zeros_like(dense)
        out: list[dict[str, float | None]] = []
        for j, posting in enumerate(postings):
            if not q.dense_ok:
                share = 0.0
            elif not q.lex_ok:
                share = 1.0
            else:
                plang = detect_language(texts[j])
                share = self.weights.dense_share(language_pair(LANGS[q.lang], plang))  # type: ignore[arg-type]
            fused = share * zd[j] + (1 - share) * zl[j]
            text = float(self.weights.text_relevance(np.array([fused], np.float32))[0])
            out.append(
                {
                    "dense": min(1.0, max(0.0, float(dense[j]))),
                    "lexical": min(1.0, max(0.0, float(lex.ravel()[j]))),
                    "text": text,
                    **side_signals(seeker, posting, moment, self.freshness_half_life_days),
                }
            )
        return out

    # --- batch path: a block of seekers at once ------------------------------------------

    def _offered(self, code: str) -> BoolArray:
        """(n,): the postings offering ``code``, available or arrangeable."""
        column = self._offer_any.get(code)
        return np.zeros(self._n, dtype=bool) if column is None else column[: self._n]

    def _offer_levels(self) -> npt.NDArray[np.uint8]:
        """(n, codes + 1): 0 not offered, 1 arrangeable only, 2 available; last column all 0."""
        if self._offer_level is None or self._offer_level.shape[0] != self._n:
            n = self._n
            self._offer_codes = {code: i for i, code in enumerate(self._offer_any)}
            level = np.zeros((n, len(self._offer_codes) + 1), dtype=np.uint8)
            for code, i in self._offer_codes.items():
                level[:, i] = self._offer_any[code][:n].astype(np.uint8) + self._offer_now[code][:n]
            self._offer_level = level
        return self._offer_level

    def _slot_columns(self) -> tuple[F64Array, F64Array, IntArray]:
        """The per-posting columns the compiled loops read, packed one row per slot and kept
        until a posting changes (as the offer levels): the ``pool_record`` for pool
        selection; latitude, longitude, wage, posting time; language, street id, centre id,
        schedule, work mode."""
        if self._slot_pack is None or self._slot_pack[0].shape[0] != self._n:
            n = self._n
            lat, lon = np.radians(self._lat[:n]), np.radians(self._lon[:n])
            geo = pool_record(
                np.column_stack([lat, lon, np.cos(lat)]),
                self._offer_levels(),
                self._mode[:n] == MODES.index("remote"),
            )
            p = np.column_stack([self._lat[:n], self._lon[:n], self._wage[:n], self._posted[:n]])
            ip = np.column_stack(
                [
                    self._lang[:n],
                    self._street_id[:n],
                    self._centre_id[:n],
                    self._sched[:n],
                    self._mode[:n],
                ]
            ).astype(np.int64)
            self._slot_pack = (geo, np.ascontiguousarray(p), np.ascontiguousarray(ip))
        return self._slot_pack

    def _have_cols(self, have: str) -> IntArray:
        """Skill-vocabulary columns a held skill key matches (cached; extended as it grows)."""
        covered, cols = self._have_cache.get(have, (0, np.zeros(0, dtype=np.int64)))
        if covered < len(self._skill_keys):
            extra = [
                covered + i
                for i, key in enumerate(self._skill_keys[covered:])
                if key and key_matches(key, have)
            ]
            cols = np.concatenate([cols, np.asarray(extra, dtype=np.int64)])
            self._have_cache[have] = (len(self._skill_keys), cols)
        return cols

    def _block_queries(self, queries: Sequence[_Query]) -> _BlockQueries:
        self._offer_levels()  # brings the offer-code ids up to date
        codes = self._offer_codes
        unknown = len(codes)
        width = max(1, max(len(q.seeker.needs) for q in queries))
        ess = np.full((len(queries), width), -1, dtype=np.int64)
        needs = np.full((len(queries), width), -1, dtype=np.int64)
        nan = np.full(len(queries), np.nan)
        lat, lon, limit, loc_limit, wage = (nan.copy() for _ in range(5))
        street = np.full(len(queries), -2, dtype=np.int64)
        centre = np.full(len(queries), -2, dtype=np.int64)
        sched = np.zeros(len(queries), dtype=np.int64)
        for i, q in enumerate(queries):
            s = q.seeker
            e = 0
            for j, need in enumerate(s.needs):
                code = codes.get(need.code, unknown)
                needs[i, j] = code
                if need.essential:
                    ess[i, e] = code
                    e += 1
            if s.lat is not None and s.lon is not None:
                lat[i], lon[i] = s.lat, s.lon
                if s.commute_limit_km is not None:
                    limit[i] = s.commute_limit_km
            loc_limit[i] = max(s.commute_limit_km or DEFAULT_COMMUTE_KM, 1e-9)
            if s.expected_wage and s.expected_wage > 0:
                wage[i] = s.expected_wage
            if s.street_code:
                street[i] = self._place_ids.get(s.street_code, -3)
            if s.centre_code:
                centre[i] = self._place_ids.get(s.centre_code, -3)
            sched[i] = -1 if s.schedule == "any" else SCHEDULES.index(s.schedule)
        return _BlockQueries(
            lat=lat,
            lon=lon,
            limit=limit,
            loc_limit=loc_limit,
            ess=ess,
            needs=needs,
            n_needs=np.array([len(q.seeker.needs) for q in queries], dtype=np.float64),
            wage=wage,
            street=street,
            centre=centre,
            sched=sched,
            lang=np.array([q.lang for q in queries], dtype=np.int64),
            dense_ok=np.array([q.dense_ok for q in queries], dtype=bool),
            lex_ok=np.array([q.lex_ok for q in queries], dtype=bool),
        )

    def _pools(
        self,
        queries: Sequence[_Query],
        dense_q: FloatArray,
        bq: _BlockQueries,
        now_ts: float,
        masks: _MaskCache,
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """(rows, slots, dense scores) of every seeker's pool, grouped by row: the same sets
        as ``_pool``.

        The block's dense product is taken against every indexed posting, or only against
        the postings some seeker of the block could be offered (by kind and first essential
        need) when those are a quarter of the index or less (a digest's new postings), or
        ``NARROW_SHARE`` or less in a block of ``NARROW_ROWS`` seekers or more. Then one
        compiled pass per seeker over its row (``matcher.batch.pools``, seekers spread over
        the cores): a threshold on a sample of feasible postings so that about 1.5 x
        ``candidates`` feasible ones score above it, one scan keeping the feasible postings
        above it (all feasible ones when fewer than ``candidates`` are), their top
        ``candidates`` with their dense scores.
        """
        b = dense_q.shape[0]
        kinds: dict[tuple[frozenset[str], str], int] = {}
        kind = np.zeros(b, dtype=np.int64)
        n_base = np.zeros(b, dtype=np.int64)
        bases: list[BoolArray] = []
        needs: set[tuple[tuple[frozenset[str], str], str | None]] = set()
        for i, q in enumerate(queries):
            base = self._base_mask(q.seeker, now_ts, masks)
            key = _kind(q.seeker)
            n_base[i] = masks.table[key][1]
            if key not in kinds:
                kinds[key] = len(kinds)
                bases.append(base)
            kind[i] = kinds[key]
            essentials = _essentials(q.seeker)
            needs.add((key, essentials[0] if essentials else None))
        n = self._n
        base_mat = np.stack(bases)
        group = frozenset(needs)
        if group not in masks.columns:
            # The postings some seeker of the block could get: its kind's base mask, offering
            # the seeker's first essential need.
            reach = np.zeros(n, dtype=bool)
            for key, need in needs:
                base = base_mat[kinds[key]]
                reach |= base if need is None else base & self._offered(need)
            union = np.flatnonzero(reach)
            # Narrow: a product against only the postings some of these seekers could get,
            # when that skips enough of the index to pay for copying their vectors. Blocks
            # in ``block_order`` share their kinds, so one copy serves a run of blocks; only
            # the latest is kept.
            few = union.size * 4 <= n
            cols = union if few or (b >= NARROW_ROWS and union.size <= NARROW_SHARE * n) else None
            masks.columns.clear()
            level, rec = self._offer_levels(), self._slot_columns()[0]
            masks.columns[group] = (
                (None, self._emb[:n], level, rec)
                if cols is None
                else (cols, self._emb[cols], level[cols], rec[cols])
            )
        cols, emb, level, rec = masks.columns[group]
        # (b, n) or (b, len(cols)), written into the call's buffer: a fresh array this large
        # would be mapped and faulted in page by page for every block.
        size = b * emb.shape[0]
        if masks.product.size < size:
            masks.product = np.empty(size, dtype=np.float32)
        block = masks.product[:size].reshape(b, emb.shape[0])
        np.matmul(dense_q, emb.T, out=block)
        if cols is not None:
            base_mat = base_mat[:, cols]
        rows, local, dense = pools(
            block,
            base_mat,
            kind,
            n_base,
            bq.ess,
            level,
            bq.limit,
            bq.lat,
            bq.lon,
            rec,
            self.candidates,
        )
        slots: IntArray = local if cols is None else cols[local]
        return rows, slots, dense

    def _pair_lexical(self, rows: IntArray, slots: IntArray, lex_q: sp.csr_matrix) -> FloatArray:
        """Lexical cosine of each (row, slot) pair: (P,) in [0, 1]."""
        out = np.zeros(rows.size, dtype=np.float32)
        main = (slots < self._lex_main.shape[0]) & ~self._lex_stale[slots]
        idx = np.flatnonzero(main)
        out[idx] = pair_dots(self._lex_main, slots[idx], rows[idx], lex_q)
        side = [j for j in np.flatnonzero(~main).tolist() if int(slots[j]) in self._lex_delta]
        if side:
            # Updated rows through the same loop, so equal texts get bit-equal scores.
            delta = sp.csr_matrix(
                sp.vstack([self._lex_delta[int(slots[j])] for j in side]), dtype=np.float32
            )
            at = np.asarray(side, dtype=np.int64)
            out[at] = pair_dots(delta, np.arange(at.size, dtype=np.int64), rows[at], lex_q)
        return out

    def _skill_hits(self, queries: Sequence[_Query], rows: IntArray, slots: IntArray) -> BoolArray:
        """(b, skills): the skills each seeker has, as far as the given pairs ask about them.

        A held skill counts for every column it matches; a skill named in the seeker's text is
        checked only for (seeker, skill) pairs that the given pairs list and that are not
        matched already.
        """
        hits = np.zeros((len(queries), max(1, len(self._skill_keys))), dtype=bool)
        if not self._skill_vocab:
            return hits
        keyed: dict[str, IntArray] = {}  # held skill name -> the columns its key matches
        at_rows: list[int] = []
        at_cols: list[IntArray] = []
        for i, q in enumerate(queries):
            for name in q.seeker.skills:
                cols = keyed.get(name)
                if cols is None:
                    cols = keyed[name] = self._have_cols(_skill_key(name))
                if cols.size:
                    at_rows.extend([i] * cols.size)
                    at_cols.append(cols)
        if at_cols:
            hits[np.asarray(at_rows, dtype=np.int64), np.concatenate(at_cols)] = True
        texts: dict[int, str] = {}
        asked = unheld_listed(group_starts(rows, len(queries)), slots, self._skill_matrices(), hits)
        for i, col in zip(*(x.tolist() for x in np.nonzero(asked)), strict=True):
            if i not in texts:
                texts[i] = _skill_key(queries[i].seeker.text[:MAX_TEXT_CHARS])
            if in_text_key(self._skill_keys[col], texts[i]):
                hits[i, col] = True
        return hits

    def _pair_skills(
        self, rows: IntArray, slots: IntArray, hits: BoolArray
    ) -> npt.NDArray[np.float64]:
        """Skill coverage per pair (NaN where the posting lists none), given ``_skill_hits``."""
        if not self._skill_vocab:
            return np.full(rows.size, np.nan)
        counts = []
        for matrix in self._skill_matrices():
            owner, raw, _ = gather_rows(matrix, slots)
            got = hits[rows[owner], raw.astype(np.int64)].astype(np.float64)
            counts.append(
                (
                    np.bincount(owner, weights=got, minlength=rows.size),
                    np.bincount(owner, minlength=rows.size).astype(np.float64),
                )
            )
        (r_hit, r_n), (o_hit, o_n) = counts
        with np.errstate(invalid="ignore", divide="ignore"):
            r = r_hit / r_n
            o = o_hit / o_n
        both = REQUIRED_SHARE * r + (1 - REQUIRED_SHARE) * o
        out: npt.NDArray[np.float64] = np.where(
            r_n > 0, np.where(o_n > 0, both, r), np.where(o_n > 0, o, np.nan)
        )
        return out

    def _pair_side(
        self,
        bq: _BlockQueries,
        rows: IntArray,
        slots: IntArray,
        now_ts: float,
        hits: BoolArray,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Side signals (6, P) in SIDE_SIGNALS order (NaN unknown) and distances (P,)."""
        side = np.full((len(SIDE_SIGNALS), rows.size), np.nan)
        side[0] = self._pair_skills(rows, slots, hits)
        n_needs = bq.n_needs[rows]
        has_needs = n_needs > 0
        if has_needs.any():
            level = self._offer_levels()
            credit = np.array([0.0, ARRANGEABLE_CREDIT, 1.0])
            got = np.zeros(rows.size)
            for j in range(bq.needs.shape[1]):
                code = bq.needs[rows, j]
                got += np.where(code >= 0, credit[level[slots, np.maximum(code, 0)]], 0.0)
            side[1] = np.where(has_needs, got / np.maximum(n_needs, 1.0), np.nan)
        dist = haversine_pairs(bq.lat[rows], bq.lon[rows], self._lat[slots], self._lon[slots])
        loc = np.clip(1.0 - dist / bq.loc_limit[rows], 0.0, 1.0)
        unknown = np.isnan(dist)
        street = bq.street[rows] == self._street_id[slots]
        centre = bq.centre[rows] == self._centre_id[slots]
        loc = np.where(unknown & street, SAME_STREET_SCORE, loc)
        loc = np.where(unknown & ~street & centre, SAME_CENTRE_SCORE, loc)
        loc[self._mode[slots] == MODES.index("remote")] = 1.0
        side[2] = loc
        expected = bq.wage[rows]
        top = self._wage[slots]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.clip(top / expected, 0.0, None)
            side[3] = np.where(top >= expected, 1.0, ratio**2)
        age_days = np.maximum(0.0, (now_ts - self._posted[slots]) / 86400.0)
        side[4] = 0.5 ** (age_days / self.freshness_half_life_days)
        sched = bq.sched[rows]
        exact = (sched < 0) | (self._sched[slots] == sched)
        side[5] = np.where(exact, 1.0, 0.75)
        return side, dist

    def _rank_block(
        self,
        queries: Sequence[_Query],
        dense_q: FloatArray,
        lex_q: sp.csr_matrix,
        k: int,
        now: datetime,
        masks: _MaskCache,
        weights: dict[str, float],
        floors: F64Array | None = None,
    ) -> Callable[[], list[list[Match]]]:
        """Top ``k`` matches of each seeker of one block (see ``rank_many``), scored now and
        built as ``Match`` objects when the returned function is called.

        ``floors``: per seeker, the minimum score of a returned match. Pairs of the top ``k``
        more than ``FLOOR_SLACK`` below it (by the compiled pass's score) are dropped here; the
        rest are checked on the exact ``Match`` score when built.

        Pools, their scores and the top ``k`` of each seeker are compiled passes over the
        block's (seeker, posting) pairs (``matcher.batch``); the channels and signals that
        explain a match are then computed again, as arrays, for the chosen pairs only.
        """
        b = len(queries)
        now_ts = now.timestamp()
        n_alive = float(len(self._slot))
        q64 = dense_q.astype(np.float64)
        # An empty index gives NaN spreads (no warnings), which the checks below turn off.
        with np.errstate(divide="ignore", invalid="ignore"):
            d_mean = q64 @ self._emb_sum / n_alive
            d_var = ((q64 @ self._gram) * q64).sum(axis=1) / n_alive - d_mean**2
            d_std = np.sqrt(np.maximum(d_var, 0.0))
        l_mean, l_std = sample_stats(self._lex_sample_index, lex_q)
        bq = self._block_queries(queries)
        d_good = bq.dense_ok & np.isfinite(d_std) & (d_std > 1e-9)
        l_good = bq.lex_ok & np.isfinite(l_std) & (l_std > 1e-9)
        rows, slots, dense = self._pools(queries, dense_q, bq, now_ts, masks)
        lex = self._pair_lexical(rows, slots, lex_q)
        hits = self._skill_hits(queries, rows, slots)
        pair_share = self._pair_share_table()
        side_w = np.array([weights[name] for name in SIDE_SIGNALS])
        top, totals, sizes = top_pairs(
            group_starts(rows, b),
            slots,
            dense,
            lex,
            (
                np.column_stack(
                    [
                        d_mean,
                        np.where(d_good, d_std, 1.0),
                        l_mean,
                        np.where(l_good, l_std, 1.0),
                        bq.lat,
                        bq.lon,
                        bq.loc_limit,
                        bq.wage,
                        bq.n_needs,
                    ]
                ),
                np.column_stack([d_good, l_good, bq.dense_ok, bq.lex_ok]),
                np.column_stack([bq.lang, bq.street, bq.centre, bq.sched]),
                bq.needs,
            ),
            self._slot_columns()[1:],
            hits,
            self._offer_levels(),
            self._skill_matrices(),
            pair_share,
            np.array([weights["text"], *side_w]),
            np.array(
                [
                    now_ts,
                    self.freshness_half_life_days,
                    self.weights.text_center,
                    self.weights.text_scale,
                    MODES.index("remote"),
                ]
            ),
            k,
        )
        rows, slots, lex, d = rows[top], slots[top], lex[top], dense[top]
        if floors is not None:
            owner = np.repeat(np.arange(b), sizes)
            keep = totals >= floors[owner] - FLOOR_SLACK
            sizes = np.bincount(owner[keep], minlength=b)
            rows, slots, lex, d = rows[keep], slots[keep], lex[keep], d[keep]

        def z(values: FloatArray, mean: F64, std: F64, good: BoolArray) -> FloatArray:
            safe = np.where(good, std, 1.0)
            out: FloatArray = np.where(good[rows], (values - mean[rows]) / safe[rows], 0.0).astype(
                np.float32
            )
            return out

        zd = z(d, d_mean, d_std, d_good)
        zl = z(lex, l_mean, l_std, l_good)
        share = np.where(
            bq.dense_ok[rows],
            np.where(bq.lex_ok[rows], pair_share[bq.lang[rows], self._lang[slots]], 1.0),
            0.0,
        ).astype(np.float32)
        text = self.weights.text_relevance(share * zd + (1 - share) * zl).astype(np.float64)
        side, dist = self._pair_side(bq, rows, slots, now_ts, hits)
        return partial(
            self._block_matches,
            queries,
            bq,
            sizes.tolist(),
            rows,
            slots,
            _PairChannels(d, lex, zd, zl, share, text),
            side,
            dist,
            hits,
            weights,
            floors,
        )

    def _pair_share_table(self) -> FloatArray:
        """Dense share ``a`` by (seeker language, posting language) index: (3, 3)."""
        w = self.weights
        out: FloatArray = np.array(
            [[w.dense_share(language_pair(a, b)) for b in LANGS] for a in LANGS],  # type: ignore[arg-type]
            dtype=np.float32,
        )
        return out

    def _block_matches(
        self,
        queries: Sequence[_Query],
        bq: _BlockQueries,
        sizes: list[int],
        rows: IntArray,
        slots: IntArray,
        ch: _PairChannels,
        side: npt.NDArray[np.float64],
        dist: npt.NDArray[np.float64],
        hits: BoolArray,
        weights: dict[str, float],
        floors: F64Array | None = None,
    ) -> list[list[Match]]:
        """Explained ``Match`` objects of the chosen pairs (the arithmetic of ``score_pair``),
        those scoring below their seeker's floor (if given) left out."""
        known = ~np.isnan(side)
        side_w = np.array([weights[name] for name in SIDE_SIGNALS])[:, None]
        text_weight = weights["text"] + np.where(known, 0.0, side_w).sum(axis=0)
        zd = np.maximum(ch.zd.astype(np.float64), 0.0)
        zl = np.maximum(ch.zl.astype(np.float64), 0.0)
        share = ch.share.astype(np.float64)
        dpos, lpos = share * zd, (1 - share) * zl
        with np.errstate(invalid="ignore", divide="ignore"):
            dense_part_ = np.where(dpos + lpos > 0, dpos / (dpos + lpos), share)
        text_total = text_weight * ch.text
        parts = np.vstack(
            [
                text_total * dense_part_,
                text_total * (1 - dense_part_),
                np.where(known, side_w * np.nan_to_num(side), np.nan),
            ]
        )  # (8, T): dense, lexical, side signals (NaN unknown)
        score = np.nansum(parts, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = parts / score
        flat = score <= 0
        if flat.any():
            shares[:, flat] = np.where(np.isnan(parts[:, flat]), np.nan, 0.0)
            shares[0, flat] = np.where(dense_part_[flat] >= 0.5, 1.0, 0.0)
            shares[1, flat] = np.where(dense_part_[flat] >= 0.5, 0.0, 1.0)
        known_shares = np.where(np.isnan(shares), -np.inf, shares)
        top_signal = np.argmax(
            known_shares >= known_shares.max(axis=0) - SHARE_TIE, axis=0
        ).tolist()
        names = ("dense", "lexical", *SIDE_SIGNALS)
        score_l = np.clip(score, 0.0, 1.0).tolist()
        # Per pair, the signal values (dense, lexical, text, then the side signals) and the
        # shares (dense, lexical, then the side signals) as rows; which side signals are
        # known is a bit pattern, and each pattern's names and row positions are laid out
        # once, so a match's two dicts are made without a test per signal.
        values_l = np.vstack(
            [
                np.clip(ch.dense.astype(np.float64), 0.0, 1.0),
                np.clip(ch.lexical.astype(np.float64), 0.0, 1.0),
                ch.text,
                side,
            ]
        ).T.tolist()
        shares_l = shares.T.tolist()
        pattern_l = (known.T * (1 << np.arange(len(SIDE_SIGNALS)))).sum(axis=1).tolist()
        layouts: dict[int, tuple[tuple[str, ...], Any, tuple[str, ...], Any]] = {}
        for pattern in set(pattern_l):
            side_at = [j for j in range(len(SIDE_SIGNALS)) if pattern >> j & 1]
            side_names = tuple(SIDE_SIGNALS[j] for j in side_at)
            layouts[pattern] = (
                ("dense", "lexical", "text", *side_names),
                itemgetter(0, 1, 2, *(3 + j for j in side_at)),
                ("dense", "lexical", *side_names),
                itemgetter(0, 1, *(2 + j for j in side_at)),
            )
        dist_l = dist.tolist()
        slots_l = slots.tolist()
        level = self._offer_levels()
        needs_level = level[slots[:, None], np.maximum(bq.needs[rows], 0)].tolist()
        out: list[list[Match]] = []
        floor_l = [-np.inf] * len(queries) if floors is None else floors.tolist()
        postings, skill_ids, labels = self._postings, self._skill_ids, self.labels
        stop = 0
        for i, size in enumerate(sizes):
            matches: list[Match] = []
            out.append(matches)
            start, stop = stop, stop + size  # this seeker's run of pairs
            if not size:
                continue
            floor = floor_l[i]
            seeker = queries[i].seeker
            language = seeker.language
            held = set(np.flatnonzero(hits[i]).tolist())  # the skill columns this seeker has
            for t in range(start, stop):
                score = score_l[t]
                if score < floor:
                    continue
                posting = postings[slots_l[t]]
                assert posting is not None  # alive slots hold their posting
                signal_names, signal_at, share_names, share_at = layouts[pattern_l[t]]
                signals = dict(zip(signal_names, signal_at(values_l[t]), strict=True))
                contributions = dict(zip(share_names, share_at(shares_l[t]), strict=True))
                matched: list[str] = []
                missing: list[str] = []
                ids = skill_ids[slots_l[t]]
                if ids is not None:
                    for name, col in zip(posting.required_skills, ids[0], strict=True):
                        (matched if col in held else missing).append(name)
                    for name, col in zip(posting.optional_skills, ids[1], strict=True):
                        if col in held:
                            matched.append(name)
                met: list[str] = []
                arrangeable: list[str] = []
                unmet: list[str] = []
                for need, lv in zip(seeker.needs, needs_level[t], strict=False):
                    if lv == 2:
                        met.append(need.code)
                    elif lv == 1:
                        arrangeable.append(need.code)
                    elif not need.essential:
                        unmet.append(need.code)
                km = dist_l[t]
                matches.append(
                    _new_match(
                        posting.id,
                        score,
                        signals,
                        contributions,
                        _new_explanation(
                            matched,
                            missing,
                            met,
                            arrangeable,
                            unmet,
                            None if km != km else round(km, 1),
                            names[top_signal[t]],
                            language,
                            False,
                            labels,
                        ),
                    )
                )
        return out

    def _pool(self, seeker: SeekerDoc, dense: FloatArray, base: BoolArray, n_base: int) -> IntArray:
        """The ``candidates`` feasible slots with the highest dense score (all if fewer)."""
        if n_base <= self.candidates:
            idx = np.flatnonzero(base)
            out: IntArray = idx[self._strict_ok(seeker, idx)]
            return out
        masked = np.where(base, dense, -np.inf)
        take = self.candidates
        while True:
            top = top_indices(masked, take)
            ok = top[self._strict_ok(seeker, top)]
            if ok.size > self.candidates:
                keep = np.argpartition(-masked[ok], self.candidates - 1)[: self.candidates]
                return ok[keep]
            if ok.size == self.candidates or take >= n_base:
                return ok
            take *= 4  # many of the closest postings fail a constraint: look further

    def _rank_one(
        self,
        q: _Query,
        dense_row: FloatArray,
        d_mean: float,
        d_std: float,
        lex_row: sp.csr_matrix,
        lex_sample: FloatArray,
        k: int,
        now: datetime,
        masks: _MaskCache,
        weights: dict[str, float],
    ) -> list[Match]:
        base = self._base_mask(q.seeker, now.timestamp(), masks)
        pool = self._pool(
            q.seeker,
            dense_row,
            base,
            masks.table[(frozenset(q.seeker.work_modes), q.seeker.schedule)][1],
        )
        if pool.size == 0:
            return []
        d = dense_row[pool]
        lex = self._lex_scores(pool, lex_row)
        zd = zscore(d, d_mean, d_std) if q.dense_ok else np.zeros_like(d)
        zl = (
            zscore(lex, float(lex_sample.mean()), float(lex_sample.std()))
            if q.lex_ok
            else np.zeros_like(lex)
        )
        share = self._shares(q, pool)
        fused = share * zd + (1 - share) * zl
        text = self.weights.text_relevance(fused).astype(np.float64)
        side = self._side(q, pool, now.timestamp())
        w = weights
        total = np.zeros(pool.size)
        text_weight = np.full(pool.size, w["text"])
        for name in SIDE_SIGNALS:
            x = side[name]
            known = ~np.isnan(x)
            total += np.where(known, w[name] * np.nan_to_num(x), 0.0)
            text_weight += np.where(known, 0.0, w[name])
        total += text_weight * text
        order = np.lexsort((pool, -total))[:k]
        return [
            self._match(
                q,
                int(pool[j]),
                (
                    float(d[j]),
                    float(lex[j]),
                    float(zd[j]),
                    float(zl[j]),
                    float(share[j]),
                    float(text[j]),
                ),
                now,
                weights,
            )
            for j in order
        ]

    def _shares(self, q: _Query, pool: IntArray) -> FloatArray:
        if not q.dense_ok:
            return np.zeros(pool.size, dtype=np.float32)
        if not q.lex_ok:
            return np.ones(pool.size, dtype=np.float32)
        w = self.weights
        pair_share = np.array(
            [
                [w.dense_share(language_pair(a, b)) for b in LANGS]  # type: ignore[arg-type]
                for a in LANGS
            ],
            dtype=np.float32,
        )
        out: FloatArray = pair_share[q.lang][self._lang[pool]]
        return out

    def _match(
        self,
        q: _Query,
        slot: int,
        channels: tuple[float, float, float, float, float, float],
        now: datetime,
        weights: dict[str, float],
    ) -> Match:
        posting = self._postings[slot]
        assert posting is not None  # alive slots hold their posting
        dense, lexical, zd, zl, share, text = channels
        return score_pair(
            q.seeker,
            posting,
            TextChannels(dense, lexical, text, dense_part(share, zd, zl)),
            weights,
            now,
            labels=self.labels,
            half_life_days=self.freshness_half_life_days,
        )


@dataclass(frozen=True, slots=True)
class TextChannels:
    """A pair's raw dense and lexical cosines, fused text relevance and the dense part of it."""

    dense: float
    lexical: float
    text: float
    dense_part: float


def _pair_signals(
    seeker: SeekerDoc, posting: PostingDoc, now: datetime, half_life_days: float
) -> tuple[dict[str, float | None], SkillCoverage | None, NeedsFit | None]:
    skills = skill_coverage(
        seeker.skills, posting.required_skills, posting.optional_skills, seeker.text
    )
    needs = needs_fit(seeker.needs, posting.offers)
    side: dict[str, float | None] = {
        "skills": None if skills is None else skills.score,
        "needs": None if needs is None else needs.score,
        "location": location_fit(seeker, posting),
        "wage": wage_fit(seeker.expected_wage, posting.wage_min, posting.wage_max),
        "freshness": freshness(posting.posted_at, now, half_life_days),
        "fit": mode_schedule_fit(seeker, posting),
    }
    return side, skills, needs


def side_signals(
    seeker: SeekerDoc,
    posting: PostingDoc,
    now: datetime,
    half_life_days: float = FRESHNESS_HALF_LIFE_DAYS,
) -> dict[str, float | None]:
    """The side signals of one pair, each in [0, 1] or None when unknown."""
    return _pair_signals(seeker, posting, now, half_life_days)[0]


def score_pair(
    seeker: SeekerDoc,
    posting: PostingDoc,
    channels: TextChannels,
    weights: Mapping[str, float],
    now: datetime,
    labels: Labels | None = None,
    half_life_days: float = FRESHNESS_HALF_LIFE_DAYS,
    for_employer: bool = False,
    language: Language | None = None,
) -> Match:
    """Score and explain one pair; the Match id is the posting's (or the seeker's for employers).

    ``weights`` are ``FusionWeights.signal_weights()`` (text and side signals, summing to 1).
    """
    side, skills, needs = _pair_signals(seeker, posting, now, half_life_days)
    scored = combine(weights, channels.text, side, channels.dense_part)
    signals = {
        "dense": min(1.0, max(0.0, channels.dense)),
        "lexical": min(1.0, max(0.0, channels.lexical)),
        "text": channels.text,
        **{name: value for name, value in side.items() if value is not None},
    }
    dist = distance_km(seeker, posting)
    if for_employer:
        # Only what the posting's offers address; no place finer than a kilometre.
        unmet: list[str] = []
        dist = None if dist is None else float(round(dist))
    else:
        unmet = [] if needs is None else needs.unmet_preferred
    explanation: Explanation = build_explanation(
        language or seeker.language,
        [] if skills is None else skills.matched,
        [] if skills is None else skills.missing,
        [] if needs is None else needs.met,
        [] if needs is None else needs.arrangeable,
        unmet,
        None if dist is None else round(dist, 1),
        scored.contributions,
        labels,
        for_employer,
    )
    return Match(
        id=seeker.id if for_employer else posting.id,
        score=scored.score,
        signals=signals,
        contributions=scored.contributions,
        explanation=explanation,
    )


class CandidateRanker:
    """Seekers for one posting with the same constraints and signals; results are pseudonymous.

    A result carries the seeker's id only; its explanation names the posting's skills and
    only the needs that the posting's offers address, never free text; distance is rounded
    to whole kilometres.
    """

    def __init__(
        self,
        encoder: TextEncoder,
        weights: FusionWeights | None = None,
        freshness_half_life_days: float = FRESHNESS_HALF_LIFE_DAYS,
        labels: Labels | None = None,
    ) -> None:
        self.encoder = encoder
        self.weights = weights or FusionWeights()
        self.freshness_half_life_days = freshness_half_life_days
        self.labels = labels
        self._fitted = False

    def _check(self) -> None:
        if not self._fitted:
            raise NotFittedError("CandidateRanker.fit must be called before ranking")

    def fit(self, seekers: Iterable[SeekerDoc], embeddings: FloatArray | None = None) -> Self:
        """Index seekers; stored vectors come from ``embeddings`` (n, dim) or their own."""
        docs = list(seekers)
        if len({s.id for s in docs}) != len(docs):
            raise MatcherError("seeker ids must be unique")
        texts = [seeker_text(s) for s in docs]
        self.lexical_ = CharTfidf().fit(texts)
        self.seekers_ = docs
        if embeddings is not None and embeddings.shape[0] != len(docs):
            raise MatcherError("embeddings must have one row per seeker")
        if embeddings is not None:
            self.embeddings_ = np.asarray(embeddings, dtype=np.float32)
        else:
            # Only ask the encoder (and so load its model) when something must be encoded.
            given = [s.embedding for s in docs if s.embedding is not None]
            dim = int(np.asarray(given[0]).size) if len(given) == len(docs) and docs else None
            self.embeddings_ = stored_or_encoded(
                [(s.id, s.embedding) for s in docs],
                texts,
                self.encoder.encode_queries,
                dim if dim is not None else self.encoder.dim,
            )
        self._lex = self.lexical_.transform(texts)
        self._langs = [detect_language(t) for t in texts]
        self._fitted = True
        return self

    def add_or_update(self, seeker: SeekerDoc, embedding: FloatArray | None = None) -> None:
        """Insert or replace one seeker without a full refit."""
        self._check()
        text = seeker_text(seeker)
        embedding = seeker.embedding if embedding is None else embedding
        vec = (
            self.encoder.encode_queries([text])[0]
            if embedding is None
            else np.asarray(embedding, dtype=np.float32)
        )
        row = self.lexical_.transform([text])
        ids = [s.id for s in self.seekers_]
        if seeker.id in ids:
            i = ids.index(seeker.id)
            self.seekers_[i] = seeker
            self.embeddings_[i] = vec
            self._lex = sp.csr_matrix(
                sp.vstack([self._lex[:i], row, self._lex[i + 1 :]]), dtype=np.float32
            )
            self._langs[i] = detect_language(text)
        else:
            self.seekers_.append(seeker)
            self.embeddings_ = np.vstack([self.embeddings_, vec[None, :]])
            self._lex = sp.csr_matrix(sp.vstack([self._lex, row]), dtype=np.float32)
            self._langs.append(detect_language(text))

    def remove(self, seeker_id: str) -> bool:
        """Drop a seeker; False when it was not there."""
        self._check()
        ids = [s.id for s in self.seekers_]
        if seeker_id not in ids:
            return False
        i = ids.index(seeker_id)
        del self.seekers_[i]
        del self._langs[i]
        self.embeddings_ = np.delete(self.embeddings_, i, axis=0)
        keep = np.ones(self._lex.shape[0], dtype=bool)
        keep[i] = False
        self._lex = self._lex[keep]
        return True

    def rank(
        self,
        posting: PostingDoc,
        k: int = 20,
        now: datetime | None = None,
        language: Language = "zh",
    ) -> list[Match]:
        """Top ``k`` feasible seekers for a posting, best first; scores in [0, 1]."""
        self._check()
        moment = _aware(now)
        if k <= 0 or not self.seekers_:
            return []
        text = posting_text(posting)
        if posting.embedding is not None:
            pvec = np.asarray(posting.embedding, dtype=np.float32).ravel()
        else:
            pvec = self.encoder.encode_passages([text])[0]
        prow = self.lexical_.transform([text])
        dense = self.embeddings_ @ pvec
        lex = np.asarray((self._lex @ prow.T).toarray(), dtype=np.float32).ravel()
        zd = zscore(dense, float(dense.mean()), float(dense.std()))
        zl = zscore(lex, float(lex.mean()), float(lex.std()))
        plang = detect_language(text)
        weights = self.weights.signal_weights()
        results: list[Match] = []
        for i, seeker in enumerate(self.seekers_):
            if violations(seeker, posting, moment):
                continue
            dense_ok = bool(np.any(self.embeddings_[i])) and bool(np.any(pvec))
            lex_ok = self._lex[i].nnz > 0 and prow.nnz > 0
            share = self.weights.dense_share(language_pair(self._langs[i], plang))
            share = share if dense_ok and lex_ok else float(dense_ok)
            fused = share * float(zd[i]) + (1 - share) * float(zl[i])
            relevance = float(self.weights.text_relevance(np.array([fused], np.float32))[0])
            channels = TextChannels(
                float(dense[i]), float(lex[i]), relevance, dense_part(share, zd[i], zl[i])
            )
            results.append(
                score_pair(
                    seeker,
                    posting,
                    channels,
                    weights,
                    moment,
                    labels=self.labels,
                    half_life_days=self.freshness_half_life_days,
                    for_employer=True,
                    language=language,
                )
            )
        results.sort(key=lambda m: (-m.score, m.id))
        return results[:k]
