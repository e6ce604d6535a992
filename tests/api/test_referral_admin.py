"""Changing a referral's deadline (reason, audit, version) and putting a new instant-approval
rule into force, through the HTTP API."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.settings import Settings
from models import AuditLog, Referral
from models.base import NeedLevel, OfferAvailability, utcnow
from tests import factories as f
from tests.api.test_referrals import CONSENT, ask, world


def test_deadline_change_needs_a_reason_is_audited_and_refuses_a_stale_version(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings, verified=False)
    detail = ask(client, w)
    rid, version = detail["id"], detail["version"]
    later = (utcnow() + timedelta(days=5)).isoformat()
    url = f"/referrals/{rid}/deadline"
    r = client.put(url, headers=w.hc, json={"deadline_at": later, "reason": "  "})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = client.put(url, headers=w.hc, json={"deadline_at": later})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    body = {"deadline_at": later, "reason": "等待手语翻译 waiting for an interpreter"}
    r = client.put(url, headers=w.hc, json={**body, "version": version})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == version + 1 and r.json()["overdue"] is False
    stale = client.put(url, headers=w.hc, json={**body, "version": version})
    assert stale.status_code == 409
    assert client.put(url, headers=w.hc_other, json=body).status_code == 404
    session.rollback()
    (entry,) = session.exec(
        select(AuditLog).where(
            AuditLog.action == "referral_deadline_set", AuditLog.object_id == str(rid)
        )
    ).all()
    assert entry.detail["reason"] == body["reason"]
    referral = session.get(Referral, rid)
    assert referral is not None and referral.deadline_at is not None
    assert referral.deadline_at > utcnow() + timedelta(days=4)


def test_admin_puts_a_new_rule_into_force(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """At most one essential need left to arrange: a seeker with two gets queued."""
    w = world(
        session,
        settings,
        offers={
            "lift": OfferAvailability.arrangeable,
            "job_coach": OfferAvailability.arrangeable,
        },
        needs={"lift": NeedLevel.essential, "job_coach": NeedLevel.essential},
    )
    assert ask(client, w)["status"] == "approved"  # the default rules allow arranging
    body = {"code": "max_arrangeable_needs", "params": {"max": 1}}
    assert client.post("/referral-rules", headers=w.hc, json=body).status_code == 403
    bad = client.post("/referral-rules", headers=w.ha, json={**body, "params": {"max": -1}})
    assert bad.status_code == 422 and bad.json()["field"] == "params.max"
    bad = client.post("/referral-rules", headers=w.ha, json={"code": "be_nice"})
    assert bad.status_code == 422 and bad.json()["field"] == "code"
    r = client.post("/referral-rules", headers=w.ha, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["params"] == {"max": 1} and "N" in r.json()["description_en"]
    again = client.post("/referral-rules", headers=w.ha, json=body)
    assert again.status_code == 409 and again.json()["field"] == "code"
    codes = [rule["code"] for rule in client.get("/referral-rules", headers=w.hc).json()]
    assert codes[-1] == "max_arrangeable_needs"
    emp = f.employer(session, verified=True)
    posting = f.posting(
        session,
        emp,
        offers={
            "lift": OfferAvailability.arrangeable,
            "job_coach": OfferAvailability.arrangeable,
        },
    )
    r = client.post("/referrals", headers=w.hs, json={"posting_id": posting.id, "consent": CONSENT})
    assert r.json()["status"] == "pending"
    assert [v["code"] for v in r.json()["rules"] if not v["passed"]] == ["max_arrangeable_needs"]
    session.rollback()
    assert (
        session.exec(select(AuditLog).where(AuditLog.action == "approval_rule_created"))
        .one()
        .object_id
        == "max_arrangeable_needs"
    )
