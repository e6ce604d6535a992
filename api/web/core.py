"""The page framework: rendering with language and display settings, the page route class
(login redirects and HTML error pages), form reading and the flash message after a redirect.
"""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from api.db import discard
from api.deps import SAFE_METHODS, Principal, SessionDep, SettingsDep, principal_from
from api.errors import (
    STATUS,
    DomainError,
    NotAuthenticated,
    ServiceUnavailable,
    TooManyRequests,
)
from api.services import outbox
from api.web import csrf
from api.web.i18n import LANGUAGES, Translator, normalise
from models.base import Role

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

LANG_COOKIE = "jobmatch_lang"
DISPLAY_COOKIE = "jobmatch_display"
DISPLAY_OPTIONS = ("large_text", "high_contrast", "reduced_motion")
ONE_YEAR = 365 * 24 * 3600

# Documented on every page route (the access matrix asks routes with roles to say so).
PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "the page"},
    303: {"description": "after a form, or to the login page when not logged in"},
    401: {"description": "not logged in (pages answer 303 to /login)"},
    403: {"description": "role not allowed, or a change without the form's CSRF token"},
    422: {"description": "the form again, with what is wrong next to each field"},
}


class CsrfFailed(DomainError):
    """A public form arrived without a valid CSRF token."""

    code = "csrf_failed"


# --- who is asking, in which language, with which display settings ------------------------


def optional_principal(request: Request, session: Session) -> Principal | None:
    """The logged-in caller from the session cookie, or None (for public pages)."""
    settings = request.app.state.settings
    token = request.cookies.get(settings.cookie_name)
    if not token:
        return None
    try:
        return principal_from(request, session, settings, token, via_cookie=True)
    except NotAuthenticated:
        return None


def language_of(request: Request, principal: Principal | None = None) -> str:
    """The page language: the switch's cookie, else the account's language, else Chinese."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return str(chosen)
    if principal is not None:
        return normalise(principal.account.language.value)
    return normalise(None)


def display_of(request: Request) -> list[str]:
    """The display settings chosen on this device."""
    raw = request.cookies.get(DISPLAY_COOKIE, "")
    return [o for o in DISPLAY_OPTIONS if o in raw.split(".")]


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to return to (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


# --- navigation ----------------------------------------------------------------------------

NAV: dict[Role | None, list[tuple[str, str]]] = {
    None: [("/", "nav_home"), ("/login", "nav_login"), ("/register", "nav_register")],
    Role.seeker: [
        ("/", "nav_home"),
        ("/seeker/profile", "nav_profile"),
        ("/seeker/needs", "nav_needs"),
        ("/seeker/matches", "nav_matches"),
        ("/seeker/referrals", "nav_referrals"),
        ("/seeker/trainings", "nav_trainings"),
        ("/seeker/consents", "nav_consents"),
        ("/seeker/data", "nav_my_data"),
    ],
    Role.employer: [
        ("/", "nav_home"),
        ("/employer/organisation", "nav_organisation"),
        ("/employer/quota", "nav_quota"),
        ("/employer/vacancies", "nav_vacancies"),
        ("/employer/vacancies/new", "nav_new_vacancy"),
        ("/employer/referrals", "nav_received"),
    ],
    Role.caseworker: [
        ("/", "nav_home"),
        ("/centre/seekers", "nav_centre_seekers"),
        ("/centre/referrals", "nav_queue"),
        ("/centre/trainings", "nav_centre_trainings"),
        ("/checks", "nav_checks"),
    ],
    Role.admin: [
        ("/", "nav_home"),
        ("/manage/accommodations", "nav_accommodations"),
        ("/manage/centres", "nav_centres"),
        ("/manage/accounts", "nav_accounts"),
        ("/manage/rules", "nav_rules"),
        ("/manage/statistics", "nav_statistics"),
    ],
    Role.volunteer: [("/", "nav_home"), ("/checks", "nav_checks")],
}


# --- forms -----------------------------------------------------------------------------------


@dataclass
class Form:
    """What the user sent (kept to fill the form again) and what is wrong, per field."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    summary: str = ""  # an error that belongs to no single field

    def get(self, name: str, default: str = "") -> str:
        value = self.values.get(name, default)
        if isinstance(value, list):
            return value[0] if value else default
        return str(value) if value is not None else default

    def getlist(self, name: str) -> list[str]:
        value = self.values.get(name, [])
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.summary)


async def read_form(request: Request) -> Form:
    """The submitted form as a Form (a field sent twice becomes a list)."""
    data = await request.form()
    values: dict[str, Any] = {}
    for key in data:
        items = [v for v in data.getlist(key) if isinstance(v, str)]
        values[key] = items if len(items) > 1 else (items[0] if items else "")
    values.pop(csrf.CSRF_FIELD, None)
    return Form(values=values)


