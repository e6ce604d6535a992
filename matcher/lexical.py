"""Lexical channel on character n-grams: works for Chinese, English and mixed text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from matcher.batch import chunk_bounds, serial_twin
from matcher.encoders import DEFAULT_MAX_CHARS
from matcher.errors import NotFittedError
from matcher.text import normalise

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

# An n-gram of up to three characters packs into one int64 key: each code point + 1 in 21 bits
# (so a shorter n-gram never collides with a longer one).
_KEY_BITS = 21
_MAX_PACKED = 3
_SPACE = 32
_HASH = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing


def _prepare(text: str, max_chars: int) -> str:
    return normalise(text)[:max_chars]


def _code_points(texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], IntArray]:
    """The texts' code points back to back, and each text's start offset (n + 1,)."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    raw = "".join(texts).encode("utf-32-le", "surrogatepass")
    return np.frombuffer(raw, dtype=np.uint32).astype(np.int64), starts


def pack_terms(terms: Sequence[str]) -> IntArray:
    """The int64 key of each n-gram of one to three characters (see ``_KEY_BITS``)."""
    codes, starts = _code_points(terms)
    lengths = np.diff(starts)
    keys = np.zeros(len(terms), dtype=np.int64)
    for j in range(int(lengths.max(initial=0))):
        has = lengths > j
        keys[has] = (keys[has] << _KEY_BITS) | (codes[starts[:-1][has] + j] + 1)
    return keys


@numba.njit(nogil=True, cache=True, inline="always")
def _home(key: Any, bits: Any) -> Any:  # pragma: no cover - compiled
    return np.int64((np.uint64(key) * _HASH) >> np.uint64(64 - bits))


@numba.njit(nogil=True, cache=True)
def _build_table(keys: Any, bits: Any) -> Any:  # pragma: no cover - compiled
    """Open addressing (linear probing) from key to column; 0 marks an empty slot."""
    size = 1 << bits
    table_keys = np.zeros(size, dtype=np.int64)
    table_cols = np.zeros(size, dtype=np.int32)
    for col in range(keys.size):
        h = _home(keys[col], bits)
        while table_keys[h] != 0:
            h = (h + 1) & (size - 1)
        table_keys[h] = keys[col]
        table_cols[h] = col
    return table_keys, table_cols


@numba.njit(nogil=True, cache=True)
def _doc_counts(
    codes: Any, lo: Any, hi: Any, min_n: Any, max_n: Any, table_keys: Any, table_cols: Any,
    bits: Any, counts: Any, touched: Any,
) -> Any:  # pragma: no cover - compiled  # fmt: skip
    """Count the known n-grams of one prepared text into ``counts`` (by column), listing each
    column counted into ``touched`` once; returns how many were listed. scikit-learn's
    ``char_wb``: words split on spaces, each padded with one space on both sides, and a word
    shorter than n gives itself once."""
    listed = 0
    mask = (1 << bits) - 1
    i = lo
    while i < hi:
        if codes[i] == _SPACE:
            i += 1
            continue
        end = i
        while end < hi and codes[end] != _SPACE:
            end += 1
        padded = end - i + 2
        for n in range(min_n, max_n + 1):
            width = min(n, padded)
            for offset in range(padded - width + 1):
                key = np.int64(0)
                for p in range(offset, offset + width):
                    c = _SPACE if p == 0 or p == padded - 1 else codes[i + p - 1]
                    key = (key << _KEY_BITS) | (c + 1)
                h = _home(key, bits)
                while table_keys[h] != 0:
                    if table_keys[h] == key:
                        col = table_cols[h]
                        if counts[col] == 0:
                            touched[listed] = col
                            listed += 1
                        counts[col] += 1
                        break
                    h = (h + 1) & mask
            if width == padded:
                break
        i = end
    return listed


