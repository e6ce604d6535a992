"""Register, log in, log out, throttling and token checks."""

import base64
import json
from datetime import timedelta

import jwt
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.security import TokenClaims, encode_token
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
