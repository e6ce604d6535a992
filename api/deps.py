"""Typed dependencies: settings, the request's session, the caller and their roles.

Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency on a
worker thread, one hop there and back per dependency and request."""

import inspect
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

import anyio
from fastapi import Depends, Path, Query, Request, Response
from fastapi.security import OAuth2PasswordBearer
from pydantic import TypeAdapter
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.db import commit, discard, read_only, statement_by_statement
from api.errors import DomainError, InvalidInput, NotAuthenticated, PermissionDenied
from api.schemas.common import PageParams
from api.services import auth as auth_service
from api.services.auth import Caller
from api.services.authcache import attach
from api.services.limits import Limit, RateLimiter
from api.services.matching import MatchIndex, track_changes
from api.services.readcache import ReadCache
from api.settings import Settings
from models import Account, AuditLog
from models.base import Role

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ENDED = "jobmatch_unit_of_work_ended"
_INLINE = "jobmatch_read_on_the_event_loop"
T = TypeVar("T")


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work: committed after the handler, rolled back on error.

    Used with scope="function" so the commit happens before the response is sent:
    a failed commit is an error response, never a silent 200.

    Opening a session does no I/O (the connection is taken at its first query), so it is made
    here on the event loop; the end (commit or rollback, and giving the connection back) runs
    on a worker thread, shielded from cancellation and with a limiter of its own, as FastAPI
    does for the exit of a plain generator dependency. That is one thread hop a request fewer.

    A request whose work may hold a connection across worker threads waits at the app's
    SessionGate first; a read that runs wholly on the event loop does not (see SessionGate).
    """
    engine = get_engine(request)
    safe = request.method in SAFE_METHODS
    if safe:
        engine = read_only(engine)
    session = Session(engine, expire_on_commit=False)
    attach(session, request.app.state.auth_cache)
    inline = safe and request.app.state.settings.inline_reads
    if inline:
        session.info[_INLINE] = True
    index = getattr(request.app.state, "match_index", None)
    if index is not None and not safe:
        track_changes(session, index)
    gate: SessionGate | None = (
        None
        if inline and runs_on_the_loop(request.scope.get("route"))
        else getattr(request.app.state, "session_gate", None)
    )
    if gate is not None:
        await gate.enter()
    try:
        try:
            yield session
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(
                    _end_after_error, session, exc, limiter=anyio.CapacityLimiter(1)
                )
            raise
        if session.info.pop(_ENDED, False):
            return  # committed and closed by in_one_hop, on the route's own worker thread
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_end, session, limiter=anyio.CapacityLimiter(1))
    finally:
        if gate is not None:
            gate.leave()


class SessionGate:
    """At most `limit` requests at once whose database work may run on worker threads; the
    rest wait here, holding nothing yet. Such a request may take its connection on one worker
    thread and give it back on another (a plain `def` dependency, then the handler): without
    a bound, more requests could hold connections than the pool has, each waiting for a thread
    while the threads wait for connections. The pool is sized for this limit (api.db).

    A read whose handler and dependencies are all coroutines, with its session on the event
    loop (in_one_hop, `Settings.inline_reads`), takes its connection and gives it back within
    one synchronous stretch of the loop: it can hold at most one connection, never across a
    wait, so it does not wait here. It used to (when the bound was on every request): under
    load a few logins (argon2) and writes in progress then held every place, and reads that
    needed none queued behind them; the reads' 99th percentile was ≈ 3 times what it is now.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._semaphore: anyio.Semaphore | None = None

    async def enter(self) -> None:
        if self._semaphore is None:  # made in the server's event loop
            self._semaphore = anyio.Semaphore(self.limit)
        await self._semaphore.acquire()

    def leave(self) -> None:
        if self._semaphore is not None:
            self._semaphore.release()

    @property
    def inside(self) -> int:
        """How many requests hold a place now."""
        return 0 if self._semaphore is None else self.limit - self._semaphore.value


_ON_THE_LOOP = "_jobmatch_runs_on_the_loop"


def runs_on_the_loop(route: object) -> bool:
    """True when FastAPI runs everything of this route on the event loop: its endpoint and
    every dependency are coroutine (or async generator) functions, or objects whose
    `__call__` is. A plain `def` (or a class) among them runs on a worker thread. Worked out
    once per route and kept on it."""
    known = getattr(route, _ON_THE_LOOP, None)
    if known is None:
        dependant = getattr(route, "dependant", None)
        known = dependant is not None and _all_async(dependant)
        setattr(route, _ON_THE_LOOP, known)
    return bool(known)


def _all_async(dependant: Any) -> bool:
    call = dependant.call
    if call is not None and not _is_async(call):
        return False
    return all(_all_async(d) for d in dependant.dependencies)


