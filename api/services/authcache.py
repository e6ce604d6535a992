"""The callers of recent tokens, kept in each service process so that a request's
authentication costs no database round trip (on PostgreSQL, while every change is heard).

Every request names its caller by a token; checking it was a signature check and one query
(the session and its account), the one round trip every authenticated request made. A kept
entry holds what that query and the token gave for a caller that passed: their Caller row,
their session's id and when the token or the session expires, whichever comes first. It is
served again, its expiry checked on every use, while

- nothing about that session or account has changed. On PostgreSQL a trigger (migration
  0013) notifies CHANNEL as any transaction commits that updates or deletes an
  `auth_session` row (`session:<id>`: a logout, a revocation) or an `account` row
  (`account:<id>`: a password change, deactivation, erasure, a new name or role), whoever
  wrote it, SQL by hand included; every service process listens (readcache.WriteListener)
  and forgets those entries as it hears them. The process that made the change forgets them
  itself as it commits (`forget_after_commit`, called by the session hooks below and by the
  Core statements of auth.py), so its own next request never sees the old state; another
  process sees it once its listener has heard the commit (milliseconds).
- and the listener is connected: entries are served only while it is (`serving`), and all
  are dropped whenever it connects or loses its connection (nothing heard meanwhile can be
  trusted). Without a listener (SQLite: no notifications) nothing is kept.
- and it is younger than `ttl` seconds (auth_cache_seconds): a bound on what a missed
  notification could cost, and on the memory of callers who left.

A read that raced a change (it started before the change was heard and finished after) is
not kept: every forget bumps a version that `put` compares with the one its read began at.
Only passed checks are kept; a refused token is checked against the database every time.
"""

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

CHANNEL = "jobmatch_auth"
_PENDING = "jobmatch_auth_forget"
_CACHE = "jobmatch_auth_cache"
_ALL = ("all", "")
# The tables whose rows a kept caller is made of (the trigger's, and the hooks' below).
TABLES = {"auth_session": "session", "account": "account"}
_KINDS = frozenset(TABLES.values())

C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class Kept(Generic[C]):
    """A caller that passed every check, until `valid_until` (the token's or the session's
    expiry, whichever is first)."""

    caller: C
    session_id: str
    account_id: int
    valid_until: datetime
    kept_at: float  # time.monotonic()


class AuthCache(Generic[C]):
    """Kept callers by token; at most `size` (least recently used go first), each for `ttl`
    seconds; served only while `serving` (a connected listener). 0 ttl: off."""

    def __init__(self, ttl: float = 60.0, size: int = 20_000) -> None:
        self.ttl = ttl
        self.size = size
        self.serving = False
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, Kept[C]] = OrderedDict()
        # ("session", id) and ("account", id), as the notifications name them: their tokens
        self._tokens: dict[tuple[str, str], set[str]] = {}
        self._version = 0

    @property
    def on(self) -> bool:
        return self.serving and self.ttl > 0

    @property
    def version(self) -> int:
        """Bumped by every forget: read it before a database read whose result may be put."""
        return self._version

    def get(self, token: str, now: datetime) -> Kept[C] | None:
        """The kept caller of this token while it is still valid at `now`, else None."""
        if not self.on:
            return None
        with self._lock:
            kept = self._kept.get(token)
            if kept is None:
                return None
            if now >= kept.valid_until or time.monotonic() - kept.kept_at >= self.ttl:
                self._drop(token)
                return None
            self._kept.move_to_end(token)
            return kept

    def put(self, token: str, kept: Kept[C], version: int) -> None:
        """Keep a caller read while the version was `version`; not if anything was forgotten
        since (the read may have raced that change) or while not serving."""
        if not self.on:
            return
        with self._lock:
            if version != self._version or not self.serving:
                return
            self._drop(token)
            self._kept[token] = kept
            for row in _rows(kept):
                self._tokens.setdefault(row, set()).add(token)
            while len(self._kept) > self.size:
                self._drop(next(iter(self._kept)))

    def forget(self, kind: str, key: str) -> None:
        """Forget what a change to one row may have made stale: `session` and its id,
        `account` and its id, or `all`. Unknown kinds forget everything."""
        with self._lock:
            self._version += 1
            if kind in _KINDS:
                for token in list(self._tokens.get((kind, key), ())):
                    self._drop(token)
            else:
                self._clear()

    def heard(self, payload: str) -> None:
        """A notification of CHANNEL: `<kind>:<id>`."""
        kind, _, key = payload.partition(":")
        self.forget(kind, key)

    def start_serving(self) -> None:
        """The listener is connected (and listening): keep and serve from now on."""
        with self._lock:
            self._version += 1
            self._clear()
            self.serving = True

    def stop_serving(self) -> None:
        """The listener lost its connection (or stopped): serve nothing, keep nothing."""
        with self._lock:
            self._version += 1
            self.serving = False
            self._clear()

    def __len__(self) -> int:
        return len(self._kept)

    def _drop(self, token: str) -> None:
        kept = self._kept.pop(token, None)
        if kept is None:
            return
        for row in _rows(kept):
            tokens = self._tokens.get(row)
            if tokens is not None:
                tokens.discard(token)
                if not tokens:
                    del self._tokens[row]

    def _clear(self) -> None:
        self._kept.clear()
        self._tokens.clear()


def _rows(kept: Kept[Any]) -> tuple[tuple[str, str], tuple[str, str]]:
    """The rows a kept caller is made of, as a notification names them."""
    return ("session", kept.session_id), ("account", str(kept.account_id))


# --- the process's own changes: forgotten as they commit -------------------------------


def attach(session: Session, cache: AuthCache[Any]) -> None:
    """Make this session's commits forget, in `cache`, what they changed (get_session)."""
    session.info[_CACHE] = cache


def forget_after_commit(session: Session, kind: str, key: object) -> None:
    """Forget `kind:key` in the session's cache when (and if) it commits. For a change made
    with a Core statement on the session's connection, which the hooks below do not see."""
    session.info.setdefault(_PENDING, set()).add((kind, str(key)))


def _after_flush(session: Session, _context: Any) -> None:
    if _CACHE not in session.info:
        return
    for obj in (*session.dirty, *session.deleted):
        kind = TABLES.get(getattr(obj, "__tablename__", ""))
        if kind is not None:
            forget_after_commit(session, kind, getattr(obj, "id", ""))


def _on_execute(state: ORMExecuteState) -> None:
    if _CACHE not in state.session.info or not (state.is_update or state.is_delete):
        return
    table = getattr(getattr(state.statement, "table", None), "name", None)
    if table in TABLES:  # a bulk statement: which rows is not known here
        forget_after_commit(state.session, *_ALL)


def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    cache = session.info.get(_CACHE)
    if pending and cache is not None:
        for kind, key in pending:
            cache.forget(kind, key)
    # A rollback keeps what was pending: forgetting a change that did not happen costs one
    # read, and a savepoint's rollback does not undo what came before it.


_installed = [False]


def watch_auth_changes() -> None:
    """Install the hooks above on every session (once per process; the app factory)."""
    if _installed[0]:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _on_execute)
    event.listen(Session, "after_commit", _after_commit)
    _installed[0] = True
