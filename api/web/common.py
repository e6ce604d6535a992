"""Pages for everyone: start, log in, register, log out, language, display settings."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import TypeAdapter, ValidationError

from api.deps import ALL_ROLES, PUBLIC, Allow, Principal, SessionDep, SettingsDep, client_ip
from api.errors import DomainError, LoginFailed, TooManyRequests
from api.routers.auth import set_session_cookie
from api.schemas.domain import EmployerRegisterIn, LoginIn, RegisterIn, SeekerRegisterIn
from api.services import auth as auth_service
from api.services import catalog
from api.services.registration import register
from api.web import csrf
from api.web.core import (
    DISPLAY_COOKIE,
    DISPLAY_OPTIONS,
    LANG_COOKIE,
    ONE_YEAR,
    PAGE_RESPONSES,
    CsrfDep,
    Form,
    FormDep,
    PageRoute,
    language_of,
    optional_principal,
    redirect,
    render,
    safe_next,
    undo_changes,
)
from api.web.forms import apply_domain, apply_validation, optional
from api.web.i18n import LANGUAGES, Translator
from models.base import Role

router = APIRouter(route_class=PageRoute, tags=["pages"], responses=PAGE_RESPONSES)
AnyUser = Annotated[Principal, Depends(Allow(*ALL_ROLES))]

START_PAGE = {
    Role.seeker: "/seeker/matches",
    Role.employer: "/employer/vacancies",
    Role.caseworker: "/centre/seekers",
    Role.admin: "/manage/accommodations",
    Role.volunteer: "/checks",
}


@router.get("/", dependencies=[Depends(PUBLIC)], response_model=None)
def home_page(request: Request, session: SessionDep) -> Response:
    """The start page: what you can do here."""
    principal = optional_principal(request, session)
    return render(request, "home.html", principal=principal, title_key="home_title")


# --- language and display settings -------------------------------------------------------


@router.get("/language", dependencies=[Depends(PUBLIC)], response_model=None)
def switch_language(
    to: Annotated[str, Query(max_length=8)] = "zh",
    next_: Annotated[str, Query(alias="next", max_length=2000)] = "/",
) -> Response:
    """Switch the page language and go back to the same page."""
    response = RedirectResponse(safe_next(next_), status_code=303)
    if to in LANGUAGES:
        response.set_cookie(LANG_COOKIE, to, max_age=ONE_YEAR, samesite="lax", path="/")
    return response


def _display_form(request: Request) -> Form:
    current = [o for o in DISPLAY_OPTIONS if o in request.cookies.get(DISPLAY_COOKIE, "")]
    return Form(values={"display": current})


@router.get("/preferences/display", dependencies=[Depends(PUBLIC)], response_model=None)
def display_page(request: Request, session: SessionDep) -> Response:
    """Larger text, high contrast, reduced motion: kept in a cookie on this device."""
    principal = optional_principal(request, session)
    return render(
        request,
        "display.html",
        {"form": _display_form(request), "options": DISPLAY_OPTIONS},
        principal=principal,
        title_key="a11y_title",
    )


@router.post("/preferences/display", dependencies=[Depends(PUBLIC), CsrfDep], response_model=None)
def save_display(form: FormDep) -> Response:
    chosen = [o for o in DISPLAY_OPTIONS if o in form.getlist("display")]
    response = redirect("/preferences/display", "a11y_saved")
    response.set_cookie(
        DISPLAY_COOKIE, ".".join(chosen), max_age=ONE_YEAR, samesite="lax", path="/"
    )
    return response


# --- log in, log out -----------------------------------------------------------------------


def _logged_in(request: Request, settings: Any, token: str, target: str, done: str) -> Response:
    response = redirect(target, done)
    set_session_cookie(response, settings, token, settings.token_ttl_minutes * 60)
    csrf.rotate(request, token)
    csrf.set_cookie_if_new(request, response)
    return response


@router.get("/login", dependencies=[Depends(PUBLIC)], response_model=None)
def login_page(
    request: Request,
    session: SessionDep,
    next_: Annotated[str, Query(alias="next", max_length=2000)] = "",
) -> Response:
    """The login form."""
    principal = optional_principal(request, session)
    return render(
        request,
        "login.html",
        {"form": Form(values={"next": safe_next(next_, "")})},
        principal=principal,
        title_key="login_title",
    )


@router.post("/login", dependencies=[Depends(PUBLIC), CsrfDep], response_model=None)
def login_submit(
    request: Request, form: FormDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """Log in with email and password: a session cookie, then back where you were going."""
    t = Translator(language_of(request))
    status = 422
    try:
        data = LoginIn(email=form.get("email").strip(), password=form.get("password"))
        issued = auth_service.login(
            session,
            settings,
            email=str(data.email),
            password=data.password,
            client_ip=client_ip(request),
        )
    except ValidationError as exc:
        apply_validation(form, t, exc)
    except LoginFailed:
        form.summary = t("login_failed")  # the failed attempt is kept (throttling)
    except TooManyRequests as exc:
        form.summary = t("login_throttled", minutes=max(1, (exc.retry_after + 59) // 60))
        status = 429
    else:
        role = issued.role
        target = safe_next(form.get("next"), START_PAGE[role])
        return _logged_in(request, settings, issued.token, target, "logged_in")
    return render(
        request, "login.html", {"form": form}, status_code=status, title_key="login_title"
    )


@router.post("/logout", response_model=None)
def logout_submit(
    request: Request, principal: AnyUser, session: SessionDep, settings: SettingsDep
) -> Response:
    """End this session at once and go to the start page."""
    auth_service.logout(session, principal.session_id)
    response = redirect("/", "logged_out")
    response.delete_cookie(settings.cookie_name, path="/")
    csrf.rotate(request, "")
    csrf.set_cookie_if_new(request, response)
    return response


# --- register ------------------------------------------------------------------------------

REGISTER_ALIASES = {
    "employer.name": "employer_name",
    "employer.uscc": "employer_uscc",
    "employer.staff_count": "employer_staff_count",
    "employer.industry": "employer_industry",
    "employer.address": "employer_address",
    "employer.contact_email": "employer_contact_email",
    "employer": "employer_name",
    "uscc": "employer_uscc",
}


REGISTER: TypeAdapter[SeekerRegisterIn | EmployerRegisterIn] = TypeAdapter(RegisterIn)


def _centre_options(request: Request, session: Any) -> list[tuple[str, str]]:
    t = Translator(language_of(request))
    return [("", t("choose_one"))] + [
        (c.code, t.pick(c.name_zh, c.name_en)) for c in catalog.list_centres(session)
    ]


def _register_page(request: Request, session: Any, form: Form, status: int = 200) -> Response:
    return render(
        request,
        "register.html",
        {"form": form, "centres": _centre_options(request, session)},
        status_code=status,
        title_key="register_title",
    )


@router.get("/register", dependencies=[Depends(PUBLIC)], response_model=None)
def register_page(request: Request, session: SessionDep) -> Response:
    """The registration form for seekers and employers."""
    lang = language_of(request)
    return _register_page(request, session, Form(values={"role": "seeker", "language": lang}))


@router.post("/register", dependencies=[Depends(PUBLIC), CsrfDep], response_model=None)
def register_submit(
    request: Request, form: FormDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """Create the account, log in and go to the first thing to fill in."""
    t = Translator(language_of(request))
    role = form.get("role")
    payload: dict[str, Any] = {}
    if role == "employer":
        payload["employer"] = {
            "name": form.get("employer_name").strip(),
            "uscc": form.get("employer_uscc").strip(),
            "staff_count": optional(form.get("employer_staff_count")) or 0,
            "industry": form.get("employer_industry").strip(),
            "address": form.get("employer_address").strip(),
            "contact_email": form.get("employer_contact_email").strip(),
        }
    try:
        data = REGISTER.validate_python(
            {
                "email": form.get("email").strip(),
                "password": form.get("password"),
                "role": role or None,
                "display_name": form.get("display_name").strip(),
                "language": form.get("language") or "zh",
                "centre_code": optional(form.get("centre_code")),
                **payload,
            }
        )
        account = register(session, data)
        issued = auth_service.open_session(session, settings, account)
    except ValidationError as exc:
        apply_validation(form, t, exc, REGISTER_ALIASES, tags=("seeker", "employer"))
    except DomainError as exc:
        undo_changes(session, exc)
        apply_domain(form, t, exc, REGISTER_ALIASES)
    else:
        target = "/seeker/profile" if account.role == Role.seeker else "/employer/organisation"
        return _logged_in(request, settings, issued.token, target, "registered")
    return _register_page(request, session, form, 422)
