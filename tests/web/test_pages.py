"""Pages without a browser: forms keep input and name what is wrong, CSRF, language, login."""

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models import Account
from models.base import Role
from tests import factories as f
from tests.web.conftest import csrf_token, login


def test_every_page_has_lang_skip_link_and_language_switch(client: TestClient) -> None:
    r = client.get("/login")
    assert r.status_code == 200
    assert '<html lang="zh-CN"' in r.text
    assert '<a class="skip-link" href="#main">' in r.text
    assert 'id="main"' in r.text
    assert "/language?to=en&amp;next=/login" in r.text
    r = client.get("/language?to=en&next=/login")
    assert r.url.path == "/login"
    assert '<html lang="en"' in r.text and "Log in" in r.text


def test_language_switch_refuses_other_sites(client: TestClient) -> None:
    r = client.get("/language?to=en&next=//evil.example/x", follow_redirects=False)
    assert r.headers["location"] == "/"


def test_register_keeps_input_and_says_what_is_wrong(client: TestClient) -> None:
    token = csrf_token(client, "/register")
    r = client.post(
        "/register",
        data={
            "csrf_token": token,
            "role": "employer",
            "email": "not-an-email",
            "password": "short",
            "display_name": "王芳",
            "employer_name": "",
            "employer_uscc": "123",
        },
    )
    assert r.status_code == 422
    assert "<title>出错：" in r.text
    assert 'role="alert"' in r.text
    assert 'value="not-an-email"' in r.text and 'value="王芳"' in r.text
    assert 'id="f-email-error"' in r.text and 'aria-invalid="true"' in r.text
    assert 'id="f-password-error"' in r.text
    assert 'id="f-employer_uscc-error"' in r.text
    assert 'value="short"' not in r.text  # passwords are never sent back


def test_register_then_logged_in_and_logout(client: TestClient, session: Session) -> None:
    token = csrf_token(client, "/register")
    r = client.post(
        "/register",
        data={
            "csrf_token": token,
            "role": "seeker",
            "email": "new.seeker@example.com",
            "password": "a-long-and-unusual-passphrase",
            "centre_code": "heping",
            "language": "en",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith("/seeker/profile")
    account = session.exec(select(Account).where(Account.email == "new.seeker@example.com")).one()
    assert account.role == Role.seeker
    home = client.get("/")
    assert "new.seeker@example.com" in home.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert token
    r = client.post("/logout", data={"csrf_token": token.group(1)}, follow_redirects=False)
    assert r.status_code == 303
    assert "new.seeker@example.com" not in client.get("/").text


def test_login_failure_is_announced_and_keeps_email(client: TestClient, session: Session) -> None:
    acc = f.account(session, Role.seeker)
    token = csrf_token(client)
    r = client.post("/login", data={"csrf_token": token, "email": acc.email, "password": "wrong"})
    assert r.status_code == 422
    assert "邮箱或密码不对" in r.text and f'value="{acc.email}"' in r.text


def test_forms_without_csrf_token_are_refused(client: TestClient, session: Session) -> None:
    acc = f.account(session, Role.seeker)
    r = client.post("/login", data={"email": acc.email, "password": f.PASSWORD})
    assert r.status_code == 400
    login(client, acc.email)
    r = client.post("/logout", data={}, follow_redirects=False)
    assert r.status_code == 403  # cookie session, no token: the checker refuses
    r = client.post("/logout", data={"csrf_token": "0" * 64}, follow_redirects=False)
    assert r.status_code == 403
    assert client.get("/auth/me").status_code == 200  # still logged in


def test_cookie_api_changes_need_the_token_header(client: TestClient, session: Session) -> None:
    acc = f.account(session, Role.seeker)
    login(client, acc.email)
    assert client.post("/auth/logout").status_code == 403
    token = csrf_token(client, "/")
    assert client.post("/auth/logout", headers={"X-CSRF-Token": token}).status_code == 204


def test_pages_send_anonymous_visitors_to_login_and_back(client: TestClient) -> None:
    r = client.post("/logout", data={}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")


def test_display_settings_become_classes(client: TestClient) -> None:
    token = csrf_token(client, "/preferences/display")
    r = client.post(
        "/preferences/display",
        data={"csrf_token": token, "display": ["large_text", "high_contrast"]},
    )
    assert r.status_code == 200
    assert 'class="large-text high-contrast ' in r.text
    assert 'id="f-display-large_text"' in r.text and "checked" in r.text
    assert 'role="status"' in r.text
