"""Routes × roles × object owner: acting on someone else's objects never succeeds unless the
role may do so by design. Every route with an object in its path must be listed."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.settings import Settings
from models import WeightSet
from models.base import NeedLevel, OfferAvailability, Role, utcnow
from tests import factories as f
from tests.api.test_access_matrix import ROUTES

S, E, C, A, V = Role.seeker, Role.employer, Role.caseworker, Role.admin, Role.volunteer
NOBODY: frozenset[Role] = frozenset()
# Who may succeed on objects of another owner (another seeker, another centre's seeker,
# another employer's posting, another centre's training).
CROSS: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/seekers/{seeker_id}"): NOBODY,
    ("PATCH", "/seekers/{seeker_id}"): NOBODY,
    ("POST", "/seekers/{seeker_id}/close"): NOBODY,
    ("GET", "/seekers/{seeker_id}/matches"): NOBODY,
    ("PUT", "/seekers/{seeker_id}/feedback/{posting_id}"): NOBODY,
    ("DELETE", "/seekers/{seeker_id}/feedback/{posting_id}"): NOBODY,
    ("GET", "/seekers/{seeker_id}/feedback"): NOBODY,
    ("GET", "/seekers/{seeker_id}/consents"): NOBODY,
    ("POST", "/seekers/{seeker_id}/consents"): NOBODY,
    ("POST", "/seekers/{seeker_id}/consents/{consent_id}/withdraw"): NOBODY,
    ("PUT", "/seekers/{seeker_id}/sensitive"): NOBODY,
    ("GET", "/seekers/{seeker_id}/sensitive"): NOBODY,
    ("DELETE", "/seekers/{seeker_id}/sensitive"): NOBODY,
    ("GET", "/seekers/{seeker_id}/access-log"): NOBODY,
    ("GET", "/seekers/{seeker_id}/export"): NOBODY,
    ("POST", "/seekers/{seeker_id}/erase"): frozenset({A}),  # on the person's request
    ("POST", "/admin/break-glass/seekers/{seeker_id}"): frozenset({A}),
    ("GET", "/employers/{employer_id}"): frozenset({C, A}),
    ("PATCH", "/employers/{employer_id}"): frozenset({C, A}),
    ("GET", "/employers/{employer_id}/quota"): frozenset({C, A}),
    ("POST", "/employers/{employer_id}/verify"): frozenset({C, A}),
    ("POST", "/employers/{employer_id}/close"): frozenset({C, A}),
    ("GET", "/postings/{posting_id}"): frozenset({S, E, C, A, V}),  # an open posting is public
    ("PATCH", "/postings/{posting_id}"): frozenset({C, A}),
    ("POST", "/postings/{posting_id}/close"): frozenset({C, A}),
    ("GET", "/postings/{posting_id}/candidates"): frozenset({C, A}),
    ("GET", "/trainings/{training_id}"): frozenset({S, E, C, A}),
    ("PATCH", "/trainings/{training_id}"): frozenset({A}),
    ("POST", "/trainings/{training_id}/close"): frozenset({A}),
    ("PATCH", "/accommodations/{code}"): frozenset({A}),
    ("POST", "/accommodations/{code}/retire"): frozenset({A}),
    ("POST", "/accounts/{account_id}/disable"): frozenset({A}),
    ("GET", "/referrals/received/{referral_id}"): NOBODY,
    ("POST", "/postings/{posting_id}/invitations"): NOBODY,
    ("POST", "/referrals/{referral_id}/interview"): NOBODY,
    ("POST", "/referrals/{referral_id}/hire"): NOBODY,
    ("POST", "/referrals/{referral_id}/not-hired"): NOBODY,
    ("POST", "/referrals/{referral_id}/retained"): NOBODY,
    ("GET", "/referrals/{referral_id}"): frozenset({A}),
    ("GET", "/referrals/{referral_id}/preview"): NOBODY,
    ("POST", "/referrals/{referral_id}/consent"): NOBODY,
    ("POST", "/referrals/{referral_id}/consent/withdraw"): NOBODY,
    ("POST", "/referrals/{referral_id}/withdraw"): NOBODY,
    ("POST", "/referrals/{referral_id}/approve"): frozenset({A}),
    ("POST", "/referrals/{referral_id}/reject"): frozenset({A}),
    ("PUT", "/referrals/{referral_id}/deadline"): frozenset({A}),
    ("POST", "/referrals/{referral_id}/send"): frozenset({A}),
    ("PATCH", "/referral-rules/{code}"): frozenset({A}),
    # weight sets belong to no one: admins list, read and put them in force
    ("GET", "/weight-sets/{set_id}"): frozenset({A}),
    ("POST", "/weight-sets/{set_id}/activate"): frozenset({A}),
    # pushes: another's inbox item is answered 404 (tests/api/test_push.py checks it)
    ("POST", "/inbox/{item_id}/read"): NOBODY,
    ("POST", "/inbox/{item_id}/unread"): NOBODY,
    ("POST", "/admin/pushes/{push_id}/retry"): frozenset({A}),
    # any open workplace may be checked by any caseworker or volunteer of the district
    ("POST", "/postings/{posting_id}/accessibility-checks"): frozenset({C, V}),
    ("GET", "/postings/{posting_id}/accessibility"): frozenset({S, E, C, A, V}),
    # photos: the check's own author or a caseworker adds; the workplace's employer, staff and
    # volunteers read; staff remove
    ("POST", "/accessibility/findings/{finding_id}/photos"): frozenset({C}),
    ("GET", "/accessibility/photos/{photo_id}"): frozenset({C, A, V}),
    ("DELETE", "/accessibility/photos/{photo_id}"): frozenset({C, A}),
    ("POST", "/accessibility/findings/{finding_id}/reply"): NOBODY,
}
BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "/seekers/{seeker_id}"): {"version": 1, "headline": "changed"},
    ("PUT", "/seekers/{seeker_id}/feedback/{posting_id}"): {"kind": "saved"},
    ("POST", "/seekers/{seeker_id}/consents"): {
        "purpose": "sensitive_profile",
        "text_version": "2026-11",
    },
    ("PUT", "/seekers/{seeker_id}/sensitive"): {"disability_grade": 3},
    ("POST", "/seekers/{seeker_id}/erase"): {"confirm": "ERASE"},
    ("POST", "/admin/break-glass/seekers/{seeker_id}"): {"reason": "complaint investigation"},
    ("PATCH", "/employers/{employer_id}"): {"version": 1, "industry": "retail"},
    ("PATCH", "/postings/{posting_id}"): {"version": 1, "openings": 2},
    ("PATCH", "/trainings/{training_id}"): {"version": 1, "capacity": 30},
    ("PATCH", "/accommodations/{code}"): {"label_en": "Lift"},
    ("POST", "/referrals/{referral_id}/consent"): {"agree": True, "text_version": "2026-11"},
    ("POST", "/referrals/{referral_id}/reject"): {"reason": "不合适 not a fit"},
    ("PUT", "/referrals/{referral_id}/deadline"): {
        "deadline_at": "2030-01-01T00:00:00+08:00",
        "reason": "holiday",
    },
    ("POST", "/referrals/{referral_id}/hire"): {"start_date": "2026-12-01"},
    ("POST", "/referrals/{referral_id}/not-hired"): {"reason": "position_filled"},
    ("POST", "/postings/{posting_id}/invitations"): {"candidate": "C-0000000000"},
    ("POST", "/weight-sets/{set_id}/activate"): {
        "expected_in_force": None,
        "reason": "回滚 roll back",
    },
    ("POST", "/postings/{posting_id}/accessibility-checks"): {
        "visited_on": utcnow().date().isoformat(),
        "findings": [{"code": "lift", "result": "confirmed"}],
    },
    ("POST", "/accessibility/findings/{finding_id}/reply"): {
        "version": 1,
        "note": "已修好 fixed",
        "action": "keep",
    },
}


def test_every_object_route_is_in_the_ownership_table() -> None:
    with_objects = {k for k in ROUTES if "{" in k[1]}
    assert with_objects == set(CROSS), (
        f"missing: {sorted(with_objects - set(CROSS))}; stale: {sorted(set(CROSS) - with_objects)}"
    )


def other_world(client: TestClient, session: Session, settings: Settings) -> dict[str, str]:
    """Objects that belong to someone else: a seeker of the binjiang centre, another
    employer's posting, a binjiang training, an account."""
    _, emp = f.employer_account(session)
    posting = f.posting(session, emp, offers={"lift": OfferAvailability.available})
    acc, profile = f.seeker(session, centre_code="binjiang", needs={"lift": NeedLevel.essential})
    h = f.headers(session, settings, acc)
    r = client.post(
        f"/seekers/{profile.id}/consents",
        headers=h,
        json={"purpose": "sensitive_profile", "text_version": "2026-11"},
    )
    referral = client.post("/referrals", headers=h, json={"posting_id": posting.id})
    assert referral.status_code == 201, referral.text
    training = f.training(session, centre_code="binjiang")
    victim = f.account(session, Role.caseworker, centre_code="binjiang")
    weight_set = WeightSet(weights={"text": 0.6, "skills": 0.4}, source="learned")
    session.add(weight_set)
    session.commit()

    check = client.post(
        f"/postings/{posting.id}/accessibility-checks",
        headers=f.headers(session, settings, victim),
        json={
            "visited_on": utcnow().date().isoformat(),
            "findings": [{"code": "lift", "result": "not_found", "note": "没有电梯 no lift"}],
        },
    )
    assert check.status_code == 201, check.text
    finding_id = check.json()["findings"][0]["id"]
    photo = client.post(
        f"/accessibility/findings/{finding_id}/photos",
        headers=f.headers(session, settings, victim),
        files={"file": ("lift.png", f.png_bytes(), "image/png")},
    )
    assert photo.status_code == 201, photo.text
    return {
        "finding_id": str(finding_id),
        "photo_id": str(photo.json()["id"]),
        "seeker_id": str(profile.id),
        "posting_id": str(posting.id),
        "employer_id": str(emp.id),
        "training_id": str(training.id),
        "consent_id": str(r.json()["id"]),
        "account_id": str(victim.id),
        "code": "lift",
        "referral_id": str(referral.json()["id"]),
        "set_id": str(weight_set.id),
    }


@pytest.mark.parametrize("key", sorted(CROSS), ids=lambda k: f"{k[0]} {k[1]}")
def test_no_one_acts_on_others_objects_unless_allowed(
    key: tuple[str, str], client: TestClient, session: Session, settings: Settings
) -> None:
    method, path = key
    ids = other_world(client, session, settings)
    url = path
    for name, value in ids.items():
        url = url.replace("{" + name + "}", value)
    mine = {  # each caller belongs to the heping centre or its own employer
        S: f.seeker(session, centre_code="heping")[0],
        E: f.employer_account(session)[0],
        C: f.account(session, C, centre_code="heping"),
        A: f.account(session, A, centre_code=None),
        V: f.account(session, V, centre_code=None),
    }
    for role, acc in mine.items():
        if role not in ROUTES[key]:
            continue  # the role check (test_access_matrix) already refuses it
        r = client.request(
            method, url, headers=f.headers(session, settings, acc), json=BODIES.get(key)
        )
        if role in CROSS[key]:
            assert r.status_code < 500, (role, r.status_code, r.text)
        else:
            assert not 200 <= r.status_code < 300, (role, r.status_code, r.text)
