"""``jobmatch eval DIR``: the product ranker and plain baselines on one evaluation set.

The folder holds ``queries.tsv`` and ``corpus.tsv`` (header ``id<TAB>text``) and ``qrels.tsv``
(TREC: ``qid 0 docid gain``). Each query is read as a seeker profile and each corpus item as
a posting; no hard constraint applies (all postings open, no needs, no places). One JSON
line is printed per ranker with nDCG@10, MRR@10, recall@10, recall@100 and MAP@100.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer

from matcher.encoders import TextEncoder, make_encoder
from matcher.evaluation import METRICS, evaluate
from matcher.lexical import BM25
from matcher.ranker import Ranker
from matcher.text import detect_language
from matcher.types import PostingDoc, SeekerDoc

DEPTH = 100
RUN_TAG = "jobmatch"
# A fixed moment: evaluation must not depend on the clock.
EVAL_NOW = datetime(2025, 1, 1, tzinfo=UTC)
ScoreFn = Callable[[int, int], npt.NDArray[np.float32]]


@dataclass(frozen=True, slots=True)
class EvalSet:
    """One evaluation folder read into memory."""

    name: str
    query_ids: list[str]
    query_texts: list[str]
    doc_ids: list[str]
    doc_texts: list[str]
    qrels: dict[str, dict[str, float]]


def read_tsv(path: Path) -> tuple[list[str], list[str]]:
    """Ids and texts of an ``id<TAB>text`` file with a header line."""
    ids: list[str] = []
    texts: list[str] = []
    with path.open(encoding="utf-8") as fh:
        next(fh, None)
        for line in fh:
            if not line.strip():
                continue
            item_id, _, text = line.rstrip("\n").partition("\t")
            ids.append(item_id)
            texts.append(text)
    return ids, texts


def read_qrels(path: Path) -> dict[str, dict[str, float]]:
    """TREC qrels ``qid 0 docid gain`` as {qid: {docid: gain}}."""
    out: dict[str, dict[str, float]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 4:
                out.setdefault(parts[0], {})[parts[2]] = float(parts[3])
    return out


def read_set(directory: Path) -> EvalSet:
    """Read one evaluation folder."""
    qids, qtexts = read_tsv(directory / "queries.tsv")
    dids, dtexts = read_tsv(directory / "corpus.tsv")
    return EvalSet(directory.name, qids, qtexts, dids, dtexts, read_qrels(directory / "qrels.tsv"))


def top_ids(
    scores: npt.NDArray[np.float32], doc_ids: Sequence[str], depth: int = DEPTH
) -> list[str]:
    """Ids of the ``depth`` best scores of one row, best first (ties by corpus order)."""
    depth = min(depth, scores.shape[0])
    part = np.argpartition(-scores, depth - 1)[:depth]
    order = part[np.lexsort((part, -scores[part]))]
    return [doc_ids[i] for i in order]


def run_by_scores(data: EvalSet, score_block: ScoreFn, block: int = 512) -> dict[str, list[str]]:
    """A run from a function giving the (b, n_docs) scores of queries [start, stop)."""
    run: dict[str, list[str]] = {}
    for start in range(0, len(data.query_ids), block):
        stop = min(start + block, len(data.query_ids))
        scores = score_block(start, stop)
        for i in range(stop - start):
            run[data.query_ids[start + i]] = top_ids(scores[i], data.doc_ids)
    return run


def tfidf_run(data: EvalSet, sublinear: bool) -> dict[str, list[str]]:
    """Baseline: cosine of TF-IDF on character 1-3-grams (``char_wb``)."""
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=sublinear)
    docs = vec.fit_transform(data.doc_texts)
    queries = vec.transform(data.query_texts)
    return run_by_scores(
        data, lambda a, b: np.asarray((queries[a:b] @ docs.T).toarray(), dtype=np.float32)
    )


def bm25_run(data: EvalSet) -> dict[str, list[str]]:
    """Baseline: BM25 on the same character 1-3-grams."""
    bm25 = BM25().fit(data.doc_texts)
    return run_by_scores(data, lambda a, b: bm25.score(data.query_texts[a:b]))


def dense_run(
    data: EvalSet, query_vecs: npt.NDArray[np.float32], doc_vecs: npt.NDArray[np.float32]
) -> dict[str, list[str]]:
    """Baseline: the product's dense encoder alone (cosine)."""
    return run_by_scores(data, lambda a, b: query_vecs[a:b] @ doc_vecs.T)


