"""Ranking metrics over TREC-style qrels with graded gains (pure functions, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

Qrels = Mapping[str, Mapping[str, float]]
Run = Mapping[str, Sequence[str]]

METRICS = ("ndcg@10", "mrr@10", "recall@10", "recall@100", "map@100")


def ndcg_at(ranked: Sequence[str], gains: Mapping[str, float], k: int = 10) -> float:
    """nDCG@k in [0, 1] with exponential gain 2^g - 1 (0 when nothing is relevant)."""
    ideal = sorted((g for g in gains.values() if g > 0), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    if idcg == 0:
        return 0.0
    dcg = sum(
        (2 ** gains.get(d, 0.0) - 1) / math.log2(i + 2)
        for i, d in enumerate(ranked[:k])
        if gains.get(d, 0.0) > 0
    )
    return dcg / idcg


def mrr_at(ranked: Sequence[str], gains: Mapping[str, float], k: int = 10) -> float:
    """Reciprocal rank of the first relevant document within the top k, in [0, 1]."""
    for i, d in enumerate(ranked[:k]):
        if gains.get(d, 0.0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def recall_at(ranked: Sequence[str], gains: Mapping[str, float], k: int) -> float:
    """Share in [0, 1] of the relevant documents found in the top k."""
    relevant = {d for d, g in gains.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def average_precision_at(ranked: Sequence[str], gains: Mapping[str, float], k: int = 100) -> float:
    """AP@k in [0, 1], normalised by min(k, number of relevant documents)."""
    relevant = {d for d, g in gains.items() if g > 0}
    if not relevant:
        return 0.0
    hits = 0
    total = 0.0
    for i, d in enumerate(ranked[:k]):
        if d in relevant:
            hits += 1
            total += hits / (i + 1)
    return total / min(k, len(relevant))


def evaluate(run: Run, qrels: Qrels) -> dict[str, float]:
    """Mean of each metric in ``METRICS`` over the queries of ``qrels`` (missing runs score 0)."""
    queries = [q for q, g in qrels.items() if any(v > 0 for v in g.values())]
    if not queries:
        return dict.fromkeys(METRICS, 0.0)
    sums = dict.fromkeys(METRICS, 0.0)
    for q in queries:
        ranked = run.get(q, [])
        gains = qrels[q]
        sums["ndcg@10"] += ndcg_at(ranked, gains, 10)
        sums["mrr@10"] += mrr_at(ranked, gains, 10)
        sums["recall@10"] += recall_at(ranked, gains, 10)
        sums["recall@100"] += recall_at(ranked, gains, 100)
        sums["map@100"] += average_precision_at(ranked, gains, 100)
    return {m: s / len(queries) for m, s in sums.items()}
