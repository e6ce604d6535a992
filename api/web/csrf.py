"""CSRF protection for forms: a signed double-submit token.

A random value lives in an HTTP-only cookie; every form carries HMAC(secret, value | session
cookie) in a hidden field (or an X-CSRF-Token header for scripts). A cross-site page can make
the browser send the cookies but can neither read them nor compute the HMAC, and the token
stops working when the login session changes.
"""

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from api.settings import Settings

CSRF_COOKIE = "jobmatch_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_STATE_KEY = "csrf_form_token"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def new_cookie_value() -> str:
    return secrets.token_urlsafe(32)


def cookie_value(request: Request) -> str:
    """The CSRF cookie of this request, or the fresh one chosen for its response."""
    fresh = getattr(request.state, "csrf_new_cookie", None)
    if isinstance(fresh, str):
        return fresh
    value = request.cookies.get(CSRF_COOKIE, "")
    if len(value) < 32:
        value = new_cookie_value()
        request.state.csrf_new_cookie = value
    return value


def sign(settings: Settings, value: str, session_token: str) -> str:
    """The form token for a CSRF cookie value and the login session it was issued under."""
    key = settings.secret_key.get_secret_value().encode()
    message = f"csrf|{value}|{session_token}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def form_token(request: Request) -> str:
    """The token to put in this page's forms (sets the cookie on the response if needed)."""
    settings = _settings(request)
    session_token = getattr(request.state, "csrf_session_token", None)
    if not isinstance(session_token, str):
        session_token = request.cookies.get(settings.cookie_name, "")
    return sign(settings, cookie_value(request), session_token)


def remember_form_token(request: Request, token: str | None) -> None:
    """Keep the token a form sent, so the synchronous checker can read it."""
    request.state.csrf_form_token = token or ""


def token_is_valid(request: Request) -> bool:
    """True when the request carries a token that matches its own cookies."""
    settings = _settings(request)
    value = request.cookies.get(CSRF_COOKIE, "")
    sent = getattr(request.state, _STATE_KEY, "") or request.headers.get(CSRF_HEADER, "")
    if len(value) < 32 or not sent:
        return False
    expected = sign(settings, value, request.cookies.get(settings.cookie_name, ""))
    return hmac.compare_digest(expected.encode(), str(sent).encode())


def csrf_checker(request: Request) -> bool:
    """app.state.csrf_checker: cookie-authenticated changes pass only with a valid token."""
    return token_is_valid(request)


def set_cookie_if_new(request: Request, response: Response) -> None:
    """Send the CSRF cookie chosen while rendering, if one was chosen."""
    fresh = getattr(request.state, "csrf_new_cookie", None)
    if isinstance(fresh, str):
        settings = _settings(request)
        response.set_cookie(
            CSRF_COOKIE,
            fresh,
            httponly=True,
            secure=settings.cookie_secure,
            samesite="lax",
            path="/",
        )


def rotate(request: Request, session_token: str) -> None:
    """A new CSRF cookie for the next page (at login and logout)."""
    request.state.csrf_new_cookie = new_cookie_value()
    request.state.csrf_session_token = session_token
