"""Faults: the database going away and coming back; a full disk and a read-only SQLite
database; the SMTP server and the webhook gateway down, failing, then back."""

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
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
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from api import scheduler
from api.db import make_engine, upgrade
from api.main import create_app
from api.services import delivery, digests, outbox
from api.services.digests import JobContext
from api.settings import Settings
from api.web.core import LANG_COOKIE
from models import Account, Employer, Outbox, PushPreference
from models.base import OutboxStatus, Role, utcnow
from tests import factories as f
from tests.api.test_jobs import ROOT, env_for
from tests.api.test_push import free_port, rows, set_prefs, world
from tests.conftest import PG_URL, TEST_SECRET
from tests.web.conftest import csrf_token, login


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
        assert "read-only" in r.json()["detail"] and r.json()["reason"] == "read_only"
        assert c.get("/employers", headers=h).status_code == 200
    ro.dispose()


# --- a full disk and a read-only disk under the SQLite default ----------------------------------


def _run(*command: str) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _unmount(path: Path) -> None:
    if not _run("umount", str(path)):
        _run("umount", "-l", str(path))  # a straggling descriptor: detach now, free later


def _sqlite_settings(path: Path) -> Settings:
    return Settings(
        environment="test",
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        database_url=f"sqlite:///{path}",
        embedding_model="hashing",
        index_poll_seconds=0,
        scheduler_enabled=False,
    )


class FullDisk:
    """A database file on a disk that can be filled up and emptied again."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path, self.kind = path, kind
        self.filler = path.with_name("filler")
        self.max_pages = 1 << 30

    def fill(self) -> None:
        # The write-ahead log is reused from its start after a checkpoint, so a full disk
        # only stops a write that needs new space: start from an empty log, as after a
        # checkpoint, then take every free byte.
        with contextlib.closing(sqlite3.connect(self.path)) as con:
            assert con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
            pages = con.execute("PRAGMA page_count").fetchone()[0]
        if self.kind == "max_page_count":
            self.max_pages = pages
            return
        with open(self.filler, "wb") as out, contextlib.suppress(OSError):  # ENOSPC
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        assert shutil.disk_usage(self.path.parent).free < 8192

    def free(self) -> None:
        self.max_pages = 1 << 30
        self.filler.unlink(missing_ok=True)


@pytest.fixture(params=["tmpfs", "max_page_count"])
def full_disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FullDisk]:
    """A real small disk (a 4 MB tmpfs, needs root and mount; skipped where impossible), and
    everywhere SQLite's own page limit, which fails writes the same way (SQLITE_FULL)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = False
    if request.param == "tmpfs":
        if os.geteuid() != 0 or not _run(
            "mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)
        ):
            pytest.skip("cannot mount a small tmpfs here (needs root)")
        mounted = True
    try:
        yield FullDisk(disk / "jobmatch.db", request.param)
    finally:
        if mounted:
            _unmount(disk)


