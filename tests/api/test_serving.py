"""How a served process runs requests: reads on the event loop (statement by statement on
PostgreSQL), everything else on worker threads; the start-up heap set aside from the cyclic
collector; a connect timeout for PostgreSQL."""

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.db import CONNECT_TIMEOUT_SECONDS, server_connect_args
from api.main import create_app, settle_start_up_heap
from api.settings import Settings
from models import AuditLog
from models.base import Role
from tests import factories as f

Seen = list[tuple[str, bool | None]]


@pytest.fixture
def statements(engine: Engine) -> Iterator[Seen]:
    """For every statement on the login sessions (reading one to authenticate, unless the
    process keeps its caller; ending one): the thread it ran on and, on PostgreSQL, whether
    its connection was in autocommit (no BEGIN, no COMMIT)."""
    seen: Seen = []

    def record(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "auth_session" in statement:
            dbapi = conn.connection.dbapi_connection
            autocommit = dbapi.autocommit if engine.dialect.name == "postgresql" else None
            seen.append((threading.current_thread().name, autocommit))

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _on_worker_thread(name: str) -> bool:
    return name.startswith("AnyIO worker thread")


@pytest.mark.parametrize("inline", [True, False])
def test_reads_run_on_the_event_loop_unless_switched_off_and_changes_on_worker_threads(
    settings: Settings, engine: Engine, session: Session, statements: Seen, inline: bool
) -> None:
    seeker = f.account(session, Role.seeker)
    auth = f.headers(session, settings, seeker)
    app = create_app(settings.model_copy(update={"inline_reads": inline}), engine)
    statements.clear()  # the login session made above
    with TestClient(app) as client:
        r = client.get("/auth/me", headers=auth)
        assert r.status_code == 200 and r.json()["id"] == seeker.id
        (read_thread, read_autocommit), *_ = statements
        statements.clear()
        r = client.post("/auth/logout", headers=auth)  # a change: the session ends
        assert r.status_code == 204, r.text
        (write_thread, write_autocommit), *_ = statements
    assert _on_worker_thread(read_thread) is not inline
    assert _on_worker_thread(write_thread)
    postgres = engine.dialect.name == "postgresql"
    # On PostgreSQL a read on the loop runs without BEGIN/COMMIT; a change is one transaction.
    assert read_autocommit is (inline if postgres else None)
    assert write_autocommit is (False if postgres else None)


def test_a_refused_read_on_the_event_loop_still_keeps_its_audit_row(
    settings: Settings, engine: Engine, session: Session
) -> None:
    employer = f.account(session, Role.employer)
    auth = f.headers(session, settings, employer)
    with TestClient(create_app(settings, engine)) as client:
        r = client.get("/referrals/queue", headers=auth)  # caseworkers only
        assert r.status_code == 403
    with Session(engine) as s:
        actions = s.exec(select(AuditLog.action).where(AuditLog.actor_id == employer.id)).all()
    assert "access_denied" in actions


def test_the_start_up_heap_is_set_aside_from_the_collector() -> None:
    gc.unfreeze()
    try:
        settle_start_up_heap()
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+psycopg://u@db:5432/jobmatch", {"connect_timeout": CONNECT_TIMEOUT_SECONDS}),
        ("postgresql+psycopg://u@db:5432/jobmatch?connect_timeout=2", {}),
        ("sqlite:///data/jobmatch.db", {}),
    ],
)
def test_postgresql_connections_time_out_unless_the_url_says_otherwise(
    url: str, expected: dict[str, int]
) -> None:
    assert server_connect_args(url) == expected
