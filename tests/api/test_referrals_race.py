"""Two caseworkers decide one referral at the same moment: exactly one succeeds, the other is
told the current state (409); one event, one push, one audit row; nothing half-written."""

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from api.settings import Settings
from models import AuditLog, Outbox, Referral, ReferralEvent
from models.base import NeedLevel, OfferAvailability, Role
from tests import factories as f
from tests.api.test_concurrency import race

CONSENT = {"agree": True, "text_version": "2026-11"}


def count(session: Session, query: Any) -> int:
    return int(session.exec(select(func.count()).select_from(query.subquery())).one())


def test_two_caseworkers_decide_one_referral_at_once(
    app: Any, session: Session, settings: Settings
) -> None:
    acc, _profile = f.seeker(session, phone="13800002222", needs={"lift": NeedLevel.essential})
    emp = f.employer(session, verified=False)  # unverified: referrals wait in the queue
    first = f.account(session, Role.caseworker)
    second = f.account(session, Role.caseworker)
    hs = f.headers(session, settings, acc)
    h1, h2 = f.headers(session, settings, first), f.headers(session, settings, second)
    rounds: list[tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]] = [
        (("approve", {"reason": "同意 fine"}), ("reject", {"reason": "不合适 not a fit"})),
        (("approve", {}), ("approve", {"reason": "我也同意 me too"})),
        (("reject", {"reason": "第一 first"}), ("approve", {"version": None})),
        (("approve", {}), ("reject", {"reason": "太晚 too late"})),
    ]
    for (a_action, a_body), (b_action, b_body) in rounds:
        posting = f.posting(session, emp, offers={"lift": OfferAvailability.available})
        with TestClient(app) as c:
            r = c.post(
                "/referrals", headers=hs, json={"posting_id": posting.id, "consent": CONSENT}
            )
        assert r.status_code == 201 and r.json()["status"] == "pending", r.text
        rid = r.json()["id"]
        results = race(
            app,
            [
                ("POST", f"/referrals/{rid}/{a_action}", h1, a_body),
                ("POST", f"/referrals/{rid}/{b_action}", h2, b_body),
            ],
        )
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 409], [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200).json()
        loser = next(r for r in results if r.status_code == 409).json()
        assert loser["error"] in ("invalid_state", "conflict")
        if loser["error"] == "invalid_state":  # told the state the winner left behind
            assert loser["status"] == winner["status"]
            assert loser["version"] == winner["version"]
            expected = ["sent", "withdrawn"] if winner["status"] == "approved" else []
            assert loser["allowed"] == expected

        session.rollback()
        stored = session.get(Referral, rid)
        assert stored is not None
        session.refresh(stored)
        assert stored.status.value == winner["status"] and stored.version == winner["version"]
        decisions = select(ReferralEvent).where(
            ReferralEvent.referral_id == rid,
            col(ReferralEvent.to_status).in_(["approved", "rejected"]),
        )
        assert count(session, decisions) == 1
        decided = select(Outbox).where(
            Outbox.recipient_id == acc.id,
            Outbox.kind == "referral_decided",
            col(Outbox.item_key).startswith(f"referral:{rid}:"),
        )
        assert count(session, decided) == 1
        audited = select(AuditLog).where(
            col(AuditLog.action).in_(["referral_approved", "referral_rejected"]),
            AuditLog.object_id == str(rid),
        )
        assert count(session, audited) == 1
        session.rollback()
