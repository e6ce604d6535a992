"""Scheduled jobs: `jobs list` and `jobs run`, exactly one push per recipient and period when a
real worker process is SIGKILLed mid-run and another finishes, two workers at once on
PostgreSQL (one leads, the other takes over when it dies), one catch-up run after several
missed periods."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from api import scheduler
from api.cli import app as cli
from api.services import outbox
from api.services.digests import JobContext
from api.settings import Settings, get_settings
from models import JobRun, Outbox, PushPreference
from models.base import utcnow
from models.tables import PushFrequency
from tests import factories as f
from tests.conftest import TEST_SECRET
from tests.waiting import until

ROOT = Path(__file__).resolve().parents[2]
JOBMATCH = [sys.executable, "-m", "api.cli"]


def seed(session: Session, seekers: int) -> list[int]:
    """Postings and seekers who all want a daily digest (threshold 0: every one is eligible)."""
    emp = f.employer(session)
    for title in ("数据录入员 Data entry clerk", "Excel 文员 Excel clerk", "客服 Customer service"):
        f.posting(session, emp, title=title, required_skills=["Excel"])
    accounts = []
    for _ in range(seekers):
        acc, _ = f.seeker(session, skills=["Excel", "打字"])
        session.add(
            PushPreference(account_id=acc.id or 0, frequency=PushFrequency.daily, min_score=0.0)
        )
        accounts.append(acc.id or 0)
    session.commit()
    return accounts


def env_for(engine: Engine, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "JOBMATCH_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "JOBMATCH_ENVIRONMENT": "test",
            "JOBMATCH_SECRET_KEY": TEST_SECRET,
            "JOBMATCH_EMBEDDING_MODEL": "hashing",
            "JOBMATCH_SCHEDULER_ENABLED": "false",
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    return env


def digest_counts(engine: Engine) -> Counter[tuple[int, str]]:
    with Session(engine) as s:
        return Counter(
            (r.recipient_id, r.period)
            for r in s.exec(select(Outbox).where(Outbox.kind == outbox.DIGEST))
        )


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    assert until(predicate, timeout, every=0.05), f"timed out waiting for {what}"


def assert_exactly_one_each(engine: Engine, accounts: list[int], settings: Settings) -> None:
    counts = digest_counts(engine)
    period = outbox.day_key(utcnow(), outbox.local_zone(settings.timezone))
    assert counts == Counter({(a, period): 1 for a in accounts})


def test_jobs_list_and_run_by_hand(
    engine: Engine, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = seed(session, 3)
    monkeypatch.setenv("JOBMATCH_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("JOBMATCH_EMBEDDING_MODEL", "hashing")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        r = runner.invoke(cli, ["jobs", "run", "digest"])
        assert r.exit_code == 0, r.output
        assert '"written": 3' in r.output
        r = runner.invoke(cli, ["jobs", "run", "digest"])
        assert '"written": 0' in r.output
        r = runner.invoke(cli, ["jobs", "list"])
        assert r.exit_code == 0
        for name in scheduler.JOBS:
            assert name in r.output
        assert "ok" in r.output.splitlines()[0]  # digest ran
        assert runner.invoke(cli, ["jobs", "run", "nope"]).exit_code == 2
        settings = get_settings()
    finally:
        get_settings.cache_clear()
    assert_exactly_one_each(engine, accounts, settings)


def test_sigkill_mid_digest_then_rerun_gives_exactly_one_each(
    engine: Engine, session: Session, settings: Settings
) -> None:
    accounts = seed(session, 24)
    env = env_for(engine, JOBMATCH_DIGEST_BATCH_SIZE="3", JOBMATCH_PUSH_BATCH_PAUSE_SECONDS="0.3")
    proc = subprocess.Popen([*JOBMATCH, "jobs", "run", "digest"], env=env, cwd=ROOT)
    try:
        wait_for(lambda: sum(digest_counts(engine).values()) >= 3, 60, "the first batch")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    written = sum(digest_counts(engine).values())
    assert 0 < written < len(accounts), "killed in the middle of the run"
    done = subprocess.run(
        [*JOBMATCH, "jobs", "run", "digest"], env=env, cwd=ROOT, timeout=120, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    assert f'"written": {len(accounts) - written}' in done.stdout
    assert_exactly_one_each(engine, accounts, settings)
    with Session(engine) as s:
        runs = s.exec(select(JobRun).where(JobRun.job == "digest")).all()
    assert sorted(r.status for r in runs) == ["ok", "running"]  # the killed one never finished


def _postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the scheduler lead is a PostgreSQL advisory lock")


def test_two_digest_runs_at_once_on_postgres(
    engine: Engine, session: Session, settings: Settings
) -> None:
    _postgres(engine)
    accounts = seed(session, 20)
    env = env_for(engine, JOBMATCH_DIGEST_BATCH_SIZE="4", JOBMATCH_PUSH_BATCH_PAUSE_SECONDS="0.05")
    procs = [
        subprocess.Popen(
            [*JOBMATCH, "jobs", "run", "digest"], env=env, cwd=ROOT, stdout=subprocess.PIPE
        )
        for _ in range(2)
    ]
    for p in procs:
        assert p.wait(120) == 0
    assert_exactly_one_each(engine, accounts, settings)


def test_two_workers_one_leads_the_other_takes_over_on_postgres(
    engine: Engine, session: Session, settings: Settings, tmp_path: Path
) -> None:
    _postgres(engine)
    accounts = seed(session, 12)
    # The digest last ran three days ago: the leader owes exactly one catch-up run.
    with Session(engine) as s:
        s.add(JobRun(job="digest", status="ok", started_at=utcnow() - timedelta(days=3)))
        s.commit()
    env = env_for(
        engine,
        JOBMATCH_DIGEST_BATCH_SIZE="2",
        JOBMATCH_PUSH_BATCH_PAUSE_SECONDS="0.2",
        JOBMATCH_SCHEDULER_STANDBY_POLL_SECONDS="0.2",
    )
    logs = [tmp_path / "w0.log", tmp_path / "w1.log"]
    procs = [
        subprocess.Popen(
            [*JOBMATCH, "worker"], env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT
        )
        for log in logs
    ]
    try:
        wait_for(lambda: sum(digest_counts(engine).values()) >= 2, 60, "the leader's digest")
        leaders = [i for i, log in enumerate(logs) if "scheduler: leading" in log.read_text()]
        assert len(leaders) == 1, [log.read_text() for log in logs]
        leader = leaders[0]
        procs[leader].send_signal(signal.SIGKILL)  # mid-run
        procs[leader].wait(10)
        other = 1 - leader
        wait_for(lambda: "scheduler: leading" in logs[other].read_text(), 30, "the takeover")
        # The killed run never recorded success, so the new leader catches up and finishes.
        wait_for(lambda: sum(digest_counts(engine).values()) == len(accounts), 60, "all digests")
        time.sleep(1.0)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
    assert_exactly_one_each(engine, accounts, settings)
    with Session(engine) as s:
        held = s.exec(  # type: ignore[call-overload]
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database ="
                " (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        ).one()  # this database only: other test runs may share the server
    assert held[0] == 0  # the lock went with the processes


def test_missed_periods_give_exactly_one_catch_up_run(
    engine: Engine, session: Session, settings: Settings
) -> None:
    accounts = seed(session, 3)
    four_days_ago = utcnow() - timedelta(days=4)
    with Session(engine) as s:
        s.add(JobRun(job="digest", status="ok", started_at=four_days_ago))
        s.commit()
    trigger = scheduler.JOBS["digest"].trigger(settings)
    missed = scheduler.missed_fire_time(trigger, four_days_ago, utcnow())
    assert missed is not None and missed < utcnow() - timedelta(days=2)  # several periods ago
    sched = scheduler.build_scheduler(JobContext(engine, settings), names=["digest"])
    sched.start()
    try:
        wait_for(lambda: len(runs(engine)) == 2 and runs(engine)[-1].status == "ok", 30, "run")
        time.sleep(1.5)  # time for any further (wrong) run
        job = sched.get_job("digest")
        assert job is not None and job.next_run_time > utcnow()
    finally:
        sched.shutdown(wait=True)
    assert len(runs(engine)) == 2  # the old one and exactly one catch-up
    assert_exactly_one_each(engine, accounts, settings)
    # Nothing missed since the catch-up run: no further catch-up is owed.
    last_ok = runs(engine)[-1].started_at
    assert scheduler.missed_fire_time(trigger, last_ok, utcnow()) is None


def runs(engine: Engine) -> list[JobRun]:
    with Session(engine) as s:
        return list(s.exec(select(JobRun).where(JobRun.job == "digest").order_by(JobRun.id)))


def test_serve_runs_the_scheduler_in_its_lifespan(settings: Settings, engine: Engine) -> None:
    from fastapi.testclient import TestClient

    from api.main import create_app

    app = create_app(settings.model_copy(update={"scheduler_enabled": True}), engine)
    with TestClient(app) as client:
        worker = app.state.scheduler
        assert worker is not None and worker.leading.wait(10)  # SQLite: trivially the lead
        assert worker.scheduler is not None
        assert {j.id for j in worker.scheduler.get_jobs()} == set(scheduler.JOBS)
        assert client.get("/health").status_code == 200
    assert worker.stop_event.is_set() and worker.scheduler is None
