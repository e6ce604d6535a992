"""Signals of given pairs, and fitting fusion weights from graded outcomes."""

import numpy as np
import pytest
from matcher_factories import NOW
from test_batch import random_postings, random_seekers

from matcher import FusionWeights, HashingEncoder, MatcherError
from matcher.learning import (
    SIGNALS,
    WeightLearner,
    bootstrap_gain,
    feature_vector,
    queries,
    score_queries,
    weight_vector,
)
from matcher.ranker import Ranker


def test_pair_signals_are_the_signals_ranking_shows() -> None:
    rng = np.random.default_rng(5)
    postings = random_postings(rng, 120)
    ranker = Ranker(HashingEncoder(dim=256)).fit(postings)
    by_id = {p.id: p for p in postings}
    checked = 0
    for s in random_seekers(rng, 12):
        matches = ranker.rank(s, k=200, now=NOW)  # every feasible posting, low ones too
        got = ranker.pair_signals(s, [by_id[m.id] for m in matches], now=NOW)
        for m, signals in zip(matches, got, strict=True):
            known = {k: v for k, v in signals.items() if v is not None}
            assert known.keys() == m.signals.keys()
            for key, value in m.signals.items():
                assert known[key] == pytest.approx(value, abs=1e-4), key
            # The score is w · x exactly when unknown side signals read as text relevance.
            w = weight_vector(ranker.weights)
            assert float(feature_vector(signals) @ w) == pytest.approx(m.score, abs=1e-4)
            checked += 1
    assert checked > 200


def test_pair_signals_score_a_posting_ranking_would_leave_out() -> None:
    rng = np.random.default_rng(6)
    postings = random_postings(rng, 30)
    ranker = Ranker(HashingEncoder(dim=128)).fit(postings)
    s = random_seekers(rng, 1)[0]
    closed = [p for p in postings if p.status == "closed"]
    assert closed
    out = ranker.pair_signals(s, closed, now=NOW)
    assert len(out) == len(closed)
    assert all(0.0 <= float(v) <= 1.0 for sig in out for v in sig.values() if v is not None)


def synthetic(
    truth: dict[str, float], n_seekers: int, per: int, noise: float, seed: int
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Seekers each label ``per`` items by true utility plus noise: top third saved (1), an
    item in the top 10% of everything hired (3), bottom third dismissed (0), rest unlabelled."""
    rng = np.random.default_rng(seed)
    w = weight_vector(truth)
    feats, grades, groups = [], [], []
    for s in range(n_seekers):
        x = rng.random((per, len(SIGNALS)))
        u = x @ w + rng.normal(0, noise, per)
        order = np.argsort(-u)
        third = per // 3
        for rank, i in enumerate(order):
            if third <= rank < per - third:
                continue
            grade = (3 if rank == 0 and u[i] > 0.65 else 1) if rank < third else 0
            feats.append(x[i])
            grades.append(grade)
            groups.append(s)
    return np.array(feats), np.array(grades), groups


TRUTH = {
    "text": 0.15,
    "skills": 0.35,
    "needs": 0.05,
    "location": 0.3,
    "wage": 0.1,
    "freshness": 0.0,
    "fit": 0.05,
}


def test_learner_recovers_the_weights_that_made_the_labels() -> None:
    feats, g, groups = synthetic(TRUTH, 300, 9, noise=0.05, seed=1)
    qs = queries(g, {"seeker": groups})
    learner = WeightLearner().fit(feats, g, qs)
    got = np.array([learner.weights_[n] for n in SIGNALS])
    want = weight_vector(TRUTH)
    assert abs(got.sum() - 1.0) < 1e-9 and (got >= 0).all()
    cosine = got @ want / np.linalg.norm(got) / np.linalg.norm(want)
    assert cosine > 0.95, (got, want)
    # The two heaviest signals come out heaviest, in order.
    assert [SIGNALS[i] for i in np.argsort(-got)[:2]] == ["skills", "location"]
    assert learner.n_pairs_ > 1000


def test_fitted_weights_beat_the_defaults_on_held_out_labels_from_other_weights() -> None:
    feats, g, groups = synthetic(TRUTH, 400, 9, noise=0.05, seed=2)
    train = np.array(groups) < 300
    qs_train = queries(g[train], {"seeker": list(np.array(groups)[train])})
    fitted = WeightLearner().fit(feats[train], g[train], qs_train).fusion_weights()
    qs_test = queries(g[~train], {"seeker": list(np.array(groups)[~train])})
    new = score_queries(fitted, feats[~train], g[~train], qs_test)
    old = score_queries(FusionWeights(), feats[~train], g[~train], qs_test)
    gain, low, _high = bootstrap_gain(new.ndcg, old.ndcg)
    assert gain > 0.02 and low > 0
    assert new.summary()["auc"] > old.summary()["auc"]


def test_labels_made_by_the_current_weights_give_no_gain() -> None:
    current = FusionWeights().signal_weights()
    feats, g, groups = synthetic(current, 400, 9, noise=0.05, seed=3)
    train = np.array(groups) < 300
    qs_train = queries(g[train], {"seeker": list(np.array(groups)[train])})
    fitted = WeightLearner().fit(feats[train], g[train], qs_train).fusion_weights()
    qs_test = queries(g[~train], {"seeker": list(np.array(groups)[~train])})
    new = score_queries(fitted, feats[~train], g[~train], qs_test)
    old = score_queries(FusionWeights(), feats[~train], g[~train], qs_test)
    gain, low, _high = bootstrap_gain(new.ndcg, old.ndcg)
    assert gain < 0.01 and low < 0  # nothing to gain: a margin refuses them


def test_a_signal_that_ranks_against_outcomes_gets_no_weight() -> None:
    rng = np.random.default_rng(4)
    n = 2000
    feats = rng.random((n, len(SIGNALS)))
    u = feats[:, 1] - 0.5 * feats[:, 4] + rng.normal(0, 0.05, n)  # wage counts against
    grades = (u > np.median(u)).astype(int)
    qs = queries(grades, {"seeker": [i // 10 for i in range(n)]})
    learner = WeightLearner().fit(feats, grades, qs)
    assert learner.weights_["wage"] == 0.0 and "wage" in learner.dropped_
    assert max(learner.weights_, key=learner.weights_.__getitem__) == "skills"


def test_no_pairs_is_a_clear_error() -> None:
    feats = np.random.default_rng(0).random((4, len(SIGNALS)))
    grades = np.array([1, 1, 0, 0])
    with pytest.raises(MatcherError, match="no pair"):
        WeightLearner().fit(feats, grades, queries(grades, {"seeker": [1, 1, 2, 2]}))


def test_queries_need_two_different_grades() -> None:
    keys = {"seeker": ["a", "a", "b", "b", "c"], "posting": [7, 7, 7, 7, None]}
    qs = queries([1, 0, 1, 1, 0], keys)
    assert [(q.kind, list(q.rows)) for q in qs] == [
        ("seeker", [0, 1]),
        ("posting", [0, 1, 2, 3]),
    ]


def test_feature_vector_reads_unknown_side_signals_as_text() -> None:
    x = feature_vector({"text": 0.4, "skills": 1.0, "needs": None, "wage": 0.25, "fit": 1.0})
    assert list(x) == [0.4, 1.0, 0.4, 0.4, 0.25, 0.4, 1.0]
