"""The callers each process keeps for recent tokens (api.services.authcache): served with no
database round trip, and forgotten the moment their session or account changes, whoever
changed it."""

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.main import create_app
from api.services.authcache import AuthCache, Kept
from api.settings import Settings
from models.base import Role, utcnow
from tests import factories as f
from tests.waiting import until

# How long a listener may take to hear a commit (or to connect) in these tests.
HEARD_WITHIN = 10.0

# --- the cache itself --------------------------------------------------------------------


def kept(token: str = "t", sid: str = "s1", aid: int = 7, minutes: int = 30) -> Kept[str]:
    return Kept(
        f"caller of {token}", sid, aid, utcnow() + timedelta(minutes=minutes), time.monotonic()
    )


def serving(ttl: float = 60.0, size: int = 100) -> AuthCache[str]:
    cache: AuthCache[str] = AuthCache(ttl=ttl, size=size)
    cache.start_serving()
    return cache


def test_kept_callers_are_served_until_forgotten() -> None:
    cache = serving()
    cache.put("a", kept("a", "s1", 7), cache.version)
    cache.put("b", kept("b", "s2", 7), cache.version)
    cache.put("c", kept("c", "s3", 8), cache.version)
    now = utcnow()
    assert cache.get("a", now) is not None and len(cache) == 3
    cache.heard("session:s1")  # a logout
    assert cache.get("a", now) is None and cache.get("b", now) is not None
    cache.heard("account:7")  # a password change, a deactivation, a new name
    assert cache.get("b", now) is None and cache.get("c", now) is not None
    cache.heard("something new:1")  # not understood: everything goes
    assert len(cache) == 0


def test_every_token_of_a_session_is_forgotten_with_it() -> None:
    cache = serving()
    cache.put("a", kept("a", "s1", 7), cache.version)
    cache.put("a2", kept("a2", "s1", 7), cache.version)  # another token naming the session
    cache.heard("session:s1")
    assert cache.get("a", utcnow()) is None and cache.get("a2", utcnow()) is None
    assert len(cache) == 0


def test_a_read_that_raced_a_change_is_not_kept() -> None:
    cache = serving()
    began = cache.version  # the read starts ...
    cache.heard("session:s1")  # ... a logout is heard meanwhile ...
    cache.put("a", kept("a", "s1"), began)  # ... so what it read may be stale
    assert cache.get("a", utcnow()) is None
    cache.put("a", kept("a", "s1"), cache.version)
    assert cache.get("a", utcnow()) is not None


def test_expiry_age_and_size_bound_what_is_served() -> None:
    cache = serving(ttl=60, size=2)
    cache.put("a", kept("a", "s1", minutes=1), cache.version)
    assert cache.get("a", utcnow() + timedelta(minutes=2)) is None  # its session has ended
    assert len(cache) == 0
    for t in ("x", "y", "z"):
        cache.put(t, kept(t, "s-" + t), cache.version)
    assert cache.get("x", utcnow()) is None and len(cache) == 2  # the least recently used
    old = Kept("old", "s-o", 1, utcnow() + timedelta(hours=1), time.monotonic() - 61)
    cache.put("o", old, cache.version)
    assert cache.get("o", utcnow()) is None  # older than its time to live


def test_nothing_is_kept_or_served_without_a_listener() -> None:
    cache: AuthCache[str] = AuthCache(ttl=60)
    cache.put("a", kept("a"), cache.version)
    assert len(cache) == 0  # never connected
    cache.start_serving()
    cache.put("a", kept("a"), cache.version)
    assert cache.get("a", utcnow()) is not None
    cache.stop_serving()  # the listener lost its connection
    assert cache.get("a", utcnow()) is None and len(cache) == 0
    off: AuthCache[str] = AuthCache(ttl=0)
    off.start_serving()
    off.put("a", kept("a"), off.version)
    assert off.get("a", utcnow()) is None


# --- in the service ----------------------------------------------------------------------


