"""Rendered JSON of hot read pages, kept for a moment (a micro-cache).

A page such as the first twenty open postings is the same for every seeker who asks within a
second, and rendering it (queries, validation, encoding) costs far more than the request's
authentication. A kept page is served as the bytes it was encoded to, while

- no write has been committed in this process since it was rendered: every session that
  writes a row (other than the sign-in bookkeeping in QUIET_TABLES, which no kept page shows)
  bumps one process-wide generation when it commits, so a write here is seen by the next read
  here at once;
- and it is younger than `ttl` seconds: the bound on how late a write made by another service
  process, or time itself (a posting's expiry, a check's validity), shows up. The match index
  has the same bound for other processes' writes (its poll interval).

The caller's authentication, role check, rate limit and audit rows still run on every request:
only the rendering of what they are allowed to see is kept, under a key that names everything
that page depends on about the caller.
"""

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

# Rows written on every sign-in, sign-out and refusal; no kept page shows them.
QUIET_TABLES = frozenset({"auth_session", "login_attempt", "audit_log"})
_WROTE = "jobmatch_wrote_rows"

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

    def __init__(self, ttl: float = 1.0, size: int = 512) -> None:
        self.ttl = ttl
        self.size = size
        self._lock = threading.Lock()
        self._pages: OrderedDict[Hashable, tuple[float, int, bytes]] = OrderedDict()

    def get_or_render(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """The kept page for key if still valid, else render() (kept for the next callers).
        The generation is read before rendering, so a write that commits while the page is
        being rendered makes it stale at once."""
        start = generation()
        now = time.monotonic()
        with self._lock:
            kept = self._pages.get(key)
            if kept is not None and kept[1] == start and now - kept[0] < self.ttl:
                self._pages.move_to_end(key)
                return kept[2]
        body = render()
        if self.ttl > 0:
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
    event.listen(Session, "after_commit", _after_commit)
    _installed[0] = True
