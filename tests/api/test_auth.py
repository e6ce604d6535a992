"""Register, log in, log out, throttling and token checks."""

import base64
import json
from dataclasses import fields
from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.db import make_engine
from api.schemas.domain import AccountPublic
from api.security import TokenClaims, encode_token
from api.services import auth as auth_service
from api.services.auth import Caller
from api.settings import Settings
from models import AuditLog
from models.base import Role, utcnow
from tests import factories as f


def register_seeker(client: TestClient, email: str = "li.ming@example.com") -> None:
    r = client.post(
        "/auth/register",
        json={
            "email": email,
            "password": f.PASSWORD,
            "role": "seeker",
            "centre_code": "xinhua",
            "display_name": "李明 Li Ming",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["role"] == "seeker" and "password" not in json.dumps(body)


def test_register_then_token_then_me(client: TestClient) -> None:
    register_seeker(client)
    r = client.post("/auth/token", data={"username": "Li.Ming@example.com", "password": f.PASSWORD})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["email"] == "li.ming@example.com"


def test_register_employer_creates_the_organisation(client: TestClient) -> None:
    r = client.post(
        "/auth/register",
        json={
            "email": "hr@example.com",
            "password": f.PASSWORD,
            "role": "employer",
            "employer": {"name": "杭州无障碍科技有限公司", "uscc": f.uscc(42), "staff_count": 120},
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["employer_id"] is not None


def test_register_refuses_staff_roles_and_duplicates(client: TestClient) -> None:
    r = client.post(
        "/auth/register", json={"email": "x@example.com", "password": f.PASSWORD, "role": "admin"}
    )
    assert r.status_code == 422
    assert r.json()["field"] == "role"
    register_seeker(client)
    r = client.post(
        "/auth/register",
        json={"email": "LI.MING@example.com", "password": f.PASSWORD, "role": "seeker"},
    )
    assert r.status_code == 409
    assert r.json()["field"] == "email"


def test_wrong_password_is_401_and_logged(client: TestClient, session: Session) -> None:
    register_seeker(client)
    r = client.post(
        "/auth/token", data={"username": "li.ming@example.com", "password": "wrong-password"}
    )
    assert r.status_code == 401
    assert r.json()["error"] == "not_authenticated"
    rows = session.exec(select(AuditLog).where(AuditLog.action == "login_failed")).all()
    assert len(rows) == 1


def test_login_throttled_after_repeated_failures(client: TestClient) -> None:
    register_seeker(client)
    for _ in range(5):
        r = client.post(
            "/auth/token", data={"username": "li.ming@example.com", "password": "nope-nope-nope"}
        )
        assert r.status_code == 401
    r = client.post("/auth/token", data={"username": "li.ming@example.com", "password": f.PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    # Another account from the same address is not locked out by this one.
    register_seeker(client, "other@example.com")
    r = client.post("/auth/token", data={"username": "other@example.com", "password": f.PASSWORD})
    assert r.status_code == 200


def test_cookie_login_and_logout_end_the_session(client: TestClient) -> None:
    register_seeker(client)
    r = client.post("/auth/login", json={"email": "li.ming@example.com", "password": f.PASSWORD})
    assert r.status_code == 200
    cookie = r.cookies.get("jobmatch_session")
    assert cookie
    assert "httponly" in r.headers["set-cookie"].lower()
    token = r.json()["access_token"]
    assert client.get("/auth/me").status_code == 200  # by cookie
    # A change by cookie without the form's CSRF token is refused.
    assert client.post("/auth/logout").status_code == 403
    r = client.post("/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 204
    client.cookies.clear()
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    client.cookies.set("jobmatch_session", cookie)
    assert client.get("/auth/me").status_code == 401


def test_bad_tokens_are_refused(client: TestClient, session: Session, settings: Settings) -> None:
    acc = f.account(session, Role.seeker)
    good = f.token(session, settings, acc)
    sid = jwt.decode(good, options={"verify_signature": False})["sid"]
    now = utcnow()
    cases = {
        "expired": encode_token(
            TokenClaims(acc.id or 0, sid),
            secret=settings.secret_key.get_secret_value(),
            audience=settings.token_audience,
            now=now - timedelta(days=2),
            ttl=timedelta(minutes=1),
        ),
        "wrong audience": encode_token(
            TokenClaims(acc.id or 0, sid),
            secret=settings.secret_key.get_secret_value(),
            audience="other",
            now=now,
            ttl=timedelta(minutes=5),
        ),
        "wrong key": encode_token(
            TokenClaims(acc.id or 0, sid),
            secret="k" * 40,
            audience=settings.token_audience,
            now=now,
            ttl=timedelta(minutes=5),
        ),
        "tampered": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        "garbage": "not-a-token",
    }
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    payload = good.split(".")[1]
    cases["alg none"] = f"{header}.{payload}."
    for name, token in cases.items():
        r = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, name
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200


def test_disabled_account_loses_its_sessions(
    client: TestClient, session: Session, settings: Settings
) -> None:
    admin = f.account(session, Role.admin, centre_code=None)
    target = f.account(session, Role.caseworker)
    target_headers = f.headers(session, settings, target)
    assert client.get("/auth/me", headers=target_headers).status_code == 200
    r = client.post(f"/accounts/{target.id}/disable", headers=f.headers(session, settings, admin))
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert client.get("/auth/me", headers=target_headers).status_code == 401
    r = client.post("/auth/token", data={"username": target.email, "password": f.PASSWORD})
    assert r.status_code == 401


def test_common_passwords_refused_long_ones_accepted(client: TestClient) -> None:
    for weak in ("password123", "qwertyuiop123", "1234567890", "li.ming@example.com"):
        r = client.post(
            "/auth/register",
            json={"email": "li.ming@example.com", "password": weak, "role": "seeker"},
        )
        assert r.status_code == 422, weak
        assert r.json()["field"] == "password"
    long_one = "我的密码是一句很长的话 and a long English sentence too, 2026!" + "x" * 20
    assert len(long_one) > 64
    r = client.post(
        "/auth/register",
        json={"email": "li.ming@example.com", "password": long_one, "role": "seeker"},
    )
    assert r.status_code == 201, r.text
    r = client.post("/auth/token", data={"username": "li.ming@example.com", "password": long_one})
    assert r.status_code == 200


def test_password_change_ends_other_sessions(
    client: TestClient, session: Session, settings: Settings
) -> None:
    acc = f.account(session, Role.seeker)
    other_device = f.headers(session, settings, acc)
    this_device = f.headers(session, settings, acc)
    r = client.post(
        "/auth/password",
        headers=this_device,
        json={"current_password": "wrong-one", "new_password": "a brand new long passphrase"},
    )
    assert r.status_code == 422 and r.json()["field"] == "current_password"
    r = client.post(
        "/auth/password",
        headers=this_device,
        json={"current_password": f.PASSWORD, "new_password": "password123"},
    )
    assert r.status_code == 422 and r.json()["field"] == "new_password"
    r = client.post(
        "/auth/password",
        headers=this_device,
        json={"current_password": f.PASSWORD, "new_password": "a brand new long passphrase"},
    )
    assert r.status_code == 200, r.text
    fresh = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.get("/auth/me", headers=other_device).status_code == 401
    assert client.get("/auth/me", headers=this_device).status_code == 401
    assert client.get("/auth/me", headers=fresh).status_code == 200
    r = client.post(
        "/auth/token", data={"username": acc.email, "password": "a brand new long passphrase"}
    )
    assert r.status_code == 200


def test_signing_key_rotation_keeps_sessions(
    client: TestClient, session: Session, settings: Settings, engine: object
) -> None:
    from pydantic import SecretStr

    from api.main import create_app

    acc = f.account(session, Role.seeker)
    old_token = f.headers(session, settings, acc)
    rotated = settings.model_copy(
        update={
            "secret_key": SecretStr("a-new-signing-key-" + "y" * 30),
            "previous_secret_keys": settings.secret_key,
        }
    )
    with TestClient(create_app(rotated, engine)) as c:  # type: ignore[arg-type]
        assert c.get("/auth/me", headers=old_token).status_code == 200
    dropped = rotated.model_copy(update={"previous_secret_keys": SecretStr("")})
    with TestClient(create_app(dropped, engine)) as c:  # type: ignore[arg-type]
        assert c.get("/auth/me", headers=old_token).status_code == 401


def test_password_check_holds_no_write_lock(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """argon2 takes tens of milliseconds; while it runs, other writers must not wait (on
    SQLite a login's write transaction would hold the database's only write lock)."""
    register_seeker(client)
    writes: list[str] = []
    real_verify = auth_service.verify_password

    def verify_then_write(password_hash: str | None, password: str) -> bool:
        # Another writer, mid-check, that gives up at once if the database is locked.
        with Session(
            make_engine(engine.url.render_as_string(hide_password=False), busy_timeout_ms=0)
        ) as other:
            other.add(AuditLog(action="probe", object_type="test", object_id="1"))
            other.commit()
            writes.append("written")
        return real_verify(password_hash, password)

    monkeypatch.setattr(auth_service, "verify_password", verify_then_write)
    r = client.post("/auth/token", data={"username": "li.ming@example.com", "password": f.PASSWORD})
    assert r.status_code == 200, r.text
    assert writes == ["written"]
    # A wrong password is still refused and recorded.
    r = client.post("/auth/token", data={"username": "li.ming@example.com", "password": "nope"})
    assert r.status_code == 401
    assert writes == ["written", "written"]


def test_a_hash_with_older_parameters_still_logs_in_and_is_replaced(
    client: TestClient, session: Session
) -> None:
    from argon2 import PasswordHasher

    from api.security import needs_rehash, verify_password

    acc = f.account(session, Role.seeker, email="old.hash@example.com")
    old = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(f.PASSWORD)
    acc.password_hash = old
    session.add(acc)
    session.commit()
    assert needs_rehash(old)
    wrong = client.post(
        "/auth/token", data={"username": "old.hash@example.com", "password": "not-the-password"}
    )
    assert wrong.status_code == 401
    session.refresh(acc)
    assert acc.password_hash == old  # a failed login changes nothing
    login = {"username": "old.hash@example.com", "password": f.PASSWORD}
    r = client.post("/auth/token", data=login)
    assert r.status_code == 200, r.text
    session.commit()  # end the read snapshot of the refresh above
    session.refresh(acc)
    assert acc.password_hash != old and not needs_rehash(acc.password_hash)
    assert verify_password(acc.password_hash, f.PASSWORD)
    # The session just opened survives the rehash (it is no password change).
    token = r.json()["access_token"]
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_the_caller_holds_exactly_what_the_account_answer_shows() -> None:
    # /auth/me answers AccountPublic from the request's Caller: the two must not drift apart.
    assert [field.name for field in fields(Caller)] == list(AccountPublic.model_fields)