def test_a_full_disk_is_a_clear_error_reads_go_on_and_writes_return(full_disk: FullDisk) -> None:
    path = full_disk.path
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    if full_disk.kind == "max_page_count":

        @event.listens_for(engine, "connect")
        def _limit(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute(f"PRAGMA max_page_count={full_disk.max_pages}")

    settings = _sqlite_settings(path)
    with Session(engine) as s:
        account = f.account(s, Role.admin, centre_code=None)
        email, admin = account.email, f.headers(s, settings, account)
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as c:

        def create(n: int, name: str, **extra: Any) -> Any:
            body = {"name": name, "uscc": f.uscc(n), **extra}
            return c.post("/employers", headers=admin, json=body)

        def save_push_settings() -> Any:
            token = csrf_token(c, "/preferences/pushes")
            form = {"csrf_token": token, "version": "0", "enabled": "yes", "frequency": "daily"}
            form |= {"min_score": "70", "trainings": "no"}
            return c.post("/preferences/pushes", data=form, follow_redirects=False)

        committed = ["满之前 Before the disk filled"]
        assert create(1, committed[0]).status_code == 201
        login(c, email)  # a web page, too
        full_disk.fill()
        if full_disk.kind == "max_page_count":
            engine.pool.dispose()  # the limit is per connection
        # Writes that still fit in free space inside the file succeed; then each is refused.
        refused = []
        for n in range(2, 60):
            name = f"满 {n} full " + "长" * 150
            r = create(n, name, address="地址 address " * 15)
            if r.status_code == 201:
                assert not refused, "a write after a refused one"
                committed.append(name)
                continue
            assert r.status_code == 507, r.text
            refused.append(r)
            if len(refused) == 3:
                break
        assert len(refused) == 3
        for r in refused:
            body = r.json()
            assert body["error"] == "insufficient_storage" and body["reason"] == "disk_full"
            assert "disk is full" in body["detail"] and int(r.headers["Retry-After"]) > 0
        if full_disk.kind == "tmpfs":  # (under a page limit, a small row may still fit)
            form = save_push_settings()  # a form: a page that says so, in the reader's language
            assert form.status_code == 507 and "存储空间已满" in form.text, form.text
            assert form.headers["content-type"].startswith("text/html")
        page = c.get("/employers", headers=admin, params={"limit": 100})  # reading goes on
        assert page.status_code == 200
        assert sorted(e["name"] for e in page.json()["items"]) == sorted(committed)
        assert c.get("/health").status_code == 200
        full_disk.free()
        if full_disk.kind == "max_page_count":
            engine.pool.dispose()
        committed.append("空间恢复后 After space returned")
        assert create(99, committed[-1]).status_code == 201
        assert save_push_settings().status_code == 303
    engine.dispose()
    with contextlib.closing(sqlite3.connect(path)) as con:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        names = {n for (n,) in con.execute("SELECT name FROM employer")}
    assert names == set(committed)  # every acknowledged write, nothing refused


def test_pages_say_in_words_when_changes_cannot_be_stored(
    client: TestClient, session: Session, engine: Engine
) -> None:
    acc = f.account(session, Role.seeker)
    login(client, acc.email)
    token = csrf_token(client, "/preferences/pushes")
    form = {"csrf_token": token, "version": "0", "enabled": "yes", "frequency": "daily"}
    form |= {"min_score": "70", "trainings": "no"}
    for message, status, words in (
        ("database or disk is full", 507, ("存储空间已满", "The storage is full")),
        ("attempt to write a readonly database", 503, ("现在无法保存更改", "cannot be stored")),
    ):

        def fail(_conn: object, message: str = message) -> None:
            raise OperationalError("COMMIT", {}, sqlite3.OperationalError(message))

        event.listen(engine, "commit", fail)
        try:
            zh = client.post("/preferences/pushes", data=form, follow_redirects=False)
            client.cookies.set(LANG_COOKIE, "en")  # the language switch
            en = client.post("/preferences/pushes", data=form, follow_redirects=False)
            client.cookies.delete(LANG_COOKIE)
        finally:
            event.remove(engine, "commit", fail)
        for r, text in zip((zh, en), words, strict=True):
            assert r.status_code == status and text in r.text, r.text
            assert r.headers["content-type"].startswith("text/html") and "Retry-After" in r.headers
    assert session.exec(select(PushPreference)).first() is None
    assert client.post("/preferences/pushes", data=form, follow_redirects=False).status_code == 303


@pytest.fixture
def read_only_disk(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A folder and a view of it that is a read-only bind mount until made writable."""
    data, view = tmp_path / "data", tmp_path / "view"
    data.mkdir()
    view.mkdir()
    if os.geteuid() != 0 or not _run("mount", "--bind", str(data), str(view)):
        pytest.skip("cannot bind-mount here (needs root)")
    try:
        yield data, view
    finally:
        _unmount(view)


def test_a_closed_database_on_a_read_only_disk_cannot_start_and_says_why(
    read_only_disk: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    # Closed cleanly, a WAL database has no shared-memory index, and SQLite cannot make one
    # on a read-only disk: not even reading is possible, so the service refuses to start.
    data, view = read_only_disk
    engine = make_engine(f"sqlite:///{data / 'jobmatch.db'}")
    upgrade(engine)
    engine.dispose()
    assert sorted(p.name for p in data.iterdir()) == ["jobmatch.db"]
    assert _run("mount", "-o", "remount,ro,bind", str(view))
    settings = _sqlite_settings(view / "jobmatch.db")
    engine = make_engine(settings.database_url)
    with pytest.raises(OperationalError), TestClient(create_app(settings, engine)):
        pass
    engine.dispose()
    assert "cannot start: the database file cannot be opened" in caplog.text


def test_read_only_disk_after_a_crash_serves_reads_refuses_writes_and_recovers(
    read_only_disk: tuple[Path, Path], tmp_path: Path
) -> None:
    data, view = read_only_disk
    # The service writes, then dies without closing the database: a copy of its files taken
    # while it is idle is that crash image, committed rows still in the write-ahead log.
    first = tmp_path / "first" / "jobmatch.db"
    engine = make_engine(f"sqlite:///{first}")
    upgrade(engine)
    settings = _sqlite_settings(view / "jobmatch.db")
    with Session(engine) as s:
        admin = f.headers(s, settings, f.account(s, Role.admin, centre_code=None))
    names = ["崩溃前一 Before the crash 1", "崩溃前二 Before the crash 2"]
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as c:
        for n, name in enumerate(names):
            body = {"name": name, "uscc": f.uscc(n + 1)}
            assert c.post("/employers", headers=admin, json=body).status_code == 201
        for part in first.parent.iterdir():
            shutil.copy(part, data / part.name)
    engine.dispose()
    assert (data / "jobmatch.db-wal").stat().st_size > 0
    assert _run("mount", "-o", "remount,ro,bind", str(view))

    engine = make_engine(settings.database_url)
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as c:
        page = c.get("/employers", headers=admin)
        assert page.status_code == 200
        assert sorted(e["name"] for e in page.json()["items"]) == sorted(names)
        r = c.post("/employers", headers=admin, json={"name": "只读 read-only", "uscc": f.uscc(7)})
        assert r.status_code == 503, r.text
        assert r.json()["reason"] == "read_only" and "read-only" in r.json()["detail"]
        assert int(r.headers["Retry-After"]) > 0
        assert c.get("/health").status_code == 200

        assert _run("mount", "-o", "remount,rw,bind", str(view))
        # A connection opened while the disk was read-only stays read-only: its first refused
        # write drops it, and the service writes again without a restart.
        statuses = []
        for n in range(8, 11):
            body = {"name": f"恢复后 After {n}", "uscc": f.uscc(n)}
            statuses.append(c.post("/employers", headers=admin, json=body).status_code)
            if statuses[-1] == 201:
                break
        assert statuses[-1] == 201 and len(statuses) <= 2, statuses
    engine.dispose()
    with contextlib.closing(sqlite3.connect(data / "jobmatch.db")) as con:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = {n for (n,) in con.execute("SELECT name FROM employer")}
    assert stored == {*names, f"恢复后 After {7 + len(statuses)}"}


# --- the SMTP server and the webhook gateway down, failing, then back ---------------------------


class MailServer:
    """A real SMTP server (aiosmtpd) on a fixed port: down (port closed) until started; while
    `refuse` holds a reply ("451 ...", "554 ...") every message is refused with it; while
    addresses in `unknown` are refused at RCPT with "550 5.1.1 No such mailbox"."""

    def __init__(self) -> None:
        self.port = free_port()
        self.refuse = ""
        self.unknown: set[str] = set()
        self.accepted: list[EmailMessage] = []
        self.refused: list[str] = []
        self.controller: Controller | None = None
        self.hold = False  # keep the first sender waiting after its RCPT, until released
        self.held = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(  # noqa: N802
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        if self.hold and not self.held.is_set():
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        if address in self.unknown:
            self.refused.append(address)
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

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
        self.release.set()
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Gateway:
    """A real HTTP server standing for an SMS gateway behind the webhook: down (port closed)
    until started; `mode` "ok" answers 200, "error" 500, "invalid" 422 (the gateway refuses
    the message itself), "slow" answers 200 only after the sender's timeout. Every request
    is recorded with its delivery id and what it got."""

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
                outcome = {"ok": "accepted", "error": "500", "invalid": "422", "slow": "late"}[mode]
                gateway.requests.append((self.headers[delivery.DELIVERY_HEADER], body, outcome))
                if mode == "slow":
                    time.sleep(gateway.delay)
                with contextlib.suppress(OSError):  # the sender may have given up
                    self.send_response({"error": 500, "invalid": 422}.get(mode, 200))
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
    ids = {delivery.delivery_id(pushes[b.id or 0]), delivery.delivery_id(pushes[c.id or 0])}
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
    mail_server.refuse = "452 4.3.1 Insufficient system storage"
    mail_server.start()  # up but refusing for now; the gateway stays down
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
    assert errors[a.id]["last_error"] == "email: SMTP 452"
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
    b_push = by_recipient(session)[b.id or 0]
    assert gateway.accepted() == Counter({delivery.delivery_id(b_push): 1})
    assert client.get("/admin/pushes", headers=admin).json()["total"] == 0


def test_permanent_refusals_fail_at_once_and_are_not_sent_again(
    client: TestClient,
    session: Session,
    settings: Settings,
    engine: Engine,
    mail_server: MailServer,
    gateway: Gateway,
) -> None:
    """A mailbox that does not exist (550 at RCPT) or a gateway refusing the message (422)
    cannot be helped by retrying: the push fails on its first attempt with the reason for
    admins, other channels of the same push are delivered once, and an admin's retry after
    the cause is fixed sends only what was refused."""
    settings = push_settings(settings, mail_server, gateway, push_max_attempts=5)
    (a, ha), (b, _), (c, _) = digest_for(
        client, session, settings, engine, [["email"], ["webhook"], ["email", "webhook"]]
    )
    admin = f.headers(session, settings, f.account(session, Role.admin, centre_code=None))
    mail_server.unknown = {a.email}
    mail_server.start()
    gateway.mode = "invalid"
    gateway.start()
    t = utcnow()
    assert deliver_at(engine, settings, t) == {
        "delivered": 0, "retried": 0, "failed": 3, "deferred": 0
    }  # fmt: skip
    pushes = by_recipient(session)
    assert pushes[a.id or 0].last_error == "email: SMTP 550 (permanent)"
    assert pushes[b.id or 0].last_error == "webhook: HTTP 422 (permanent)"
    assert pushes[c.id or 0].last_error == "webhook: HTTP 422 (permanent)"
    assert all(r.status == OutboxStatus.failed and r.attempts == 1 for r in pushes.values())
    assert [str(m["To"]) for m in mail_server.accepted] == [c.email]  # C's e-mail went
    assert client.get("/inbox", headers=ha).json()["total"] == 1  # the inbox still has it
    assert deliver_at(engine, settings, t + timedelta(days=1))["failed"] == 0  # not retried
    assert len(mail_server.refused) == 1 and len(gateway.requests) == 2

    mail_server.unknown = set()  # A's mailbox was set up,
    gateway.mode = "ok"  # and the gateway's template fixed
    for row in pushes.values():
        assert client.post(f"/admin/pushes/{row.id}/retry", headers=admin).status_code == 200
    assert deliver_at(engine, settings, t + timedelta(days=1))["delivered"] == 3
    assert [str(m["To"]) for m in mail_server.accepted] == [c.email, a.email]  # C's once
    ids = {delivery.delivery_id(pushes[b.id or 0]), delivery.delivery_id(pushes[c.id or 0])}
    assert gateway.accepted() == Counter({i: 1 for i in ids})
    assert all(r.status == OutboxStatus.delivered for r in by_recipient(session).values())


def test_a_worker_killed_mid_delivery_loses_nothing_and_sends_each_push_once(
    client: TestClient,
    session: Session,
    settings: Settings,
    engine: Engine,
    mail_server: MailServer,
    gateway: Gateway,
) -> None:
    settings = push_settings(settings, mail_server, gateway)
    seekers = [a for a, _ in digest_for(client, session, settings, engine, [["email"]] * 3)]
    mail_server.hold = True
    mail_server.start()
    env = env_for(
        engine,
        JOBMATCH_SMTP_HOST="127.0.0.1",
        JOBMATCH_SMTP_PORT=str(mail_server.port),
        JOBMATCH_SMTP_TIMEOUT_SECONDS="60",
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "jobs", "run", "deliver"], env=env, cwd=ROOT
    )
    try:
        assert mail_server.held.wait(90), "the worker never started sending"
        worker.send_signal(signal.SIGKILL)  # in the middle of its first e-mail
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    mail_server.release.set()
    claimed = rows(session)
    assert len(claimed) == 3 and all(r.status == OutboxStatus.pending for r in claimed)
    assert all(r.attempts == 1 and r.next_attempt_at is not None for r in claimed)
    lease_end = max(r.next_attempt_at for r in claimed if r.next_attempt_at is not None)

    # Another worker leaves them alone while the dead one's lease runs, then sends them.
    assert deliver_at(engine, settings, lease_end - timedelta(seconds=1))["delivered"] == 0
    assert deliver_at(engine, settings, lease_end)["delivered"] == 3
    assert deliver_at(engine, settings, lease_end + timedelta(days=1))["delivered"] == 0
    assert sorted(str(m["To"]) for m in mail_server.accepted) == sorted(a.email for a in seekers)
    assert all(r.status == OutboxStatus.delivered for r in rows(session))
