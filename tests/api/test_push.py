"""Pushes: outbox written once, preferences and opt-out, inbox, e-mail over a real local SMTP
server, a signed webhook to a real local HTTP server, retries to a visible failed state, and
the jobs that write pushes (digest, trainings, reminders, employer digests, expiry)."""

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.services import delivery, digests, outbox
from api.services.digests import JobContext
from api.settings import Settings
from models import Account, Outbox, Posting, Referral
from models.base import (
    Language,
    NeedLevel,
    OfferAvailability,
    OutboxStatus,
    PostingStatus,
    ReferralStatus,
    Role,
    utcnow,
)
from tests import factories as f


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def ctx(engine: Engine, settings: Settings, now: datetime | None = None) -> JobContext:
    return JobContext(engine, settings, clock=(lambda: now) if now else utcnow)


def set_prefs(client: TestClient, h: dict[str, str], **changes: Any) -> dict[str, Any]:
    body = {"frequency": "daily", "min_score": 0.0, **changes}
    r = client.put("/pushes/preferences", headers=h, json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def language(session: Session, acc: Account, lang: Language) -> None:
    acc.language = lang
    session.add(acc)
    session.commit()


def rows(session: Session, kind: str | None = None) -> list[Outbox]:
    session.rollback()
    session.expire_all()  # see what the jobs and the app committed since
    query = select(Outbox)
    if kind:
        query = query.where(Outbox.kind == kind)
    out = list(session.exec(query.order_by(Outbox.id)))
    session.commit()  # end the read, so this session may write again (SQLite WAL snapshot)
    return out


def world(session: Session) -> dict[str, Any]:
    emp = f.employer(session, name="无障碍科技 Barrier-free Tech")
    posting = f.posting(
        session,
        emp,
        title="数据录入员 Data entry clerk",
        required_skills=["Excel", "Python"],
        offers={"lift": OfferAvailability.available},
    )
    return {"employer": emp, "posting": posting}


# --- periods and the outbox -----------------------------------------------------------------------


def test_periods_are_days_and_iso_weeks_in_the_local_zone() -> None:
    zone = outbox.local_zone("Asia/Shanghai")
    late_utc = datetime(2026, 11, 29, 17, 30, tzinfo=UTC)  # 01:30 on Monday 30th in Shanghai
    assert outbox.day_key(late_utc, zone) == "2026-11-30"
    assert outbox.week_key(late_utc, zone) == "2026-W49"
    assert outbox.period_key("weekly", late_utc, zone) == "2026-W49"
    assert outbox.day_key(late_utc, outbox.local_zone("UTC")) == "2026-11-29"
    start = outbox.period_start("weekly", late_utc, zone)
    assert start.isoformat() == "2026-11-30T00:00:00+08:00"


def test_outbox_writes_each_key_once(engine: Engine, session: Session) -> None:
    acc = f.account(session, Role.seeker)
    push = outbox.Push(acc.id or 0, outbox.DIGEST, "digest", "2026-11-30", {"items": []})
    with Session(engine) as s:
        assert outbox.write(s, [push, push]) == 1
        s.commit()
    with Session(engine) as s:
        assert outbox.write(s, [push]) == 0
        s.commit()
    assert len(rows(session)) == 1


def test_backoff_doubles_up_to_a_limit() -> None:
    assert [outbox.backoff(n, 30, 200).total_seconds() for n in (1, 2, 3, 4, 5)] == [
        30,
        60,
        120,
        200,
        200,
    ]


# --- preferences ----------------------------------------------------------------------------------


def test_preferences_defaults_changes_and_bad_input(
    client: TestClient, session: Session, settings: Settings
) -> None:
    acc, _ = f.seeker(session)
    h = f.headers(session, settings, acc)
    r = client.get("/pushes/preferences", headers=h)
    assert r.status_code == 200
    body = r.json()
    assert body["enabled"] and body["frequency"] == "weekly" and body["channels"] == []
    assert body["timezone"] == "Asia/Shanghai" and body["available_channels"] == ["inbox"]
    r = client.put("/pushes/preferences", headers=h, json={"quiet_start": "25:00"})
    assert r.status_code == 422 and r.json()["field"] == "quiet_start"
    r = client.put("/pushes/preferences", headers=h, json={"quiet_start": "22:00"})
    assert r.status_code == 422
    r = client.put("/pushes/preferences", headers=h, json={"channels": ["email"]})
    assert r.status_code == 422 and r.json()["field"] == "channels"  # no SMTP configured
    r = client.put("/pushes/preferences", headers=h, json={"channels": ["sms"]})
    assert r.status_code == 422 and r.json()["field"].startswith("channels")
    r = client.put("/pushes/preferences", headers=h, json={"min_score": 2})
    assert r.status_code == 422 and r.json()["field"] == "min_score"
    r = client.put("/pushes/preferences", headers=h, json={"colour": "red"})
    assert r.status_code == 422
    done = set_prefs(client, h, quiet_start="22:00", quiet_end="07:00")
    assert done["version"] == 1 and done["quiet_start"] == "22:00"
    r = client.put("/pushes/preferences", headers=h, json={"version": 7, "frequency": "off"})
    assert r.status_code == 409 and r.json()["field"] == "version"


# --- the digest -----------------------------------------------------------------------------------


def test_digest_once_per_period_with_reasons_then_opt_out_stops_it(
    client: TestClient, session: Session, settings: Settings, engine: Engine
) -> None:
    w = world(session)
    acc, profile = f.seeker(
        session, skills=["Excel"], needs={"lift": NeedLevel.essential}, headline="数据录入"
    )
    h = f.headers(session, settings, acc)
    set_prefs(client, h)
    now = utcnow()
    assert digests.run_digest(ctx(engine, settings, now))["written"] == 1
    assert digests.run_digest(ctx(engine, settings, now))["written"] == 0  # rerun: nothing new
    [row] = rows(session, outbox.DIGEST)
    zone = outbox.local_zone(settings.timezone)
    assert row.recipient_id == acc.id and row.period == outbox.day_key(now, zone)
    [item] = row.payload["items"]
    assert item["posting_id"] == w["posting"].id and item["employer"].startswith("无障碍科技")
    assert item["matched_skills"] == ["Excel"] and item["missing_skills"] == ["Python"]
    assert [n["en"] for n in item["needs_met"]] == ["Lift / elevator"]
    # The next day: nothing new since this digest, so no push; a new posting is pushed.
    tomorrow = now + timedelta(days=1)
    assert digests.run_digest(ctx(engine, settings, tomorrow))["written"] == 0
    lift = {"lift": OfferAvailability.available}
    f.posting(session, w["employer"], title="Excel 文员 Excel clerk", required_skills=["Excel"],
              offers=lift)  # fmt: skip
    later = utcnow() + timedelta(days=1)
    assert digests.run_digest(ctx(engine, settings, later))["written"] == 1
    latest = rows(session, outbox.DIGEST)[-1]
    assert [i["title"] for i in latest.payload["items"]] == ["Excel 文员 Excel clerk"]
    # Opt out: the next run writes nothing.
    set_prefs(client, h, enabled=False)
    f.posting(session, w["employer"], title="Excel 助理 Excel assistant", required_skills=["Excel"],
              offers=lift)  # fmt: skip
    assert digests.run_digest(ctx(engine, settings, later + timedelta(days=1)))["written"] == 0
    set_prefs(client, h, frequency="off")
    assert digests.run_digest(ctx(engine, settings, later + timedelta(days=1)))["written"] == 0
    assert profile.id


def test_weekly_digest_and_threshold(
    client: TestClient, session: Session, settings: Settings, engine: Engine
) -> None:
    world(session)
    weekly, _ = f.seeker(session, skills=["Excel"])
    picky, _ = f.seeker(session, skills=["Excel"])
    set_prefs(client, f.headers(session, settings, weekly), frequency="weekly")
    set_prefs(client, f.headers(session, settings, picky), min_score=0.99)
    now = utcnow()
    assert digests.run_digest(ctx(engine, settings, now))["written"] == 1
    [row] = rows(session, outbox.DIGEST)
    assert row.recipient_id == weekly.id
    assert row.period == outbox.week_key(now, outbox.local_zone(settings.timezone))


def test_push_never_holds_health_related_needs(
    client: TestClient, session: Session, settings: Settings, engine: Engine
) -> None:
    emp = f.employer(session)
    f.posting(
        session,
        emp,
        offers={"extra_breaks": OfferAvailability.available, "lift": OfferAvailability.available},
    )
    acc, profile = f.seeker(
        session, needs={"extra_breaks": NeedLevel.preferred, "lift": NeedLevel.preferred}
    )
    set_prefs(client, f.headers(session, settings, acc))
    digests.run_digest(ctx(engine, settings))
    [row] = rows(session, outbox.DIGEST)
    text = json.dumps(row.payload, ensure_ascii=False)
    assert "Lift / elevator" in text and "Extra breaks" not in text and "extra_breaks" not in text
    assert profile.id


# --- inbox ----------------------------------------------------------------------------------------


def test_inbox_lists_reads_and_hides_others_items(
    client: TestClient, session: Session, settings: Settings, engine: Engine
) -> None:
    world(session)
    acc, _ = f.seeker(session, skills=["Excel"])
    language(session, acc, Language.en)
    h = f.headers(session, settings, acc)
    set_prefs(client, h)
    digests.run_digest(ctx(engine, settings))
    r = client.get("/inbox", headers=h)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 1 and page["unread"] == 1
    item = page["items"][0]
    assert item["subject"].startswith("[jobmatch] 1 new job matches")
    assert "Data entry clerk" in item["text"] and "matching skills: Excel" in item["text"]
    assert "You receive this because you chose daily" in item["why"]
    assert "/stop-messages?account=" in item["stop_url"]  # a page: it works from an e-mail
    r = client.post(f"/inbox/{item['id']}/read", headers=h)
    assert r.status_code == 200 and r.json()["read_at"]
    assert client.get("/inbox?unread_only=true", headers=h).json()["total"] == 0
    assert client.post(f"/inbox/{item['id']}/unread", headers=h).json()["read_at"] is None
    other = f.account(session, Role.caseworker)
    oh = f.headers(session, settings, other)
    assert client.post(f"/inbox/{item['id']}/read", headers=oh).status_code == 404
    assert client.get("/inbox", headers=oh).json()["total"] == 0
    # Chinese for a Chinese reader.
    language(session, acc, Language.zh)
    zh = client.get("/inbox", headers=h).json()["items"][0]
    assert zh["subject"].startswith("【就业推荐】") and "符合的技能：Excel" in zh["text"]


def test_stop_link_turns_pushes_off(
    client: TestClient, session: Session, settings: Settings, engine: Engine
) -> None:
    world(session)
    acc, _ = f.seeker(session, skills=["Excel"])
    h = f.headers(session, settings, acc)
    set_prefs(client, h)
    digests.run_digest(ctx(engine, settings))
    stop_url = client.get("/inbox", headers=h).json()["items"][0]["stop_url"]
    query = stop_url.split("?", 1)[1]
    bad = query[:-4] + "0000"
    assert client.post(f"/pushes/stop?{bad}").status_code == 404
    assert client.post(f"/pushes/stop?{query}").status_code == 204
    assert client.get("/pushes/preferences", headers=h).json()["enabled"] is False


# --- e-mail over a real local SMTP server ---------------------------------------------------------


class Collect:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Collect, int]]:
    handler = Collect()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _parts(mail: Message) -> dict[str, str]:
    out = {}
    for part in mail.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            out[part.get_content_subtype()] = payload.decode(part.get_content_charset() or "utf-8")
    return out


