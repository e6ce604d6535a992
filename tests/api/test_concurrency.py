"""Two writers at once on one row: one wins, the other is told (409); nothing is lost."""

import threading
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from api.settings import Settings
from models import Posting, SeekerProfile
from models.base import Role
from tests import factories as f


def race(app: Any, calls: list[tuple[str, str, dict[str, str], dict[str, Any]]]) -> list[Any]:
    """Send the requests from separate threads, released together."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        method, url, headers, body = calls[i]
        with TestClient(app, raise_server_exceptions=False) as c:
            barrier.wait()
            results[i] = c.request(method, url, headers=headers, json=body)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_profile_updates_one_wins(
    app: Any, session: Session, settings: Settings
) -> None:
    acc, profile = f.seeker(session)
    cw = f.account(session, Role.caseworker)
    calls = [
        (
            "PATCH",
            f"/seekers/{profile.id}",
            f.headers(session, settings, acc),
            {"version": 1, "headline": "seeker's own words 本人填写"},
        ),
        (
            "PATCH",
            f"/seekers/{profile.id}",
            f.headers(session, settings, cw),
            {"version": 1, "headline": "caseworker's words 专员填写"},
        ),
    ]
    for _ in range(3):  # a few rounds: the interleaving differs from run to run
        session.expire_all()
        current = session.get(SeekerProfile, profile.id)
        assert current is not None
        for call in calls:
            call[3]["version"] = current.version
        session.rollback()
        results = race(app, calls)
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 409], [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200).json()
        loser = next(r for r in results if r.status_code == 409).json()
        assert loser["error"] == "conflict"
        session.expire_all()
        stored = session.get(SeekerProfile, profile.id)
        assert stored is not None
        assert stored.headline == winner["headline"]
        assert stored.version == winner["version"]
        session.rollback()


def test_concurrent_posting_updates_one_wins(
    app: Any, session: Session, settings: Settings
) -> None:
    emp_acc, emp = f.employer_account(session)
    posting = f.posting(session, emp)
    staff = f.account(session, Role.caseworker)
    calls = [
        (
            "PATCH",
            f"/postings/{posting.id}",
            f.headers(session, settings, emp_acc),
            {"version": 1, "openings": 3, "title": "数据录入员（扩招）"},
        ),
        (
            "PATCH",
            f"/postings/{posting.id}",
            f.headers(session, settings, staff),
            {"version": 1, "description": "核实后补充 verified by the centre"},
        ),
    ]
    results = race(app, calls)
    assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
    winner = next(r for r in results if r.status_code == 200).json()
    session.expire_all()
    stored = session.get(Posting, posting.id)
    assert stored is not None and stored.version == winner["version"] == 2
    assert (stored.title, stored.description) == (winner["title"], winner["description"])