def session_reads(engine: Engine) -> Callable[[], int]:
    """A counter of the statements that read a login session (the authentication query)."""
    seen = [0]

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM auth_session" in statement:
            seen[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    return lambda: seen[0]


@pytest.fixture
def pg(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("callers are kept only on PostgreSQL, where changes are heard")
    return engine


@pytest.fixture
def listening(pg: Engine, client: TestClient) -> TestClient:
    cache = client.app.state.auth_cache  # type: ignore[attr-defined]
    assert until(lambda: cache.serving, HEARD_WITHIN), "the write listener did not connect"
    return client


def test_sqlite_keeps_no_callers(
    client: TestClient, session: Session, settings: Settings, engine: Engine
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    headers = f.headers(session, settings, f.account(session, Role.seeker))
    reads = session_reads(engine)
    for _ in range(3):
        assert client.get("/auth/me", headers=headers).status_code == 200
    assert reads() == 3 and len(client.app.state.auth_cache) == 0  # type: ignore[attr-defined]


def test_a_kept_caller_costs_no_session_read(
    pg: Engine, listening: TestClient, session: Session, settings: Settings
) -> None:
    acc = f.account(session, Role.seeker, display_name="王芳 Wang Fang")
    headers = f.headers(session, settings, acc)
    reads = session_reads(pg)
    first = listening.get("/auth/me", headers=headers)
    assert first.status_code == 200 and reads() == 1
    for _ in range(5):
        again = listening.get("/auth/me", headers=headers)
        assert again.status_code == 200 and again.json() == first.json()
    assert reads() == 1


@pytest.fixture
def deaf(listening: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The app with its listener hearing nothing of sessions and accounts (as if it were
    slow): what its own changes make stale must be forgotten as they commit."""
    cache = listening.app.state.auth_cache  # type: ignore[attr-defined]
    monkeypatch.setattr(cache, "heard", lambda _payload: None)
    return listening


def test_logout_ends_the_token_at_once(
    deaf: TestClient, session: Session, settings: Settings
) -> None:
    listening = deaf
    headers = f.headers(session, settings, f.account(session, Role.seeker))
    assert listening.get("/auth/me", headers=headers).status_code == 200  # kept now
    assert listening.post("/auth/logout", headers=headers).status_code == 204
    assert listening.get("/auth/me", headers=headers).status_code == 401


def test_disabling_an_account_ends_its_kept_sessions_at_once(
    deaf: TestClient, session: Session, settings: Settings
) -> None:
    listening = deaf
    admin = f.headers(session, settings, f.account(session, Role.admin))
    acc = f.account(session, Role.employer)
    headers = f.headers(session, settings, acc)
    assert listening.get("/auth/me", headers=headers).status_code == 200
    r = listening.post(f"/accounts/{acc.id}/disable", headers=admin)
    assert r.status_code == 200, r.text
    assert listening.get("/auth/me", headers=headers).status_code == 401


def test_changes_made_by_hand_are_heard(
    pg: Engine, listening: TestClient, session: Session, settings: Settings
) -> None:
    """SQL run by hand (a support task, another tool) reaches the kept callers by the
    database's trigger, a moment after it commits."""
    acc = f.account(session, Role.seeker, display_name="Li")
    headers = f.headers(session, settings, acc)
    assert listening.get("/auth/me", headers=headers).json()["display_name"] == "Li"
    with pg.begin() as conn:
        conn.execute(
            text("UPDATE account SET display_name = '李明 Li Ming' WHERE id = :i"), {"i": acc.id}
        )
    assert until(
        lambda: listening.get("/auth/me", headers=headers).json()["display_name"] == "李明 Li Ming",
        HEARD_WITHIN,
    )
    with pg.begin() as conn:
        conn.execute(
            text("UPDATE auth_session SET revoked_at = now() WHERE account_id = :i"), {"i": acc.id}
        )
    assert until(
        lambda: listening.get("/auth/me", headers=headers).status_code == 401, HEARD_WITHIN
    )


@pytest.fixture
def second_process(pg: Engine, settings: Settings) -> Iterator[TestClient]:
    """Another service process on the same database: an app of its own, with its own kept
    callers and its own listener."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as other:
        assert until(lambda: other.app.state.auth_cache.serving, HEARD_WITHIN)  # type: ignore[attr-defined]
        yield other


def test_a_logout_in_one_process_reaches_the_others(
    listening: TestClient, second_process: TestClient, session: Session, settings: Settings
) -> None:
    headers = f.headers(session, settings, f.account(session, Role.caseworker))
    for client in (listening, second_process):
        assert client.get("/auth/me", headers=headers).status_code == 200
    other_cache = second_process.app.state.auth_cache  # type: ignore[attr-defined]
    assert len(other_cache) == 1
    assert listening.post("/auth/logout", headers=headers).status_code == 204
    assert until(lambda: len(other_cache) == 0, HEARD_WITHIN)
    assert second_process.get("/auth/me", headers=headers).status_code == 401
