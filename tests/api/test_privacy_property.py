"""Property: whatever the consent state and whoever asks, no response, log line, push or
export shows a seeker's sensitive fields to someone not entitled to them."""

import itertools
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlmodel import Session, select

from api.settings import Settings
from models import Outbox
from models.base import NeedLevel, OfferAvailability, Role
from tests import factories as f

HEALTH_MARK = "HEALTHNOTE-ZQX"
VIEWERS = ("self", "other_seeker", "caseworker", "other_caseworker", "employer", "admin", "anon")
_n = itertools.count(1)


def certificate(n: int) -> str:
    return f"{330102198001010000 + n:018d}"[:17] + "X42"


def world(
    client: TestClient, session: Session, settings: Settings, state: dict[str, bool]
) -> dict[str, Any]:
    n = next(_n)
    emp_acc, emp = f.employer_account(session)
    posting = f.posting(
        session,
        emp,
        offers={"lift": OfferAvailability.available, "extra_breaks": OfferAvailability.available},
    )
    acc, profile = f.seeker(session, needs={"lift": NeedLevel.essential})
    h = f.headers(session, settings, acc)
    texts = {t["purpose"]: t["version"] for t in client.get("/privacy/consent-texts").json()}
    cert = certificate(n)
    consents = {}
    for purpose in ("sensitive_profile", "health_needs"):
        if state[purpose]:
            r = client.post(
                f"/seekers/{profile.id}/consents",
                headers=h,
                json={"purpose": purpose, "text_version": texts[purpose]},
            )
            consents[purpose] = r.json()["id"]
    body = {
        "disability_category": "physical",
        "disability_grade": 2,
        "certificate_number": cert,
        "health_notes": HEALTH_MARK,
    }
    stored = client.put(f"/seekers/{profile.id}/sensitive", headers=h, json=body)
    assert stored.status_code == (200 if state["sensitive_profile"] else 409)
    if state["health_needs"]:
        client.patch(
            f"/seekers/{profile.id}",
            headers=h,
            json={
                "version": 1,
                "needs": [
                    {"code": "lift", "level": "essential"},
                    {"code": "extra_breaks", "level": "preferred"},
                ],
            },
        )
    caseworker = f.account(session, Role.caseworker)
    hc = f.headers(session, settings, caseworker)
    referral_id = None
    if state["referral"]:
        share = ["disability_category"] if state["share_category"] else []
        r = client.post(
            "/referrals",
            headers=h,
            json={
                "posting_id": posting.id,
                "consent": {"agree": True, "text_version": "2026-11", "share": share},
            },
        )
        assert r.status_code == 201, r.text
        referral_id = r.json()["id"]
        if r.json()["status"] == "pending":
            client.post(
                f"/referrals/{referral_id}/approve", headers=hc, json={"reason": "核实 checked"}
            )
        assert client.post(f"/referrals/{referral_id}/send", headers=hc).status_code == 200
    if state["withdraw"] and consents:
        for cid in consents.values():
            client.post(f"/seekers/{profile.id}/consents/{cid}/withdraw", headers=h)
    viewers = {
        "self": h,
        "other_seeker": f.headers(session, settings, f.seeker(session)[0]),
        "caseworker": hc,
        "other_caseworker": f.headers(
            session, settings, f.account(session, Role.caseworker, centre_code="binjiang")
        ),
        "employer": f.headers(session, settings, emp_acc),
        "admin": f.headers(session, settings, f.account(session, Role.admin, centre_code=None)),
        "anon": {},
    }
    return {
        "profile": profile,
        "posting": posting,
        "cert": cert,
        "viewers": viewers,
        "referral_id": referral_id,
    }


def read_everything(client: TestClient, w: dict[str, Any], viewer: str) -> list[tuple[str, Any]]:
    sid, pid = w["profile"].id, w["posting"].id
    h = w["viewers"][viewer]
    urls = [
        f"/seekers/{sid}",
        f"/seekers/{sid}/matches",
        f"/postings/{pid}/candidates",
        f"/seekers/{sid}/sensitive",
        f"/seekers/{sid}/export",
        f"/seekers/{sid}/consents",
        f"/seekers/{sid}/access-log",
        f"/seekers/{sid}/feedback",
        "/seekers",
        f"/seekers/{sid}/sensitive?purpose=curiosity",
        "/auth/me",
        "/postings",
        "/referrals/received",
        "/referrals",
    ]
    if w["referral_id"]:
        rid = w["referral_id"]
        urls += [f"/referrals/received/{rid}", f"/referrals/{rid}"]
    return [(url, client.get(url, headers=h)) for url in urls]


@hsettings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    state=st.fixed_dictionaries(
        {
            "sensitive_profile": st.booleans(),
            "health_needs": st.booleans(),
            "withdraw": st.booleans(),
            "referral": st.booleans(),
            "share_category": st.booleans(),
        }
    ),
    viewer=st.sampled_from(VIEWERS),
)
def test_sensitive_fields_reach_only_the_entitled(
    client: TestClient,
    session: Session,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    state: dict[str, bool],
    viewer: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    w = world(client, session, settings, state)
    stored = state["sensitive_profile"] and not state["withdraw"]
    for url, r in read_everything(client, w, viewer):
        shown = w["cert"] in r.text or HEALTH_MARK in r.text
        entitled = stored and (
            (viewer == "self" and ("/sensitive" in url or url.endswith("/export")))
            or (viewer == "caseworker" and url.endswith("purpose=curiosity"))
        )
        assert shown == entitled, (viewer, url, r.status_code, state)
        if "/sensitive" in url and entitled:
            assert r.headers["cache-control"] == "no-store"
        category_entitled = (
            stored
            and viewer == "employer"
            and state["referral"]
            and state["share_category"]
            and "/referrals/received" in url
        ) or (viewer == "self" and stored and ("/sensitive" in url or url.endswith("/export")))
        if category_entitled and w["referral_id"] and url.endswith(f"/{w['referral_id']}"):
            # What the seeker ticked for this referral does reach its employer.
            assert '"disability_category":"physical"' in r.text, (url, r.text[:300])
        if not entitled and not category_entitled:
            assert '"disability_category":"physical"' not in r.text, (viewer, url, state)
    for record in caplog.records:
        line = record.getMessage()
        assert w["cert"] not in line and HEALTH_MARK not in line
    for row in session.exec(select(Outbox)).all():
        assert w["cert"] not in str(row.payload) and HEALTH_MARK not in str(row.payload)
    session.rollback()
