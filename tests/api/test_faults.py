"""The database going away and coming back; a read-only SQLite file."""

import contextlib
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from api.db import make_engine, upgrade
from api.main import create_app
from api.settings import Settings
from models import Employer
from models.base import Role
from tests import factories as f
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