def test_email_arrives_in_the_readers_language_with_reasons(
    client: TestClient,
    session: Session,
    settings: Settings,
    engine: Engine,
    smtp: tuple[Collect, int],
) -> None:
    handler, port = smtp
    settings = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    client.app.state.settings = settings  # type: ignore[attr-defined]
    world(session)
    en, _ = f.seeker(session, skills=["Excel"])
    zh, _ = f.seeker(session, skills=["Excel"])
    language(session, en, Language.en)
    for acc in (en, zh):
        set_prefs(client, f.headers(session, settings, acc), channels=["email"])
    digests.run_digest(ctx(engine, settings))
    outcome = delivery.deliver_due(engine, settings)
    assert outcome.delivered == 2 and outcome.failed == 0
    by_to = {m["To"]: m for m in handler.messages}
    assert set(by_to) == {en.email, zh.email}
    mail_en, mail_zh = by_to[en.email], by_to[zh.email]
    assert mail_en["Subject"].startswith("[jobmatch] 1 new job matches")
    assert mail_en["Content-Language"] == "en" and mail_en["List-Unsubscribe"]
    text, page = _parts(mail_en)["plain"], _parts(mail_en)["html"]
    assert "matching skills: Excel" in text and "You receive this because" in text
    assert '<html lang="en">' in page and "<h1>" in page and "Stop all pushes</a>" in page
    zh_text = _parts(mail_zh)["plain"]
    assert "符合的技能：Excel" in zh_text and "您收到这条推荐" in zh_text
    assert '<html lang="zh-CN">' in _parts(mail_zh)["html"]
    assert all(r.status == OutboxStatus.delivered for r in rows(session))
    assert delivery.deliver_due(engine, settings).delivered == 0  # nothing sent twice
    assert len(handler.messages) == 2


