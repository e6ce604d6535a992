"""Migrations, SQLite settings, the append-only audit log and failed commits."""

import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session, select

import models
from api.db import downgrade, make_engine, ping_when_idle, upgrade
from api.settings import Settings
from models import AuditLog, Referral, ReferralEvent, SeekerProfile
from models.base import ReferralStatus, Role
from tests import factories as f
from tests.conftest import PG_URL


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own (PostgreSQL: a new database, dropped afterwards)."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield eng
        eng.dispose()
        return
    name = f"jobmatch_mig_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng = make_engine(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_round_trip(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    tables = set(inspect(fresh_engine).get_table_names())
    assert {t.name for t in models.metadata.sorted_tables} <= tables
    downgrade(fresh_engine, "base")
    assert set(inspect(fresh_engine).get_table_names()) <= {"alembic_version"}
    upgrade(fresh_engine)
    with Session(fresh_engine) as s:
        assert s.exec(text("SELECT COUNT(*) FROM centre")).one()[0] == 9  # type: ignore[call-overload]
        assert s.exec(text("SELECT COUNT(*) FROM accommodation")).one()[0] >= 30  # type: ignore[call-overload]


def test_models_match_migrations(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, models.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_referral_migration_keeps_rows_and_allows_one_live_referral_per_pair(
    fresh_engine: Engine,
) -> None:
    """0012 rebuilds the referral table on SQLite: its rows and the events pointing at them
    survive a downgrade and an upgrade, and afterwards a withdrawn referral may be followed
    by one live referral of the same pair, not two."""
    upgrade(fresh_engine)
    with Session(fresh_engine) as s:
        acc, profile = f.seeker(s)
        _, emp = f.employer_account(s)
        posting = f.posting(s, emp)
        pair = {"seeker_id": profile.id or 0, "posting_id": posting.id or 0, "created_by": acc.id}
        old = Referral(**pair, status=ReferralStatus.withdrawn)
        s.add(old)
        s.commit()
        s.add(ReferralEvent(referral_id=old.id or 0, to_status=ReferralStatus.withdrawn))
        s.commit()
        old_id = old.id
    downgrade(fresh_engine, "0011")
    upgrade(fresh_engine)
    with Session(fresh_engine) as s:
        assert [r.id for r in s.exec(select(Referral))] == [old_id]
        assert [e.referral_id for e in s.exec(select(ReferralEvent))] == [old_id]
        s.add(Referral(**pair, status=ReferralStatus.pending))
        s.commit()
        s.add(Referral(**pair, status=ReferralStatus.proposed))
        with pytest.raises(IntegrityError):
            s.commit()
    if fresh_engine.dialect.name == "sqlite":
        with fresh_engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []


def test_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path: Path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'wal.db'}", busy_timeout_ms=4321)
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 4321
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    eng.dispose()


def test_audit_log_is_append_only(engine: Engine) -> None:
    with Session(engine) as s:
        s.add(AuditLog(action="test", object_type="x"))
        s.commit()
    for statement in ("UPDATE audit_log SET action = 'changed'", "DELETE FROM audit_log"):
        with pytest.raises((IntegrityError, DBAPIError)), engine.begin() as conn:
            conn.execute(text(statement))
    with Session(engine) as s:
        assert s.exec(select(AuditLog.action)).all() == ["test"]


def test_a_failed_commit_is_an_error_response(
    client: TestClient, session: Session, settings: Settings, engine: Engine
) -> None:
    acc = f.account(session, Role.seeker)
    h = f.headers(session, settings, acc)

    def fail(conn: object) -> None:
        raise OperationalError("COMMIT", {}, sqlite3.OperationalError("disk I/O error"))

    event.listen(engine, "commit", fail)
    try:
        r = client.post("/seekers", headers=h, json={"full_name": "赵六 Zhao Liu"})
    finally:
        event.remove(engine, "commit", fail)
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "service_unavailable"
    assert "Retry-After" in r.headers
    assert session.exec(select(SeekerProfile)).first() is None
    r = client.post("/seekers", headers=h, json={"full_name": "赵六 Zhao Liu"})
    assert r.status_code == 201


def test_a_pooled_connection_is_pinged_only_after_sitting_idle(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ping.db'}")  # SQLite: no ping of its own
    ping_when_idle(engine, idle_seconds=0.2)
    pings: list[object] = []
    answers = iter([False])  # the first ping finds the connection dead; the rest are alive

    def ping(dbapi_conn: object) -> bool:
        pings.append(dbapi_conn)
        return next(answers, True)

    engine.dialect.do_ping = ping  # type: ignore[method-assign]

    def used() -> object:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
            return conn.connection.dbapi_connection

    first = used()
    assert used() is first and pings == []  # new, then in use a moment ago: no round trip
    time.sleep(0.3)
    replacement = used()  # idle past the bound: pinged, found dead, replaced before use
    assert pings[0] is first and replacement is not first
    assert used() is replacement
    engine.dispose()
