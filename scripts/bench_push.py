"""Benchmark a full recommendation digest run beside the raw matrix product it needs.

Synthetic data as in bench_match.py (clustered 384-d vectors, zh/en titles, constraints):
20,000 live postings posted over 90 days, 100,000 seekers who want a daily digest (stored
query vectors, thresholds 0.3-0.7). The digest run is what `jobmatch jobs run digest` does
after loading: fit the digest ranker on the live postings, rank every seeker in batches with
`rank_many` against the postings new since their last digest (scores normalised against all
live postings, so the full product is computed), keep the matches above each threshold, and
write the outbox (insert-or-ignore) into a migrated SQLite file. The raw product is the
blocked ``Q @ E.T`` of the same vectors, timed in the same run.

Prints figures; the last line is one JSON object:
``{"seekers", "postings", "digest_s", "matmul_only_s", ...}``.

Usage: python scripts/bench_push.py [--seekers 100000] [--postings 20000] [--db PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_match import NOW, LookupEncoder, make_postings, make_seekers  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlmodel import Session  # noqa: E402

from api.db import make_engine, upgrade  # noqa: E402
from api.services import outbox  # noqa: E402
from api.services.digests import DueSeeker, PostingInfo, digest_push_blocks, fit_ranker  # noqa: E402
from models import Account  # noqa: E402
from models.base import Role  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seekers", type=int, default=100_000)
    parser.add_argument("--postings", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()

    rng = np.random.default_rng(7)
    centroids = rng.standard_normal((300, 384)).astype(np.float32)
    postings = make_postings(args.postings, centroids, rng)
    # Every posting live (not expired) at NOW; posted over the last 90 days.
    postings = [replace(p, expires_at=NOW + timedelta(days=30)) for p in postings]
    vectors: dict[str, np.ndarray] = {}
    seekers = make_seekers(args.seekers, centroids, rng, vectors)
    encoder = LookupEncoder(vectors)
    from matcher.ranker import seeker_text

    seekers = [replace(s, embedding=vectors[seeker_text(s)]) for s in seekers]  # stored
    infos = {i: PostingInfo(p.title, f"单位 {i % 997}") for i, p in enumerate(postings)}
    postings = [replace(p, id=str(i)) for i, p in enumerate(postings)]
    seekers = [replace(s, id=str(i)) for i, s in enumerate(seekers)]
    since = NOW - timedelta(days=1)
    zone = outbox.local_zone("Asia/Shanghai")
    period = outbox.day_key(NOW, zone)
    thresholds = rng.choice([0.3, 0.4, 0.5, 0.6, 0.7], size=args.seekers)
    due = [
        DueSeeker(i + 1, i, period, "daily", float(thresholds[i]), since)
        for i in range(args.seekers)
    ]
    docs = {i: s for i, s in enumerate(seekers)}
    new_postings = sum(1 for p in postings if p.posted_at and p.posted_at > since)

    tmp = tempfile.TemporaryDirectory()
    db = args.db or Path(tmp.name) / "bench_push.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    with engine.begin() as conn:  # recipients (the outbox points at accounts)
        conn.execute(
            insert(Account),
            [
                {
                    "id": i + 1,
                    "email": f"s{i}@bench.invalid",
                    "password_hash": "x",
                    "role": Role.seeker,
                    "display_name": "",
                    "language": "zh",
                    "is_active": True,
                    "created_at": NOW,
                    "password_changed_at": NOW,
                }
                for i in range(args.seekers)
            ],
        )
    print(f"# {args.postings} postings ({new_postings} new since the last digest), "
          f"{args.seekers} seekers, k={args.k}, batches of {args.batch}")  # fmt: skip

    t0 = time.perf_counter()
    c0 = time.process_time()
    ranker = fit_ranker(encoder, postings, None, NOW)
    fit_s = time.perf_counter() - t0
    written = 0
    rank_s = write_s = 0.0
    for start in range(0, len(due), args.batch):
        batch = due[start : start + args.batch]
        t1 = time.perf_counter()
        blocks = digest_push_blocks(
            ranker, batch, docs, infos, k=args.k, now=NOW, labels={}, hidden=set()
        )
        for pushes in blocks:  # as the job does: a block written while the next is scored
            t2 = time.perf_counter()
            with Session(engine) as session:
                written += outbox.write(session, pushes, NOW)
                session.commit()
            t3 = time.perf_counter()
            write_s += t3 - t2
            rank_s += t2 - t1
            t1 = t3
    digest_s = time.perf_counter() - t0
    digest_cpu = time.process_time() - c0

    queries = np.stack([s.embedding for s in seekers]).astype(np.float32)
    emb = ranker.embeddings_
    t0 = time.perf_counter()
    c0 = time.process_time()
    for b in range(0, queries.shape[0], ranker.block_size):
        _ = queries[b : b + ranker.block_size] @ emb.T
    matmul_s = time.perf_counter() - t0
    matmul_cpu = time.process_time() - c0
    engine.dispose()
    tmp.cleanup()
    print(f"# fit {fit_s:.1f}s, rank+constraints {rank_s:.1f}s, outbox write {write_s:.1f}s "
          f"({written} pushes); digest {digest_s:.1f}s vs raw matmul {matmul_s:.1f}s "
          f"= {digest_s / matmul_s:.1f}x")  # fmt: skip
    print(
        json.dumps(
            {
                "seekers": args.seekers,
                "postings": args.postings,
                "digest_s": round(digest_s, 2),
                "matmul_only_s": round(matmul_s, 2),
                "ratio": round(digest_s / matmul_s, 2),
                "fit_s": round(fit_s, 2),
                "rank_s": round(rank_s, 2),
                "write_s": round(write_s, 2),
                "pushes": written,
                # CPU seconds of both cores: steadier than wall time on a shared machine
                "digest_cpu_s": round(digest_cpu, 2),
                "matmul_cpu_s": round(matmul_cpu, 2),
                "new_postings": new_postings,
            }
        )
    )


if __name__ == "__main__":
    main()