FormDep = Annotated[Form, Depends(read_form)]


def require_csrf(request: Request) -> None:
    """For public forms (no login yet): refuse a post without a valid token."""
    if not csrf.token_is_valid(request):
        raise CsrfFailed("the form's CSRF token is missing or wrong")


CsrfDep = Depends(require_csrf)


def undo_changes(session: Session, exc: DomainError) -> None:
    """After a refused change: roll back unless the error's record must survive."""
    if not exc.keep_changes:
        discard(session)


# --- rendering -------------------------------------------------------------------------------


def unread_of(principal: Principal | None) -> int | None:
    """How many of the caller's messages are unread (for the header link), or None."""
    if principal is None:
        return None
    session = principal.db  # the request's session, which read the caller
    if session is None:
        return None
    try:
        return outbox.unread_count(session, principal.id)
    except SQLAlchemyError:
        return None


def flash_key(request: Request) -> str | None:
    """The message key a redirect asked the next page to show (only known keys)."""
    key = request.query_params.get("done")
    from api.web.i18n import TEXTS

    return key if key and key in TEXTS else None


def redirect(path: str, done: str | None = None, anchor: str = "") -> RedirectResponse:
    """303 to a page (after a form), asking it to say what was done."""
    url = path
    if done:
        url += ("&" if "?" in url else "?") + urlencode({"done": done})
    return RedirectResponse(url + anchor, status_code=303)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    principal: Principal | None = None,
    status_code: int = 200,
    title_key: str = "",
    title: str = "",
) -> HTMLResponse:
    """Render a page in the caller's language, with display settings and a CSRF token."""
    lang = language_of(request, principal)
    t = Translator(lang)
    ctx: dict[str, Any] = dict(context or {})
    form = ctx.get("form")
    role = principal.role if principal else None
    page_title = title or (t(title_key) if title_key else "")
    if isinstance(form, Form) and form.failed:
        page_title = t("error_prefix") + page_title
    path = request.url.path
    query = request.url.query
    here = path + ("?" + query if query and "done=" not in query else "")
    ctx.update(
        request=request,
        t=t,
        lang=lang,
        other_langs=[x for x in LANGUAGES if x != lang],
        here=quote(here, safe="/?=&"),
        path=path,
        principal=principal,
        nav=NAV[role],
        display=display_of(request),
        csrf_field=csrf.CSRF_FIELD,
        csrf_token=csrf.form_token(request),
        flash=flash_key(request),
        page_title=page_title,
        unread=unread_of(principal),
    )
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    csrf.set_cookie_if_new(request, response)
    return response


def error_page(request: Request, exc: DomainError) -> Response:
    """An HTML page for a domain error (the caller may not be known here)."""
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    if isinstance(exc, CsrfFailed):
        status = 400
    messages = {403: "error_403", 404: "error_404", 409: "error_409", 503: "error_503"}
    message = messages.get(status, "error_other")
    if isinstance(exc, ServiceUnavailable) and exc.extra.get("reason") == "disk_full":
        message = "error_disk_full"
    if isinstance(exc, CsrfFailed):
        message = "err_form_expired"
    response = render(
        request,
        "error.html",
        {"message": message, "status": status},
        status_code=status,
        title_key="error_title",
    )
    if isinstance(exc, TooManyRequests | ServiceUnavailable):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


class PageRoute(APIRoute):
    """A page: not logged in → 303 to /login (coming back afterwards); a domain error →
    an HTML page with the same status; the form's CSRF token made known to the checker."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            if request.method not in SAFE_METHODS:
                content_type = request.headers.get("content-type", "")
                if content_type.startswith(
                    ("application/x-www-form-urlencoded", "multipart/form-data")
                ):
                    form = await request.form()
                    token = form.get(csrf.CSRF_FIELD)
                    csrf.remember_form_token(request, token if isinstance(token, str) else "")
            try:
                return await original(request)
            except NotAuthenticated:
                target = request.url.path
                if request.method in SAFE_METHODS and request.url.query:
                    target += "?" + request.url.query
                return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
            except DomainError as exc:
                return error_page(request, exc)

        return handler


# Re-exported for the page modules.
__all__ = [
    "PAGE_RESPONSES",
    "CsrfDep",
    "Form",
    "FormDep",
    "PageRoute",
    "SessionDep",
    "SettingsDep",
    "optional_principal",
    "redirect",
    "render",
    "undo_changes",
]
