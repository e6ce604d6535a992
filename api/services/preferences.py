"""Push preferences: frequency, channels, quiet hours, threshold, or no pushes at all."""

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from api.errors import Conflict, InvalidInput
from api.schemas.pushes import PreferencesIn, PreferencesOut
from api.settings import Settings
from models import PushPreference
from models.base import utcnow
from models.tables import PushFrequency


def defaults(account_id: int) -> PushPreference:
    """The choices of an account that made none: weekly digests, inbox only."""
    return PushPreference(account_id=account_id, updated_at=utcnow(), version=0)


def available_channels(settings: Settings) -> list[str]:
    out = ["inbox"]
    if settings.smtp_host:
        out.append("email")
    if settings.webhook_url:
        out.append("webhook")
    return out


def get(session: Session, account_id: int) -> PushPreference:
    """The account's row, or the defaults (not stored)."""
    return session.get(PushPreference, account_id) or defaults(account_id)


def load_many(session: Session, account_ids: Iterable[int]) -> dict[int, PushPreference]:
    """Preferences of many accounts (defaults filled in)."""
    ids = sorted(set(account_ids))
    out: dict[int, PushPreference] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for row in session.exec(
            select(PushPreference).where(col(PushPreference.account_id).in_(chunk))
        ):
            out[row.account_id] = row
    return {i: out.get(i) or defaults(i) for i in ids}


def to_out(row: PushPreference, settings: Settings) -> PreferencesOut:
    stored = row.version > 0
    return PreferencesOut(
        enabled=row.enabled,
        frequency=row.frequency,
        channels=list(row.channels),
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        min_score=row.min_score,
        trainings=row.trainings,
        version=row.version,
        timezone=settings.timezone,
        available_channels=available_channels(settings),
        updated_at=row.updated_at if stored else None,
    )


def put(
    session: Session, settings: Settings, account_id: int, data: PreferencesIn
) -> PushPreference:
    """Replace the account's choices; a stale version is a conflict."""
    unknown = set(data.channels) - set(available_channels(settings))
    if unknown:
        raise InvalidInput(
            f"channel(s) not offered by this service: {', '.join(sorted(unknown))}",
            field="channels",
        )
    row = session.get(PushPreference, account_id)
    if row is not None and data.version is not None and data.version != row.version:
        raise Conflict(
            "the preferences were changed since you read them",
            field="version",
            current_version=row.version,
        )
    if row is None:
        row = PushPreference(account_id=account_id)
    row.enabled = data.enabled
    row.frequency = data.frequency
    row.channels = list(data.channels)
    row.quiet_start, row.quiet_end = data.quiet_start, data.quiet_end
    row.min_score = data.min_score
    row.trainings = data.trainings
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def stop_all(session: Session, account_id: int) -> PushPreference:
    """No pushes at all from now on (the one-click stop)."""
    row = session.get(PushPreference, account_id) or PushPreference(account_id=account_id)
    row.enabled = False
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def wants_digest(pref: PushPreference) -> bool:
    return pref.enabled and pref.frequency != PushFrequency.off


# --- one-click stop links -----------------------------------------------------------------


def stop_token(secret: str, account_id: int) -> str:
    """The token of an account's stop link (HMAC of the account id with the service key)."""
    return hmac.new(secret.encode(), f"push-stop:{account_id}".encode(), hashlib.sha256).hexdigest()


def check_stop_token(secret: str, account_id: int, token: str) -> bool:
    # Compared as bytes: a token from a URL may hold any character.
    return hmac.compare_digest(stop_token(secret, account_id).encode(), token.encode())


def stop_url(settings: Settings, account_id: int) -> str:
    """Where a push links to stop all pushes: a page with one button, no login needed."""
    token = stop_token(settings.secret_key.get_secret_value(), account_id)
    base = settings.public_base_url.rstrip("/")
    return f"{base}/stop-messages?account={account_id}&token={token}"


def preferences_url(settings: Settings) -> str:
    """The notification settings page."""
    return settings.public_base_url.rstrip("/") + "/preferences/pushes"


# --- quiet hours ------------------------------------------------------------------------------


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_until(pref: PushPreference, now: datetime, zone: ZoneInfo) -> datetime | None:
    """When the quiet hours that hold now end, or None if now is not quiet."""
    if not pref.quiet_start or not pref.quiet_end:
        return None
    start, end = _hhmm(pref.quiet_start), _hhmm(pref.quiet_end)
    local = now.astimezone(zone)
    t = local.time().replace(second=0, microsecond=0)
    # start > end: over midnight, e.g. 22:00 to 07:00
    quiet = start <= t < end if start < end else t >= start or t < end
    if not quiet:
        return None
    day = local.date()
    if start >= end and t >= start:
        day = day + timedelta(days=1)
    return datetime(day.year, day.month, day.day, end.hour, end.minute, tzinfo=zone)