def _is_async(call: Any) -> bool:
    if inspect.isclass(call):
        return False
    target = call if inspect.isroutine(call) else getattr(call, "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


async def in_one_hop(session: Session, work: Callable[[], T]) -> T:
    """Run a route's database work and then the end of its unit of work (the commit that
    get_session would otherwise make on a hop of its own) on one worker thread: one wake-up of
    a worker thread a request fewer. The result is validated and serialised on the event loop.

    A read (GET, HEAD; `Settings.inline_reads`) runs it on the event loop itself, with no hop
    at all: waking a worker thread and handing the interpreter lock back and forth cost more
    CPU than these short reads (≈ 20% of a kept page's), and a process can only run Python on
    one core at a time anyway. What it gives up is the loop's other requests moving while the
    read waits on the database: a few sub-millisecond round trips on a healthy one, and at
    most the connect timeout (api.db) when the database is gone. Reads take no lock a writer
    holds (SQLite's WAL, PostgreSQL's MVCC), so no read waits on a write in progress. On
    PostgreSQL such a read also runs statement by statement (api.db.statement_by_statement):
    no BEGIN and COMMIT round trips around a few SELECTs.

    The commit still happens before the response is sent. On an error nothing is ended here:
    get_session rolls back (or keeps the changes of a DomainError that says so) as before.
    """

    def run() -> T:
        result = work()
        _end(session)
        session.info[_ENDED] = True
        return result

    if session.info.get(_INLINE):
        if isinstance(session.bind, Engine) and not session.in_transaction():
            session.bind = statement_by_statement(session.bind)
        return run()
    return await anyio.to_thread.run_sync(run)


def _end(session: Session) -> None:
    try:
        commit(session)
    except BaseException:
        discard(session)
        raise
    finally:
        session.close()


def _end_after_error(session: Session, exc: BaseException) -> None:
    try:
        if isinstance(exc, DomainError) and exc.keep_changes:
            commit(session)
        else:
            discard(session)
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: their account's columns (a Caller, or an Account where a job
    acts without a login), the id of their login session, and the request's database session
    that read them (None outside a request)."""

    account: Caller | Account
    session_id: str
    via_cookie: bool
    request_id: str = ""
    db: Session | None = field(default=None, compare=False, repr=False)

    @property
    def id(self) -> int:
        return self.account.id or 0

    @property
    def role(self) -> Role:
        return Role(self.account.role)


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


def get_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    """The caller from a bearer token, or from the session cookie on web pages."""
    return _principal(request, session, settings, bearer)


def _principal(
    request: Request, session: Session, settings: Settings, bearer: str | None
) -> Principal:
    token, via_cookie = bearer, False
    if token is None:
        token, via_cookie = request.cookies.get(settings.cookie_name), True
    if not token:
        raise NotAuthenticated("not logged in")
    principal = principal_from(request, session, settings, token, via_cookie=via_cookie)
    if via_cookie and request.method not in SAFE_METHODS and not _csrf_ok(request):
        raise PermissionDenied("cookie-authenticated changes need the form's CSRF token")
    return principal


def principal_from(
    request: Request, session: Session, settings: Settings, token: str, *, via_cookie: bool
) -> Principal:
    """The caller a token names (its account and live session), for this request; raises
    NotAuthenticated when the token or its session is not valid (auth.authenticate)."""
    cache = getattr(request.app.state, "auth_cache", None)
    account, session_id = auth_service.authenticate(session, settings, token, cache)
    return Principal(
        account=account,
        session_id=session_id,
        via_cookie=via_cookie,
        request_id=request_id(request),
        db=session,
    )


def _csrf_ok(request: Request) -> bool:
    checker = getattr(request.app.state, "csrf_checker", None)
    return bool(checker and checker(request))


class AccessDenied(PermissionDenied):
    keep_changes = True  # the audit row of the refusal survives


class Allow:
    """A dependency that admits only the given roles; every route declares one."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    async def __call__(
        self,
        request: Request,
        session: SessionDep,
        principal: Annotated[Principal, Depends(get_principal)],
    ) -> Principal:
        # No I/O here (the audit row is written with the request's commit): run on the event
        # loop, not on a worker thread of its own.
        return self.check(request, session, principal)

    def check(self, request: Request, session: Session, principal: Principal) -> Principal:
        """The caller if their role is admitted; else the refusal is audited and raised."""
        if principal.role not in self.roles:
            session.add(
                AuditLog(
                    actor_id=principal.id,
                    actor_role=principal.role.value,
                    action="access_denied",
                    object_type="route",
                    object_id=f"{request.method} {request.url.path}"[:64],
                    request_id=request_id(request),
                )
            )
            raise AccessDenied("your role may not do this")
        return principal

    def __repr__(self) -> str:
        return f"Allow({', '.join(sorted(r.value for r in self.roles))})"


class Public:
    """Marks a route open to everyone, logged in or not."""

    roles: frozenset[Role] = frozenset()

    async def __call__(self) -> None:
        return None


