"""The FastAPI application factory."""

import gc
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from api.db import make_engine
from api.deps import PUBLIC, SessionDep, SessionGate
from api.errors import document_errors, install_error_handlers, unavailable_error
from api.middleware import (
    ServiceMiddleware,
)
from api.routers import (
    accessibility,
    auth,
    catalog,
    employers,
    imports,
    inbox,
    learning,
    matches,
    postings,
    privacy,
    referrals,
    seekers,
)
from api.services.auth import Caller
from api.services.authcache import AuthCache, watch_auth_changes
from api.services.limits import RateLimiter
from api.services.matching import build_match_index
from api.services.readcache import ReadCache, WriteListener, watch_writes
from api.settings import Settings, get_settings
from api.web import install as install_pages
from api.web import router as page_router

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, *, settle_heap: bool = False
) -> FastAPI:
    """Build the app; the engine is made in the lifespan unless one is given (tests). With
    `settle_heap` (a served process, `service_app`), what start-up built is set aside from the
    cyclic garbage collector once the process is ready (`settle_start_up_heap`)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine is None
        # Sync routes run on this many threads; the pool is sized for them (api.db).
        to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        app.state.engine = engine or make_engine(
            settings.database_url,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            threads=settings.request_threads,
        )
        app.state.limiter = RateLimiter(app.state.engine, connections=settings.request_threads)
        try:
            app.state.match_index = build_match_index(settings, app.state.engine)
        except DBAPIError as exc:
            error = unavailable_error(exc)
            if error is not None:  # say why in one line before the traceback
                log.critical("cannot start: %s", error.detail)
            raise
        app.state.scheduler = _start_scheduler(settings, app.state.engine, app.state.match_index)
        listener = _start_write_listener(app)
        if settle_heap:
            settle_start_up_heap()
        try:
            yield
        finally:
            if listener is not None:
                listener.stop()
            if app.state.scheduler is not None:
                app.state.scheduler.stop()
            app.state.limiter.close()
            if own_engine:
                app.state.engine.dispose()

    app = FastAPI(
        title="jobmatch",
        summary="Job matching for disabled job seekers: matches, referrals, pushes, privacy.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    watch_writes()
    watch_auth_changes()
    app.state.read_cache = ReadCache(ttl=settings.read_cache_seconds)
    app.state.auth_cache = AuthCache[Caller](ttl=settings.auth_cache_seconds)
    if engine is not None:
        app.state.engine = engine
    install_error_handlers(app)
    document_errors(app)
    app.state.session_gate = SessionGate(settings.request_threads)
    app.add_middleware(
        ServiceMiddleware,
        max_bytes=settings.max_body_bytes,
        overrides=upload_limits(settings),
    )

    @app.get("/health", tags=["health"], dependencies=[Depends(PUBLIC)], responses={503: {}})
    def health(session: SessionDep) -> dict[str, str]:
        """Liveness and database reachability."""
        session.execute(text("SELECT 1"))
        return {"status": "ok"}

    for router in ROUTERS:
        app.include_router(router)
    install_pages(app)
    return app


def service_app() -> FastAPI:
    """The app as `jobmatch serve` runs it in each worker process (uvicorn's factory)."""
    return create_app(settle_heap=True)


def settle_start_up_heap() -> None:
    """Collect once, then move every object start-up made (the match index's documents, the
    app, its routes and their compiled statements: ≈ 380k objects on the demo data) into the
    collector's permanent generation. Without it each full collection walks them all again:
    under load that was a 200–320 ms pause of the whole process every 20–25 s, which set the
    99th percentile of every route. Frozen objects are still freed by reference counting
    when the index replaces them; only a cycle among them would stay, and none is made."""
    gc.collect()
    gc.freeze()


ROUTERS = (
    auth.router,
    seekers.router,
    employers.router,
    imports.router,
    postings.router,
    catalog.router,
    matches.router,
    privacy.router,
    referrals.router,
    inbox.router,
    learning.router,
    accessibility.router,
    page_router,
)


def upload_limits(settings: Settings) -> list[tuple[re.Pattern[str], int]]:
    """Larger body limits for file uploads (one photo by the API, a few with the page's
    form, a file of postings to import), still enforced before the body is read."""
    one = settings.accessibility_photo_max_bytes + 64 * 1024
    return [
        (re.compile(r"^/accessibility/findings/\d+/photos$"), max(one, settings.max_body_bytes)),
        (re.compile(r"^/checks/postings/\d+/new$"), max(one * 5, settings.max_body_bytes)),
        (re.compile(r"^/postings/import$"), settings.import_max_bytes),
    ]


def _start_write_listener(app: FastAPI) -> WriteListener | None:
    """On PostgreSQL, hear other processes' commits (api.services.readcache) and changes to
    sessions and accounts (api.services.authcache); one SQLite process sees every writer
    itself (and keeps no callers: nothing would tell it of a session ended by hand)."""
    cache: ReadCache = app.state.read_cache
    if app.state.engine.dialect.name != "postgresql":
        cache.watching = True
        return None
    index = app.state.match_index
    listener = WriteListener(
        app.state.engine, cache, on_write=index.poll_soon, auth=app.state.auth_cache
    )
    listener.start()
    return listener


def _start_scheduler(settings: Settings, engine: Engine, index: Any) -> Any:
    """The embedded scheduler (it leads only while it holds the lock; see api.scheduler)."""
    if not settings.scheduler_enabled:
        return None
    from api.scheduler import Worker
    from api.services.digests import JobContext

    worker = Worker(JobContext(engine, settings, encoder_factory=lambda _spec: index.encoder))
    worker.start_background()
    return worker
