"""An employer's quota position through the API: its declared figures (PATCH with version),
hires through the service counted once confirmed at 90 days and once per person, a grade used
only where the seeker shared it with the employer (and audited), who may read it, and the
figures against hand-worked examples (defaults: 1.5%, grade 1–2 counts 2, wage 120,000,
exempt ≤ 30 staff, own ratio ≥ 1% pays 50%, below 90%)."""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from api.main import create_app
from api.settings import Settings
from api.uscc import check_char
from models import AuditLog, Employer, Posting, Referral
from models.base import NeedLevel, OfferAvailability, Role
from tests import factories as f
from tests.api.test_concurrency import race

CONSENT = {"agree": True, "text_version": "2026-11"}


@dataclass
class Firm:
    employer: Employer
    he: dict[str, str]
    postings: list[Posting]


def firm(session: Session, settings: Settings, staff: int = 150, postings: int = 1) -> Firm:
    acc, emp = f.employer_account(session, f.employer(session, staff_count=staff))
    rows = [
        f.posting(
            session, emp, offers={"lift": OfferAvailability.available}, title=f"文员 Clerk {i}"
        )
        for i in range(postings)
    ]
    return Firm(emp, f.headers(session, settings, acc), rows)


def seeker(
    client: TestClient, session: Session, settings: Settings, grade: int | None = None
) -> tuple[int, dict[str, str]]:
    acc, profile = f.seeker(session, phone="13800003333", needs={"lift": NeedLevel.essential})
    h = f.headers(session, settings, acc)
    if grade is not None:
        r = client.post(
            f"/seekers/{profile.id}/consents",
            headers=h,
            json={"purpose": "sensitive_profile", "text_version": "2026-11"},
        )
        assert r.status_code == 201, r.text
        r = client.put(
            f"/seekers/{profile.id}/sensitive",
            headers=h,
            json={"disability_category": "physical", "disability_grade": grade},
        )
        assert r.status_code == 200, r.text
    return profile.id or 0, h


def hire(
    client: TestClient,
    posting: Posting,
    hs: dict[str, str],
    he: dict[str, str],
    *,
    share: list[str] | None = None,
    retain: bool = True,
) -> int:
    """Refer, send, interview and hire (100 days ago); then record the 90-day retention."""
    body = {"posting_id": posting.id, "consent": {**CONSENT, "share": share or []}}
    r = client.post("/referrals", headers=hs, json=body)
    assert r.status_code == 201 and r.json()["status"] == "approved", r.text
    rid = int(r.json()["id"])
    start = (date.today() - timedelta(days=100)).isoformat()
    for action, headers, data in (
        ("send", hs, {}),
        ("interview", he, {}),
        ("hire", he, {"start_date": start}),
    ):
        r = client.post(f"/referrals/{rid}/{action}", headers=headers, json=data)
        assert r.status_code == 200, r.text
    if retain:
        r = client.post(f"/referrals/{rid}/retained", headers=he, json={})
        assert r.status_code == 200, r.text
    return rid


def quota(client: TestClient, firm: Firm, headers: dict[str, str] | None = None) -> Any:
    r = client.get(f"/employers/{firm.employer.id}/quota", headers=headers or firm.he)
    assert r.status_code == 200, r.text
    return r.json()


def patch(client: TestClient, firm: Firm, version: int, **figures: Any) -> Any:
    return client.patch(
        f"/employers/{firm.employer.id}", headers=firm.he, json={"version": version, **figures}
    )


