"""The outbox: every push is one row, written once per (recipient, kind, item, period) with
insert-or-ignore before any delivery; delivery claims due rows, safe with several workers."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from api.errors import InvalidState, NotFound
from models import Outbox
from models.base import OutboxStatus, utcnow

# Kinds of push.
DIGEST = "digest"
TRAINING_OFFER = "training_offer"
REFERRAL_REMINDER = "referral_reminder"
EMPLOYER_DIGEST = "employer_digest"
POSTING_EXPIRED = "posting_expired"
# Verified workplace accessibility: a claim found missing (to the employer), the employer's
# answer (to the checker), a check expiring or expired (to caseworkers).
ACCESSIBILITY_DISPUTE = "accessibility_dispute"
ACCESSIBILITY_REPLY = "accessibility_reply"
ACCESSIBILITY_RECHECK = "accessibility_recheck"
KINDS = (
    DIGEST,
    TRAINING_OFFER,
    REFERRAL_REMINDER,
    EMPLOYER_DIGEST,
    POSTING_EXPIRED,
    ACCESSIBILITY_DISPUTE,
    ACCESSIBILITY_REPLY,
    ACCESSIBILITY_RECHECK,
)

# Keys the delivery step keeps in a row's payload (never shown to the recipient).
SENT = "_sent"  # the external channels this push was delivered on
REFUSED = "_refused"  # channel -> the permanent refusal it got (not tried again)


def local_zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def day_key(moment: datetime, zone: ZoneInfo) -> str:
    """The calendar day of moment in zone, e.g. "2026-11-30"."""
    return moment.astimezone(zone).date().isoformat()


def week_key(moment: datetime, zone: ZoneInfo) -> str:
    """The ISO week of moment in zone, e.g. "2026-W48"."""
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def period_key(frequency: str, moment: datetime, zone: ZoneInfo) -> str:
    """The outbox period of a daily or weekly push at moment."""
    return week_key(moment, zone) if frequency == "weekly" else day_key(moment, zone)


def period_start(frequency: str, moment: datetime, zone: ZoneInfo) -> datetime:
    """The zone-aware start of the period that holds moment."""
    local = moment.astimezone(zone).date()
    if frequency == "weekly":
        local = local - timedelta(days=local.weekday())
    return datetime(local.year, local.month, local.day, tzinfo=zone)


@dataclass(frozen=True)
class Push:
    """One push to write: who, what kind, which item, which period, and its content."""

    recipient_id: int
    kind: str
    item_key: str
    period: str
    payload: dict[str, Any]


def write(session: Session, pushes: Sequence[Push], now: datetime | None = None) -> int:
    """Insert the pushes, ignoring any whose key is already written; returns the count new.

    ON CONFLICT DO NOTHING on the unique key: a rerun, a crashed run resumed, or two workers
    at once never write a push twice.
    """
    if not pushes:
        return 0
    moment = now or utcnow()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = [
        {
            "recipient_id": p.recipient_id,
            "kind": p.kind,
            "item_key": p.item_key[:128],
            "period": p.period,
            "payload": p.payload,
            "status": OutboxStatus.pending,
            "attempts": 0,
            "next_attempt_at": None,
            "last_error": "",
            "created_at": moment,
        }
        for p in pushes
    ]
    # On the table, not the ORM class: a Core executemany, without the ORM's bulk bookkeeping.
    table: Table = Outbox.__table__  # type: ignore[attr-defined]
    stmt = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["recipient_id", "kind", "item_key", "period"])
        .returning(table.c.id)
    )
    new = 0
    for start in range(0, len(rows), 500):
        new += len(session.execute(stmt, rows[start : start + 500]).fetchall())
    return new


def written_keys(session: Session, kind: str, periods: Iterable[str]) -> set[tuple[int, str, str]]:
    """(recipient, item, period) of the pushes of this kind already written for the periods."""
    wanted = sorted(set(periods))
    if not wanted:
        return set()
    query = select(Outbox.recipient_id, Outbox.item_key, Outbox.period).where(
        Outbox.kind == kind, col(Outbox.period).in_(wanted)
    )
    return {(r, i, p) for r, i, p in session.exec(query)}


def last_written(
    session: Session, kind: str, *, before_periods: Iterable[str] = ()
) -> dict[int, datetime]:
    """Per recipient, when their latest push of this kind was written (other periods only)."""
    query = select(Outbox.recipient_id, func.max(Outbox.created_at)).where(Outbox.kind == kind)
    skip = sorted(set(before_periods))
    if skip:
        query = query.where(col(Outbox.period).not_in(skip))
    query = query.group_by(col(Outbox.recipient_id))
    out: dict[int, datetime] = {}
    for rid, at in session.exec(query):
        if at is not None:
            out[rid] = _aware(at)
    return out


def _aware(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite aggregates return the stored text
        value = datetime.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    result: datetime = value
    return result


# --- delivery bookkeeping -----------------------------------------------------------------


def claim_due(session: Session, *, now: datetime, limit: int, lease: timedelta) -> list[Outbox]:
    """Take up to limit due pending rows for delivery: each gets one more attempt and a lease.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so two workers never take the same row; SQLite has
    one writer at a time (the session began IMMEDIATE). Commit right after, then deliver.
    """
    query = (
        select(Outbox)
        .where(
            Outbox.status == OutboxStatus.pending,
            or_(col(Outbox.next_attempt_at).is_(None), col(Outbox.next_attempt_at) <= now),
        )
        .order_by(col(Outbox.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.exec(query))
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = now + lease
        session.add(row)
    session.flush()
    return rows


def _guarded(row_id: int, attempts: int) -> Any:
    # Only the holder of this attempt's lease may settle it (a slow worker whose lease ran
    # out and was re-claimed must not overwrite the newer attempt's outcome).
    return update(Outbox).where(
        col(Outbox.id) == row_id,
        col(Outbox.attempts) == attempts,
        col(Outbox.status) == OutboxStatus.pending,
    )


def mark_delivered(
    session: Session, row_id: int, attempts: int, payload: dict[str, Any], now: datetime
) -> bool:
    result = session.execute(
        _guarded(row_id, attempts).values(
            status=OutboxStatus.delivered,
            delivered_at=now,
            next_attempt_at=None,
            last_error="",
            payload=payload,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_retry(
    session: Session,
    row_id: int,
    attempts: int,
    payload: dict[str, Any],
    *,
    error: str,
    next_at: datetime | None,
    undo_attempt: bool = False,
) -> bool:
    """Record a failed (or deferred) attempt; next_at None makes the row finally failed."""
    values: dict[str, Any] = {"payload": payload, "last_error": error[:2000]}
    if undo_attempt:
        values["attempts"] = attempts - 1
    if next_at is None:
        values.update(status=OutboxStatus.failed, next_attempt_at=None)
    else:
        values["next_attempt_at"] = next_at
    result = session.execute(_guarded(row_id, attempts).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def backoff(attempts: int, base_seconds: float, max_seconds: float) -> timedelta:
    """Exponential backoff after the given number of failed attempts: base, 2×base, 4×base…"""
    exponent = max(0, attempts - 1)
    seconds = base_seconds * (2 ** min(exponent, 30))
    return timedelta(seconds=min(seconds, max_seconds))


# --- inbox and admin ------------------------------------------------------------------------


def inbox_query(recipient_id: int, unread_only: bool = False) -> Any:
    query = select(Outbox).where(Outbox.recipient_id == recipient_id)
    if unread_only:
        query = query.where(col(Outbox.read_at).is_(None))
    return query.order_by(col(Outbox.created_at).desc(), col(Outbox.id).desc())


def unread_count(session: Session, recipient_id: int) -> int:
    query = select(func.count()).where(
        Outbox.recipient_id == recipient_id, col(Outbox.read_at).is_(None)
    )
    return int(session.exec(query).one())


def own_item(session: Session, recipient_id: int, item_id: int) -> Outbox:
    row = session.get(Outbox, item_id)
    if row is None or row.recipient_id != recipient_id:
        raise NotFound(f"inbox item {item_id} not found")
    return row


def set_read(session: Session, recipient_id: int, item_id: int, read: bool) -> Outbox:
    row = own_item(session, recipient_id, item_id)
    row.read_at = (row.read_at or utcnow()) if read else None
    session.add(row)
    session.flush()
    return row


def retry_failed(session: Session, item_id: int) -> Outbox:
    """Put a finally failed push back in the queue (an admin fixed the cause)."""
    row = session.get(Outbox, item_id)
    if row is None:
        raise NotFound(f"push {item_id} not found")
    if row.status != OutboxStatus.failed:
        raise InvalidState(f"push {item_id} is {row.status.value}, not failed", field="status")
    row.status = OutboxStatus.pending
    row.attempts = 0
    row.next_attempt_at = None
    if REFUSED in row.payload:  # the admin fixed the address: try those channels again
        row.payload = {k: v for k, v in row.payload.items() if k != REFUSED}
    session.add(row)
    session.flush()
    return row
