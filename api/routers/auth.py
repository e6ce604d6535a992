"""Register, log in (bearer token or cookie), log out, who am I."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import (
    ALL_ROLES,
    PUBLIC,
    AddressLimit,
    AllowInHop,
    AnyUser,
    JSONBytes,
    Plain,
    Resolver,
    SessionDep,
    SettingsDep,
    client_ip,
    in_one_hop,
)
from api.schemas.domain import AccountPublic, LoginIn, PasswordChangeIn, RegisterIn, TokenOut
from api.services import auth as auth_service
from api.services.common import get_or_404
from api.services.registration import register
from api.settings import Settings
from models import Account

router = APIRouter(prefix="/auth", tags=["auth"])

AUTH_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "wrong email or password"},
    422: {"description": "invalid input"},
    429: {"description": "too many failed logins; see Retry-After"},
}


@router.post(
    "/register",
    status_code=201,
    response_model=AccountPublic,
    dependencies=[Depends(PUBLIC), Depends(AddressLimit("register"))],
    responses={
        409: {"description": "email or credit code taken"},
        422: {},
        429: {"description": "too many registrations from this address; see Retry-After"},
    },
)
def register_account(data: RegisterIn, session: SessionDep) -> AccountPublic:
    """Register a seeker or an employer account."""
    return AccountPublic.model_validate(register(session, data))


@router.post(
    "/token", response_model=TokenOut, dependencies=[Depends(PUBLIC)], responses=AUTH_ERRORS
)
def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> TokenOut:
    """OAuth2 password flow: a bearer token for the API."""
    issued = auth_service.login(
        session, settings, email=form.username, password=form.password, client_ip=client_ip(request)
    )
    return TokenOut(access_token=issued.token, expires_at=issued.expires_at)


def set_session_cookie(response: Response, settings: Settings, token: str, max_age: int) -> None:
    response.set_cookie(
        settings.cookie_name,
        token,
        max_age=max_age,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )


@router.post(
    "/login", response_model=TokenOut, dependencies=[Depends(PUBLIC)], responses=AUTH_ERRORS
)
def login_cookie(
    data: LoginIn,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> TokenOut:
    """Log in and receive an HTTP-only session cookie (for web pages) and the token."""
    issued = auth_service.login(
        session,
        settings,
        email=str(data.email),
        password=data.password,
        client_ip=client_ip(request),
    )
    set_session_cookie(response, settings, issued.token, settings.token_ttl_minutes * 60)
    return TokenOut(access_token=issued.token, expires_at=issued.expires_at)


SESSION_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "not logged in, or the session ended"},
    403: {"description": "a change by cookie without the form's CSRF token"},
}


@router.post("/logout", status_code=204, responses=SESSION_ERRORS)
def logout(
    principal: AnyUser, session: SessionDep, settings: SettingsDep, response: Response
) -> None:
    """End this session: its token and cookie stop working at once."""
    auth_service.logout(session, principal.session_id)
    response.delete_cookie(settings.cookie_name, path="/")


@router.post(
    "/password",
    response_model=TokenOut,
    responses={**SESSION_ERRORS, 422: {"description": "wrong or weak password"}},
)
def change_password(
    data: PasswordChangeIn,
    principal: AnyUser,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> TokenOut:
    """Change your password: every other session ends; this one gets a new token."""
    issued = auth_service.change_password(
        session,
        settings,
        get_or_404(session, Account, principal.id, what="account"),
        data.current_password,
        data.new_password,
    )
    if principal.via_cookie:
        set_session_cookie(response, settings, issued.token, settings.token_ttl_minutes * 60)
    return TokenOut(access_token=issued.token, expires_at=issued.expires_at)


ACCOUNT = Plain(AccountPublic)


@router.get("/me", response_model=AccountPublic, responses=SESSION_ERRORS)
async def read_me(
    caller: Annotated[Resolver, Depends(AllowInHop(*ALL_ROLES))], session: SessionDep
) -> JSONBytes:
    """The logged-in account."""

    def work() -> AccountPublic:  # the caller and the commit on one thread hop
        return AccountPublic.model_validate(caller(session).account)

    return ACCOUNT(await in_one_hop(session, work))
