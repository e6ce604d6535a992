"""Rate limits per account or per address, in fixed windows.

On PostgreSQL (several service processes) the counts live in the `rate_counter` table and
are bumped on a connection of their own, so a limit holds across processes and never waits
for the request's transaction: a small pool of autocommit connections (api.db's
make_counter_engine), one round trip a count. The embedded SQLite default is one process:
counts live in its memory (a second SQLite connection would queue behind the request's write
lock).
"""

import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine

from api.db import make_counter_engine
from api.errors import TooManyRequests
from models import RateCounter


@dataclass(frozen=True)
class Limit:
    name: str
    max: int
    window_seconds: int


class RateLimiter:
    """Counts hits per (limit, key) in the current window; TooManyRequests past the max."""

    def __init__(self, engine: Engine, *, connections: int = 4) -> None:
        self.engine = engine
        self.shared = engine.dialect.name == "postgresql"
        # `connections`: as many as requests that may count at once (the request threads).
        self._counter = make_counter_engine(engine, connections) if self.shared else None
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, float], int] = {}

    def close(self) -> None:
        """Close the counters' connections (PostgreSQL)."""
        if self._counter is not None:
            self._counter.dispose()

    def hit(self, limit: Limit, key: str, *, now: datetime | None = None) -> None:
        """Count one request; refuse it (429 with Retry-After) when the window is full."""
        moment = (now or datetime.now(UTC)).timestamp()
        start = math.floor(moment / limit.window_seconds) * limit.window_seconds
        full_key = f"{limit.name}:{key}"[:128]
        count = self._bump_shared(full_key, start) if self.shared else self._bump(full_key, start)
        if count > limit.max:
            retry = max(1, math.ceil(start + limit.window_seconds - moment))
            raise TooManyRequests(
                f"too many requests ({limit.max} per {limit.window_seconds} s); try again later",
                retry_after=retry,
            )

    def _bump(self, key: str, start: float) -> int:
        with self._lock:
            if len(self._counts) > 100_000:  # forget finished windows
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= start}
            self._counts[(key, start)] = self._counts.get((key, start), 0) + 1
            return self._counts[(key, start)]

    def _bump_shared(self, key: str, start: float) -> int:
        window = datetime.fromtimestamp(start, UTC)
        assert self._counter is not None
        # Autocommit without waiting for the WAL flush: a count lost in a server crash only
        # lets a few more requests through in that window, and each request no longer waits
        # for a disk write (the request's own transaction still commits durably).
        with self._counter.connect() as conn:
            return int(conn.execute(_UPSERT, {"key": key, "window_start": window}).scalar_one())


def _upsert() -> Any:
    """One upsert statement, built once (SQLAlchemy then reuses its compiled form)."""
    table = RateCounter.__table__  # type: ignore[attr-defined]
    insert = pg_insert(table).values(
        key=bindparam("key"), window_start=bindparam("window_start"), count=1
    )
    return insert.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"count": table.c["count"] + 1}
    ).returning(table.c["count"])


_UPSERT = _upsert()
