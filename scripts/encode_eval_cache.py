"""Encode the eval sets once with a matcher encoder; cache the vectors under /tmp, not the repo."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.eval_command import read_tsv
from matcher.encoders import TextEncoder, make_encoder

EVAL_ROOT = Path("/work/shared/eval")
CACHE = Path("/tmp/jobmatch_cache")


def cache_path(encoder: TextEncoder, set_name: str, side: str, kind: str) -> Path:
    """Where the vectors of one side of one set are cached."""
    safe = encoder.name.replace(":", "_").replace("/", "_")
    return CACHE / f"{set_name}.{side}.{kind}.{safe}.npy"


def encoded(encoder: TextEncoder, set_name: str, side: str, kind: str) -> np.ndarray:
    """Vectors of ``side`` (queries|corpus) encoded as ``kind`` (query|passage), cached."""
    path = cache_path(encoder, set_name, side, kind)
    if path.exists():
        return np.load(path)
    _, texts = read_tsv(EVAL_ROOT / set_name / f"{side}.tsv")
    start = time.perf_counter()
    fn = encoder.encode_queries if kind == "query" else encoder.encode_passages
    vecs = fn(texts)
    took = time.perf_counter() - start
    print(f"{set_name} {side} {kind} {encoder.name}: {len(texts)} in {took:.0f}s", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs)
    return vecs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    enc = make_encoder(args.model)
    plan = [
        ("csco-occ2posting", "corpus", "passage"),
        ("csco-occ2posting", "corpus", "query"),
        ("jobbert-val", "queries", "query"),
        ("csco-title2occ", "queries", "query"),
        ("csco-occ2posting", "queries", "query"),
        ("csco-title2occ", "corpus", "passage"),
        ("jobbert-val", "corpus", "passage"),
    ]
    for set_name, side, kind in plan:
        encoded(enc, set_name, side, kind)


if __name__ == "__main__":
    main()
