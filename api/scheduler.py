"""Scheduled jobs (APScheduler 3): the registry, runs recorded in `job_run`, one leader.

Each job is an idempotent function of a JobContext that can be run by hand
(`jobmatch jobs run NAME`). The scheduler runs in `jobmatch serve` (embedded default, when
`settings.scheduler_enabled`) or in `jobmatch worker`; several may run at once: only the one
holding a PostgreSQL advisory lock on a dedicated connection leads and runs jobs, and another
takes over when it dies (its connection closes, so the lock is released). On SQLite the lead
is trivially the single process.

Misfires: `coalesce=True` and no misfire grace limit, so a late job runs once, never zero
times; on taking the lead, a job whose last successful run is older than its previous fire
time (the process was down across one or several periods) is scheduled at that past time,
which APScheduler coalesces into exactly one catch-up run.
"""

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from api.db import session_scope
from api.schemas.pushes import JobOut
from api.services import accessibility, delivery, digests
from api.services.digests import JobContext
from api.services.outbox import local_zone
from api.settings import Settings
from models import JobRun
from models.base import utcnow

log = logging.getLogger(__name__)


def _deliver(ctx: JobContext) -> dict[str, Any]:
    return delivery.deliver_due(ctx.engine, ctx.settings, clock=ctx.clock).as_dict()


def _accessibility(ctx: JobContext) -> dict[str, Any]:
    return accessibility.run_expiry_and_reminders(ctx.engine, ctx.settings, ctx.clock())


@dataclass(frozen=True)
class JobSpec:
    name: str
    description: str
    run: Callable[[JobContext], dict[str, Any]]
    trigger: Callable[[Settings], BaseTrigger]
    catch_up: bool = True  # run once on taking the lead if a fire time was missed


def _cron(**fields: Any) -> Callable[[Settings], BaseTrigger]:
    def make(settings: Settings) -> BaseTrigger:
        values = {k: (v(settings) if callable(v) else v) for k, v in fields.items()}
        return CronTrigger(timezone=local_zone(settings.timezone), **values)

    return make


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(
            "digest",
            "recommendation digests (daily or weekly, per seeker)",
            digests.run_digest,
            _cron(hour=lambda s: s.digest_hour, minute=0),
        ),
        JobSpec(
            "trainings",
            "training offers that close a seeker's skill gap",
            digests.run_trainings,
            _cron(day_of_week="mon", hour=lambda s: s.digest_hour, minute=20),
        ),
        JobSpec(
            "reminders",
            "caseworker reminders of referrals past their deadline",
            digests.run_reminders,
            _cron(hour="8-18", minute=5),
        ),
        JobSpec(
            "employer_digest",
            "new pseudonymous candidates for employers' open postings",
            digests.run_employer_digest,
            _cron(hour=lambda s: s.digest_hour, minute=40),
        ),
        JobSpec(
            "expiry",
            "close postings past their expiry and tell the employer",
            digests.run_expiry,
            _cron(minute=15),
        ),
        JobSpec(
            "accessibility",
            "expire old accessibility checks and remind caseworkers to check again",
            _accessibility,
            _cron(hour=lambda s: s.digest_hour, minute=50),
        ),
        JobSpec(
            "embeddings",
            "embed postings and profiles whose vector is missing or stale",
            digests.run_embeddings,
            lambda s: IntervalTrigger(minutes=15, timezone=local_zone(s.timezone)),
            catch_up=False,
        ),
        JobSpec(
            "deliver",
            "deliver written pushes (e-mail, webhook) with retries",
            _deliver,
            lambda s: IntervalTrigger(
                seconds=s.deliver_interval_seconds, timezone=local_zone(s.timezone)
            ),
            catch_up=False,
        ),
    )
}


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


def run_job(name: str, ctx: JobContext) -> dict[str, Any]:
    """Run one job now, recording the run; raises KeyError for an unknown name."""
    spec = JOBS[name]
    with session_scope(ctx.engine) as session:
        run = JobRun(job=name, runner=runner_name(), started_at=utcnow())
        session.add(run)
        session.flush()
        run_id = run.id
    try:
        summary = spec.run(ctx)
    except Exception as exc:
        with session_scope(ctx.engine) as session:
            row = session.get(JobRun, run_id)
            if row is not None:
                row.status, row.finished_at = "failed", utcnow()
                row.error = type(exc).__name__[:500]  # no message: it may quote data
                session.add(row)
        log.exception("job %s failed", name)
        raise
    with session_scope(ctx.engine) as session:
        row = session.get(JobRun, run_id)
        if row is not None:
            row.status, row.finished_at, row.summary = "ok", utcnow(), summary
            session.add(row)
    log.info("job %s done: %s", name, summary)
    return summary


def last_runs(session: Session) -> dict[str, JobRun]:
    """The latest run of each job (any outcome)."""
    out: dict[str, JobRun] = {}
    for row in session.exec(select(JobRun).order_by(col(JobRun.started_at))):
        out[row.job] = row
    return out


def last_success(session: Session, name: str) -> datetime | None:
    row = session.exec(
        select(JobRun)
        .where(JobRun.job == name, JobRun.status == "ok")
        .order_by(col(JobRun.started_at).desc())
        .limit(1)
    ).first()
    return row.started_at if row else None


