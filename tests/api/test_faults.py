"""Faults: the database going away and coming back; a full disk and a read-only SQLite
database; the SMTP server and the webhook gateway down, failing, then back."""

import contextlib
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select

from api import scheduler
from api.db import make_engine, upgrade
from api.main import create_app
from api.services import delivery, digests, outbox
from api.services.digests import JobContext
from api.settings import Settings
from models import Account, Employer, Outbox
from models.base import OutboxStatus, Role, utcnow
from tests import factories as f
from tests.api.test_push import free_port, rows, set_prefs, world
from tests.conftest import PG_URL, TEST_SECRET


class TcpProxy:
    """A loopback TCP proxy that can cut every connection and refuse new ones, like a
    database server that goes away, and let them through again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()

    def cut(self) -> None:
        self.up = False
        with self.lock:
            for s in self.conns:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
            self.conns.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def pg_through_proxy() -> Iterator[tuple[str, TcpProxy]]:
    if not PG_URL:
        pytest.skip("needs JOBMATCH_TEST_DATABASE_URL (PostgreSQL)")
    url = make_url(PG_URL)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(host="127.0.0.1", port=proxy.port).update_query_dict(
        {"connect_timeout": "2", "application_name": f"jobmatch-fault-{uuid.uuid4().hex[:6]}"}
    )
    yield proxied.render_as_string(hide_password=False), proxy
    proxy.close()


def test_database_goes_away_and_comes_back(
    pg_through_proxy: tuple[str, TcpProxy], engine: Any, session: Session
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the proxy stands in front of PostgreSQL")
    url, proxy = pg_through_proxy
    settings = Settings(
        environment="test",
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        database_url=url,
        embedding_model="hashing",
        index_poll_seconds=0,
    )
    app_engine = make_engine(url)
    admin = f.headers(session, settings, f.account(session, Role.admin, centre_code=None))
    written: list[str] = []
    with TestClient(create_app(settings, app_engine), raise_server_exceptions=False) as c:

        def create(name: str) -> int:
            r = c.post(
                "/employers", headers=admin, json={"name": name, "uscc": f.uscc(900 + len(written))}
            )
            if r.status_code == 201:
                written.append(name)
            return r.status_code

        assert create("断线前 before") == 201
        proxy.cut()
        down = [create("断线中 during"), c.get("/health").status_code]
        assert set(down) == {503}, down
        r = c.get("/health")
        assert r.status_code == 503 and int(r.headers["Retry-After"]) > 0
        assert r.json()["error"] == "service_unavailable"
        proxy.restore()
        assert c.get("/health").status_code == 200  # recovers by itself
        assert create("恢复后 after") == 201
    app_engine.dispose()
    stored = set(session.exec(select(Employer.name)).all())
    assert set(written) <= stored  # no acknowledged write was lost
    assert "断线中 during" not in stored


def test_read_only_sqlite_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    rw = make_engine(f"sqlite:///{path}")
    upgrade(rw)
    with Session(rw) as s:
        acc = f.account(s, Role.admin, centre_code=None)
        settings = Settings(
            environment="test",
            secret_key=TEST_SECRET,  # type: ignore[arg-type]
            embedding_model="hashing",
        )
        token = f.token(s, settings, acc)
    rw.dispose()
    ro = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    with TestClient(create_app(settings, ro), raise_server_exceptions=False) as c:
        h = {"Authorization": f"Bearer {token}"}
        assert c.get("/centres").status_code == 200
        r = c.post("/employers", headers=h, json={"name": "x", "uscc": f.uscc(5)})
        assert r.status_code == 503
        assert "read-only" in r.json()["detail"]
    ro.dispose()


# --- the SMTP server and the webhook gateway down, failing, then back ---------------------------


class MailServer:
    """A real SMTP server (aiosmtpd) on a fixed port: down (port closed) until started; while
    `refuse` holds a reply ("451 ...", "554 ...") every message is refused with it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.refuse = ""
        self.accepted: list[EmailMessage] = []
        self.refused: list[str] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        mail = message_from_bytes(envelope.content)
        if self.refuse:
            self.refused.append(str(mail["To"]))
            return self.refuse
        self.accepted.append(mail)
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Gateway:
    """A real HTTP server standing for an SMS gateway behind the webhook: down (port closed)
    until started; `mode` "ok" answers 200, "error" 500, "slow" answers 200 only after the
    sender's timeout. Every request is recorded with its delivery id and what it got."""

    def __init__(self, delay: float) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/push"
        self.mode = "ok"
        self.delay = delay
        self.requests: list[tuple[str, bytes, str]] = []  # (delivery id, body, outcome)
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                mode = gateway.mode
                outcome = {"ok": "accepted", "error": "500", "slow": "late"}[mode]
                gateway.requests.append((self.headers[delivery.DELIVERY_HEADER], body, outcome))
                if mode == "slow":
                    time.sleep(gateway.delay)
                with contextlib.suppress(OSError):  # the sender may have given up
                    self.send_response(500 if mode == "error" else 200)
                    self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def accepted(self) -> Counter[str]:
        return Counter(d for d, _, outcome in self.requests if outcome == "accepted")


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer()
    yield server
    server.stop()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server = Gateway(delay=0.8)
    yield server
    server.stop()