class Crash(Exception):
    """The process dies right after a send, before the delivery is recorded."""


def crash_after_send(settings: Settings) -> delivery.Sender:
    real = delivery._default_sender(settings)

    def send(channel: str, row: Outbox, recipient: Any, message: Any) -> None:
        real(channel, row, recipient, message)
        raise Crash

    return send


def test_a_resent_email_keeps_its_message_id(
    client: TestClient,
    session: Session,
    settings: Settings,
    engine: Engine,
    smtp: tuple[Collect, int],
) -> None:
    handler, port = smtp
    settings = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    client.app.state.settings = settings  # type: ignore[attr-defined]
    world(session)
    first, _ = f.seeker(session, skills=["Excel"])
    other, _ = f.seeker(session, skills=["Excel"])
    for acc in (first, other):
        set_prefs(client, f.headers(session, settings, acc), channels=["email"])
    digests.run_digest(ctx(engine, settings))
    t0 = utcnow()
    with pytest.raises(Crash):
        delivery.deliver_due(engine, settings, now=t0, batch=1, sender=crash_after_send(settings))
    [crashed] = [r for r in rows(session) if r.attempts == 1]
    assert crashed.status == OutboxStatus.pending  # the send was never recorded
    # After the lease the push is sent again, with the same Message-ID.
    later = t0 + timedelta(seconds=settings.push_lease_seconds + 1)
    assert delivery.deliver_due(engine, settings, now=later).delivered == 2
    ids = {}
    for mail in handler.messages:
        ids.setdefault(mail["To"], []).append(mail["Message-ID"])
    recipient = session.get(Account, crashed.recipient_id)
    assert recipient is not None
    repeat = ids[recipient.email]
    assert len(repeat) == 2 and repeat[0] == repeat[1]
    assert repeat[0] == f"<push-{delivery.delivery_id(crashed)}@jobmatch.invalid>"
    [once] = [v for k, v in ids.items() if k != recipient.email]
    assert len(once) == 1 and once[0] != repeat[0]  # another push, another id


