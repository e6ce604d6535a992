"""Fitting fusion weights from outcome labels, and comparing weight sets on held-out labels.

The ranker's score is linear in the signal weights once an unknown side signal is read as
text relevance (its weight goes to text relevance): ``score = w · x`` with ``x`` from
``feature_vector``. So weights can be fitted as a linear ranking model: a pairwise logistic
regression (scikit-learn) on the differences ``x_i − x_j`` of pairs in one query (a seeker's
postings, or a posting's seekers) whose labels differ, each pair weighted by the grade gap.
Weights must be >= 0; a signal whose coefficient comes out negative is dropped and the rest
refitted. Pure functions and an estimator: arrays in, numbers out, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

from matcher.errors import MatcherError, NotFittedError
from matcher.fusion import SIDE_SIGNALS, FusionWeights

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SIGNALS: tuple[str, ...] = ("text", *SIDE_SIGNALS)


def feature_vector(signals: Mapping[str, float | None]) -> FloatArray:
    """(7,) features in [0, 1] in ``SIGNALS`` order: text relevance, then each side signal or,
    where it is unknown (None or absent), text relevance, as the ranker scores it."""
    text = float(signals.get("text") or 0.0)
    out = [text]
    for name in SIDE_SIGNALS:
        value = signals.get(name)
        out.append(text if value is None else float(value))
    return np.clip(np.array(out, dtype=np.float64), 0.0, 1.0)


def weight_vector(weights: FusionWeights | Mapping[str, float]) -> FloatArray:
    """(7,) signal weights in ``SIGNALS`` order, normalised to sum 1."""
    raw = weights.signal_weights() if isinstance(weights, FusionWeights) else dict(weights)
    vec = np.array([float(raw.get(name, 0.0)) for name in SIGNALS], dtype=np.float64)
    total = vec.sum()
    if total <= 0 or (vec < 0).any():
        raise MatcherError("weights must be >= 0 with a positive sum")
    out: FloatArray = vec / total
    return out


@dataclass(frozen=True, slots=True)
class Query:
    """The labelled items of one query (row indices into the feature matrix)."""

    kind: str  # "seeker" (postings for a seeker) or "posting" (seekers for a posting)
    rows: IntArray


def queries(grades: npt.ArrayLike, keys: Mapping[str, Sequence[object]]) -> list[Query]:
    """Queries with at least two labels of different grades, for each grouping in ``keys``.

    ``keys`` maps a kind ("seeker", "posting") to one group key per row; a row whose key is
    None is in no query of that kind.
    """
    g = np.asarray(grades)
    out: list[Query] = []
    for kind, values in keys.items():
        groups: dict[object, list[int]] = {}
        for i, key in enumerate(values):
            if key is not None:
                groups.setdefault(key, []).append(i)
        for key in sorted(groups, key=str):
            rows = np.array(groups[key], dtype=np.int64)
            if rows.size >= 2 and np.unique(g[rows]).size >= 2:
                out.append(Query(kind, rows))
    return out


def ranking_pairs(
    grades: npt.ArrayLike, qs: Sequence[Query]
) -> tuple[IntArray, IntArray, FloatArray]:
    """Pairs (better, worse, weight) within each query; weight = grade gap (> 0)."""
    g = np.asarray(grades, dtype=np.float64)
    better: list[IntArray] = []
    worse: list[IntArray] = []
    for q in qs:
        gi = g[q.rows]
        hi, lo = np.nonzero(gi[:, None] > gi[None, :])
        better.append(q.rows[hi])
        worse.append(q.rows[lo])
    if not better:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    b = np.concatenate(better)
    w = np.concatenate(worse)
    return b, w, g[b] - g[w]


class WeightLearner:
    """Pairwise logistic regression on signal differences, constrained to weights >= 0.

    ``fit(features, grades, qs)``: features (n, 7) from ``feature_vector``, grades (n,)
    (higher is better) and the queries pairs are drawn from. Learned: ``coef_`` (7,) >= 0 and
    ``weights_`` (signal name → weight, summing to 1), ``n_pairs_``, ``dropped_``.
    """

    def __init__(self, c: float = 10.0, max_pairs: int = 200_000, random_state: int = 0) -> None:
        self.c = c
        self.max_pairs = max_pairs
        self.random_state = random_state

    def fit(self, features: npt.ArrayLike, grades: npt.ArrayLike, qs: Sequence[Query]) -> Self:
        """Fit on the labelled pairs of ``qs``; MatcherError when there are none."""
        x = np.asarray(features, dtype=np.float64)
        b, w, gap = ranking_pairs(grades, qs)
        if b.size == 0:
            raise MatcherError("no pair of labels with different grades in one query")
        if b.size > self.max_pairs:
            keep = np.random.default_rng(self.random_state).choice(b.size, self.max_pairs, False)
            b, w, gap = b[keep], w[keep], gap[keep]
        diff = x[b] - x[w]
        # Both orientations, so the classes balance and no intercept is needed.
        data = np.vstack([diff, -diff])
        target = np.concatenate([np.ones(b.size), np.zeros(b.size)])
        weight = np.concatenate([gap, gap])
        active = np.ones(x.shape[1], dtype=bool)
        coef = np.zeros(x.shape[1])
        while active.any():
            model = LogisticRegression(C=self.c, fit_intercept=False, max_iter=1000)
            model.fit(data[:, active], target, sample_weight=weight)
            got = model.coef_[0]
            if (got >= 0).all():
                coef[active] = got
                break
            # A signal that ranks against the outcomes cannot take a negative weight: drop it.
            idx = np.flatnonzero(active)
            active[idx[got < 0]] = False
        if coef.sum() <= 0:
            raise MatcherError("no signal ranks the labelled outcomes better than chance")
        self.coef_ = coef
        self.weights_ = {name: float(v) for name, v in zip(SIGNALS, coef / coef.sum(), strict=True)}
        self.dropped_ = [name for name, on in zip(SIGNALS, active, strict=True) if not on]
        self.n_pairs_ = int(b.size)
        return self

    def fusion_weights(self, base: FusionWeights | None = None) -> FusionWeights:
        """``base`` (default: the defaults) with the learned signal weights; text fusion kept."""
        if not hasattr(self, "weights_"):
            raise NotFittedError("WeightLearner.fit must be called first")
        return with_signal_weights(base or FusionWeights(), self.weights_)


def with_signal_weights(base: FusionWeights, weights: Mapping[str, float]) -> FusionWeights:
    """A copy of ``base`` with these signal weights (dense shares and text mapping kept)."""
    from dataclasses import replace

    return replace(base, **{name: float(weights[name]) for name in SIGNALS})


def _ndcg(scores: FloatArray, grades: FloatArray) -> float:
    # Ties are broken against the weights (worse grade first): no credit for a flat score.
    order = np.lexsort((grades, -scores))
    gains = 2.0 ** grades[order] - 1.0
    discounts = 1.0 / np.log2(np.arange(2, grades.size + 2))
    ideal = (2.0 ** np.sort(grades)[::-1] - 1.0) @ discounts
    return float(gains @ discounts / ideal) if ideal > 0 else 0.0


def _pair_accuracy(scores: FloatArray, grades: FloatArray) -> float:
    hi, lo = np.nonzero(grades[:, None] > grades[None, :])
    if hi.size == 0:
        return 0.0
    diff = scores[hi] - scores[lo]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


@dataclass(frozen=True, slots=True)
class QueryScores:
    """Per-query nDCG (gain 2^grade − 1, all labelled items) and pairwise accuracy (AUC)."""

    ndcg: FloatArray
    auc: FloatArray

    def summary(self) -> dict[str, float]:
        """Means over queries, rounded for reports."""
        if self.ndcg.size == 0:
            return {"ndcg": 0.0, "auc": 0.0, "queries": 0}
        return {
            "ndcg": round(float(self.ndcg.mean()), 4),
            "auc": round(float(self.auc.mean()), 4),
            "queries": int(self.ndcg.size),
        }


def score_queries(
    weights: FusionWeights | Mapping[str, float],
    features: npt.ArrayLike,
    grades: npt.ArrayLike,
    qs: Sequence[Query],
) -> QueryScores:
    """nDCG and pairwise accuracy of each query when ranked by ``w · x``."""
    x = np.asarray(features, dtype=np.float64)
    g = np.asarray(grades, dtype=np.float64)
    scores = x @ weight_vector(weights) if x.size else np.zeros(0)
    ndcg = np.array([_ndcg(scores[q.rows], g[q.rows]) for q in qs])
    auc = np.array([_pair_accuracy(scores[q.rows], g[q.rows]) for q in qs])
    return QueryScores(ndcg, auc)


def bootstrap_gain(
    new: FloatArray, old: FloatArray, *, rounds: int = 1000, seed: int = 0
) -> tuple[float, float, float]:
    """Mean per-query gain ``new − old`` with a 90% bootstrap interval over queries."""
    diff = np.asarray(new, dtype=np.float64) - np.asarray(old, dtype=np.float64)
    if diff.size == 0:
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(rounds, diff.size))].mean(axis=1)
    low, high = np.quantile(means, [0.05, 0.95])
    return float(diff.mean()), float(low), float(high)
