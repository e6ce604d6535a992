"""Rate limits per address (registration) and per account (matching, referrals), answered
429 with Retry-After; on PostgreSQL the counts are shared by every service process."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.main import create_app
from api.settings import Settings
from models.base import Role
from tests import factories as f


def limited(settings: Settings, **limits: int) -> Settings:
    return settings.model_copy(update=limits)


def register(c: TestClient, n: int) -> Any:
    return c.post(
        "/auth/register",
        json={"email": f"new{n}@example.com", "password": f.PASSWORD, "role": "seeker"},
    )


def test_registration_is_limited_per_address(settings: Settings, engine: Any) -> None:
    with TestClient(create_app(limited(settings, limit_register_per_address=2), engine)) as c:
        assert register(c, 1).status_code == 201
        assert register(c, 2).status_code == 201
        r = register(c, 3)
        assert r.status_code == 429
        assert r.json()["error"] == "too_many_requests"
        assert 0 < int(r.headers["Retry-After"]) <= settings.limit_register_window


def test_matching_is_limited_per_account(settings: Settings, engine: Any, session: Session) -> None:
    acc, profile = f.seeker(session)
    other_acc, other = f.seeker(session)
    mine = f.headers(session, settings, acc)
    theirs = f.headers(session, settings, other_acc)
    with TestClient(create_app(limited(settings, limit_matching_per_account=3), engine)) as c:
        for _ in range(3):
            assert c.get(f"/seekers/{profile.id}/matches", headers=mine).status_code == 200
        r = c.get(f"/seekers/{profile.id}/matches", headers=mine)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        # Someone else is not held back by it.
        assert c.get(f"/seekers/{other.id}/matches", headers=theirs).status_code == 200


def test_limits_hold_across_processes_on_postgresql(
    settings: Settings, engine: Any, session: Session
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the embedded SQLite default is one process; its counts are in memory")
    acc, profile = f.seeker(session)
    h = f.headers(session, settings, acc)
    strict = limited(settings, limit_matching_per_account=2)
    url = f"/seekers/{profile.id}/matches"
    with (
        TestClient(create_app(strict, engine)) as one,
        TestClient(create_app(strict, engine)) as two,
    ):
        assert one.get(url, headers=h).status_code == 200
        assert two.get(url, headers=h).status_code == 200
        assert one.get(url, headers=h).status_code == 429
        assert two.get(url, headers=h).status_code == 429


def test_referral_creation_is_limited(settings: Settings, engine: Any, session: Session) -> None:
    emp = f.employer(session)
    postings = [f.posting(session, emp, title=f"岗位 {i}") for i in range(3)]
    acc, _ = f.seeker(session)
    h = f.headers(session, settings, acc)
    cw = f.headers(session, settings, f.account(session, Role.caseworker))
    with TestClient(create_app(limited(settings, limit_referrals_per_account=2), engine)) as c:
        codes = [
            c.post("/referrals", headers=h, json={"posting_id": p.id}).status_code for p in postings
        ]
        assert codes[2] == 429, codes
        assert all(code != 429 for code in codes[:2]), codes
        # The caseworker's own count is separate.
        r = c.post(
            "/referrals", headers=cw, json={"posting_id": postings[2].id, "seeker_id": 999999}
        )
        assert r.status_code != 429