# --- a signed webhook to a real local HTTP server -------------------------------------------------


class Hook:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[dict[str, str], bytes]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append(({k: v for k, v in self.headers.items()}, body))
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.close()


SECRET = "whsec-" + "k" * 32


def test_webhook_body_is_signed(
    client: TestClient, session: Session, settings: Settings, engine: Engine, hook: Hook
) -> None:
    settings = settings.model_copy(
        update={"webhook_url": hook.url, "webhook_secret": SecretStr(SECRET)}  # type: ignore[dict-item]
    )
    client.app.state.settings = settings  # type: ignore[attr-defined]
    world(session)
    acc, profile = f.seeker(session, skills=["Excel"], phone="13800001111")
    set_prefs(client, f.headers(session, settings, acc), channels=["webhook"])
    digests.run_digest(ctx(engine, settings))
    assert delivery.deliver_due(engine, settings).delivered == 1
    [(headers, body)] = hook.received
    ts, sig = headers["X-Jobmatch-Timestamp"], headers["X-Jobmatch-Signature"]
    expected = hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert sig == f"sha256={expected}"
    assert abs(int(ts) - time.time()) < 120
    data = json.loads(body)
    assert data["kind"] == "digest" and data["recipient"]["phone"] == "13800001111"
    assert data["recipient"]["language"] == "zh" and "符合的技能" in data["text"]
    assert data["why"] and "/stop-messages" in data["stop_url"]
    assert (
        headers["X-Jobmatch-Delivery"]
        == data["delivery_id"]
        == delivery.delivery_id(rows(session)[0])
    )
    assert profile.full_name not in body.decode()