def product_run(
    data: EvalSet,
    encoder: TextEncoder,
    doc_vecs: npt.NDArray[np.float32],
    ranker: Ranker | None = None,
) -> dict[str, list[tuple[str, float]]]:
    """The product's Ranker (default weights) on the set: top 100 (id, score) per query."""
    postings = [
        PostingDoc(id=d, text=t, embedding=doc_vecs[i])
        for i, (d, t) in enumerate(zip(data.doc_ids, data.doc_texts, strict=True))
    ]
    seekers = [
        SeekerDoc(id=q, text=t, language="zh" if detect_language(t) == "zh" else "en")
        for q, t in zip(data.query_ids, data.query_texts, strict=True)
    ]
    fitted = (ranker or Ranker(encoder)).fit(postings)
    results = fitted.rank_many(seekers, k=DEPTH, now=EVAL_NOW)
    return {s.id: [(m.id, m.score) for m in ms] for s, ms in zip(seekers, results, strict=True)}


def write_run(path: Path, run: dict[str, list[tuple[str, float]]], tag: str = RUN_TAG) -> None:
    """TREC run file: ``qid Q0 docid rank score tag``."""
    with path.open("w", encoding="utf-8") as fh:
        for qid, ranked in run.items():
            for rank, (doc, score) in enumerate(ranked, start=1):
                fh.write(f"{qid} Q0 {doc} {rank} {score:.6f} {tag}\n")


def report(data: EvalSet, ranker_name: str, run: dict[str, list[str]]) -> dict[str, object]:
    """One result line: the set, the ranker, the query count and the metrics (4 decimals)."""
    metrics = evaluate(run, data.qrels)
    line: dict[str, object] = {"set": data.name, "ranker": ranker_name, "queries": len(run)}
    line.update({m: round(metrics[m], 4) for m in METRICS})
    return line


def evaluate_set(
    data: EvalSet,
    encoder: TextEncoder,
    query_vecs: npt.NDArray[np.float32] | None = None,
    doc_vecs: npt.NDArray[np.float32] | None = None,
    ranker: Ranker | None = None,
) -> tuple[list[dict[str, object]], dict[str, list[tuple[str, float]]]]:
    """Result lines of the product ranker and the baselines, and the product's run."""
    if doc_vecs is None:
        doc_vecs = encoder.encode_passages(data.doc_texts)
    if query_vecs is None:
        query_vecs = encoder.encode_queries(data.query_texts)
    product = product_run(data, _Cached(encoder, data.query_texts, query_vecs), doc_vecs, ranker)
    lines = [
        report(data, "product", {q: [d for d, _ in r] for q, r in product.items()}),
        report(data, "tfidf-char1-3", tfidf_run(data, sublinear=False)),
        report(data, "tfidf-char1-3-sublinear", tfidf_run(data, sublinear=True)),
        report(data, "bm25-char1-3", bm25_run(data)),
        report(data, f"dense-{encoder.name}", dense_run(data, query_vecs, doc_vecs)),
    ]
    return lines, product


class _Cached:
    """An encoder that answers the set's own queries from vectors already computed."""

    def __init__(self, inner: TextEncoder, texts: Sequence[str], vecs: npt.NDArray[np.float32]):
        self.inner = inner
        self._rows = {t: i for i, t in enumerate(texts)}
        self._vecs = vecs

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return int(self._vecs.shape[1])

    def _lookup(self, texts: Sequence[str]) -> npt.NDArray[np.float32] | None:
        rows = [self._rows.get(t) for t in texts]
        if any(r is None for r in rows):
            return None
        return self._vecs[[r for r in rows if r is not None]]

    def encode_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        found = self._lookup(texts)
        return self.inner.encode_queries(texts) if found is None else found

    def encode_passages(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self.inner.encode_passages(texts)


def eval_command(directory: Path, run_out: Path | None = None, model: str | None = None) -> None:
    """Print one JSON line per ranker (product and baselines); optionally write the TREC run."""
    data = read_set(Path(directory))
    encoder = make_encoder(model or "default")
    lines, product = evaluate_set(data, encoder)
    for line in lines:
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    if run_out is not None:
        write_run(Path(run_out), product)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    eval_command(
        Path(arguments[0]),
        Path(arguments[1]) if len(arguments) > 1 else None,
        arguments[2] if len(arguments) > 2 else None,
    )
