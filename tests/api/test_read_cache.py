"""The kept pages of hot reads (api.services.readcache): a write in this process shows at
once, another process's write within read_cache_seconds, each caller sees only their view,
and authentication still runs on every request."""

import time
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.main import create_app
from api.services import employers
from api.services.readcache import CHANNEL
from api.settings import Settings
from models import Posting
from models.base import PostingStatus, Role
from tests import factories as f
from tests.waiting import until


def _titles(client: TestClient, headers: dict[str, str]) -> list[str]:
    r = client.get("/postings?limit=20", headers=headers)
    assert r.status_code == 200, r.text
    return [p["title"] for p in r.json()["items"]]


def test_a_write_in_this_process_shows_at_once(
    client: TestClient, session: Session, settings: Settings
) -> None:
    emp_acc, emp = f.employer_account(session)
    p = f.posting(session, emp, title="Clerk A")
    seeker = f.headers(session, settings, f.account(session, Role.seeker))
    owner = f.headers(session, settings, emp_acc)
    assert _titles(client, seeker) == ["Clerk A"]
    r = client.patch(
        f"/postings/{p.id}", headers=owner, json={"version": p.version, "title": "Clerk B"}
    )
    assert r.status_code == 200, r.text
    assert _titles(client, seeker) == ["Clerk B"]  # through the API
    f.posting(session, emp, title="Clerk C")  # and through any session of this process
    assert _titles(client, seeker) == ["Clerk C", "Clerk B"]
    r = client.post(f"/postings/{p.id}/close", headers=owner)
    assert r.status_code == 200, r.text
    assert _titles(client, seeker) == ["Clerk C"]


def test_each_caller_sees_their_own_view(
    client: TestClient, session: Session, settings: Settings
) -> None:
    emp_acc, emp = f.employer_account(session)
    other_acc, other = f.employer_account(session, f.employer(session))
    f.posting(session, emp, title="Open")
    f.posting(session, emp, title="Draft", status=PostingStatus.draft)
    owner = f.headers(session, settings, emp_acc)
    assert _titles(client, owner) == ["Draft", "Open"]  # rendered and kept for the owner
    seeker = f.headers(session, settings, f.account(session, Role.seeker))
    assert _titles(client, seeker) == ["Open"]
    assert _titles(client, f.headers(session, settings, other_acc)) == ["Open"]
    staff = f.headers(session, settings, f.account(session, Role.caseworker))
    assert _titles(client, staff) == ["Draft", "Open"]
    assert _titles(client, owner) == ["Draft", "Open"]
    assert other.id != emp.id


