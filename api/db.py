"""Engine, sessions and migrations. Nothing here runs at import time."""

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, ExceptionContext, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool
from sqlmodel import Session, create_engine

import models

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(models.__file__).parent / "migrations"


def pool_size_for(threads: int) -> int:
    """Connections a process needs so that its request threads never wait on each other: a
    request may hold two at once (its session, plus a short one of a login's password lookup),
    and the scheduler and the index poll hold one each. (The rate limits count on a pool of
    their own: make_counter_engine.)"""
    return 2 * threads + 2


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# JSON columns through orjson: the same documents as the stdlib's json, several times faster
# (digest runs write tens of thousands of payloads).
_JSON: dict[str, Any] = {"json_serializer": _json_text, "json_deserializer": orjson.loads}


def make_engine(
    url: str, *, busy_timeout_ms: int = 5000, echo: bool = False, threads: int = 8
) -> Engine:
    """Build the engine; SQLite gets WAL mode, a busy timeout and foreign keys on. The pool
    holds enough connections for `threads` request threads (see pool_size_for): a smaller pool
    deadlocks under load, each thread holding one connection and waiting for a second."""
    if url.startswith("sqlite"):
        kwargs: dict[str, Any] = {
            "connect_args": {"check_same_thread": False, "timeout": 30},
            "pool_size": pool_size_for(threads),
            "max_overflow": 0,
        }
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs = {"connect_args": kwargs["connect_args"], "poolclass": StaticPool}
        else:
            path = url.split("///", 1)[-1]
            if not path.startswith("file:"):  # a URI filename names an existing file
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, **kwargs, **_JSON)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, control transactions, so BEGIN is explicit.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # IMMEDIATE takes the write lock up front, so two writers queue on the busy
            # timeout instead of failing when a read lock would have to be upgraded.
            # Read-only work asks for DEFERRED (see read_only), which takes no write lock.
            mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
            conn.exec_driver_sql(f"BEGIN {mode}")

        reopen = threading.Event()

        @event.listens_for(engine, "handle_error")
        def _reopen_when_read_only(context: ExceptionContext) -> None:
            # A connection that SQLite opened while the file or its disk was read-only stays
            # read-only after the disk is writable again, and so does every connection that
            # shares its shared-memory index: drop this one and close the idle ones, so the
            # next request opens the file anew and the service recovers by itself.
            if "readonly" in str(context.original_exception).lower():
                context.is_disconnect = True
                reopen.set()
                if context.engine is not None:
                    context.engine.pool.dispose()

        @event.listens_for(engine, "do_connect")
        def _collect_closed(*_args: Any) -> None:
            # A closed sqlite3 connection is only really closed once its cached statements
            # are freed, and those sit in a reference cycle: collect them before opening anew,
            # or the new connection shares the old read-only shared-memory index.
            if reopen.is_set():
                reopen.clear()
                gc.collect()

        return engine
    engine = create_engine(
        url,
        echo=echo,
        pool_size=pool_size_for(threads),
        max_overflow=0,
        connect_args=server_connect_args(url),
        **_JSON,
    )
    ping_when_idle(engine)
    return engine


# Seconds a new connection to a database server may take before the request fails (503):
# reads run on the event loop (api.deps.in_one_hop), so an unreachable server must not hold
# a process for the operating system's minutes-long TCP timeout.
CONNECT_TIMEOUT_SECONDS = 5