def test_a_resent_webhook_keeps_its_delivery_id(
    client: TestClient, session: Session, settings: Settings, engine: Engine, hook: Hook
) -> None:
    settings = settings.model_copy(
        update={"webhook_url": hook.url, "webhook_secret": SecretStr(SECRET)}  # type: ignore[dict-item]
    )
    client.app.state.settings = settings  # type: ignore[attr-defined]
    world(session)
    acc, _ = f.seeker(session, skills=["Excel"])
    set_prefs(client, f.headers(session, settings, acc), channels=["webhook"])
    digests.run_digest(ctx(engine, settings))
    t0 = utcnow()
    with pytest.raises(Crash):
        delivery.deliver_due(engine, settings, now=t0, sender=crash_after_send(settings))
    later = t0 + timedelta(seconds=settings.push_lease_seconds + 1)
    assert delivery.deliver_due(engine, settings, now=later).delivered == 1
    assert delivery.deliver_due(engine, settings, now=later).delivered == 0
    [(h1, b1), (h2, b2)] = hook.received
    [row] = rows(session)
    expected = delivery.delivery_id(row)
    assert h1["X-Jobmatch-Delivery"] == h2["X-Jobmatch-Delivery"] == expected
    assert json.loads(b1)["delivery_id"] == json.loads(b2)["delivery_id"] == expected
    for headers, body in hook.received:  # the id is inside the signed body too
        ts = headers["X-Jobmatch-Timestamp"]
        mac = hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert headers["X-Jobmatch-Signature"] == f"sha256={mac}"


def test_failures_retry_with_backoff_then_fail_visibly(
    client: TestClient, session: Session, settings: Settings, engine: Engine, hook: Hook
) -> None:
    hook.status = 500
    settings = settings.model_copy(
        update={
            "webhook_url": hook.url,
            "webhook_secret": SecretStr(SECRET),
            "push_max_attempts": 3,
            "push_backoff_seconds": 60.0,
        }  # type: ignore[dict-item]
    )
    client.app.state.settings = settings  # type: ignore[attr-defined]
    world(session)
    acc, _ = f.seeker(session, skills=["Excel"])
    set_prefs(client, f.headers(session, settings, acc), channels=["webhook"])
    digests.run_digest(ctx(engine, settings))
    t0 = utcnow()
    assert delivery.deliver_due(engine, settings, now=t0).retried == 1
    t1 = utcnow()  # the backoff counts from the failure, somewhere in [t0, t1]
    [row] = rows(session)
    assert row.attempts == 1 and row.last_error == "webhook: HTTP 500"
    assert row.next_attempt_at is not None
    next_at = row.next_attempt_at.replace(tzinfo=t0.tzinfo)
    assert t0 + timedelta(seconds=55) <= next_at <= t1 + timedelta(seconds=65)
    assert delivery.deliver_due(engine, settings, now=t0).retried == 0  # not due yet
    t1 = t0 + timedelta(minutes=2)
    assert delivery.deliver_due(engine, settings, now=t1).retried == 1
    [row] = rows(session)
    wait = (row.next_attempt_at - t1).total_seconds()  # type: ignore[operator]
    assert 115 <= wait <= 125  # doubled, counted from the attempt
    assert delivery.deliver_due(engine, settings, now=t0 + timedelta(hours=1)).failed == 1
    assert len(hook.received) == 3
    admin = f.account(session, Role.admin, centre_code=None)
    ah = f.headers(session, settings, admin)
    page = client.get("/admin/pushes", headers=ah).json()
    assert page["total"] == 1 and page["items"][0]["last_error"] == "webhook: HTTP 500"
    assert "payload" not in page["items"][0]
    push_id = page["items"][0]["id"]
    hook.status = 200
    assert client.post(f"/admin/pushes/{push_id}/retry", headers=ah).status_code == 200
    assert client.post(f"/admin/pushes/{push_id}/retry", headers=ah).status_code == 409
    assert delivery.deliver_due(engine, settings).delivered == 1
    assert client.get("/admin/pushes", headers=ah).json()["total"] == 0


def test_quiet_hours_defer_external_channels(
    client: TestClient, session: Session, settings: Settings, engine: Engine, hook: Hook
) -> None:
    settings = settings.model_copy(
        update={"webhook_url": hook.url, "webhook_secret": SecretStr(SECRET)}  # type: ignore[dict-item]
    )
    client.app.state.settings = settings  # type: ignore[attr-defined]
    world(session)
    acc, _ = f.seeker(session, skills=["Excel"])
    zone = outbox.local_zone(settings.timezone)
    local = utcnow().astimezone(zone)
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(hours=1)).strftime("%H:%M")
    set_prefs(client, f.headers(session, settings, acc), channels=["webhook"],
              quiet_start=start, quiet_end=end)  # fmt: skip
    digests.run_digest(ctx(engine, settings))
    assert delivery.deliver_due(engine, settings).deferred == 1
    assert hook.received == []
    [row] = rows(session)
    assert row.attempts == 0 and row.status == OutboxStatus.pending
    assert row.next_attempt_at is not None and row.next_attempt_at > utcnow()


