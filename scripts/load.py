"""Load run: the service with 2 worker processes on PostgreSQL, a realistic mix from locust
(headless, loopback only, bounded in time); the last line is one JSON object with rps,
p50_ms, p95_ms, p99_ms, match_p95_ms and error_rate."""

import argparse
import csv
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.db import make_engine

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_database(url: str) -> None:
    target = make_url(url)
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


JOBMATCH = str(Path(sys.executable).with_name("jobmatch"))


def service_env(url: str) -> dict[str, str]:
    """The service's environment for a measured run: production settings, no scheduler. The
    service imports this checkout's code (PYTHONPATH), not whichever checkout the shared
    virtualenv was installed from in editable mode."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "JOBMATCH_DATABASE_URL": url,
            "JOBMATCH_ENVIRONMENT": "production", "JOBMATCH_SECRET_KEY": "load-" + "s" * 40,
            "JOBMATCH_EMBEDDING_MODEL": os.environ.get("JOBMATCH_EMBEDDING_MODEL", "hashing"),
            "JOBMATCH_SCHEDULER_ENABLED": "false", "JOBMATCH_INDEX_POLL_SECONDS": "1"}


def fill_database(url: str, env: dict[str, str]) -> None:
    """A fresh database, migrated, with the demo data and its embeddings."""
    fresh_database(url)
    for step in (["db", "upgrade"], ["demo-data"], ["embed"]):
        subprocess.run([JOBMATCH, *step], env=env, check=True, stdout=subprocess.DEVNULL)


@contextmanager
def running_service(
    env: dict[str, str], workers: int
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`jobmatch serve` with ``workers`` processes on a free loopback port: (the process, its
    base URL), yielded once /health answers (up to 120 s), stopped afterwards."""
    port = free_port()
    server = subprocess.Popen(
        [JOBMATCH, "serve", "--port", str(port), "--workers", str(workers)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        yield server, base
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get(
        "JOBMATCH_LOAD_DATABASE_URL",
        "postgresql+psycopg://postgres@127.0.0.1:5432/jobmatch_load"))
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    env = service_env(args.database_url)
    fill_database(args.database_url, env)
    with running_service(env, args.workers) as (server, base):
        out = Path(tempfile.mkdtemp(prefix="jobmatch-load-")) / "stats"
        summary_path = out.with_name("summary.json")
        workers = psutil.Process(server.pid).children(recursive=True)
        database = postgres_processes()
        cpu_before, db_before, load_before = (
            cpu_seconds(workers), cpu_seconds(database), children_cpu_seconds())
        subprocess.run(
            [str(Path(sys.executable).with_name("locust")), "-f",
             str(ROOT / "scripts" / "locustfile.py"), "--headless", "-u", str(args.users),
             "-r", str(max(1, args.users // 10)), "-t", f"{args.seconds}s", "--host", base,
             "--csv", str(out), "--only-summary"],
            check=False, timeout=args.seconds + 120,
            env={**os.environ, "JOBMATCH_LOAD_SUMMARY": str(summary_path)})
        server_cpu = cpu_seconds(workers) - cpu_before
        locust_cpu = children_cpu_seconds() - load_before  # locust, reaped by now
        database_cpu = cpu_seconds(database) - db_before
    with open(f"{out}_stats.csv", newline="") as stats:
        rows = {r["Name"]: r for r in csv.DictReader(stats)}
    total = rows["Aggregated"]
    requests = int(total["Request Count"])
    failures = int(total["Failure Count"])
    match = rows.get("matches", {})
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    reads, logins = summary.get("read", {}), summary.get("login", {})
    print(json.dumps({
        "rps": round(float(total["Requests/s"]), 1),
        "p50_ms": float(total["50%"]), "p95_ms": float(total["95%"]),
        "p99_ms": float(total["99%"]),
        "match_p95_ms": float(match.get("95%", "nan")),
        "error_rate": round(failures / requests, 5) if requests else None,
        # authenticated reads alone (every request but login and logout), and logins
        "read_rps": reads.get("rps"), "read_p50_ms": reads.get("p50_ms"),
        "read_p95_ms": reads.get("p95_ms"), "read_p99_ms": reads.get("p99_ms"),
        "read_errors": reads.get("failures"),
        "login_rps": logins.get("rps"), "login_p95_ms": logins.get("p95_ms"),
        "login_p99_ms": logins.get("p99_ms"),
        # CPU of the service's processes (not PostgreSQL's, not locust's) per request
        "server_cpu_ms_per_request": round(1000 * server_cpu / requests, 2) if requests else None,
        # the same for PostgreSQL's processes (the machine's, so run alone) and for locust
        "postgres_cpu_ms_per_request": round(1000 * database_cpu / requests, 2) if requests
        else None,
        "locust_cpu_ms_per_request": round(1000 * locust_cpu / requests, 2) if requests else None,
        "requests": requests, "users": args.users, "seconds": args.seconds,
        "workers": args.workers,
    }))


def postgres_processes() -> list[psutil.Process]:
    """The PostgreSQL server's processes on this machine (the postmaster and its backends)."""
    names = ("postgres", "postgresql")
    return [p for p in psutil.process_iter(["name"]) if p.info["name"] in names]


def children_cpu_seconds() -> float:
    """User and system CPU seconds of this process's children that have ended."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds(processes: Sequence[psutil.Process]) -> float:
    """User and system CPU seconds of the processes (those gone count nothing)."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


if __name__ == "__main__":
    main()