def test_declared_figures_then_a_hire_confirmed_at_ninety_days(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = firm(session, settings, staff=100)
    q = quota(client, w)
    # 100 × 1.5% = 1.5 required, nobody counted: own ratio 0 < 1% → 90%
    # 1.5 × 120,000 = 180,000.00; × 0.9 = 162,000.00
    assert (q["staff_count"], q["counted"], q["required"], q["shortfall"]) == (100, 0, "1.5", "1.5")
    assert (q["fund_before_reduction"], q["pay_share"], q["fund"]) == (
        "180000.00",
        "0.9",
        "162000.00",
    )
    assert q["status"] == "short" and q["rules"]["ratio"] == "0.015"
    assert "1.5%" in q["rule_text"]["zh"] and "1.5%" in q["rule_text"]["en"]

    r = patch(client, w, q["version"], staff_count=150, disabled_staff_grade_3_4=1)
    assert r.status_code == 200, r.text
    q = quota(client, w)
    # 150 × 1.5% = 2.25; 1 counted; shortfall 1.25; own ratio 1/150 = 0.67% < 1% → 90%
    # 1.25 × 120,000 = 150,000.00; × 0.9 = 135,000.00
    assert (q["required"], q["counted"], q["shortfall"], q["own_ratio"]) == (
        "2.25",
        1,
        "1.25",
        "0.0067",
    )
    assert q["fund"] == "135000.00" and q["reached_threshold"] is False
    assert q["working"]["en"][0] == "Required: 150 × 1.5% = 2.25 people"

    # Hired but not yet confirmed at 90 days: shown as waiting, not counted.
    sid, hs = seeker(client, session, settings)
    rid = hire(client, w.postings[0], hs, w.he, retain=False)
    q = quota(client, w)
    assert q["service_hires"] == {
        "confirmed": 0,
        "counted_as_grade_1_2": 0,
        "awaiting_confirmation": 1,
    }
    assert q["counted"] == 1 and q["fund"] == "135000.00"

    # Confirmed: counted once. 2 counted; shortfall 0.25; own ratio 2/150 = 1.33% ≥ 1% → 50%
    # 0.25 × 120,000 = 30,000.00; × 0.5 = 15,000.00
    assert client.post(f"/referrals/{rid}/retained", headers=w.he, json={}).status_code == 200
    q = quota(client, w)
    assert q["service_hires"]["confirmed"] == 1 and q["service_hires"]["awaiting_confirmation"] == 0
    assert (q["counted"], q["shortfall"], q["pay_share"], q["fund"]) == (
        2,
        "0.25",
        "0.5",
        "15000.00",
    )
    # Recording the outcome again changes nothing.
    again = client.post(f"/referrals/{rid}/retained", headers=w.he, json={})
    assert again.status_code == 409
    assert quota(client, w)["counted"] == 2
    # Nothing about the person is in the position.
    text = json.dumps(q, ensure_ascii=False)
    assert "13800003333" not in text and "求职者" not in text and str(sid) not in q["service_hires"]


def test_one_person_hired_through_two_postings_counts_once(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = firm(session, settings, staff=200, postings=2)
    _, hs = seeker(client, session, settings)
    hire(client, w.postings[0], hs, w.he)
    hire(client, w.postings[1], hs, w.he)
    q = quota(client, w)
    # 200 × 1.5% = 3 required; one person, counted 1; shortfall 2; 1/200 = 0.5% < 1% → 90%
    # 2 × 120,000 = 240,000.00; × 0.9 = 216,000.00
    assert q["service_hires"]["confirmed"] == 1 and q["counted"] == 1
    assert q["fund"] == "216000.00"


def test_grade_counts_twice_only_when_shared_with_the_employer(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = firm(session, settings, staff=200)
    shared_id, h_shared = seeker(client, session, settings, grade=2)
    kept_id, h_kept = seeker(client, session, settings, grade=1)
    hire(client, w.postings[0], h_shared, w.he, share=["disability_grade"])
    hire(client, w.postings[0], h_kept, w.he, share=["disability_category"])
    session.rollback()
    reads_before = session.exec(
        select(func.count()).where(col(AuditLog.action) == "sensitive_read")
    ).one()
    session.rollback()
    q = quota(client, w)
    # The grade 2 seeker shared the grade: counts 2. The grade 1 seeker did not: counts 1.
    # 200 × 1.5% = 3 required; counted 3 → exactly at the ratio, nothing due.
    assert q["service_hires"] == {
        "confirmed": 2,
        "counted_as_grade_1_2": 1,
        "awaiting_confirmation": 0,
    }
    assert (q["grade_1_2_people"], q["other_people"], q["counted"]) == (1, 1, 3)
    assert q["status"] == "meets" and q["fund"] == "0.00" and q["shortfall"] == "0"
    # Using the shared grade is an audited read the seeker sees; the other seeker's is not read.
    session.rollback()
    reads = session.exec(
        select(AuditLog).where(col(AuditLog.action) == "sensitive_read").order_by(col(AuditLog.id))
    ).all()[reads_before:]
    assert [(r.object_id, r.actor_role) for r in reads] == [(str(shared_id), "employer")]
    assert "quota" in reads[0].purpose
    session.rollback()
    log = client.get(f"/seekers/{shared_id}/access-log", headers=h_shared).json()
    assert any("quota" in e["purpose"] for e in log)
    log = client.get(f"/seekers/{kept_id}/access-log", headers=h_kept).json()
    assert not any("quota" in e["purpose"] for e in log)

    # The seeker withdraws the referral's consent: the grade no longer counts.
    rid = session.exec(select(Referral.id).where(Referral.seeker_id == shared_id)).one()
    session.rollback()
    assert client.post(f"/referrals/{rid}/consent/withdraw", headers=h_shared).status_code == 200
    q = quota(client, w)
    assert q["service_hires"]["counted_as_grade_1_2"] == 0 and q["counted"] == 2
    # 3 − 2 = 1 short; 2/200 = 1% → 50%: 120,000.00 × 0.5 = 60,000.00
    assert q["fund"] == "60000.00"


def test_who_may_read_a_quota_position(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = firm(session, settings)
    other = firm(session, settings)
    cw = f.headers(session, settings, f.account(session, Role.caseworker))
    admin = f.headers(session, settings, f.account(session, Role.admin, centre_code=None))
    seeker_h = f.headers(session, settings, f.account(session, Role.seeker))
    url = f"/employers/{w.employer.id}/quota"
    assert client.get(url, headers=w.he).status_code == 200
    assert client.get(url, headers=other.he).status_code == 404  # another employer's
    assert client.get(url, headers=cw).status_code == 200
    assert client.get(url, headers=admin).status_code == 200
    assert client.get(url, headers=seeker_h).status_code == 403
    assert client.get(url).status_code == 401
    assert client.get("/employers/999999/quota", headers=admin).status_code == 404


def test_figures_are_checked_versioned_and_audited(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = firm(session, settings, staff=40)
    r = patch(client, w, 1, disabled_staff_grade_1_2=30, disabled_staff_grade_3_4=11)
    assert r.status_code == 422 and r.json()["field"] == "disabled_staff_grade_1_2"
    r = patch(client, w, 1, staff_count=3)  # below nothing declared yet: fine
    assert r.status_code == 200 and r.json()["version"] == 2
    r = patch(client, w, 2, disabled_staff_grade_1_2=4)
    assert r.status_code == 422 and r.json()["field"] == "disabled_staff_grade_1_2"
    r = patch(client, w, 2, disabled_staff_grade_3_4=-1)
    assert r.status_code == 422 and r.json()["field"] == "disabled_staff_grade_3_4"
    r = patch(client, w, 2, disabled_staff_grade_3_4=None)
    assert r.status_code == 422 and r.json()["field"] == "disabled_staff_grade_3_4"
    r = patch(client, w, 1, staff_count=50)  # a stale version
    assert r.status_code == 409 and r.json()["current_version"] == 2
    r = patch(client, w, 2, staff_count=50, disabled_staff_grade_1_2=1)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["staff_count"], body["disabled_staff_grade_1_2"], body["version"]) == (50, 1, 3)
    # Nothing of the refused changes was kept.
    session.rollback()
    session.expire_all()
    stored = session.get(Employer, w.employer.id)
    assert stored is not None and (stored.staff_count, stored.disabled_staff_grade_3_4) == (50, 0)
    rows = session.exec(
        select(AuditLog)
        .where(AuditLog.action == "employer_updated", AuditLog.object_id == str(w.employer.id))
        .order_by(col(AuditLog.id))
    ).all()
    assert [r.detail["changed"] for r in rows] == [
        {"staff_count": [40, 3]},
        {"staff_count": [3, 50], "disabled_staff_grade_1_2": [0, 1]},
    ]
    assert rows[-1].actor_role == "employer"
    session.rollback()
    # 50 × 1.5% = 0.75; 1 grade 1–2 counts 2 → meets the ratio.
    q = quota(client, w)
    assert (q["declared_grade_1_2"], q["counted"], q["status"]) == (1, 2, "meets")


def test_small_employer_is_exempt_but_sees_its_shortfall(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = firm(session, settings, staff=30)
    q = quota(client, w)
    # 30 × 1.5% = 0.45 short; 30 ≤ 30 → exempt.
    assert (q["status"], q["shortfall"], q["fund"]) == ("exempt", "0.45", "0.00")
    assert patch(client, w, 1, staff_count=31).status_code == 200
    q = quota(client, w)
    # 31 × 1.5% = 0.465; 0.465 × 120,000 = 55,800.00; 0 < 1% → 90% = 50,220.00
    assert (q["status"], q["shortfall"], q["fund"]) == ("short", "0.465", "50220.00")


def test_a_small_public_institution_is_not_exempt(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = firm(session, settings, staff=20)
    body = "12330100" + "0" * 9  # 事业单位 (registered by 机构编制, kind 2)
    w.employer.uscc = body + check_char(body)
    session.add(w.employer)
    session.commit()
    q = quota(client, w)
    # 20 × 1.5% = 0.3; 0.3 × 120,000 = 36,000.00; 0 < 1% → 90% = 32,400.00
    assert (q["status"], q["shortfall"], q["fund"]) == ("short", "0.3", "32400.00")
    assert any("事业单位" in line for line in q["working"]["zh"]), q["working"]


def test_rules_come_from_the_settings(session: Session, settings: Settings, engine: Any) -> None:
    beijing = settings.model_copy(
        update={"quota_ratio": Decimal("0.017"), "quota_average_wage": Decimal("150000")}
    )
    w = firm(session, settings, staff=100, postings=0)
    with TestClient(create_app(beijing, engine)) as client:
        r = patch(client, w, 1, disabled_staff_grade_3_4=1)
        assert r.status_code == 200, r.text
        q = quota(client, w)
    # 100 × 1.7% = 1.7; 1 counted; 0.7 short; 1/100 = 1% → 50%
    # 0.7 × 150,000 = 105,000.00; × 0.5 = 52,500.00
    assert (q["required"], q["shortfall"], q["fund"]) == ("1.7", "0.7", "52500.00")
    assert "1.7%" in q["rule_text"]["zh"] and "150,000.00" in q["rule_text"]["en"]


def test_two_retention_records_at_once_count_one_hire(
    app: Any, client: TestClient, session: Session, settings: Settings
) -> None:
    w = firm(session, settings, staff=100)
    _, hs = seeker(client, session, settings)
    rid = hire(client, w.postings[0], hs, w.he, retain=False)
    acc = f.account(session, Role.employer, centre_code=None, employer_id=w.employer.id)
    second = f.headers(session, settings, acc)  # a colleague at the same employer
    results = race(
        app,
        [
            ("POST", f"/referrals/{rid}/retained", w.he, {}),
            ("POST", f"/referrals/{rid}/retained", second, {}),
        ],
    )
    assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
    q = quota(client, w)
    assert q["service_hires"]["confirmed"] == 1 and q["counted"] == 1


def test_an_erased_seeker_still_counts_once_without_the_grade(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = firm(session, settings, staff=200)
    sid, hs = seeker(client, session, settings, grade=1)
    hire(client, w.postings[0], hs, w.he, share=["disability_grade"])
    assert quota(client, w)["counted"] == 2
    admin = f.headers(session, settings, f.account(session, Role.admin, centre_code=None))
    r = client.post(f"/seekers/{sid}/erase", headers=admin, json={"confirm": "ERASE"})
    assert r.status_code == 204, r.text
    # The employment stands (the employer keeps its count); the grade went with the person.
    q = quota(client, w)
    assert q["service_hires"] == {
        "confirmed": 1,
        "counted_as_grade_1_2": 0,
        "awaiting_confirmation": 0,
    }
    assert q["counted"] == 1


def test_two_writers_of_the_figures_at_once_one_wins(
    app: Any, client: TestClient, session: Session, settings: Settings
) -> None:
    w = firm(session, settings, staff=100)
    cw = f.headers(session, settings, f.account(session, Role.caseworker))
    url = f"/employers/{w.employer.id}"
    results = race(
        app,
        [
            ("PATCH", url, w.he, {"version": 1, "disabled_staff_grade_3_4": 2}),
            ("PATCH", url, cw, {"version": 1, "staff_count": 120}),
        ],
    )
    assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
    winner = next(r for r in results if r.status_code == 200).json()
    q = quota(client, w)
    assert (q["staff_count"], q["declared_grade_3_4"], q["version"]) == (
        winner["staff_count"],
        winner["disabled_staff_grade_3_4"],
        2,
    )
    session.rollback()
    audited = session.exec(
        select(func.count()).where(
            col(AuditLog.action) == "employer_updated", AuditLog.object_id == str(w.employer.id)
        )
    ).one()
    assert audited == 1