def push_settings(settings: Settings, mail: MailServer, gw: Gateway, **extra: Any) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": mail.port,
            "smtp_timeout_seconds": 2.0,
            "webhook_url": gw.url,
            "webhook_secret": SecretStr("whsec-" + "k" * 32),
            "webhook_timeout_seconds": 0.3,
            "push_backoff_seconds": 30.0,
            "push_backoff_max_seconds": 3600.0,
            **extra,
        }
    )


def digest_for(
    client: TestClient,
    session: Session,
    settings: Settings,
    engine: Engine,
    channels: list[list[str]],
) -> list[tuple[Account, dict[str, str]]]:
    """One seeker per channel list, each with a daily digest written to the outbox."""
    client.app.state.settings = settings  # type: ignore[attr-defined]
    world(session)
    out = []
    for chosen in channels:
        acc, _ = f.seeker(session, skills=["Excel"])
        h = f.headers(session, settings, acc)
        set_prefs(client, h, channels=chosen)
        out.append((acc, h))
    assert digests.run_digest(JobContext(engine, settings))["written"] == len(channels)
    return out


def deliver_at(engine: Engine, settings: Settings, moment: datetime) -> dict[str, Any]:
    """The scheduler's delivery job, run now with its clock at moment."""
    return scheduler.run_job("deliver", JobContext(engine, settings, clock=lambda: moment))


def by_recipient(session: Session) -> dict[int, Outbox]:
    return {r.recipient_id: r for r in rows(session)}


