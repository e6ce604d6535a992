"""Fixtures: a migrated database per test (SQLite always, PostgreSQL when a URL is given),
the app bound to it, and clients.

Tests of the API commit for real (the app owns its transactions, and concurrency tests need
real connections), so isolation is by a fresh copy of a migrated SQLite file per test, and on
PostgreSQL by truncating every table after the test and restoring the seeded rows.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

import models
from api.db import make_engine, read_only, upgrade
from api.main import create_app
from api.settings import Settings

PG_URL = os.environ.get("JOBMATCH_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
TEST_SECRET = "test-secret-" + "x" * 40


def reset_postgres_schema(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[tuple[Engine, dict[str, list[dict[str, Any]]]]]:
    if not PG_URL:
        pytest.skip("JOBMATCH_TEST_DATABASE_URL not set")
    reset_postgres_schema(PG_URL)
    engine = make_engine(PG_URL)
    upgrade(engine)
    seeds: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for table in models.metadata.sorted_tables:
            rows = [dict(r._mapping) for r in conn.execute(table.select())]
            if rows:
                seeds[table.name] = rows
    yield engine, seeds
    engine.dispose()


def _restore_postgres(engine: Engine, seeds: dict[str, list[dict[str, Any]]]) -> None:
    names = ", ".join(f'"{t.name}"' for t in models.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for table in models.metadata.sorted_tables:
            if table.name in seeds:
                conn.execute(table.insert(), seeds[table.name])
                pk = list(table.primary_key.columns)
                if len(pk) == 1 and pk[0].autoincrement and pk[0].type.python_type is int:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'),"
                            f" (SELECT MAX({pk[0].name}) FROM {table.name}))"
                        )
                    )


@pytest.fixture(params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Engine]:
    """A migrated, seeded, otherwise empty database."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
    else:
        pg, seeds = request.getfixturevalue("pg_engine")
        try:
            yield pg
        finally:
            pg.pool.dispose()  # drop connections a test may have left in odd states
            _restore_postgres(pg, seeds)


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        database_url=engine.url.render_as_string(hide_password=False),
        max_body_bytes=64 * 1024,
        scheduler_enabled=False,
        embedding_model="hashing",  # fast and deterministic; the real models have own tests
        index_poll_seconds=0.0,
        accessibility_photo_dir=tmp_path / "photos",
    )


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Any:
    return create_app(settings, engine)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session for arranging data; commit what the app should see.

    It begins DEFERRED on SQLite, so a test that only reads holds no write lock.
    """
    with Session(read_only(engine), expire_on_commit=False) as s:
        yield s