PUBLIC = Public()
# Every kind of account (the volunteer only checks workplaces: routes that serve it say so).
ALL_ROLES = (Role.seeker, Role.employer, Role.caseworker, Role.admin, Role.volunteer)
MEMBER_ROLES = (Role.seeker, Role.employer, Role.caseworker, Role.admin)
AnyUser = Annotated[Principal, Depends(Allow(*ALL_ROLES))]
MemberUser = Annotated[Principal, Depends(Allow(*MEMBER_ROLES))]
SeekerUser = Annotated[Principal, Depends(Allow(Role.seeker))]
StaffUser = Annotated[Principal, Depends(Allow(Role.caseworker, Role.admin))]
AdminUser = Annotated[Principal, Depends(Allow(Role.admin))]


async def page_params(
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, description="page size (capped by the server)")] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> PageParams:
    """Pagination with a capped page size."""
    if limit > settings.max_page_size:
        raise InvalidInput(f"limit may be at most {settings.max_page_size}", field="limit")
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def allow_for(*roles: Role) -> Any:
    """Depends(Allow(...)) for use in Annotated parameters."""
    return Depends(Allow(*roles))


IdPath = Annotated[int, Path(ge=1, le=2**31 - 1, description="a positive id")]


async def get_match_index(request: Request) -> MatchIndex:
    index: MatchIndex = request.app.state.match_index
    return index


IndexDep = Annotated[MatchIndex, Depends(get_match_index)]


async def get_read_cache(request: Request) -> ReadCache:
    cache: ReadCache = request.app.state.read_cache
    return cache


ReadCacheDep = Annotated[ReadCache, Depends(get_read_cache)]


class JSONBytes(Response):
    """A JSON body already encoded (by a schema's serializer, as FastAPI would have)."""

    media_type = "application/json"


class Plain(Generic[T]):
    """A route's own output written with its response model's serializer, as FastAPI would
    write it (by alias, nothing left out), without FastAPI validating that output again first:
    the route builds it from the same schema, so the second validation only costs time."""

    def __init__(self, model: type[T]) -> None:
        self.adapter: TypeAdapter[T] = TypeAdapter(model)

    def __call__(self, value: T, headers: Mapping[str, str] | None = None) -> JSONBytes:
        return JSONBytes(self.adapter.dump_json(value, by_alias=True), headers=headers)


async def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


LIMITED: dict[int | str, dict[str, str]] = {
    429: {"description": "too many requests; see Retry-After"}
}


def _limit(settings: Settings, name: str, per: str) -> Limit:
    return Limit(
        name=name,
        max=getattr(settings, f"limit_{name}_per_{per}"),
        window_seconds=getattr(settings, f"limit_{name}_window"),
    )


class AddressLimit:
    """Counts the request against a limit per client address (for public routes)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(
        self,
        request: Request,
        settings: SettingsDep,
        limiter: Annotated[RateLimiter, Depends(get_limiter)],
    ) -> None:
        limiter.hit(_limit(settings, self.name, "address"), client_ip(request) or "unknown")


def hit_account_limit(
    settings: Settings, limiter: RateLimiter, name: str, principal: Principal
) -> None:
    """Count the request against a limit per logged-in account (429 when full)."""
    limiter.hit(_limit(settings, name, "account"), str(principal.id))


Resolver = Callable[[Session], Principal]


class AllowInHop(Allow):
    """Allow for routes that run their work with in_one_hop: the same authentication (token or
    cookie, revocation, CSRF on changes) and the same role check with its audit row, but done
    by the returned resolver on the route's worker thread, first thing, instead of on a worker
    thread hop of its own; with `account_limit`, the resolver then counts the request against
    that limit per account (as AccountLimit does). The route must call the resolver before
    anything else."""

    def __init__(self, *roles: Role, account_limit: str | None = None) -> None:
        super().__init__(*roles)
        self.account_limit = account_limit

    async def __call__(  # type: ignore[override]
        self,
        request: Request,
        session: SessionDep,
        bearer: Annotated[str | None, Depends(oauth2_scheme)],
    ) -> Resolver:
        # The settings and the limiter straight from the app's state (what get_settings_dep
        # and get_limiter return): two dependencies fewer for FastAPI to solve per request.
        settings: Settings = request.app.state.settings
        limiter: RateLimiter = request.app.state.limiter

        def resolve(work_session: Session) -> Principal:
            principal = _principal(request, work_session, settings, bearer)
            self.check(request, work_session, principal)
            if self.account_limit is not None:
                hit_account_limit(settings, limiter, self.account_limit, principal)
            return principal

        return resolve


class AccountLimit:
    """Counts the request against a limit per logged-in account."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(
        self,
        settings: SettingsDep,
        limiter: Annotated[RateLimiter, Depends(get_limiter)],
        principal: Annotated[Principal, Depends(get_principal)],
    ) -> None:
        hit_account_limit(settings, limiter, self.name, principal)
