"""Benchmark the posting import on a generated file (scripts/make_import_file.py).

Migrates a fresh SQLite file (or the database given), registers the file's employers and an
admin, then imports N rows as `jobmatch import postings` does (streamed, chunks of 500;
mode=row commits after each chunk, mode=file is one transaction), then imports the same file
again (every row unchanged). Embedding is not part of it (it runs afterwards, in batches, at
the speed of the model: see docs/matching.md).

Prints one JSON line: {"rows", "mode", "format", "encoding", "import_s", "rows_per_s",
"rerun_s", "rerun_rows_per_s", "created", "unchanged", "baseline_rss_mb", "peak_rss_mb"}.
Peak RSS is the process's high-water mark (ru_maxrss) after both runs; baseline is the same
just before the first import (Python, SQLAlchemy and the app's modules loaded).

Usage: python scripts/bench_import.py [--rows 50000] [--mode row|file] [--format csv|jsonl]
       [--encoding utf-8|gb18030] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from make_import_file import write  # noqa: E402
from sqlmodel import Session  # noqa: E402

from api.db import commit, make_engine, upgrade  # noqa: E402
from api.services.importer import ImportActor, ImportOptions, import_postings  # noqa: E402
from models import Account, Employer  # noqa: E402
from models.base import Role  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(
    engine: object, actor: ImportActor, path: Path, options: ImportOptions
) -> tuple[float, dict[str, int]]:
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:  # type: ignore[call-overload]
        with path.open("rb") as stream:
            report = import_postings(
                session,
                actor,
                stream,
                options,
                filename=path.name,
                checkpoint=lambda: commit(session),
            )
        commit(session)
    return time.perf_counter() - started, report.counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--mode", choices=["row", "file"], default="row")
    parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    parser.add_argument("--encoding", choices=["utf-8", "gb18030"], default="utf-8")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench_import.db'}"
    engine = make_engine(url)
    upgrade(engine)
    path = Path(tmp.name) / f"postings.{args.format}"
    codes = write(path, args.rows, fmt=args.format, encoding=args.encoding)
    with Session(engine) as session:
        for i, code in enumerate(codes):
            session.add(Employer(name=f"基准单位 Bench employer {i}", uscc=code, verified=True))
        admin = Account(email="bench-admin@bench.invalid", password_hash="x", role=Role.admin)
        session.add(admin)
        session.commit()
        actor = ImportActor(id=admin.id or 0, role=Role.admin, request_id="bench")
    options = ImportOptions(source="bench", mode=args.mode, row_limit=0)
    baseline = rss_mb()
    first_s, first = run(engine, actor, path, options)
    second_s, second = run(engine, actor, path, options)
    print(
        json.dumps(
            {
                "rows": args.rows,
                "mode": args.mode,
                "format": args.format,
                "encoding": args.encoding,
                "database": engine.dialect.name,
                "file_mb": round(path.stat().st_size / 1e6, 1),
                "import_s": round(first_s, 2),
                "rows_per_s": round(args.rows / first_s),
                "rerun_s": round(second_s, 2),
                "rerun_rows_per_s": round(args.rows / second_s),
                "created": first["created"],
                "unchanged": second["unchanged"],
                "baseline_rss_mb": round(baseline, 1),
                "peak_rss_mb": round(rss_mb(), 1),
            }
        )
    )
    engine.dispose()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