def server_connect_args(url: str | URL) -> dict[str, Any]:
    """Connection arguments for PostgreSQL: a connect timeout unless the URL sets one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or "connect_timeout" in parsed.query:
        return {}
    return {"connect_timeout": CONNECT_TIMEOUT_SECONDS}


def make_counter_engine(engine: Engine, connections: int) -> Engine:
    """A small pool beside a PostgreSQL engine for counters that need no transaction of their
    own (the rate limits): each statement commits by itself (autocommit) without waiting for
    the WAL flush (synchronous_commit off, set once per connection), so a count is one round
    trip instead of BEGIN, SET, the statement and COMMIT."""
    counter = create_engine(
        engine.url,
        isolation_level="AUTOCOMMIT",
        pool_size=connections,
        max_overflow=0,
        connect_args={"options": "-c synchronous_commit=off", **server_connect_args(engine.url)},
    )
    ping_when_idle(counter)
    return counter


# A pooled connection that has sat unused this long is pinged before it is handed out.
IDLE_PING_SECONDS = 1.0
_IDLE_SINCE = "jobmatch_idle_since"


def ping_when_idle(engine: Engine, idle_seconds: float = IDLE_PING_SECONDS) -> None:
    """Ping a pooled connection before handing it out only when it has been idle for
    idle_seconds (pool_pre_ping pings on every checkout: one round trip a request). A
    connection the server or the network dropped while it sat in the pool is replaced before
    use; one in steady use is not pinged, and if the database goes away under it, the
    statement fails as a disconnect, which answers 503 and invalidates the whole pool, so the
    next requests reconnect (api.errors)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # just connected, or in use a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(str(exc)) from exc  # the pool reconnects and retries
        if not alive:
            raise DisconnectionError("the connection did not answer a ping")


def _with_options(engine: Engine, key: str, **options: Any) -> Engine:
    """`engine.execution_options(**options)`, made once per engine and kept on it under `key`
    (requests ask for it every time, and making one copies the options)."""
    found: Engine | None = getattr(engine, key, None)
    if found is None:
        found = engine.execution_options(**options)
        setattr(engine, key, found)  # a cycle the collector frees with the engine
    return found


def read_only(engine: Engine) -> Engine:
    """The engine for work that only reads: on SQLite it begins without the write lock."""
    return _with_options(engine, "_jobmatch_read_only", sqlite_begin="DEFERRED")


def statement_by_statement(engine: Engine) -> Engine:
    """For the short reads a request does in one go (api.deps.in_one_hop): on PostgreSQL, the
    engine whose connections commit each statement by itself (autocommit), which saves the
    BEGIN and COMMIT round trips around a few SELECTs; elsewhere the engine itself. What it
    gives up: the read's statements do not share one snapshot (each sees what was committed
    when it ran), and a row such a read writes (the audit row of a refusal) is stored at once,
    as it would be anyway."""
    if engine.dialect.name != "postgresql":
        return engine
    return _with_options(engine, "_jobmatch_statement_by_statement", isolation_level="AUTOCOMMIT")


def migration_config(engine: Engine) -> Config:
    """An Alembic config for our migrations folder, bound to the engine's URL."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return cfg


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction for a migration run. On SQLite, foreign keys are off while it runs, so a
    table can be rebuilt (batch mode) under the rows that point at it, and are checked before
    the commit: SQLite's own procedure for schema changes (lang_altertable.html)."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        if sqlite and raw is not None:  # outside any transaction, or SQLite ignores it
            raw.cursor().execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                yield conn
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"a migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite and raw is not None:
                raw.cursor().execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to revision."""
    cfg = migration_config(engine)
    with _migrating(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Revert migrations down to revision."""
    cfg = migration_config(engine)
    with _migrating(engine) as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


AFTER_COMMIT = "jobmatch_after_commit"


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run callback once the session's transaction has committed (not on rollback)."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


def commit(session: Session) -> None:
    """Commit, then run the after-commit callbacks; a failing callback is logged, not raised:
    the data is already stored."""
    session.commit()
    callbacks: list[Callable[[], None]] = session.info.pop(AFTER_COMMIT, [])
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("after-commit callback failed")


def discard(session: Session) -> None:
    """Roll back and forget the after-commit callbacks."""
    session.rollback()
    session.info.pop(AFTER_COMMIT, None)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session for jobs and scripts: commits on success, rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        except BaseException:
            discard(session)
            raise
        commit(session)
