"""Delivery of written pushes: the in-app inbox (the row itself), e-mail over SMTP and a signed
JSON webhook, with retries, exponential backoff and a final `failed` state.

A push is claimed (one more attempt, a lease) and committed before anything is sent, then
each external channel the recipient chose is sent once: channels already done are kept in
the row, so a retry sends only what failed. A crash after sending but before recording it
can repeat that one send; every send of one push carries the same delivery id, derived from
the outbox row's unique key (recipient, kind, item, period): the webhook in its
`X-Jobmatch-Delivery` header and signed body, the e-mail as its `Message-ID`, so the receiver
can drop such a repeat.

A refusal that no retry can change (the mail server answers 5xx for the recipient or the
message, a webhook gateway answers 400 or 422 for the body) fails that channel at once: the
channel is kept as refused in the row and not tried again, and the push ends `failed` with
the reason for admins. Faults of the service's own set-up (the connection, the sender
address, the login, a wrong webhook address) stay temporary and are retried, so fixing the
configuration delivers what waited.
"""

import hashlib
import hmac
import json
import logging
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.db import session_scope
from api.services import outbox, preferences
from api.services.messages import Message, render
from api.settings import Settings
from models import Account, Outbox, PushPreference, SeekerProfile
from models.base import utcnow

log = logging.getLogger(__name__)

EMAIL = "email"
WEBHOOK = "webhook"
SIGNATURE_HEADER = "X-Jobmatch-Signature"
TIMESTAMP_HEADER = "X-Jobmatch-Timestamp"
DELIVERY_HEADER = "X-Jobmatch-Delivery"


class DeliveryError(Exception):
    """A channel refused or failed; the message says which and why (never the content).
    `permanent` when repeating the same send cannot succeed."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message + (" (permanent)" if permanent else ""))
        self.permanent = permanent


WEBHOOK_PERMANENT = frozenset({400, 422})  # the gateway refused this body, not its set-up


@dataclass
class Recipient:
    account_id: int
    language: str
    email: str
    active: bool
    phone: str | None
    pref: PushPreference


@dataclass
class Outcome:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "delivered": self.delivered,
            "retried": self.retried,
            "failed": self.failed,
            "deferred": self.deferred,
        }


def message_for(row: Outbox, language: str, settings: Settings) -> Message:
    """A row rendered for its recipient, with the stop links."""
    return render(
        row.kind,
        row.payload,
        language,
        stop_url=preferences.stop_url(settings, row.recipient_id),
        preferences_url=preferences.preferences_url(settings),
    )


# --- channels ---------------------------------------------------------------------------------


def delivery_id(row: Outbox) -> str:
    """The id of one push, the same on every attempt and from every process: 32 hex characters
    of SHA-256 over the outbox row's unique key (recipient, kind, item, period)."""
    key = "\x1f".join((str(row.recipient_id), row.kind, row.item_key, row.period))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def message_id(settings: Settings, delivery: str) -> str:
    """The e-mail ``Message-ID`` of a push: its delivery id at the sender's domain."""
    domain = parseaddr(settings.smtp_from)[1].rpartition("@")[2] or "jobmatch.invalid"
    return f"<push-{delivery}@{domain}>"


