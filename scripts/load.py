"""Load run: the service with 2 worker processes on PostgreSQL, a realistic mix from locust
(headless, loopback only, bounded in time); the last line is one JSON object with rps,
p50_ms, p95_ms, p99_ms, match_p95_ms and error_rate.

Those six are what issue #8's targets are stated in: `rps` and the percentiles are of the
authenticated reads (every request but logins and logouts) once every simulated person is in
(the steady state: from --settle-seconds after the last one was spawned to the end), as
`match_p95_ms` is of the match lists; `error_rate` is of every request of the whole run, the
ramp, logins and logouts included. The rest: the whole run (`run_*`: every request;
`read_*`: the reads; `login_*`), the steady state's other figures (`steady_*`) and the CPU
spent (see docs/load.md)."""

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
from typing import Any

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
    parser.add_argument("--ramp-seconds", type=float, default=10,
                        help="spawn every user within this many seconds (each logs in at once)")
    parser.add_argument("--settle-seconds", type=float, default=5,
                        help="the steady state begins this long after the last user spawned")
    args = parser.parse_args()
    env = service_env(args.database_url)
    fill_database(args.database_url, env)
    with running_service(env, args.workers) as (server, base):
        out = Path(tempfile.mkdtemp(prefix="jobmatch-load-")) / "stats"
        summary_path = out.with_name("summary.json")
        workers = psutil.Process(server.pid).children(recursive=True)
        database = postgres_processes()
        each_before = [cpu_seconds([w]) for w in workers]
        db_before, load_before = cpu_seconds(database), children_cpu_seconds()
        rate = max(1.0, args.users / max(args.ramp_seconds, 0.1))
        locust = subprocess.Popen(
            [str(Path(sys.executable).with_name("locust")), "-f",
             str(ROOT / "scripts" / "locustfile.py"), "--headless", "-u", str(args.users),
             "-r", f"{rate:g}", "-t", f"{args.seconds}s", "--host", base,
             "--csv", str(out), "--only-summary"],
            env={**os.environ, "JOBMATCH_LOAD_SUMMARY": str(summary_path),
                 "JOBMATCH_LOAD_SETTLE": str(args.settle_seconds)})
        # CPU samples (monotonic time, service, PostgreSQL, locust, the whole machine's busy
        # time) every half second, so the steady state's CPU can be told from the ramp's.
        samples: list[tuple[float, float, float, float, float]] = []
        locust_process = psutil.Process(locust.pid)
        deadline = time.monotonic() + args.seconds + 120
        while locust.poll() is None and time.monotonic() < deadline:
            samples.append((time.monotonic(), cpu_seconds(workers), cpu_seconds(database),
                            cpu_seconds([locust_process]), machine_busy_seconds()))
            time.sleep(0.5)
        if locust.poll() is None:
            locust.kill()
        locust.wait()
        each_cpu = [cpu_seconds([w]) - b for w, b in zip(workers, each_before, strict=True)]
        server_cpu = sum(each_cpu)
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
    steady = steady_state(summary, samples)
    result = {
        # the targets' figures (see the docstring)
        "rps": steady.get("steady_read_rps"),
        "p50_ms": steady.get("steady_read_p50_ms"), "p95_ms": steady.get("steady_read_p95_ms"),
        "p99_ms": steady.get("steady_read_p99_ms"),
        "match_p95_ms": steady.get("steady_match_p95_ms"),
        "error_rate": round(failures / requests, 5) if requests else None,
        # the whole run, ramp included: every request, then the reads alone, then logins
        "run_rps": round(float(total["Requests/s"]), 1),
        "run_p50_ms": float(total["50%"]), "run_p95_ms": float(total["95%"]),
        "run_p99_ms": float(total["99%"]),
        "run_match_p95_ms": float(match.get("95%", "nan")),
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
        # how the work fell between the worker processes (CPU seconds of each over the run)
        "worker_cpu_seconds": [round(c, 1) for c in each_cpu],
        **steady,
        "requests": requests, "users": args.users, "seconds": args.seconds,
        "ramp_seconds": args.ramp_seconds, "settle_seconds": args.settle_seconds,
        "workers": args.workers,
    }
    print(json.dumps(result))


def steady_state(
    summary: dict[str, Any], samples: Sequence[tuple[float, float, float, float, float]]
) -> dict[str, Any]:
    """The steady state's figures (`steady_*`): the requests sent from a few seconds after
    every user was spawned to the end, and the CPU spent meanwhile (from the samples nearest
    its start and end)."""
    began = summary.get("steady_started")
    if began is None or began == float("inf") or not samples:
        return {"steady_seconds": 0}
    kinds = {k: summary.get("steady_" + k, {}) for k in ("read", "login", "logout", "match")}
    count = sum(kinds[k].get("count", 0) for k in ("read", "login", "logout"))
    errors = sum(kinds[k].get("failures", 0) for k in ("read", "login", "logout"))
    first = next((s for s in samples if s[0] >= began), samples[-1])
    last = samples[-1]
    seconds = max(last[0] - first[0], 1e-9)
    # requests counted over the whole steady state, CPU over the sampled part of it
    seconds_total = max(summary.get("ended", last[0]) - began, 1e-9)

    def per_request(i: int) -> float | None:
        return round(1000 * (last[i] - first[i]) / (count * seconds / seconds_total), 2) if (
            count) else None

    reads, logins = kinds["read"], kinds["login"]
    return {
        "steady_seconds": round(seconds_total, 1),
        "steady_rps": round(count / seconds_total, 1),
        "steady_error_rate": round(errors / count, 5) if count else None,
        "steady_read_rps": reads.get("rps"), "steady_read_p50_ms": reads.get("p50_ms"),
        "steady_read_p95_ms": reads.get("p95_ms"), "steady_read_p99_ms": reads.get("p99_ms"),
        "steady_read_errors": reads.get("failures"),
        "steady_match_p95_ms": kinds["match"].get("p95_ms"),
        "steady_login_rps": logins.get("rps"), "steady_login_p95_ms": logins.get("p95_ms"),
        "steady_server_cpu_ms_per_request": per_request(1),
        "steady_postgres_cpu_ms_per_request": per_request(2),
        "steady_locust_cpu_ms_per_request": per_request(3),
        # the share of the machine's cores busy (anything, the kernel included) meanwhile
        "steady_machine_busy": round((last[4] - first[4]) / seconds / psutil.cpu_count(), 3),
    }


def postgres_processes() -> list[psutil.Process]:
    """The PostgreSQL server's processes on this machine (the postmaster and its backends)."""
    names = ("postgres", "postgresql")
    return [p for p in psutil.process_iter(["name"]) if p.info["name"] in names]


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent on anything but idling and I/O wait."""
    times = psutil.cpu_times()._asdict()
    # guest time is already counted in user time on Linux
    idle = ("idle", "iowait", "guest", "guest_nice")
    return float(sum(v for k, v in times.items() if k not in idle))


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