# --- the other jobs -------------------------------------------------------------------------------


def test_training_offer_names_postings_and_missing_skills(
    client: TestClient, session: Session, settings: Settings, engine: Engine
) -> None:
    world(session)  # requires Excel and Python
    acc, _ = f.seeker(session, skills=["Excel"], needs={"lift": NeedLevel.essential})
    set_prefs(client, f.headers(session, settings, acc))
    good = f.training(session, title="Python 入门 Python basics", skills_taught=["python"],
                      accessibility=["lift"])  # fmt: skip
    f.training(session, title="无电梯 no lift", skills_taught=["Python"])
    full = f.training(session, title="满员 full", skills_taught=["Python"], accessibility=["lift"])
    full.seats_taken = full.capacity
    session.add(full)
    session.commit()
    f.training(session, centre_code="binjiang", title="远 far", skills_taught=["Python"],
               accessibility=["lift"])  # fmt: skip
    assert digests.run_trainings(ctx(engine, settings))["written"] == 1
    [row] = rows(session, outbox.TRAINING_OFFER)
    assert row.item_key == f"training:{good.id}"
    assert row.payload["skills"] == ["Python"]
    assert row.payload["postings"][0]["missing_skills"] == ["Python"]
    assert digests.run_trainings(ctx(engine, settings))["written"] == 0  # never twice


def test_reminders_once_per_referral_per_day_to_the_centre(
    session: Session, settings: Settings, engine: Engine
) -> None:
    emp = f.employer(session)
    posting = f.posting(session, emp)
    _, profile = f.seeker(session)
    cw = f.account(session, Role.caseworker)
    other_centre = f.account(session, Role.caseworker, centre_code="binjiang")
    now = utcnow()
    for status, deadline in (
        (ReferralStatus.pending, now - timedelta(hours=5)),
        (ReferralStatus.approved, now - timedelta(hours=5)),
    ):
        session.add(
            Referral(
                seeker_id=profile.id or 0,
                posting_id=posting.id or 0,
                status=status,
                created_by=cw.id or 0,
                deadline_at=deadline,
            )
        )
        session.commit()
        posting = f.posting(session, emp)
    assert digests.run_reminders(ctx(engine, settings, now))["written"] == 1
    assert digests.run_reminders(ctx(engine, settings, now))["written"] == 0
    assert digests.run_reminders(ctx(engine, settings, now + timedelta(days=1)))["written"] == 1
    reminders = rows(session, outbox.REFERRAL_REMINDER)
    assert {r.recipient_id for r in reminders} == {cw.id}
    assert other_centre.id not in {r.recipient_id for r in reminders}
    assert reminders[0].payload["overdue_hours"] == 5


def test_expiry_closes_postings_and_tells_the_employer(
    session: Session, settings: Settings, engine: Engine
) -> None:
    emp_acc, emp = f.employer_account(session)
    old = f.posting(session, emp, expires_at=utcnow() - timedelta(hours=1))
    fresh = f.posting(session, emp)
    version, updated_at = old.version, old.updated_at
    assert digests.run_expiry(ctx(engine, settings))["closed"] == 1
    assert digests.run_expiry(ctx(engine, settings))["closed"] == 0
    session.expire_all()
    closed = session.get(Posting, old.id)
    assert closed is not None and closed.status == PostingStatus.closed
    assert closed.version == version + 1 and closed.updated_at > updated_at
    assert session.get(Posting, fresh.id).status == PostingStatus.open  # type: ignore[union-attr]
    [row] = rows(session, outbox.POSTING_EXPIRED)
    assert row.recipient_id == emp_acc.id and row.item_key == f"posting:{old.id}"


def test_employer_digest_is_pseudonymous(
    client: TestClient, session: Session, settings: Settings, engine: Engine
) -> None:
    emp_acc, emp = f.employer_account(session)
    f.posting(session, emp, required_skills=["Excel"])
    set_prefs(client, f.headers(session, settings, emp_acc))
    _, profile = f.seeker(session, full_name="欧阳娜娜 Ouyang Nana", skills=["Excel"])
    assert digests.run_employer_digest(ctx(engine, settings))["written"] == 1
    [row] = rows(session, outbox.EMPLOYER_DIGEST)
    text = json.dumps(row.payload, ensure_ascii=False)
    assert "Ouyang" not in text and f'"{profile.id}"' not in text
    [entry] = row.payload["postings"]
    assert entry["candidates"][0]["candidate"].startswith("C-")
