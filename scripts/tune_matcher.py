"""Evaluate the product ranker and baselines on the eval sets from cached encodings (/tmp).

Usage: python scripts/tune_matcher.py [set ...] [--grid]. ``--grid`` also sweeps the dense share
of text relevance with the product's own fusion formula emulated in numpy (fast), so the
weights in ``FusionWeights`` can be chosen per language; the final lines always come from
the product Ranker itself.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from encode_eval_cache import EVAL_ROOT, encoded

from api.eval_command import evaluate_set, read_set, run_by_scores
from matcher.encoders import make_encoder
from matcher.evaluation import evaluate
from matcher.lexical import CharTfidf

SETS = ["csco-title2occ", "csco-occ2posting", "jobbert-val"]


def zscores(scores: np.ndarray) -> np.ndarray:
    """Row-wise z-scores."""
    return (scores - scores.mean(1, keepdims=True)) / (scores.std(1, keepdims=True) + 1e-9)


def grid(set_name: str, qv: np.ndarray, dv: np.ndarray) -> None:
    """nDCG@10 / recall@100 of a * z_dense + (1 - a) * z_lexical for a grid of a."""
    data = read_set(EVAL_ROOT / set_name)
    lex = CharTfidf().fit(data.doc_texts)
    docs = lex.transform(data.doc_texts)
    queries = lex.transform(data.query_texts)
    for share in (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0):

        def fused(a: int, b: int, share: float = share) -> np.ndarray:
            zd = zscores(qv[a:b] @ dv.T)
            zl = zscores((queries[a:b] @ docs.T).toarray())
            return (share * zd + (1 - share) * zl).astype(np.float32)

        m = evaluate(run_by_scores(data, fused), data.qrels)
        print(
            json.dumps(
                {
                    "set": set_name,
                    "dense_share": share,
                    "ndcg@10": round(m["ndcg@10"], 4),
                    "recall@100": round(m["recall@100"], 4),
                }
            ),
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sets", nargs="*", default=SETS)
    parser.add_argument("--grid", action="store_true")
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    encoder = make_encoder(args.model)
    for set_name in args.sets:
        qv = encoded(encoder, set_name, "queries", "query")
        dv = encoded(encoder, set_name, "corpus", "passage")
        if args.grid:
            grid(set_name, qv, dv)
        start = time.perf_counter()
        lines, _ = evaluate_set(read_set(EVAL_ROOT / set_name), encoder, qv, dv)
        for line in lines:
            print(json.dumps(line, ensure_ascii=False), flush=True)
        print(f"# {set_name}: {time.perf_counter() - start:.0f}s", flush=True)


if __name__ == "__main__":
    main()