def missed_fire_time(
    trigger: BaseTrigger, last_ok: datetime | None, now: datetime
) -> datetime | None:
    """The first fire time after the last successful run, if it is already past."""
    if last_ok is None:
        return None
    after = last_ok + timedelta(microseconds=1)
    fire: datetime | None = trigger.get_next_fire_time(None, after)
    return fire if fire is not None and fire <= now else None


def build_scheduler(ctx: JobContext, *, names: list[str] | None = None) -> BackgroundScheduler:
    """A scheduler with every job (or the named ones), catch-up runs set where missed."""
    settings = ctx.settings
    zone = local_zone(settings.timezone)
    scheduler = BackgroundScheduler(
        timezone=zone,
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
    )
    now = utcnow()
    with Session(ctx.engine) as session:
        last = {n: last_success(session, n) for n in JOBS}
    for name, spec in JOBS.items():
        if names is not None and name not in names:
            continue
        trigger = spec.trigger(settings)
        kwargs: dict[str, Any] = {}
        missed = missed_fire_time(trigger, last[name], now) if spec.catch_up else None
        if missed is not None:
            kwargs["next_run_time"] = missed  # in the past: coalesced into one catch-up run
            log.info("job %s missed %s: one catch-up run", name, missed.isoformat())
        scheduler.add_job(
            _safe_run, trigger, args=[name, ctx], id=name, name=spec.description, **kwargs
        )
    return scheduler


def _safe_run(name: str, ctx: JobContext) -> None:
    try:
        run_job(name, ctx)
    except Exception:  # noqa: BLE001 - recorded in job_run and logged; the scheduler goes on
        return


def next_runs(settings: Settings, now: datetime | None = None) -> dict[str, datetime | None]:
    moment = now or utcnow()
    out: dict[str, datetime | None] = {}
    for name, spec in JOBS.items():
        fire: datetime | None = spec.trigger(settings).get_next_fire_time(None, moment)
        out[name] = fire
    return out


# --- leadership -----------------------------------------------------------------------------------


class Leadership:
    """The scheduler lead: a PostgreSQL advisory lock held on a dedicated connection for as
    long as this process leads; trivially held on SQLite (one process writes)."""

    def __init__(self, engine: Engine, key: int) -> None:
        self.engine = engine
        self.key = key
        self._conn: Connection | None = None
        self.postgres = engine.dialect.name == "postgresql"

    @property
    def held(self) -> bool:
        return self._conn is not None or (not self.postgres and self._sqlite_held)

    _sqlite_held = False

    def try_acquire(self) -> bool:
        if not self.postgres:
            self._sqlite_held = True
            return True
        if self._conn is not None:
            return True
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
            )
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def still_held(self) -> bool:
        """False when the lock's connection is gone (the lock went with it)."""
        if not self.postgres:
            return self._sqlite_held
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure of the connection ends the lead
            self._drop()
            return False
        return True

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # noqa: BLE001, S110 - the connection is already broken
                pass

    def release(self) -> None:
        self._sqlite_held = False
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            self._conn.close()
        except Exception:  # noqa: BLE001 - closing the connection releases the lock anyway
            self._drop()
        self._conn = None


class Worker:
    """Runs the scheduler while leading; stands by (polling the lock) otherwise."""

    def __init__(self, ctx: JobContext, *, names: list[str] | None = None) -> None:
        self.ctx = ctx
        self.names = names
        self.stop_event = threading.Event()
        self.leadership = Leadership(ctx.engine, ctx.settings.scheduler_lock_key)
        self.scheduler: BackgroundScheduler | None = None
        self.leading = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Block until stop(): lead when the lock is free, stand by when it is not."""
        poll = self.ctx.settings.scheduler_standby_poll_seconds
        while not self.stop_event.is_set():
            try:
                acquired = self.leadership.try_acquire()
            except Exception:  # noqa: BLE001 - the database is away: try again later
                log.warning("scheduler: cannot reach the database for the lead; retrying")
                acquired = False
            if not acquired:
                self.stop_event.wait(poll)
                continue
            log.info("scheduler: leading (%s)", runner_name())
            self.scheduler = build_scheduler(self.ctx, names=self.names)
            self.scheduler.start()
            self.leading.set()
            while not self.stop_event.is_set() and self.leadership.still_held():
                self.stop_event.wait(poll)
            self.leading.clear()
            self.scheduler.shutdown(wait=self.stop_event.is_set())
            self.scheduler = None
            self.leadership.release()
            if not self.stop_event.is_set():
                log.warning("scheduler: lost the lead; standing by")

    def start_background(self) -> None:
        self._thread = threading.Thread(target=self.run, name="jobmatch-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)


def job_list(session: Session, settings: Settings) -> list[JobOut]:
    """Every job with its schedule, next run and latest run."""
    last = last_runs(session)
    upcoming = next_runs(settings)
    return [
        JobOut(
            name=name,
            description=spec.description,
            schedule=str(spec.trigger(settings)),
            next_run_at=upcoming[name],
            last_run_at=last[name].started_at if name in last else None,
            last_status=last[name].status if name in last else None,
        )
        for name, spec in JOBS.items()
    ]
