"""Accounts, login throttling and server-side sessions."""

import time
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, delete, func, or_
from sqlalchemy import exists as sql_exists
from sqlalchemy import insert as sql_insert
from sqlalchemy import select as sql_select
from sqlalchemy import update as sql_update
from sqlmodel import Session, col, select

from api.db import read_only
from api.errors import Conflict, InvalidInput, LoginFailed, NotAuthenticated, TooManyRequests
from api.security import (
    TokenClaims,
    decode_token,
    encode_token,
    hash_password,
    needs_rehash,
    new_session_id,
    password_problem,
    verify_password,
)
from api.services.authcache import AuthCache, Kept, forget_after_commit
from api.settings import Settings
from models import Account, AuditLog, AuthSession, LoginAttempt
from models.base import Language, Role, UTCDateTime, utcnow

# Addresses get more room than single accounts: one office may share one address.
IP_FAILURE_FACTOR = 5


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    role: Role


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively."""
    return email.strip().lower()


def create_account(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role,
    display_name: str = "",
    centre_id: int | None = None,
    employer_id: int | None = None,
) -> Account:
    """Create an account; Conflict if the email is taken."""
    email = normalise_email(email)
    if session.exec(select(Account.id).where(Account.email == email)).first() is not None:
        raise Conflict("an account with this email already exists", field="email")
    check_password(password, email=email, name=display_name)
    account = Account(
        email=email,
        password_hash=hash_password(password),
        role=role,
        display_name=display_name,
        centre_id=centre_id,
        employer_id=employer_id,
    )
    session.add(account)
    session.flush()
    return account


def check_password(password: str, *, email: str, name: str = "", field: str = "password") -> None:
    """Refuse common, guessable or overlong passwords, naming the field."""
    problem = password_problem(password, user_inputs=[email, email.split("@")[0], name])
    if problem:
        raise InvalidInput(problem, field=field)


def change_password(
    session: Session, settings: Settings, account: Account, current: str, new: str
) -> IssuedToken:
    """Change the password; every other session ends, a new one is returned."""
    if not verify_password(account.password_hash, current):
        raise InvalidInput("the current password is wrong", field="current_password")
    check_password(new, email=account.email, name=account.display_name, field="new_password")
    now = utcnow()
    account.password_hash = hash_password(new)
    account.password_changed_at = now
    session.add(account)
    revoke_all_sessions(session, account.id or 0)
    session.add(
        AuditLog(
            actor_id=account.id,
            actor_role=account.role.value,
            action="password_changed",
            object_type="account",
            object_id=str(account.id),
        )
    )
    # A session opened after the change (created_at >= password_changed_at) stays valid.
    return open_session(session, settings, account, now=now + timedelta(microseconds=1))


_ACCOUNT: Table = Account.__table__  # type: ignore[attr-defined]
_AUTH_SESSION: Table = AuthSession.__table__  # type: ignore[attr-defined]
_attempt = LoginAttempt.__table__.c  # type: ignore[attr-defined]
_account = _ACCOUNT.c
_auth = _AUTH_SESSION.c

# Before the password is checked, one statement (built once): the failed attempts in the window
# by this email and by this address (count and oldest of each), whether this email has any
# failed attempt at all, and the account with this email (NULLs when there is none).
_window = (
    sql_select(
        func.count().filter(_attempt.email == bindparam("email")).label("by_email"),
        func.min(_attempt.at).filter(_attempt.email == bindparam("email")).label("email_oldest"),
        func.count().filter(_attempt.client_ip == bindparam("ip")).label("by_ip"),
        func.min(_attempt.at).filter(_attempt.client_ip == bindparam("ip")).label("ip_oldest"),
    )
    .where(
        or_(_attempt.email == bindparam("email"), _attempt.client_ip == bindparam("ip")),
        _attempt.at >= bindparam("since"),
    )
    .subquery("window")
)
_LOGIN_LOOKUP = sql_select(
    _window.c.by_email,
    _window.c.email_oldest,
    _window.c.by_ip,
    _window.c.ip_oldest,
    sql_exists().where(_attempt.email == bindparam("email")).label("any_failed"),
    _account.id,
    _account.password_hash,
    _account.is_active,
    _account.role,
).select_from(_window.outerjoin(_ACCOUNT, _account.email == bindparam("email")))

# After the password is checked: the session is opened only if the account still has the hash
# that was checked and is still active (a change while argon2 ran refuses this login).
_OPEN_CHECKED = (
    sql_insert(_AUTH_SESSION)
    .from_select(
        ["id", "account_id", "created_at", "expires_at"],
        sql_select(
            bindparam("sid"),
            _account.id,
            bindparam("now", type_=UTCDateTime),
            bindparam("expires", type_=UTCDateTime),
        ).where(
            _account.id == bindparam("aid"),
            _account.password_hash == bindparam("checked"),
            _account.is_active.is_(True),
        ),
    )
    .returning(_auth.id)
)  # the row when it was opened (rowcount is not told on every driver)
_REHASH = (
    sql_update(_ACCOUNT)
    .where(_account.id == bindparam("aid"), _account.password_hash == bindparam("checked"))
    .values(password_hash=bindparam("rehashed"))
)


def _check_throttle(
    settings: Settings, now: datetime, counts: tuple[tuple[int, datetime | None], ...]
) -> None:
    """TooManyRequests when the failed attempts by email or by address are at their limit."""
    for (count, oldest), limit in zip(
        counts,
        (settings.login_max_failures, settings.login_max_failures * IP_FAILURE_FACTOR),
        strict=True,
    ):
        if count >= limit and oldest is not None:
            oldest_at = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
            retry = (
                int(
                    (
                        oldest_at + timedelta(seconds=settings.login_window_seconds) - now
                    ).total_seconds()
                )
                + 1
            )
            raise TooManyRequests(
                "too many failed logins; wait before trying again", retry_after=max(retry, 1)
            )


def login(
    session: Session, settings: Settings, *, email: str, password: str, client_ip: str
) -> IssuedToken:
    """Check the password (throttled) and open a server-side session.

    The slow part, argon2, runs before the session's transaction begins: on SQLite a write
    transaction holds the database's one write lock, and every other writer would wait
    behind each login's hashing. Two statements besides the commit when the password is right
    (the throttle and the account in one read; the session opened only if the account still
    has the checked hash and is active), plus the clearing of earlier failures if any."""
    now = utcnow()
    email = normalise_email(email)
    since = now - timedelta(seconds=settings.login_window_seconds)
    with Session(read_only(session.get_bind())) as reader:  # type: ignore[arg-type]
        found = (
            reader.connection()
            .execute(_LOGIN_LOOKUP, {"email": email, "ip": client_ip, "since": since})
            .one()
        )
    _check_throttle(
        settings,
        now,
        ((found.by_email, found.email_oldest), (found.by_ip, found.ip_oldest)),
    )
    checked_hash = found.password_hash
    ok = verify_password(checked_hash, password)
    # A hash made with older parameters is replaced now that the password is known (hashed
    # here, before the transaction begins, for the same reason as above).
    stale = ok and checked_hash is not None and needs_rehash(checked_hash)
    rehashed = hash_password(password) if stale else None
    account_id = found.id
    conn = session.connection()
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    sid = new_session_id()
    opened = (
        ok
        and account_id is not None
        and found.is_active
        and conn.execute(
            _OPEN_CHECKED,
            {
                "sid": sid,
                "now": now,
                "expires": now + ttl,
                "aid": account_id,
                "checked": checked_hash,
            },
        ).first()
        is not None
    )
    if not opened:
        session.add(LoginAttempt(email=email, client_ip=client_ip, at=now))
        session.add(
            AuditLog(
                action="login_failed",
                object_type="account",
                object_id=str(account_id) if account_id is not None else "",
                detail={"client_ip": client_ip},
            )
        )
        raise LoginFailed("wrong email or password")
    if found.any_failed:
        conn.execute(delete(LoginAttempt).where(col(LoginAttempt.email) == email))
    if rehashed is not None:  # password_changed_at stays: no session ends
        conn.execute(_REHASH, {"aid": account_id, "checked": checked_hash, "rehashed": rehashed})
    token = encode_token(
        TokenClaims(account_id=account_id, session_id=sid),
        secret=settings.secret_key.get_secret_value(),
        audience=settings.token_audience,
        now=now,
        ttl=ttl,
    )
    return IssuedToken(token=token, expires_at=now + ttl, role=Role(found.role))


def open_session(
    session: Session, settings: Settings, account: Account, *, now: datetime | None = None
) -> IssuedToken:
    """Start a session for the account and sign a token for it."""
    now = now or utcnow()
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    auth = AuthSession(
        id=new_session_id(), account_id=account.id or 0, created_at=now, expires_at=now + ttl
    )
    session.add(auth)
    session.flush()
    token = encode_token(
        TokenClaims(account_id=account.id or 0, session_id=auth.id),
        secret=settings.secret_key.get_secret_value(),
        audience=settings.token_audience,
        now=now,
        ttl=ttl,
    )
    return IssuedToken(token=token, expires_at=auth.expires_at, role=Role(account.role))


@dataclass(frozen=True, slots=True)
class Caller:
    """The columns of an account a request needs, read with its session in one Core row (no ORM
    object per request). Routes that change the account load the Account itself. Its fields
    are AccountPublic's (what `/auth/me` answers from it; a test keeps them the same), as a
    plain dataclass: no validation on every request."""

    id: int
    email: str
    role: Role
    display_name: str
    language: Language
    centre_id: int | None
    employer_id: int | None
    is_active: bool
    created_at: datetime


# Run on every request: built once (plain table columns: no ORM entity loading), so SQLAlchemy
# reuses its cache key and compiled form.
_CALLER_FIELDS = tuple(f.name for f in fields(Caller))
_SESSION_AND_ACCOUNT = (
    sql_select(
        *(_account[name] for name in _CALLER_FIELDS),  # first, in Caller's field order
        _account.password_changed_at,
        _auth.created_at.label("session_created_at"),
        _auth.expires_at,
        _auth.revoked_at,
    )
    .select_from(_AUTH_SESSION.join(_ACCOUNT, _account.id == _auth.account_id))
    .where(_auth.id == bindparam("sid"), _account.id == bindparam("aid"))
)


def authenticate(
    session: Session, settings: Settings, token: str, cache: AuthCache[Caller] | None = None
) -> tuple[Caller, str]:
    """The account a token names and its live session's id; NotAuthenticated otherwise.

    With a cache (api.services.authcache) a token that passed lately is served from it, with
    no database round trip, while nothing about its session or account has changed."""
    now = utcnow()
    if cache is not None:
        kept = cache.get(token, now)
        if kept is not None:
            return kept.caller, kept.session_id
        version = cache.version
    previous = tuple(
        k.strip() for k in settings.previous_secret_keys.get_secret_value().split(",") if k.strip()
    )
    claims = decode_token(
        token,
        secret=settings.secret_key.get_secret_value(),
        audience=settings.token_audience,
        previous=previous,
    )
    if claims is None:
        raise NotAuthenticated("invalid or expired token")
    row = (
        session.connection()
        .execute(_SESSION_AND_ACCOUNT, {"sid": claims.session_id, "aid": claims.account_id})
        .first()
    )
    if row is None:
        raise NotAuthenticated("session not found")
    if row.revoked_at is not None or row.expires_at <= now or not row.is_active:
        raise NotAuthenticated("session ended")
    if row.session_created_at < row.password_changed_at:
        raise NotAuthenticated("session ended by a password change")
    caller = Caller(*row[: len(_CALLER_FIELDS)])
    if cache is not None:
        ends = row.expires_at
        if claims.expires_at is not None:
            ends = min(ends, claims.expires_at)
        kept = Kept(caller, claims.session_id, caller.id, ends, time.monotonic())
        cache.put(token, kept, version)
    return caller, claims.session_id


_REVOKE = (
    sql_update(_AUTH_SESSION)
    .where(_auth.id == bindparam("sid"), _auth.revoked_at.is_(None))
    .values(revoked_at=bindparam("at"))
)


def logout(session: Session, session_id: str) -> None:
    """End the session for good."""
    session.connection().execute(_REVOKE, {"sid": session_id, "at": utcnow()})
    forget_after_commit(session, "session", session_id)


def revoke_all_sessions(session: Session, account_id: int) -> None:
    """End every live session of an account."""
    now = utcnow()
    for auth in session.exec(
        select(AuthSession).where(
            AuthSession.account_id == account_id,
            col(AuthSession.revoked_at).is_(None),
        )
    ):
        auth.revoked_at = now
        session.add(auth)
    session.flush()