def test_smtp_and_webhook_down_then_failing_then_back_deliver_each_push_once(
    client: TestClient,
    session: Session,
    settings: Settings,
    engine: Engine,
    mail_server: MailServer,
    gateway: Gateway,
) -> None:
    settings = push_settings(settings, mail_server, gateway, push_max_attempts=5)
    (a, ha), (b, _), (c, _) = digest_for(
        client, session, settings, engine, [["email"], ["webhook"], ["email", "webhook"]]
    )
    t0 = utcnow()

    # Down: both ports closed. Nothing is lost: the in-app inbox has the push already.
    assert deliver_at(engine, settings, t0) == {
        "delivered": 0, "retried": 3, "failed": 0, "deferred": 0
    }  # fmt: skip
    pushes = by_recipient(session)
    assert pushes[a.id or 0].last_error == "email: ConnectionRefusedError"
    assert pushes[b.id or 0].last_error == "webhook: ConnectError"
    assert set(pushes[c.id or 0].last_error.split("; ")) == {
        "email: ConnectionRefusedError", "webhook: ConnectError"
    }  # fmt: skip
    for row in pushes.values():
        assert row.status == OutboxStatus.pending and row.attempts == 1
        assert row.next_attempt_at == t0 + timedelta(seconds=30)
    assert client.get("/inbox", headers=ha).json()["total"] == 1
    assert deliver_at(engine, settings, t0 + timedelta(seconds=29))["retried"] == 0  # backoff

    # Failing: SMTP answers a temporary 451, the gateway 500.
    mail_server.refuse = "451 4.3.0 Mail server temporarily rejected message"
    mail_server.start()
    gateway.mode = "error"
    gateway.start()
    t1 = t0 + timedelta(seconds=31)
    assert deliver_at(engine, settings, t1)["retried"] == 3
    assert sorted(mail_server.refused) == sorted([a.email, c.email])
    assert [outcome for _, _, outcome in gateway.requests] == ["500", "500"]
    pushes = by_recipient(session)
    assert pushes[a.id or 0].last_error == "email: SMTP 451"
    assert pushes[b.id or 0].last_error == "webhook: HTTP 500"
    assert all(r.next_attempt_at == t1 + timedelta(seconds=60) for r in pushes.values())

    # SMTP is back; the gateway answers too late (the sender times out).
    mail_server.refuse = ""
    gateway.mode = "slow"
    t2 = t1 + timedelta(seconds=61)
    assert deliver_at(engine, settings, t2) == {
        "delivered": 1, "retried": 2, "failed": 0, "deferred": 0
    }  # fmt: skip
    assert sorted(str(m["To"]) for m in mail_server.accepted) == sorted([a.email, c.email])
    pushes = by_recipient(session)
    assert pushes[a.id or 0].status == OutboxStatus.delivered
    assert pushes[c.id or 0].payload[outbox.SENT] == ["email"]  # its e-mail is done
    assert pushes[c.id or 0].last_error == "webhook: ReadTimeout"

    # The gateway is back.
    gateway.mode = "ok"
    t3 = t2 + timedelta(seconds=121)
    assert deliver_at(engine, settings, t3)["delivered"] == 2
    assert deliver_at(engine, settings, t3 + timedelta(days=1))["delivered"] == 0
    pushes = by_recipient(session)
    assert all(r.status == OutboxStatus.delivered and r.last_error == "" for r in pushes.values())
    assert {r.recipient_id: r.attempts for r in pushes.values()} == {
        a.id: 3, b.id: 4, c.id: 4
    }  # fmt: skip

    # Each push arrived once: two e-mails (C's was not sent again while its webhook failed),
    # and each webhook delivery id accepted once. A request answered after the sender's
    # timeout is repeated with the same delivery id and body, so the gateway can drop it.
    assert len(mail_server.accepted) == 2
    assert len({m["Message-ID"] for m in mail_server.accepted}) == 2
    ids = {str(pushes[b.id or 0].id), str(pushes[c.id or 0].id)}
    assert gateway.accepted() == Counter({i: 1 for i in ids})
    final = {d: body for d, body, outcome in gateway.requests if outcome == "accepted"}
    late = [(d, body) for d, body, outcome in gateway.requests if outcome == "late"]
    assert sorted(d for d, _ in late) == sorted(ids)
    assert all(body == final[d] for d, body in late)


def test_pushes_past_the_retry_limit_are_failed_for_admins_then_sent_once(
    client: TestClient,
    session: Session,
    settings: Settings,
    engine: Engine,
    mail_server: MailServer,
    gateway: Gateway,
) -> None:
    settings = push_settings(settings, mail_server, gateway, push_max_attempts=3)
    (a, ha), (b, _) = digest_for(client, session, settings, engine, [["email"], ["webhook"]])
    mail_server.refuse = "554 5.3.0 Transaction failed"
    mail_server.start()  # up but refusing; the gateway stays down
    t = utcnow()
    for wait, expect in ((0, "retried"), (31, "retried"), (61, "failed")):
        t += timedelta(seconds=wait)
        assert deliver_at(engine, settings, t)[expect] == 2
    assert deliver_at(engine, settings, t + timedelta(days=1)) == {
        "delivered": 0, "retried": 0, "failed": 0, "deferred": 0
    }  # fmt: skip  # a failed push is not tried again by itself
    assert len(mail_server.refused) == 3

    admin = f.headers(session, settings, f.account(session, Role.admin, centre_code=None))
    page = client.get("/admin/pushes", headers=admin).json()
    assert page["total"] == 2
    errors = {item["recipient_id"]: item for item in page["items"]}
    assert errors[a.id]["last_error"] == "email: SMTP 554"
    assert errors[b.id]["last_error"] == "webhook: ConnectError"
    assert all(item["attempts"] == 3 and item["status"] == "failed" for item in page["items"])
    assert client.get("/inbox", headers=ha).json()["total"] == 1  # not lost

    mail_server.refuse = ""
    gateway.start()
    for item in page["items"]:
        assert client.post(f"/admin/pushes/{item['id']}/retry", headers=admin).status_code == 200
    assert deliver_at(engine, settings, t + timedelta(days=1))["delivered"] == 2
    assert deliver_at(engine, settings, t + timedelta(days=2))["delivered"] == 0
    assert [str(m["To"]) for m in mail_server.accepted] == [a.email]
    assert gateway.accepted() == Counter({str(errors[b.id]["id"]): 1})
    assert client.get("/admin/pushes", headers=admin).json()["total"] == 0