@numba.njit(nogil=True, cache=True)
def _tfidf_rows(
    codes: Any, starts: Any, first: Any, last: Any, min_n: Any, max_n: Any, table_keys: Any,
    table_cols: Any, bits: Any, idf: Any, sublinear: Any, indptr: Any, indices: Any, data: Any,
    fill: Any,
) -> None:  # pragma: no cover - compiled  # fmt: skip
    """Texts ``first`` to ``last`` - 1: without ``fill``, each one's count of distinct known
    n-grams into ``indptr[d + 1]``; with it, its sorted columns and L2-normalised TF-IDF
    weights written from ``indptr[d]`` on."""
    counts = np.zeros(idf.size, dtype=np.int32)
    touched = np.empty(idf.size, dtype=np.int32)
    for d in range(first, last):
        listed = _doc_counts(codes, starts[d], starts[d + 1], min_n, max_n, table_keys,
                             table_cols, bits, counts, touched)  # fmt: skip
        if not fill:
            indptr[d + 1] = listed
            for j in range(listed):
                counts[touched[j]] = 0
            continue
        cols = touched[:listed]
        if listed > 32:
            cols.sort()
        else:  # insertion sort: a short text's few columns, no allocation
            for j in range(1, listed):
                x = cols[j]
                m = j - 1
                while m >= 0 and cols[m] > x:
                    cols[m + 1] = cols[m]
                    m -= 1
                cols[m + 1] = x
        lo = indptr[d]
        total = 0.0
        for j in range(listed):
            v = np.float32(counts[cols[j]])
            counts[cols[j]] = 0
            if sublinear:
                v = np.float32(np.log(v)) + np.float32(1.0)
            v = v * idf[cols[j]]
            indices[lo + j] = cols[j]
            data[lo + j] = v
            total += np.float64(v) * np.float64(v)
        if total > 0.0:
            norm = np.sqrt(total)
            for j in range(lo, lo + listed):
                data[j] = np.float32(data[j] / norm)


@numba.njit(nogil=True, cache=True, parallel=True)
def _tfidf_kernel(
    codes: Any, starts: Any, bounds: Any, min_n: Any, max_n: Any, table_keys: Any,
    table_cols: Any, bits: Any, idf: Any, sublinear: Any,
) -> Any:  # pragma: no cover - compiled; exercised through CharTfidf.transform  # fmt: skip
    """CSR parts (indptr, indices, data) of the L2-normalised TF-IDF rows of prepared texts,
    in one contiguous run of texts per chunk (``bounds``): counted, then written."""
    indptr = np.zeros(starts.size, dtype=np.int64)
    indices = np.empty(0, dtype=np.int32)
    data = np.empty(0, dtype=np.float32)
    for c in numba.prange(bounds.size - 1):
        _tfidf_rows(codes, starts, bounds[c], bounds[c + 1], min_n, max_n, table_keys,
                    table_cols, bits, idf, sublinear, indptr, indices, data, False)  # fmt: skip
    indptr = np.cumsum(indptr)
    indices = np.empty(indptr[-1], dtype=np.int32)
    data = np.empty(indptr[-1], dtype=np.float32)
    for c in numba.prange(bounds.size - 1):
        _tfidf_rows(codes, starts, bounds[c], bounds[c + 1], min_n, max_n, table_keys,
                    table_cols, bits, idf, sublinear, indptr, indices, data, True)  # fmt: skip
    return indptr, indices, data


_tfidf_kernel_serial = serial_twin(_tfidf_kernel)


class _NgramTable:
    """scikit-learn's fitted ``char_wb`` vocabulary as a compiled hash table, for a transform
    equal to ``TfidfVectorizer.transform`` (same columns, counts and weights) without its
    per-n-gram Python loop."""

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        terms = vectorizer.get_feature_names_out().tolist()
        self.bits = max(4, int(2 * max(len(terms), 1) - 1).bit_length())  # load factor <= 0.5
        self.keys, self.cols = _build_table(pack_terms(terms), self.bits)
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float32)
        self.min_n, self.max_n = vectorizer.ngram_range
        self.sublinear = bool(vectorizer.sublinear_tf)
        self.width = len(terms)

    def transform(self, prepared: Sequence[str]) -> sp.csr_matrix:
        codes, starts = _code_points(prepared)
        bounds = chunk_bounds(len(prepared), 64)
        run = _tfidf_kernel if bounds.size > 2 else _tfidf_kernel_serial
        indptr, indices, data = run(
            codes, starts, bounds, self.min_n, self.max_n, self.keys, self.cols, self.bits,
            self.idf, self.sublinear,
        )  # fmt: skip
        return sp.csr_matrix((data, indices, indptr), shape=(len(prepared), self.width))