def test_a_kept_page_still_needs_a_live_session(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _, emp = f.employer_account(session)
    f.posting(session, emp, title="Clerk")
    seeker = f.headers(session, settings, f.account(session, Role.seeker))
    assert _titles(client, seeker) == ["Clerk"]
    assert client.post("/auth/logout", headers=seeker).status_code == 204
    r = client.get("/postings?limit=20", headers=seeker)
    assert r.status_code == 401
    assert r.json()["error"] == "not_authenticated"
    assert client.get("/postings?limit=20").status_code == 401


def test_another_process_write_shows_within_the_bound(
    settings: Settings, engine: Engine, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A write that bypasses the service's sessions (SQL by hand) is not heard: it shows once
    # the kept page's time is up, read_cache_seconds while not every writer is watched, else
    # POSTINGS_CACHE_SECONDS (30 s; made short here).
    monkeypatch.setattr(employers, "POSTINGS_CACHE_SECONDS", 0.5)
    app: Any = create_app(settings.model_copy(update={"read_cache_seconds": 0.5}), engine)
    _, emp = f.employer_account(session)
    p = f.posting(session, emp, title="Clerk A")
    seeker = f.headers(session, settings, f.account(session, Role.seeker))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert _titles(client, seeker) == ["Clerk A"]
        # A write that no session of this process made (as another service process would).
        with engine.begin() as conn:
            conn.execute(update(Posting).where(Posting.id == p.id).values(title="Clerk B"))
        assert _titles(client, seeker) == ["Clerk A"]  # the kept page, at most 0.5 s old
        time.sleep(0.6)
        assert _titles(client, seeker) == ["Clerk B"]


def _match_titles(client: TestClient, seeker_id: int, headers: dict[str, str]) -> list[str]:
    r = client.get(f"/seekers/{seeker_id}/matches", headers=headers)
    assert r.status_code == 200, r.text
    return [m["posting"]["title"] for m in r.json()["items"]]


def test_kept_matches_follow_writes_and_access(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _, emp = f.employer_account(session)
    p = f.posting(session, emp, title="Clerk A", required_skills=["Excel"])
    acc, profile = f.seeker(session, skills=["Excel"])
    h = f.headers(session, settings, acc)
    assert _match_titles(client, profile.id or 0, h) == ["Clerk A"]
    r = client.put(f"/seekers/{profile.id}/feedback/{p.id}", headers=h, json={"kind": "dismissed"})
    assert r.status_code == 200, r.text
    assert _match_titles(client, profile.id or 0, h) == []  # the kept page is stale at once
    # Another seeker asking for this seeker's kept page is refused (and audited) as before.
    other = f.headers(session, settings, f.account(session, Role.seeker))
    assert client.get(f"/seekers/{profile.id}/matches", headers=other).status_code == 404


def test_on_postgresql_other_processes_writes_are_heard(
    settings: Settings, engine: Engine, session: Session
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("one SQLite process sees every writer itself")
    # A session's committed write notifies the channel (what another process would hear).
    with psycopg.connect(
        engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
        autocommit=True,
    ) as listening:
        listening.execute(f"LISTEN {CHANNEL}")
        _, emp = f.employer_account(session)
        heard = list(listening.notifies(timeout=2.0, stop_after=1))
        assert heard and {n.channel for n in heard} == {CHANNEL}
        list(listening.notifies(timeout=0.2))  # the rest of that one's commits
        f.account(session, Role.seeker)  # accounts are not quiet either
        assert list(listening.notifies(timeout=2.0, stop_after=1))
    # The service hears such a notification and renders anew; a write without one (SQL by
    # hand) is not heard, and the page is kept longer than read_cache_seconds.
    app: Any = create_app(settings.model_copy(update={"read_cache_seconds": 0.2}), engine)
    p = f.posting(session, emp, title="Clerk A")
    seeker = f.headers(session, settings, f.account(session, Role.seeker))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert until(lambda: app.state.read_cache.watching, 5.0, every=0.05)
        p2 = f.posting(session, emp, title="Clerk X", required_skills=["Excel"])
        acc, profile = f.seeker(session, skills=["Excel"])
        h = f.headers(session, settings, acc)
        assert "Clerk X" in _match_titles(client, profile.id or 0, h)
        time.sleep(0.3)  # the first view stored the new embeddings: a write, heard just now
        assert "Clerk X" in _match_titles(client, profile.id or 0, h)
        with engine.begin() as conn:
            conn.execute(update(Posting).where(Posting.id == p2.id).values(title="Clerk Y"))
        time.sleep(0.3)
        assert "Clerk X" in _match_titles(client, profile.id or 0, h)  # not heard
        with engine.begin() as conn:
            conn.execute(update(Posting).where(Posting.id == p2.id).values(title="Clerk Z"))
            conn.execute(text(f"NOTIFY {CHANNEL}"))
        assert until(
            lambda: "Clerk Z" in _match_titles(client, profile.id or 0, h), 5.0, every=0.05
        )
        assert "Clerk Z" in _titles(client, seeker)
    assert p.id != p2.id
    assert app.state.read_cache.watching is False  # the listener stopped with the service


def test_kept_candidates_name_seekers_only_to_their_own_caseworkers(
    client: TestClient, session: Session, settings: Settings
) -> None:
    emp_acc, emp = f.employer_account(session)
    p = f.posting(session, emp, title="Clerk", required_skills=["Excel"])
    _, profile = f.seeker(session, skills=["Excel"], centre_code="heping")
    url = f"/postings/{p.id}/candidates"

    def seeker_ids(acc: Any) -> list[int | None]:
        r = client.get(url, headers=f.headers(session, settings, acc))
        assert r.status_code == 200, r.text
        return [c["seeker_id"] for c in r.json()["items"]]

    assert seeker_ids(emp_acc) == [None]  # rendered first, for the employer
    assert seeker_ids(emp_acc) == [None]
    assert seeker_ids(f.account(session, Role.caseworker, centre_code="heping")) == [profile.id]
    assert seeker_ids(f.account(session, Role.caseworker, centre_code="xihu")) == [None]
    assert seeker_ids(f.account(session, Role.admin, centre_code="heping")) == [None]
    other_acc, _ = f.employer_account(session)
    r = client.get(url, headers=f.headers(session, settings, other_acc))
    assert r.status_code == 404  # not their posting, kept page or not
