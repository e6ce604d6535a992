"""Referrals through the HTTP API: every path of the state machine with the role that may
take it, instant approval and the queue with the rules' verdicts in the history, consent and
what the employer sees, outcomes, pushes, rules as data, and statistics."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.services.referrals import TRANSITIONS, add_working_days
from api.settings import Settings
from models import Account, AuditLog, Consent, Employer, Outbox, Referral, ReferralEvent
from models.base import Language, NeedLevel, OfferAvailability, ReferralStatus, Role, utcnow
from tests import factories as f

RS = ReferralStatus
CONSENT = {"agree": True, "text_version": "2026-11"}
CERT = "33010219800101000" + "142"  # category digit 4 (physical), grade 2
SENSITIVE = {
    "disability_category": "physical",
    "disability_grade": 2,
    "certificate_number": CERT,
    "health_notes": "HEALTHNOTE-REF",
}


@dataclass
class World:
    seeker: Account
    seeker_id: int
    hs: dict[str, str]  # seeker
    employer: Account
    posting_id: int
    he: dict[str, str]  # employer
    caseworker: Account
    hc: dict[str, str]  # caseworker of the seeker's centre
    ha: dict[str, str]  # admin
    hc_other: dict[str, str]  # caseworker of another centre


def world(
    session: Session,
    settings: Settings,
    *,
    verified: bool = True,
    offers: dict[str, OfferAvailability] | None = None,
    needs: dict[str, NeedLevel] | None = None,
    seeker_lang: Language = Language.zh,
    caseworker_lang: Language = Language.en,
    **seeker_kw: Any,
) -> World:
    emp_acc, emp = f.employer_account(session, f.employer(session, verified=verified))
    posting = f.posting(
        session,
        emp,
        offers=offers if offers is not None else {"lift": OfferAvailability.available},
        title="仓库文员 Warehouse clerk",
    )
    acc, profile = f.seeker(
        session,
        needs=needs if needs is not None else {"lift": NeedLevel.essential},
        phone=seeker_kw.pop("phone", "13800001111"),
        **seeker_kw,
    )
    acc.language = seeker_lang
    cw = f.account(session, Role.caseworker)
    cw.language = caseworker_lang
    session.add_all([acc, cw])
    session.commit()
    admin = f.account(session, Role.admin, centre_code=None)
    other = f.account(session, Role.caseworker, centre_code="binjiang")
    return World(
        seeker=acc,
        seeker_id=profile.id or 0,
        hs=f.headers(session, settings, acc),
        employer=emp_acc,
        posting_id=posting.id or 0,
        he=f.headers(session, settings, emp_acc),
        caseworker=cw,
        hc=f.headers(session, settings, cw),
        ha=f.headers(session, settings, admin),
        hc_other=f.headers(session, settings, other),
    )


def ask(client: TestClient, w: World, consent: dict[str, Any] | None = CONSENT) -> dict[str, Any]:
    body: dict[str, Any] = {"posting_id": w.posting_id, "note": "想试试 I'd like to try"}
    if consent is not None:
        body["consent"] = consent
    r = client.post("/referrals", headers=w.hs, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def step(
    client: TestClient, rid: int, action: str, headers: dict[str, str], body: Any = None
) -> Any:
    return client.post(f"/referrals/{rid}/{action}", headers=headers, json=body or {})


def pushes(session: Session, recipient_id: int | None = None) -> list[Outbox]:
    """The outbox rows now, detached (reading them later opens no old snapshot)."""
    session.rollback()
    query = select(Outbox).order_by(col(Outbox.id))
    if recipient_id is not None:
        query = query.where(Outbox.recipient_id == recipient_id)
    rows = list(session.exec(query))
    for row in rows:
        session.expunge(row)
    session.rollback()
    return rows


def transitions(detail: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    return [(e["from_status"], e["to_status"], e["actor_role"]) for e in detail["history"]]


# --- the paths of the state machine --------------------------------------------------------


def test_instant_approval_then_sent_interview_hire_and_retention(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings)
    detail = ask(client, w)
    rid = detail["id"]
    assert detail["status"] == "approved"
    assert detail["origin"] == "seeker"
    assert detail["shared_fields"] == ["name", "contact", "needs"]
    assert transitions(detail) == [
        (None, "proposed", "seeker"),
        ("proposed", "pending", "seeker"),
        ("pending", "approved", "system"),
    ]
    approved = detail["history"][-1]
    assert approved["details"]["instant"] is True
    passed = {v["code"] for v in approved["details"]["rules"] if v["passed"]}
    assert passed == {
        "essential_needs_met",
        "employer_verified",
        "seeker_consented",
        "profile_complete",
        "posting_open",
        "max_open_referrals",
    }
    assert all(v["passed"] for v in detail["rules"])
    assert detail["deadline_at"] is None  # never queued
    # The seeker hears of the approval, in Chinese (their language).
    (push,) = [p for p in pushes(session, w.seeker.id) if p.kind == "referral_decided"]
    assert "已批准" in push.payload["body"] and push.payload["language"] == "zh"

    # Before it is sent, the employer does not see it at all.
    assert client.get(f"/referrals/received/{rid}", headers=w.he).status_code == 404
    r = step(client, rid, "send", w.hs)
    assert r.status_code == 200 and r.json()["status"] == "sent"

    r = client.get(f"/referrals/received/{rid}", headers=w.he)
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["status"] == "sent" and view["candidate"].startswith("C-")
    assert set(view["shared"]) == {"name", "contact", "needs"}
    assert view["shared"]["contact"]["phone"] == "13800001111"
    assert [n["code"] for n in view["shared"]["needs"]] == ["lift"]
    assert view["allowed_next"] == ["interviewing", "not_hired"]

    r = step(client, rid, "interview", w.he, {"at": "2026-12-03T10:00:00+08:00", "note": "面试"})
    assert r.status_code == 200 and r.json()["status"] == "interviewing"
    start = date.today() - timedelta(days=100)
    r = step(client, rid, "hire", w.he, {"start_date": start.isoformat()})
    assert r.status_code == 200 and r.json()["status"] == "hired"
    r = step(client, rid, "retained", w.he, {"note": "still here 仍在岗"})
    assert r.status_code == 200 and r.json()["status"] == "retained_90d"

    detail = client.get(f"/referrals/{rid}", headers=w.hc).json()
    assert [t[1] for t in transitions(detail)][-4:] == [
        "sent",
        "interviewing",
        "hired",
        "retained_90d",
    ]
    assert detail["history"][-2]["details"]["start_date"] == start.isoformat()
    assert detail["allowed_next"] == []
    # Outcomes go to the centre's caseworkers (no caseworker decided this one), in English.
    outcomes = [p for p in pushes(session, w.caseworker.id) if p.kind == "referral_outcome"]
    assert [p.payload["status"] for p in outcomes] == ["interviewing", "hired", "retained_90d"]
    assert all(p.payload["language"] == "en" for p in outcomes)


def test_queued_referral_shows_failed_rules_and_is_approved_by_a_caseworker(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings, verified=False)
    detail = ask(client, w)
    rid = detail["id"]
    assert detail["status"] == "pending"
    submitted = detail["history"][-1]
    assert submitted["to_status"] == "pending"
    assert submitted["details"]["failed"] == ["employer_verified"]
    assert [v["code"] for v in detail["rules"] if not v["passed"]] == ["employer_verified"]
    assert detail["deadline_at"] is not None and detail["overdue"] is False
    deadline = datetime.fromisoformat(detail["deadline_at"])
    assert deadline > utcnow() + timedelta(days=1)

    # The centre's caseworkers hear of it (in English); the other centre's do not.
    (push,) = [p for p in pushes(session, w.caseworker.id) if p.kind == "referral_queued"]
    assert "waits in your centre's queue" in push.payload["body"]

    r = client.get("/referrals/queue", headers=w.hc)
    assert r.status_code == 200
    (item,) = [i for i in r.json()["items"] if i["referral"]["id"] == rid]
    assert [v["code"] for v in item["failed_rules"]] == ["employer_verified"]
    assert item["seeker"]["id"] == w.seeker_id
    match = item["match"]  # the match explanation, in the caseworker's language
    assert match is not None and 0 <= match["score"] <= 1 and match["text"]
    assert {"matched_skills", "needs_met", "needs_arrangeable", "distance_km"} <= set(match)
    assert item["seeker_history"] == []
    assert client.get("/referrals/queue", headers=w.hc_other).json()["total"] == 0
    assert client.get("/referrals/queue?centre_code=heping", headers=w.hc_other).status_code == 403
    assert client.get("/referrals/queue", headers=w.ha).json()["total"] >= 1

    # Another centre's caseworker cannot act on it (not found), this centre's can.
    assert step(client, rid, "approve", w.hc_other).status_code == 404
    r = step(client, rid, "approve", w.hc, {"reason": "核实通过 checked by phone"})
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["status"] == "approved"
    last = detail["history"][-1]
    assert (last["actor_role"], last["actor_id"], last["details"]["instant"]) == (
        "caseworker",
        w.caseworker.id,
        False,
    )
    (decided,) = [p for p in pushes(session, w.seeker.id) if p.kind == "referral_decided"]
    assert decided.payload["status"] == "approved"
    session.expire_all()
    assert session.exec(
        select(AuditLog).where(
            AuditLog.action == "referral_approved", AuditLog.object_id == str(rid)
        )
    ).first()
    session.rollback()

    # The outcome later goes to the caseworker who approved.
    assert step(client, rid, "send", w.hc).status_code == 200
    assert step(client, rid, "not-hired", w.he, {"reason": "position_filled"}).status_code == 200
    outcome = [p for p in pushes(session) if p.kind == "referral_outcome"]
    assert [p.recipient_id for p in outcome] == [w.caseworker.id]


def test_rejection_needs_a_reason_and_is_final(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings, verified=False)
    rid = ask(client, w)["id"]
    for body in ({}, {"reason": "   "}):
        r = step(client, rid, "reject", w.hc, body)
        assert r.status_code == 422 and r.json()["field"] == "reason", r.text
    r = step(client, rid, "reject", w.ha, {"reason": "用人单位未核验 employer not verified"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["history"][-1]["reason"] == "用人单位未核验 employer not verified"
    r = step(client, rid, "approve", w.hc)
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "invalid_state" and body["status"] == "rejected"
    assert body["allowed"] == []
    assert step(client, rid, "withdraw", w.hs).status_code == 409


def test_a_withdrawn_or_rejected_referral_may_be_followed_by_a_new_one(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """One live referral per seeker and posting; after a withdrawal or a rejection the seeker
    (or their caseworker) may start again, the old referral keeping its history, while an
    employer may not invite again a seeker who withdrew."""
    w = world(session, settings, verified=False)
    first = ask(client, w)["id"]
    r = client.post("/referrals", headers=w.hs, json={"posting_id": w.posting_id})
    assert r.status_code == 409 and r.json()["referral_id"] == first  # still live
    assert step(client, first, "withdraw", w.hs, {"reason": "点错了 by mistake"}).is_success

    second = ask(client, w)["id"]
    assert second != first
    assert client.get(f"/referrals/{first}", headers=w.hs).json()["status"] == "withdrawn"
    r = step(client, second, "reject", w.hc, {"reason": "资料不全 papers missing"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"

    r = client.post(
        "/referrals",
        headers=w.hc,
        json={"posting_id": w.posting_id, "seeker_id": w.seeker_id, "note": "补齐了 complete"},
    )
    assert r.status_code == 201 and r.json()["status"] == "proposed", r.text
    third = r.json()["id"]
    mine = client.get("/referrals", headers=w.hs).json()["items"]
    assert sorted(i["id"] for i in mine) == sorted([first, second, third])

    # The employer cannot invite the seeker again once they withdrew from this posting.
    assert step(client, third, "withdraw", w.hs, {"reason": "不想去了 changed my mind"}).is_success
    (candidate,) = client.get(f"/postings/{w.posting_id}/candidates", headers=w.he).json()["items"]
    r = client.post(
        f"/postings/{w.posting_id}/invitations",
        headers=w.he,
        json={"candidate": candidate["candidate"]},
    )
    assert r.status_code == 409 and "referral_id" not in r.json()


def test_caseworker_proposes_seeker_previews_consents_and_withdraws(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings)
    r = client.post(
        "/referrals",
        headers=w.hc,
        json={"posting_id": w.posting_id, "seeker_id": w.seeker_id, "note": "适合您 suits you"},
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert r.json()["status"] == "proposed" and r.json()["origin"] == "caseworker"
    (proposed,) = [p for p in pushes(session, w.seeker.id) if p.kind == "referral_proposed"]
    assert "专员" in proposed.payload["body"]
    # Another centre's caseworker may not refer this seeker.
    r = client.post(
        "/referrals",
        headers=w.hc_other,
        json={"posting_id": w.posting_id, "seeker_id": w.seeker_id},
    )
    assert r.status_code == 404
    # Only the seeker consents; a caseworker may not consent for them.
    r = client.post(
        "/referrals",
        headers=w.hc,
        json={"posting_id": w.posting_id, "seeker_id": w.seeker_id, "consent": CONSENT},
    )
    assert r.status_code == 422 and r.json()["field"] == "consent"

    preview = client.get(f"/referrals/{rid}/preview", headers=w.hs).json()
    assert preview["fields"] == ["name", "contact", "needs"]
    assert "姓名" in preview["text_zh"] and "name" in preview["text_en"]
    assert set(preview["view"]["shared"]) == {"name", "contact", "needs"}

    r = step(client, rid, "consent", w.hs, {**CONSENT, "text_version": "1999-01"})
    assert r.status_code == 409 and r.json()["current_version"] == "2026-11"
    r = step(client, rid, "consent", w.hs, CONSENT)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = step(client, rid, "withdraw", w.hs, {"reason": "找到别的工作 found another job"})
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert r.json()["history"][-1]["actor_role"] == "seeker"
    r = step(client, rid, "send", w.hc)
    assert r.status_code == 409 and r.json()["allowed"] == []


def test_employer_invites_a_pseudonymous_candidate_who_shares_the_category(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings)
    h = w.hs
    texts = {t["purpose"]: t["version"] for t in client.get("/privacy/consent-texts").json()}
    client.post(
        f"/seekers/{w.seeker_id}/consents",
        headers=h,
        json={"purpose": "sensitive_profile", "text_version": texts["sensitive_profile"]},
    )
    assert client.put(f"/seekers/{w.seeker_id}/sensitive", headers=h, json=SENSITIVE).is_success
    candidates = client.get(f"/postings/{w.posting_id}/candidates", headers=w.he).json()["items"]
    assert candidates, "the seeker should be a candidate"
    pseudonym = candidates[0]["candidate"]

    r = client.post(
        f"/postings/{w.posting_id}/invitations",
        headers=w.he,
        json={"candidate": pseudonym, "note": "欢迎 welcome"},
    )
    assert r.status_code == 201, r.text
    invitation = r.json()
    rid = invitation["id"]
    assert invitation["status"] == "proposed" and invitation["invited"] is True
    assert invitation["shared"] == {} and invitation["candidate"] == pseudonym
    (invited,) = [p for p in pushes(session, w.seeker.id) if p.kind == "referral_invitation"]
    assert "邀请" in invited.payload["body"]
    # The employer's invitation is listed for it, still without anything about the person.
    listed = client.get("/referrals/received", headers=w.he).json()["items"]
    assert [i["id"] for i in listed] == [rid] and listed[0]["shared"] == {}
    # A second invitation of the same candidate is refused; an unknown pseudonym is not found.
    r = client.post(
        f"/postings/{w.posting_id}/invitations", headers=w.he, json={"candidate": pseudonym}
    )
    assert r.status_code == 409
    r = client.post(
        f"/postings/{w.posting_id}/invitations", headers=w.he, json={"candidate": "C-NOBODY0000"}
    )
    assert r.status_code == 404 and r.json()["field"] == "candidate"

    preview = client.get(f"/referrals/{rid}/preview?share=disability_category", headers=h).json()
    assert preview["view"]["shared"]["disability_category"] == "physical"
    assert "disability_grade" not in preview["view"]["shared"]
    r = step(client, rid, "consent", h, {**CONSENT, "share": ["disability_category"]})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    consent_id = r.json()["consent_id"]
    session.expire_all()
    consent = session.get(Consent, consent_id)
    assert consent is not None and consent.purpose == "referral"
    assert consent.scope == ["name", "contact", "needs", "disability_category"]
    session.rollback()
    assert step(client, rid, "send", w.ha).status_code == 200

    view = client.get(f"/referrals/received/{rid}", headers=w.he).json()
    assert set(view["shared"]) == {"name", "contact", "needs", "disability_category"}
    assert view["shared"]["disability_category"] == "physical"
    text = json.dumps(view, ensure_ascii=False)
    assert CERT not in text and "HEALTHNOTE" not in text and "disability_grade" not in text
    # The read is audited and shown to the seeker.
    log = client.get(f"/seekers/{w.seeker_id}/access-log", headers=h).json()
    assert any(e["actor_role"] == "employer" and "referral" in e["purpose"] for e in log)
    # No push ever carries the category, grade or certificate.
    for push in pushes(session):
        dumped = json.dumps(push.payload, ensure_ascii=False)
        assert CERT not in dumped and "physical" not in dumped and "肢体" not in dumped

    # Consent withdrawn: the employer loses access at once.
    r = client.post(f"/referrals/{rid}/consent/withdraw", headers=h)
    assert r.status_code == 200 and r.json()["consent_active"] is False
    view = client.get(f"/referrals/received/{rid}", headers=w.he).json()
    assert view["shared"] == {} and view["consent_active"] is False
    assert view["shared_fields"] == []
    assert client.post(f"/referrals/{rid}/consent/withdraw", headers=h).status_code == 409


def test_employer_view_holds_no_field_the_seeker_did_not_consent_to(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(
        session,
        settings,
        needs={"lift": NeedLevel.essential, "quiet_workspace": NeedLevel.preferred},
        offers={"lift": OfferAvailability.available},
        experience="独特经历 SECRET-EXPERIENCE",
        headline="HEADLINE-NOT-SHARED",
    )
    texts = {t["purpose"]: t["version"] for t in client.get("/privacy/consent-texts").json()}
    client.post(
        f"/seekers/{w.seeker_id}/consents",
        headers=w.hs,
        json={"purpose": "sensitive_profile", "text_version": texts["sensitive_profile"]},
    )
    client.put(f"/seekers/{w.seeker_id}/sensitive", headers=w.hs, json=SENSITIVE)
    rid = ask(client, w)["id"]
    step(client, rid, "send", w.hs)
    for url in (f"/referrals/received/{rid}", "/referrals/received"):
        body = client.get(url, headers=w.he).json()
        view = body if "shared" in body else body["items"][0]
        assert set(view["shared"]) <= {"name", "contact", "needs"}
        text = json.dumps(body, ensure_ascii=False)
        for secret in (
            "SECRET-EXPERIENCE",
            "HEADLINE-NOT-SHARED",
            "physical",
            CERT,
            "HEALTHNOTE",
            "quiet_workspace",  # a preferred need the posting does not offer: not relevant
            "disability",
        ):
            assert secret not in text, secret
    # Without category or grade in the view, no sensitive read is recorded.
    session.expire_all()
    assert not session.exec(
        select(AuditLog).where(
            AuditLog.action == "sensitive_read", AuditLog.actor_id == w.employer.id
        )
    ).all()
    session.rollback()


# --- refusals ---------------------------------------------------------------------------------


def test_seeker_may_ask_only_for_open_postings_that_meet_essential_needs(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings, offers={"lift": OfferAvailability.arrangeable})
    ask(client, w)  # arrangeable is enough
    r = client.post("/referrals", headers=w.hs, json={"posting_id": w.posting_id})
    assert r.status_code == 409 and r.json()["field"] == "posting_id"
    emp = f.employer(session)
    unmet = f.posting(session, emp, offers={})
    r = client.post("/referrals", headers=w.hs, json={"posting_id": unmet.id})
    assert r.status_code == 409 and r.json()["unmet_needs"] == ["lift"]
    expired = f.posting(
        session, emp, offers={"lift": OfferAvailability.available}, expires_at=utcnow()
    )
    r = client.post("/referrals", headers=w.hs, json={"posting_id": expired.id})
    assert r.status_code == 409 and "expired" in r.json()["detail"]
    r = client.post("/referrals", headers=w.hs, json={"posting_id": 999999})
    assert r.status_code == 404
    r = client.post("/referrals", headers=w.hs, json={"posting_id": unmet.id, "extra": 1})
    assert r.status_code == 422 and r.json()["field"] == "extra"
    r = client.post("/referrals", headers=w.hc, json={"posting_id": unmet.id})
    assert r.status_code == 422 and r.json()["field"] == "seeker_id"


def test_stale_version_is_refused_with_the_current_state(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings, verified=False)
    detail = ask(client, w)
    rid, version = detail["id"], detail["version"]
    r = step(client, rid, "approve", w.hc, {"version": version - 1})
    assert r.status_code == 409
    assert r.json()["status"] == "pending" and r.json()["version"] == version
    assert r.json()["allowed"] == ["approved", "rejected", "withdrawn"]
    assert step(client, rid, "approve", w.hc, {"version": version}).status_code == 200


def test_retention_only_ninety_days_after_the_start(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings)
    rid = ask(client, w)["id"]
    step(client, rid, "send", w.hs)
    step(client, rid, "interview", w.he)
    r = step(client, rid, "hire", w.he, {"start_date": "1999-01-01"})
    assert r.status_code == 422 and r.json()["field"] == "start_date"
    start = date.today() - timedelta(days=30)
    assert step(client, rid, "hire", w.he, {"start_date": start.isoformat()}).status_code == 200
    r = step(client, rid, "retained", w.he)
    assert r.status_code == 409
    assert r.json()["available_from"] == (start + timedelta(days=90)).isoformat()
    # A hire cannot be withdrawn.
    r = step(client, rid, "withdraw", w.hs)
    assert r.status_code == 409 and r.json()["allowed"] == ["retained_90d"]


def test_not_hired_needs_a_listed_reason_and_text_for_other(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings)
    rid = ask(client, w)["id"]
    step(client, rid, "send", w.hs)
    r = step(client, rid, "not-hired", w.he, {"reason": "too_tall"})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = step(client, rid, "not-hired", w.he, {"reason": "other"})
    assert r.status_code == 422
    r = step(client, rid, "not-hired", w.he, {"reason": "other", "text": "岗位取消 role cut"})
    assert r.status_code == 200 and r.json()["status"] == "not_hired"
    detail = client.get(f"/referrals/{rid}", headers=w.hs).json()
    last = detail["history"][-1]
    assert (last["details"]["reason_code"], last["reason"]) == ("other", "岗位取消 role cut")


HIRED_ON = date.today() - timedelta(days=100)  # so that 90-day retention may be recorded
# Each step: the endpoint, the roles that may call it, and a body.
STEPS: dict[RS, tuple[str, frozenset[Role], dict[str, Any]]] = {
    RS.pending: ("consent", frozenset({Role.seeker}), CONSENT),
    RS.approved: ("approve", frozenset({Role.caseworker, Role.admin}), {}),
    RS.rejected: ("reject", frozenset({Role.caseworker, Role.admin}), {"reason": "no 不行"}),
    RS.sent: ("send", frozenset({Role.seeker, Role.caseworker, Role.admin}), {}),
    RS.interviewing: ("interview", frozenset({Role.employer}), {}),
    RS.hired: ("hire", frozenset({Role.employer}), {"start_date": HIRED_ON.isoformat()}),
    RS.not_hired: ("not-hired", frozenset({Role.employer}), {"reason": "no_show"}),
    RS.withdrawn: ("withdraw", frozenset({Role.seeker}), {}),
    RS.retained_90d: ("retained", frozenset({Role.employer}), {}),
}
EMPLOYER_SEES = {RS.sent, RS.interviewing, RS.hired, RS.not_hired, RS.retained_90d}
# How to reach each state from proposed (queued: the employer is not verified).
ROUTE_TO: dict[RS, list[RS]] = {
    RS.proposed: [],
    RS.pending: [RS.pending],
    RS.approved: [RS.pending, RS.approved],
    RS.rejected: [RS.pending, RS.rejected],
    RS.sent: [RS.pending, RS.approved, RS.sent],
    RS.interviewing: [RS.pending, RS.approved, RS.sent, RS.interviewing],
    RS.hired: [RS.pending, RS.approved, RS.sent, RS.interviewing, RS.hired],
    RS.not_hired: [RS.pending, RS.approved, RS.sent, RS.not_hired],
    RS.withdrawn: [RS.withdrawn],
    RS.retained_90d: [RS.pending, RS.approved, RS.sent, RS.interviewing, RS.hired, RS.retained_90d],
}


def test_every_step_from_every_state_by_every_role(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """Allowed steps succeed for the roles that may take them; other roles get 403; an
    illegal step gets 409 with the allowed next states."""
    w = world(session, settings, verified=False)
    headers = {Role.seeker: w.hs, Role.employer: w.he, Role.caseworker: w.hc, Role.admin: w.ha}
    taken: set[tuple[RS, RS]] = set()
    for state in RS:
        emp = f.employer(session, verified=False)
        posting = f.posting(session, emp, offers={"lift": OfferAvailability.available})
        emp_acc = f.account(session, Role.employer, centre_code=None, employer_id=emp.id)
        headers[Role.employer] = f.headers(session, settings, emp_acc)
        r = client.post("/referrals", headers=w.hs, json={"posting_id": posting.id})
        rid = r.json()["id"]
        for target in ROUTE_TO[state]:
            action, roles, body = STEPS[target]
            role = sorted(roles)[0]
            r = step(client, rid, action, headers[role], body)
            assert r.status_code == 200, (state, target, r.text)
        assert client.get(f"/referrals/{rid}", headers=w.hs).json()["status"] == state.value
        for target, (action, roles, body) in STEPS.items():
            for role, h in headers.items():
                if role in roles and target in TRANSITIONS[state]:
                    continue  # a legal step: taken below on a fresh copy of the state
                r = step(client, rid, action, h, body)
                if role not in roles:
                    assert r.status_code == 403, (state, target, role, r.text)
                elif role == Role.employer and state not in EMPLOYER_SEES:
                    # Not sent to the employer (yet): for it the referral does not exist.
                    assert r.status_code == 404, (state, target, role, r.text)
                elif target not in TRANSITIONS[state]:
                    assert r.status_code == 409, (state, target, role, r.text)
                    assert r.json()["status"] == state.value
                    assert r.json()["allowed"] == [s.value for s in TRANSITIONS[state]]
        # Each allowed step, by each role that may take it (on a fresh copy of the state).
        for target in TRANSITIONS[state]:
            action, roles, body = STEPS[target]
            taken.add((state, target))
            for role in sorted(roles):
                if role == Role.employer and state in (RS.proposed, RS.pending, RS.approved):
                    continue  # not the employer's step
                other = f.posting(session, emp, offers={"lift": OfferAvailability.available})
                fresh = client.post("/referrals", headers=w.hs, json={"posting_id": other.id})
                fid = fresh.json()["id"]
                for t in ROUTE_TO[state]:
                    a, rs, b = STEPS[t]
                    assert step(client, fid, a, headers[sorted(rs)[0]], b).status_code == 200
                r = step(client, fid, action, headers[role], body)
                assert r.status_code == 200, (state, target, role, r.text)
                assert r.json()["status"] == target.value
    assert taken == {(s, t) for s, ts in TRANSITIONS.items() for t in ts}


# --- deadlines ---------------------------------------------------------------------------------


def test_deadline_is_two_working_days_in_shanghai() -> None:
    tz = ZoneInfo("Asia/Shanghai")

    def local(y: int, m: int, d: int, h: int = 10) -> datetime:
        return datetime(y, m, d, h, tzinfo=tz)

    # Monday 10:00 → Wednesday 10:00; Friday 15:00 → Tuesday 15:00.
    assert add_working_days(local(2026, 11, 30), 2, tz) == local(2026, 12, 2)
    assert add_working_days(local(2026, 12, 4, 15), 2, tz) == local(2026, 12, 8, 15)
    # Saturday: the clock starts Monday 00:00, so the deadline is Wednesday 00:00.
    assert add_working_days(local(2026, 12, 5), 2, tz) == local(2026, 12, 9, 0)
    # Thursday 23:30 in Shanghai is still Thursday though UTC says otherwise.
    thursday = datetime(2026, 12, 3, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    assert add_working_days(thursday, 2, tz) == local(2026, 12, 7, 23).replace(minute=30)


def test_deadlines_skip_public_holidays_and_count_days_worked_in_lieu() -> None:
    tz = ZoneInfo("Asia/Shanghai")

    def local(y: int, m: int, d: int, h: int = 10) -> datetime:
        return datetime(y, m, d, h, tzinfo=tz)

    # National Day 2026: 1–7 October off; Saturday 10 October is worked in lieu.
    assert add_working_days(local(2026, 9, 30), 2, tz) == local(2026, 10, 9)
    assert add_working_days(local(2026, 10, 9), 2, tz) == local(2026, 10, 12)
    # Asked on a holiday: the clock starts at 00:00 on the first working day (8 October).
    assert add_working_days(local(2026, 10, 3), 2, tz) == local(2026, 10, 10, 0)
    # Spring Festival 2026 (15–23 February off, Saturday 14 and 28 February worked).
    assert add_working_days(local(2026, 2, 13, 16), 1, tz) == local(2026, 2, 14, 16)
    assert add_working_days(local(2026, 2, 14, 16), 1, tz) == local(2026, 2, 24, 16)
    # Beyond the years the calendar covers, Monday to Friday: Friday → Tuesday.
    assert add_working_days(local(2031, 1, 10, 15), 2, tz) == local(2031, 1, 14, 15)


def test_deadline_can_be_set_and_overdue_is_flagged(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings, verified=False)
    rid = ask(client, w)["id"]
    past = (utcnow() - timedelta(hours=1)).isoformat()
    body = {"deadline_at": past, "reason": "测试 test"}
    r = client.put(f"/referrals/{rid}/deadline", headers=w.hc, json=body)
    assert r.status_code == 200 and r.json()["overdue"] is True
    r = client.put(
        f"/referrals/{rid}/deadline",
        headers=w.hc,
        json={**body, "deadline_at": "2030-01-01T09:00:00"},
    )
    assert r.status_code == 422 and r.json()["field"] == "deadline_at"
    items = client.get("/referrals/queue?overdue=true", headers=w.hc).json()["items"]
    assert [i["referral"]["id"] for i in items] == [rid]
    assert client.get("/referrals/queue?overdue=false", headers=w.hc).json()["items"] == []
    step(client, rid, "approve", w.hc)
    r = client.put(f"/referrals/{rid}/deadline", headers=w.hc, json=body)
    assert r.status_code == 409


def test_queue_is_oldest_first_with_the_seekers_history(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings, verified=False)
    first = ask(client, w)["id"]
    emp = f.employer(session, verified=False)
    second_posting = f.posting(session, emp, offers={"lift": OfferAvailability.available})
    r = client.post(
        "/referrals",
        headers=w.hs,
        json={"posting_id": second_posting.id, "consent": CONSENT},
    )
    second = r.json()["id"]
    items = client.get("/referrals/queue", headers=w.hc).json()["items"]
    assert [i["referral"]["id"] for i in items] == [first, second]
    assert [h["id"] for h in items[0]["seeker_history"]] == [second]
    assert items[1]["seeker_history"][0]["posting_title"] == "仓库文员 Warehouse clerk"


# --- rules as data ----------------------------------------------------------------------------


def test_admin_changes_rules_without_a_deploy_and_dry_runs_them(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings, verified=False)
    queued = ask(client, w)
    assert queued["status"] == "pending"
    rules = client.get("/referral-rules", headers=w.hc).json()
    assert rules[0]["code"] == "essential_needs_met"
    assert any("核验" in r["description_zh"] for r in rules)

    # Dry run: without the employer check, the queued referral would have been instant.
    r = client.post(
        "/referral-rules/dry-run",
        headers=w.ha,
        json={"rules": [{"code": "employer_verified", "enabled": False}]},
    )
    assert r.status_code == 200, r.text
    run = r.json()
    (item,) = [i for i in run["items"] if i["referral_id"] == queued["id"]]
    assert (item["decision"], item["actual"], item["changed"]) == ("instant", "queue", True)
    assert run["total"] == run["instant"] + run["queue"] and run["changed"] >= 1
    # With the current rules, nothing changes.
    current = client.post("/referral-rules/dry-run", headers=w.ha, json={}).json()
    (item,) = [i for i in current["items"] if i["referral_id"] == queued["id"]]
    assert (item["decision"], item["failed"], item["changed"]) == (
        "queue",
        ["employer_verified"],
        False,
    )
    r = client.post(
        "/referral-rules/dry-run",
        headers=w.ha,
        json={"rules": [{"code": "max_open_referrals", "params": {"max": 0}}]},
    )
    assert r.status_code == 422 and r.json()["field"] == "rules.0.params.max"
    r = client.post("/referral-rules/dry-run", headers=w.ha, json={"rules": [{"code": "be_nice"}]})
    assert r.status_code == 422 and r.json()["field"] == "code"

    # Bad parameters are refused with the field; a good change applies to the next referral.
    r = client.patch(
        "/referral-rules/max_open_referrals", headers=w.ha, json={"params": {"max": "many"}}
    )
    assert r.status_code == 422 and r.json()["field"] == "params.max"
    r = client.patch("/referral-rules/employer_verified", headers=w.ha, json={"enabled": False})
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["version"] == 2
    r = client.patch(
        "/referral-rules/employer_verified", headers=w.ha, json={"enabled": True, "version": 1}
    )
    assert r.status_code == 409
    assert client.patch("/referral-rules/nope", headers=w.ha, json={}).status_code == 404
    emp = f.employer(session, verified=False)
    posting = f.posting(session, emp, offers={"lift": OfferAvailability.available})
    r = client.post("/referrals", headers=w.hs, json={"posting_id": posting.id, "consent": CONSENT})
    assert r.json()["status"] == "approved"
    assert "employer_verified" not in {v["code"] for v in r.json()["rules"]}

    # Tighten a parameter: at most one open referral; the seeker now has two.
    r = client.patch(
        "/referral-rules/max_open_referrals", headers=w.ha, json={"params": {"max": 1}}
    )
    assert r.status_code == 200 and r.json()["params"] == {"max": 1}
    posting = f.posting(session, emp, offers={"lift": OfferAvailability.available})
    r = client.post("/referrals", headers=w.hs, json={"posting_id": posting.id, "consent": CONSENT})
    assert r.json()["status"] == "pending"
    assert [v["code"] for v in r.json()["rules"] if not v["passed"]] == ["max_open_referrals"]
    session.expire_all()
    changes = session.exec(select(AuditLog).where(AuditLog.action == "approval_rule_changed"))
    assert len(list(changes)) == 2
    session.rollback()


def test_incomplete_profile_goes_to_the_queue(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings, phone="")
    detail = ask(client, w)
    assert detail["status"] == "pending"
    (failed,) = [v for v in detail["rules"] if not v["passed"]]
    assert failed["code"] == "profile_complete" and "phone" in failed["detail"]


def test_verified_only_seeker_is_approved_instantly_only_on_verified_features(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """A seeker who counts only features verified on site: a merely claimed lift sends the
    referral to the queue with the reason; a lift a caseworker verified approves at once."""
    w = world(session, settings, verified_only_essential=True)
    detail = ask(client, w)
    assert detail["status"] == "pending"
    (failed,) = [v for v in detail["rules"] if not v["passed"]]
    assert failed["code"] == "essential_needs_met"
    assert failed["detail"] == "1 claimed but not verified on site"

    employer = session.get(Account, w.employer.id)
    assert employer is not None and employer.employer_id is not None
    emp = session.get(Employer, employer.employer_id)
    assert emp is not None
    checked = f.posting(session, emp, offers={"lift": OfferAvailability.available})
    visit = {
        "visited_on": utcnow().astimezone(ZoneInfo(settings.timezone)).date().isoformat(),
        "note": "走访 visit",
        "findings": [{"code": "lift", "result": "confirmed", "note": "电梯 lift works"}],
    }
    r = client.post(f"/postings/{checked.id}/accessibility-checks", headers=w.hc, json=visit)
    assert r.status_code == 201, r.text
    r = client.post(
        "/referrals", headers=w.hs, json={"posting_id": checked.id, "consent": CONSENT}
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "approved"
    assert all(v["passed"] for v in r.json()["rules"])


# --- pushes and statistics ---------------------------------------------------------------------


def test_pushes_are_written_once(
    client: TestClient, session: Session, settings: Settings, engine: Any
) -> None:
    from api.services import referrals as service

    w = world(session, settings, verified=False)
    rid = ask(client, w)["id"]
    before = len(pushes(session))
    with Session(engine) as s:
        referral = s.get(Referral, rid)
        assert referral is not None
        from models import Posting

        posting = s.get(Posting, referral.posting_id)
        caseworker = s.get(Account, w.caseworker.id)
        assert posting is not None and caseworker is not None
        for _ in range(2):
            service._push(s, settings, caseworker, "referral_queued", referral, posting)
        s.commit()
    assert len(pushes(session)) == before


def test_stats_by_centre_and_month_hide_small_cells(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings)
    emp = f.employer(session)
    ids = []
    for _ in range(5):
        posting = f.posting(session, emp, offers={"lift": OfferAvailability.available})
        r = client.post(
            "/referrals", headers=w.hs, json={"posting_id": posting.id, "consent": CONSENT}
        )
        ids.append(r.json()["id"])
    client.patch("/referral-rules/max_open_referrals", headers=w.ha, json={"params": {"max": 100}})
    step(client, ids[0], "send", w.hs)
    step(
        client,
        ids[0],
        "interview",
        f.headers(session, settings, f.employer_account(session, emp)[0]),
    )
    r = client.get("/referrals/stats", headers=w.ha)
    assert r.status_code == 200, r.text
    month = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    (row,) = [x for x in r.json()["rows"] if x["centre_code"] == "heping" and x["month"] == month]
    assert row["referrals"] == 5 and row["approved_instant"] == 5
    assert row["approved_queued"] == 0 and row["hires"] == 0
    assert row["avg_hours_instant"] is not None and row["avg_hours_instant"] < 1
    assert row["avg_hours_queued"] is None
    # A caseworker sees their own centre only.
    mine = client.get("/referrals/stats", headers=w.hc).json()["rows"]
    assert {x["centre_code"] for x in mine} == {"heping"}
    assert client.get("/referrals/stats", headers=w.hc_other).json()["rows"] == []
    assert client.get("/referrals/stats?centre_code=heping", headers=w.hc_other).status_code == 403
    assert client.get("/referrals/stats?since=2026-13", headers=w.ha).status_code == 422
    assert client.get("/referrals/stats?since=0000-01", headers=w.ha).status_code == 422

    # One more referral in another centre: its cells read "<5".
    w2 = world(session, settings, centre_code="binjiang")
    ask(client, w2)
    rows = client.get("/referrals/stats?centre_code=binjiang", headers=w.ha).json()["rows"]
    (row,) = rows
    assert row["referrals"] == "<5" and row["approved_instant"] == "<5"
    assert row["avg_hours_instant"] is None


def test_lists_are_scoped_to_the_caller(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings)
    rid = ask(client, w)["id"]
    other_acc, _ = f.seeker(session)
    other = f.headers(session, settings, other_acc)
    assert [i["id"] for i in client.get("/referrals", headers=w.hs).json()["items"]] == [rid]
    assert client.get("/referrals", headers=other).json()["items"] == []
    assert client.get(f"/referrals/{rid}", headers=other).status_code == 404
    assert client.get(f"/referrals/{rid}", headers=w.hc_other).status_code == 404
    assert client.get("/referrals", headers=w.hc_other).json()["total"] == 0
    assert client.get("/referrals?centre_code=heping", headers=w.ha).json()["total"] == 1
    assert client.get("/referrals?status=approved", headers=w.hc).json()["total"] == 1
    session.expire_all()
    denied = session.exec(
        select(AuditLog).where(
            AuditLog.action == "access_denied", AuditLog.object_type == "referral"
        )
    ).all()
    assert len(denied) == 2
    assert session.exec(select(ReferralEvent).where(ReferralEvent.referral_id == rid)).all()
    session.rollback()


def test_health_related_needs_shared_with_an_employer_are_audited(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings, needs={}, offers={"extra_breaks": OfferAvailability.available})
    texts = {t["purpose"]: t["version"] for t in client.get("/privacy/consent-texts").json()}
    client.post(
        f"/seekers/{w.seeker_id}/consents",
        headers=w.hs,
        json={"purpose": "health_needs", "text_version": texts["health_needs"]},
    )
    profile = client.get(f"/seekers/{w.seeker_id}", headers=w.hs).json()
    r = client.patch(
        f"/seekers/{w.seeker_id}",
        headers=w.hs,
        json={
            "version": profile["version"],
            "needs": [{"code": "extra_breaks", "level": "essential"}],
        },
    )
    assert r.status_code == 200, r.text
    rid = ask(client, w)["id"]
    assert step(client, rid, "send", w.hs).status_code == 200
    view = client.get(f"/referrals/received/{rid}", headers=w.he).json()
    assert [n["code"] for n in view["shared"]["needs"]] == ["extra_breaks"]
    assert "health_related" not in view["shared"]["needs"][0]
    log = client.get(f"/seekers/{w.seeker_id}/access-log", headers=w.hs).json()
    assert [e["actor_role"] for e in log] == ["employer"]


def test_erasing_a_seeker_leaves_the_employer_nothing(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings)
    rid = ask(client, w)["id"]
    step(client, rid, "send", w.hs)
    assert client.get(f"/referrals/received/{rid}", headers=w.he).json()["shared"]
    r = client.post(f"/seekers/{w.seeker_id}/erase", headers=w.ha, json={"confirm": "ERASE"})
    assert r.status_code == 204, r.text
    view = client.get(f"/referrals/received/{rid}", headers=w.he).json()
    assert view["shared"] == {} and view["consent_active"] is False
    # The counts survive without the person.
    assert client.get("/referrals/stats", headers=w.ha).json()["rows"]


def test_referral_pushes_render_with_their_words() -> None:
    """A referral event push is delivered with its title and body, not a blank message."""
    from api.services.messages import render

    payload = {
        "title": "推荐审核结果",
        "body": "您对岗位“数据录入员”的推荐已批准。",
        "language": "zh",
        "referral_id": 7,
        "status": "approved",
    }
    message = render(
        "referral_decided",
        payload,
        "zh",
        stop_url="https://x/stop",
        preferences_url="https://x/prefs",
    )
    assert message.subject == "推荐审核结果"
    assert message.lines == ["您对岗位“数据录入员”的推荐已批准。"]
    assert message.why and "推荐" in message.why
    english = render(
        "referral_queued",
        {
            "title": "A referral waits for review",
            "body": "Referral #7 waits in your centre's queue.",
        },
        "en",
        stop_url="s",
        preferences_url="p",
    )
    assert english.subject.startswith("A referral") and english.why.startswith("You receive")
