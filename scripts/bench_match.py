"""Benchmark the Ranker on synthetic postings: latency, memory, batch throughput vs raw matmul.

Vectors are clustered (a few hundred topics plus noise, like real embeddings of job texts),
texts are short Chinese/English titles, and every posting carries constraints (work mode,
schedule, offers, place, expiry) so the hard-constraint path is exercised. Prints figures and
ends with one JSON line per size:
``postings, p50_ms, p95_ms, index_mib, batch_seekers_per_s, matmul_only_s``.

Usage: python scripts/bench_match.py [--sizes 10000 100000] [--queries 300] [--batch 10000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import api  # noqa: F401 - the service's native thread settings, before numpy loads

# isort: split
import numpy as np

from matcher.ranker import Ranker, seeker_text
from matcher.types import Need, Offer, PostingDoc, SeekerDoc

DIM = 384
NOW = datetime(2025, 6, 1, tzinfo=UTC)
ROLES_ZH = [
    "数据录入员",
    "仓库管理员",
    "客服专员",
    "保洁员",
    "会计",
    "行政助理",
    "质检员",
    "包装工",
    "网店运营",
    "平面设计",
    "软件测试",
    "电话销售",
    "收银员",
    "按摩师",
]
ROLES_EN = [
    "data entry clerk",
    "warehouse keeper",
    "customer service",
    "cleaner",
    "accountant",
    "office assistant",
    "quality inspector",
    "packer",
    "designer",
    "software tester",
]
SKILLS = ["Excel", "打字", "Python", "沟通", "驾驶", "会计", "Photoshop", "英语", "盲文", "手语"]
CODES = [
    "step_free",
    "lift",
    "screen_reader",
    "sign_language",
    "captioning",
    "quiet_space",
    "flexible_hours",
    "job_coach",
    "written_instructions",
    "accessible_restroom",
]
MODES = ["on_site", "hybrid", "remote"]
SCHEDULES = ["full_time", "part_time", "flexible", "any"]
CENTRE = (31.23, 121.47)


class LookupEncoder:
    """Answers seeker texts from precomputed vectors (the bench times the index, not a model)."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    @property
    def name(self) -> str:
        return "lookup"

    @property
    def dim(self) -> int:
        return DIM

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError("postings carry their embeddings")


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def make_postings(n: int, centroids: np.ndarray, rng: np.random.Generator) -> list[PostingDoc]:
    topic = rng.integers(0, centroids.shape[0], n)
    vecs = unit(centroids[topic] + 0.6 * rng.standard_normal((n, DIM)) / np.sqrt(DIM))
    out = []
    for i in range(n):
        zh = rng.random() < 0.7
        role = ROLES_ZH[topic[i] % len(ROLES_ZH)] if zh else ROLES_EN[topic[i] % len(ROLES_EN)]
        skills = list(rng.choice(SKILLS, size=int(rng.integers(0, 3)), replace=False))
        offers = [
            Offer(str(c), "available" if rng.random() < 0.7 else "arrangeable")
            for c in rng.choice(CODES, size=int(rng.integers(0, 5)), replace=False)
        ]
        out.append(
            PostingDoc(
                id=f"p{i}",
                title=f"{role}{i % 97}",
                text=f"{role} 岗位 {skills}" if zh else f"{role} position {skills}",
                required_skills=skills,
                offers=offers,
                work_mode=MODES[int(rng.choice(3, p=[0.6, 0.25, 0.15]))],  # type: ignore[arg-type]
                schedule=SCHEDULES[int(rng.integers(0, 4))],  # type: ignore[arg-type]
                lat=CENTRE[0] + rng.normal(0, 0.08),
                lon=CENTRE[1] + rng.normal(0, 0.08),
                wage_min=3000,
                wage_max=int(rng.integers(3500, 9000)),
                expires_at=NOW + timedelta(days=int(rng.integers(-10, 60))),
                posted_at=NOW - timedelta(days=int(rng.integers(0, 90))),
                embedding=vecs[i],
            )
        )
    return out


def make_seekers(
    n: int, centroids: np.ndarray, rng: np.random.Generator, vectors: dict[str, np.ndarray]
) -> list[SeekerDoc]:
    out = []
    for i in range(n):
        t = int(rng.integers(0, centroids.shape[0]))
        text = f"{ROLES_ZH[t % len(ROLES_ZH)]} 求职 {i}"
        vec = unit(centroids[t][None, :] + 0.8 * rng.standard_normal((1, DIM)) / 20)[0]
        needs = [
            Need(str(c), essential=bool(rng.random() < 0.3))
            for c in rng.choice(CODES, size=int(rng.integers(0, 3)), replace=False)
        ]
        seeker = SeekerDoc(
            id=f"s{i}",
            text=text,
            skills=list(rng.choice(SKILLS, size=2, replace=False)),
            needs=needs,
            schedule=SCHEDULES[int(rng.integers(0, 4))],  # type: ignore[arg-type]
            lat=CENTRE[0] + rng.normal(0, 0.05),
            lon=CENTRE[1] + rng.normal(0, 0.05),
            commute_limit_km=float(rng.choice([5, 10, 20, 50])),
            expected_wage=int(rng.integers(3000, 7000)),
        )
        vectors[seeker_text(seeker)] = vec
        out.append(seeker)
    return out


def bench(size: int, n_queries: int, n_batch: int, k: int = 20) -> dict[str, float]:
    rng = np.random.default_rng(size)
    centroids = rng.standard_normal((300, DIM)).astype(np.float32)
    postings = make_postings(size, centroids, rng)
    vectors: dict[str, np.ndarray] = {}
    seekers = make_seekers(max(n_queries, n_batch), centroids, rng, vectors)
    ranker = Ranker(LookupEncoder(vectors))
    start = time.perf_counter()
    ranker.fit(postings)
    fit_s = time.perf_counter() - start
    ranker.rank(seekers[0], k=k, now=NOW)  # warm-up
    lat = []
    for s in seekers[:n_queries]:
        t0 = time.perf_counter()
        ranker.rank(s, k=k, now=NOW)
        lat.append((time.perf_counter() - t0) * 1000)
    batch = seekers[:n_batch]
    t0 = time.perf_counter()
    ranker.rank_many(batch, k=k, now=NOW)
    batch_s = time.perf_counter() - t0
    queries = LookupEncoder(vectors).encode_queries([seeker_text(s) for s in batch])
    emb = ranker.embeddings_
    t0 = time.perf_counter()
    for b in range(0, queries.shape[0], ranker.block_size):
        _ = queries[b : b + ranker.block_size] @ emb.T
    matmul_s = time.perf_counter() - t0
    print(f"# {size} postings: fit {fit_s:.1f}s (lexical + constraint columns; vectors given)")
    print(
        f"# batch {n_batch} seekers {batch_s:.2f}s vs raw matmul {matmul_s:.2f}s"
        f" = {batch_s / matmul_s:.1f}x"
    )
    return {
        "postings": size,
        "p50_ms": round(float(np.percentile(lat, 50)), 2),
        "p95_ms": round(float(np.percentile(lat, 95)), 2),
        "index_mib": round(ranker.memory_bytes() / 2**20, 1),
        "batch_seekers_per_s": round(n_batch / batch_s, 1),
        "matmul_only_s": round(matmul_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    results = [bench(size, args.queries, args.batch) for size in args.sizes]
    for line in results:
        print(json.dumps(line))


if __name__ == "__main__":
    main()