def send_email(settings: Settings, to: str, message: Message, delivery: str) -> None:
    """Send plain text with an HTML alternative over SMTP (a stable Message-ID per push)."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = settings.smtp_from
    mail["To"] = to
    mail["Message-ID"] = message_id(settings, delivery)
    mail["List-Unsubscribe"] = f"<{message.stop_url}>"
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    mail["Content-Language"] = "zh-CN" if message.language == "zh" else "en"
    smtp_cls = smtplib.SMTP_SSL if settings.smtp_ssl else smtplib.SMTP
    try:
        with smtp_cls(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
        ) as smtp:
            if settings.smtp_starttls and not settings.smtp_ssl:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
            smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:  # our only recipient, refused at RCPT
        codes = [code for code, _ in exc.recipients.values()]
        code = codes[0] if codes else 0
        raise DeliveryError(f"email: SMTP {code}", permanent=code >= 500) from exc
    except smtplib.SMTPDataError as exc:  # the server refused this message
        raise DeliveryError(f"email: SMTP {exc.smtp_code}", permanent=exc.smtp_code >= 500) from exc
    except smtplib.SMTPResponseException as exc:  # sender address, login, …: our set-up
        raise DeliveryError(f"email: SMTP {exc.smtp_code}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"email: {type(exc).__name__}") from exc


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over timestamp + "." + body, as "sha256=<hex>"."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_body(row: Outbox, recipient: Recipient, message: Message) -> bytes:
    """The signed JSON body of a webhook push (with its delivery id, as in the header)."""
    data = {
        "id": row.id,
        "delivery_id": delivery_id(row),
        "kind": row.kind,
        "period": row.period,
        "created_at": row.created_at.isoformat(),
        "recipient": {
            "id": recipient.account_id,
            "language": message.language,
            "phone": recipient.phone,
        },
        "subject": message.subject,
        "text": message.text,
        "why": message.why,
        "stop_url": message.stop_url,
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def send_webhook(settings: Settings, body: bytes, delivery: str) -> None:
    """POST the signed JSON body; any answer but 2xx is a failure."""
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(settings.webhook_secret.get_secret_value(), timestamp, body),
        DELIVERY_HEADER: delivery,
    }
    try:
        response = httpx.post(
            settings.webhook_url,
            content=body,
            headers=headers,
            timeout=settings.webhook_timeout_seconds,
        )
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook: {type(exc).__name__}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(
            f"webhook: HTTP {response.status_code}",
            permanent=response.status_code in WEBHOOK_PERMANENT,
        )


# --- the delivery step --------------------------------------------------------------------------


def _recipients(session: Session, ids: list[int]) -> dict[int, Recipient]:
    accounts = {a.id or 0: a for a in session.exec(select(Account).where(col(Account.id).in_(ids)))}
    phones = {
        p.account_id: p.phone
        for p in session.exec(select(SeekerProfile).where(col(SeekerProfile.account_id).in_(ids)))
    }
    prefs = preferences.load_many(session, ids)
    out = {}
    for aid in ids:
        acc = accounts.get(aid)
        if acc is None:
            continue
        out[aid] = Recipient(
            account_id=aid,
            language=acc.language.value,
            email=acc.email,
            active=acc.is_active,
            phone=phones.get(aid) or None,
            pref=prefs[aid],
        )
    return out


def wanted_channels(recipient: Recipient | None, settings: Settings) -> list[str]:
    """The external channels this recipient gets now (none when pushes are off)."""
    if recipient is None or not recipient.active or not recipient.pref.enabled:
        return []
    offered = preferences.available_channels(settings)
    return [c for c in recipient.pref.channels if c in offered]


Sender = Callable[[str, Outbox, Recipient, Message], None]


def _default_sender(settings: Settings) -> Sender:
    def send(channel: str, row: Outbox, recipient: Recipient, message: Message) -> None:
        stable = delivery_id(row)
        if channel == EMAIL:
            send_email(settings, recipient.email, message, stable)
        elif channel == WEBHOOK:
            send_webhook(settings, webhook_body(row, recipient, message), stable)

    return send


def deliver_due(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime | None = None,
    clock: Callable[[], datetime] | None = None,
    batch: int = 100,
    max_batches: int | None = None,
    sender: Sender | None = None,
) -> Outcome:
    """Deliver every due pending push; returns what happened.

    One clock (``clock``, or a fixed ``now``, else the real time) decides which rows are due,
    quiet hours, the next attempt's time and the delivery time, so tests move through
    backoff periods without sleeping.
    """
    tick: Callable[[], datetime] = clock or ((lambda: now) if now is not None else utcnow)
    send = sender or _default_sender(settings)
    lease = timedelta(seconds=settings.push_lease_seconds)
    zone = outbox.local_zone(settings.timezone)
    result = Outcome()
    done_batches = 0
    while max_batches is None or done_batches < max_batches:
        moment = tick()
        with session_scope(engine) as session:
            rows = outbox.claim_due(session, now=moment, limit=batch, lease=lease)
            recipients = _recipients(session, sorted({r.recipient_id for r in rows}))
        if not rows:
            break
        done_batches += 1
        for row in rows:
            _deliver_one(
                engine, settings, row, recipients.get(row.recipient_id), send, zone, result, tick
            )
    return result


def _deliver_one(
    engine: Engine,
    settings: Settings,
    row: Outbox,
    recipient: Recipient | None,
    send: Sender,
    zone: Any,
    result: Outcome,
    tick: Callable[[], datetime],
) -> None:
    row_id, attempts = row.id or 0, row.attempts
    payload = dict(row.payload)
    sent = set(payload.get(outbox.SENT, []))
    refused = dict(payload.get(outbox.REFUSED, {}))
    todo = [c for c in wanted_channels(recipient, settings) if c not in sent and c not in refused]
    moment = tick()
    if todo and recipient is not None:
        quiet_end = preferences.quiet_until(recipient.pref, moment, zone)
        if quiet_end is not None:
            with session_scope(engine) as session:
                outbox.mark_retry(
                    session, row_id, attempts, payload, error="", next_at=quiet_end,
                    undo_attempt=True,
                )  # fmt: skip
            result.deferred += 1
            return
    errors = []
    if todo and recipient is not None:
        message = message_for(row, recipient.language, settings)
        for channel in todo:
            try:
                send(channel, row, recipient, message)
                sent.add(channel)
            except DeliveryError as exc:
                if exc.permanent:
                    refused[channel] = str(exc)
                else:
                    errors.append(str(exc))
    payload[outbox.SENT] = sorted(sent)
    if refused:
        payload[outbox.REFUSED] = refused
    with session_scope(engine) as session:
        if not errors and not refused:
            outbox.mark_delivered(session, row_id, attempts, payload, tick())
            result.delivered += 1
            return
        error = "; ".join([*errors, *refused.values()])
        log.warning("push %s attempt %s failed: %s", row_id, attempts, error)
        result.errors.append(error)
        if not errors or attempts >= settings.push_max_attempts:
            outbox.mark_retry(session, row_id, attempts, payload, error=error, next_at=None)
            result.failed += 1
        else:
            wait = outbox.backoff(
                attempts, settings.push_backoff_seconds, settings.push_backoff_max_seconds
            )
            outbox.mark_retry(
                session, row_id, attempts, payload, error=error, next_at=tick() + wait
            )
            result.retried += 1
