"""The jobmatch command: migrations, demo data, settings."""

from collections import Counter
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.cli import app
from api.db import make_engine
from api.services.privacy import load_sensitive
from api.settings import DEV_SECRET, Settings, get_settings
from models import Account, Employer, Posting, SeekerNeed, SeekerProfile, SeekerSensitive, Training
from models.base import Role


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("JOBMATCH_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_help_lists_the_commands() -> None:
    out = CliRunner().invoke(app, ["--help"]).output
    for command in ("serve", "db", "demo-data", "eval"):
        assert command in out


def test_db_upgrade_and_demo_data(sqlite_url: str) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["db", "upgrade"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        [
            "demo-data",
            "--seekers",
            "40",
            "--employers",
            "8",
            "--postings",
            "30",
            "--trainings",
            "5",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "seeker001@" in r.output and "admin@" in r.output
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        roles = Counter(a.role for a in s.exec(select(Account)))
        assert roles[Role.seeker] == 40 and roles[Role.employer] == 8
        assert roles[Role.caseworker] == 9 and roles[Role.admin] == 1
        assert len(s.exec(select(Posting)).all()) == 30
        assert len(s.exec(select(Training)).all()) == 5
        profiles = s.exec(select(SeekerProfile)).all()
        text = " ".join(p.experience + p.headline for p in profiles)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), "no Chinese text"
        assert any(ch.isascii() and ch.isalpha() for ch in text), "no English text"
        assert len({p.centre_id for p in profiles}) == 9
        rows = s.exec(select(SeekerSensitive)).all()
        assert rows and all(
            "vision" not in r.sealed and "physical" not in r.sealed for r in rows
        ), "sensitive data must be stored encrypted"
        categories = {
            data.disability_category
            for r in rows
            if (data := load_sensitive(s, get_settings(), r.seeker_id)) is not None
        }
        assert len(categories) >= 4
        assert s.exec(select(SeekerNeed)).first() is not None
        assert s.exec(select(Employer).where(Employer.verified)).first() is not None
    engine.dispose()
    r = runner.invoke(app, ["demo-data", "--if-empty"])
    assert r.exit_code == 0 and "nothing loaded" in r.output


def test_default_secret_refused_outside_dev() -> None:
    assert Settings(environment="dev").secret_key.get_secret_value() == DEV_SECRET
    with pytest.raises(ValidationError, match="JOBMATCH_SECRET_KEY"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(environment="production", secret_key="short")  # type: ignore[arg-type]


def test_keys_rotate_and_purge_commands(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert (
        runner.invoke(
            app,
            [
                "demo-data",
                "--seekers",
                "10",
                "--employers",
                "2",
                "--postings",
                "3",
                "--trainings",
                "1",
            ],
        ).exit_code
        == 0
    )
    old = DEV_SECRET  # demo data was sealed with the key derived from the dev secret
    new_key = runner.invoke(app, ["keys", "new"]).output.strip()
    from api.crypto import _derived_key

    monkeypatch.setenv("JOBMATCH_DATA_KEYS", f"{new_key},{_derived_key(old).decode()}")
    get_settings.cache_clear()
    r = runner.invoke(app, ["keys", "rotate"])
    assert r.exit_code == 0 and "re-encrypted" in r.output
    monkeypatch.setenv("JOBMATCH_DATA_KEYS", new_key)
    get_settings.cache_clear()
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        rows = s.exec(select(SeekerSensitive)).all()
        assert rows and all(load_sensitive(s, get_settings(), r.seeker_id) for r in rows)
    engine.dispose()
    r = runner.invoke(app, ["privacy", "purge"])
    assert r.exit_code == 0 and "login_attempts: 0" in r.output


@pytest.mark.parametrize(("setting", "expected"), [(None, 75), ("120", 120)])
def test_serve_keeps_idle_connections_longer_than_a_proxy_does(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, setting: str | None, expected: int
) -> None:
    """A client or reverse proxy (nginx: 60 s) must never reuse a connection the service is
    closing at that moment."""
    import uvicorn

    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: seen.update(kw, target=target))
    if setting is not None:
        monkeypatch.setenv("JOBMATCH_KEEP_ALIVE_SECONDS", setting)
    get_settings.cache_clear()
    r = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert r.exit_code == 0, r.output
    assert seen["timeout_keep_alive"] == expected
    assert seen["target"] == "api.main:service_app" and seen["workers"] == 2