class CharTfidf:
    """TF-IDF on character n-grams (``char_wb``); rows L2-normalised, so cosine is a dot in [0, 1].

    Queries are scored through the transposed matrix, an inverted index: only the posting
    lists of the query's n-grams are read, never the whole matrix.
    """

    def __init__(
        self,
        ngram_range: tuple[int, int] = (1, 3),
        sublinear_tf: bool = True,
        min_df: int = 1,
        max_chars: int = 4 * DEFAULT_MAX_CHARS,
    ) -> None:
        self.ngram_range = ngram_range
        self.sublinear_tf = sublinear_tf
        self.min_df = min_df
        self.max_chars = max_chars
        self.vectorizer_: TfidfVectorizer | None = None
        self.table_: _NgramTable | None = None

    def _vectorizer(self) -> TfidfVectorizer:
        if self.vectorizer_ is None:
            raise NotFittedError("CharTfidf is not fitted")
        return self.vectorizer_

    def fit(self, texts: Sequence[str]) -> CharTfidf:
        """Learn the n-gram vocabulary and IDF from the corpus."""
        self.vectorizer_ = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=self.ngram_range,
            sublinear_tf=self.sublinear_tf,
            min_df=self.min_df if len(texts) >= self.min_df else 1,
            preprocessor=lambda t: _prepare(t, self.max_chars),
            lowercase=False,
            dtype=np.float32,
        )
        prepared = [t if t.strip() else " " for t in texts]
        if not any(p.strip() for p in prepared):
            prepared = [*prepared, "_"]  # sklearn refuses an empty vocabulary
        self.vectorizer_.fit(prepared)
        # Three-character n-grams at most fit the packed keys; wider ranges use sklearn.
        packable = self.ngram_range[1] <= _MAX_PACKED and self.ngram_range[0] >= 1
        self.table_ = _NgramTable(self.vectorizer_) if packable else None
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """(n, vocabulary) CSR float32, unit rows (zero for texts with no known n-gram)."""
        if not texts:
            return sp.csr_matrix((0, len(self._vectorizer().vocabulary_)), dtype=np.float32)
        vectorizer = self._vectorizer()
        if self.table_ is not None:
            return self.table_.transform([_prepare(t, self.max_chars) for t in texts])
        out: Any = vectorizer.transform(list(texts))
        return sp.csr_matrix(out, dtype=np.float32)


def inverted(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """The (vocabulary, n) transpose in CSR: row j lists the documents holding n-gram j."""
    return sp.csr_matrix(matrix.T, dtype=np.float32)


def scores_from_inverted(query: sp.csr_matrix, inv: sp.csr_matrix) -> FloatArray:
    """(m, n) dense scores of m query rows against the documents of an inverted matrix."""
    prod: Any = query @ inv
    return np.asarray(prod.toarray(), dtype=np.float32)


class BM25:
    """Okapi BM25 over the same character n-grams (a baseline): scores >= 0, not bounded."""

    def __init__(
        self, ngram_range: tuple[int, int] = (1, 3), k1: float = 1.2, b: float = 0.75
    ) -> None:
        self.ngram_range = ngram_range
        self.k1 = k1
        self.b = b

    def fit(self, texts: Sequence[str]) -> BM25:
        """Count n-grams of the corpus and weight them by BM25."""
        from sklearn.feature_extraction.text import CountVectorizer

        self.counter_ = CountVectorizer(
            analyzer="char_wb",
            ngram_range=self.ngram_range,
            preprocessor=lambda t: _prepare(t, 4 * DEFAULT_MAX_CHARS),
            lowercase=False,
        )
        tf = sp.csr_matrix(self.counter_.fit_transform(list(texts)), dtype=np.float32)
        n_docs = tf.shape[0]
        df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(np.float32)
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        avg = float(lengths.mean()) if n_docs else 1.0
        norm = self.k1 * (1 - self.b + self.b * lengths / max(avg, 1e-9))
        rows = np.repeat(np.arange(n_docs), np.diff(tf.indptr))
        weighted = tf.copy()
        weighted.data = (tf.data * (self.k1 + 1) / (tf.data + norm[rows]) * idf[tf.indices]).astype(
            np.float32
        )
        self.inverted_ = inverted(weighted)
        return self

    def score(self, queries: Sequence[str]) -> FloatArray:
        """(m, n) BM25 scores; query n-grams counted once each."""
        q = sp.csr_matrix(self.counter_.transform(list(queries)), dtype=np.float32)
        q.data[:] = 1.0
        return scores_from_inverted(q, self.inverted_)
