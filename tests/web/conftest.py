"""Helpers for page tests: read the CSRF token from a page, log in through the form."""

import re

from fastapi.testclient import TestClient

from tests import factories as f

TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: TestClient, path: str = "/login") -> str:
    match = TOKEN_RE.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: TestClient, email: str, password: str = f.PASSWORD) -> None:
    r = client.post(
        "/login",
        data={"csrf_token": csrf_token(client), "email": email, "password": password},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
