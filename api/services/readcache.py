"""Rendered JSON of hot read pages, kept while nothing they show can have changed.

A page such as the first twenty open postings is the same for every seeker who asks within a
second, and rendering it (queries, validation, encoding) costs far more than the request's
authentication. A kept page is served as the bytes it was encoded to, while

- no write has been committed since it was rendered: every session that writes a row (other
  than the sign-in bookkeeping in QUIET_TABLES, which no kept page shows) bumps a process-wide
  generation when it commits; on PostgreSQL it also notifies CHANNEL in its transaction, and
  every service process listens (WriteListener) and bumps its own generation on hearing it, a
  moment after the commit. One SQLite process sees all its writers itself.
- and it is younger than its time to live: `ttl` (read_cache_seconds, 1 s) when writers are
  not all watched (the listener is not connected), else the caller's `watched_ttl`, which
  bounds only what time itself changes (a posting's expiry, a check's validity) and writes
  that bypass the service (SQL by hand).

The caller's authentication, role check, rate limit and audit rows still run on every request:
only the rendering of what they are allowed to see is kept, under a key that names everything
that page depends on about the caller.
"""

import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import psycopg
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session

from api.services.authcache import CHANNEL as AUTH_CHANNEL
from api.services.authcache import AuthCache

log = logging.getLogger(__name__)

# Rows written on every sign-in, sign-out and refusal; no kept page shows them.
QUIET_TABLES = frozenset({"auth_session", "login_attempt", "audit_log"})
_WROTE = "jobmatch_wrote_rows"
# On PostgreSQL a transaction that wrote rows notifies this channel as it commits; every
# service process listens (WriteListener) and treats it as a write of its own.
CHANNEL = "jobmatch_writes"
_NOTIFY = text(f"NOTIFY {CHANNEL}")

_generation = itertools.count(1)
_current = [next(_generation)]


def generation() -> int:
    """The process-wide write generation (bumped after each commit that wrote rows)."""
    return _current[0]


def _bump() -> None:
    _current[0] = next(_generation)


class ReadCache:
    """Encoded pages by key, each valid for `ttl` seconds while no write has committed in this
    process since it was rendered; at most `size` kept (least recently used go first)."""

    def __init__(self, ttl: float = 1.0, size: int = 512, *, watching: bool = False) -> None:
        self.ttl = ttl
        self.size = size
        # True while every writer's commits reach this process's generation (one SQLite
        # process, or a PostgreSQL listener that is connected): kept pages may then live
        # longer than `ttl`, bounded only by what time itself changes.
        self.watching = watching
        self._lock = threading.Lock()
        self._pages: OrderedDict[Hashable, tuple[float, int, bytes]] = OrderedDict()

    def get_or_render(
        self, key: Hashable, render: Callable[[], bytes], *, watched_ttl: float | None = None
    ) -> bytes:
        """The kept page for key if still valid, else render() (kept for the next callers).
        The generation is read before rendering, so a write that commits while the page is
        being rendered makes it stale at once. `watched_ttl`: how long the page may be kept
        while every writer is watched (else `ttl`)."""
        if self.ttl <= 0:  # switched off
            return render()
        start = generation()
        now = time.monotonic()
        ttl = watched_ttl if watched_ttl is not None and self.watching else self.ttl
        with self._lock:
            kept = self._pages.get(key)
            if kept is not None and kept[1] == start and now - kept[0] < ttl:
                self._pages.move_to_end(key)
                return kept[2]
        body = render()
        with self._lock:
            self._pages[key] = (now, start, body)
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
        return body

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


def _table_names(state: ORMExecuteState) -> set[str]:
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    return {name} if isinstance(name, str) else {""}


def _after_flush(session: Session, _context: Any) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if getattr(obj, "__tablename__", "") not in QUIET_TABLES:
            session.info[_WROTE] = True
            return


def _on_execute(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and not (
        _table_names(state) <= QUIET_TABLES
    ):
        state.session.info[_WROTE] = True


def _before_commit(session: Session) -> None:
    if not (session.info.get(_WROTE) or session.new or session.dirty or session.deleted):
        return
    session.flush()  # what commit would flush next, so that _WROTE is final
    bind = session.get_bind()
    if session.info.get(_WROTE) and bind.dialect.name == "postgresql":
        session.execute(_NOTIFY)  # delivered to the listeners when (and if) this commits


def _after_commit(session: Session) -> None:
    # A rolled-back write leaves its mark for the session's next commit: at worst one
    # needless re-render, never a stale page.
    if session.info.pop(_WROTE, False):
        _bump()


_installed = [False]


def watch_writes() -> None:
    """Make every session bump the write generation when it commits written rows (once per
    process; called by the app factory)."""
    if _installed[0]:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _on_execute)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_commit", _after_commit)
    _installed[0] = True


class WriteListener:
    """Listens on PostgreSQL for the commits of other processes (and its own) and calls
    `on_write` for each; `cache.watching` is True only while connected. A lost connection
    counts as a write (nothing heard meanwhile can be trusted) and is retried each second.

    With an `auth` cache it also hears the changes to sessions and accounts
    (authcache.CHANNEL) and has it forget what they made stale; it serves only while this
    listener is connected."""

    def __init__(
        self,
        engine: Engine,
        cache: ReadCache,
        on_write: Callable[[], None],
        auth: AuthCache[Any] | None = None,
    ) -> None:
        url = engine.url.set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self.cache = cache
        self.auth = auth
        self.on_write = on_write
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="write-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    if self.auth is not None:
                        conn.execute(f"LISTEN {AUTH_CHANNEL}")
                        self.auth.start_serving()  # what it kept before may be stale
                    self._heard()  # anything committed before LISTEN was not heard
                    self.cache.watching = True
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=0.1):  # a stop is seen in 0.1 s
                            if notice.channel == AUTH_CHANNEL and self.auth is not None:
                                self.auth.heard(notice.payload)
                            else:
                                self._heard()
            except psycopg.Error as exc:
                log.warning("write listener lost its connection (%s); retrying", exc)
            finally:
                self.cache.watching = False
                if self.auth is not None:
                    self.auth.stop_serving()
                self._heard()
            self._stop.wait(1.0)

    def _heard(self) -> None:
        _bump()
        self.on_write()
