"""Lexical channel on character n-grams: works for Chinese, English and mixed text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from matcher.encoders import DEFAULT_MAX_CHARS
from matcher.errors import NotFittedError
from matcher.text import normalise

FloatArray = npt.NDArray[np.float32]


def _prepare(text: str, max_chars: int) -> str:
    return normalise(text)[:max_chars]


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
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """(n, vocabulary) CSR float32, unit rows (zero for texts with no known n-gram)."""
        if not texts:
            return sp.csr_matrix((0, len(self._vectorizer().vocabulary_)), dtype=np.float32)
        out: Any = self._vectorizer().transform(list(texts))
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
