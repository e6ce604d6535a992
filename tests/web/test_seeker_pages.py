"""Seeker pages through the forms: profile, needs with consent, matches, export, delete."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models import MatchFeedback, SeekerNeed, SeekerProfile
from models.base import OfferAvailability, Role
from tests import factories as f
from tests.web.conftest import csrf_token, login


def test_new_seeker_creates_a_profile(client: TestClient, session: Session) -> None:
    acc = f.account(session, Role.seeker)
    login(client, acc.email)
    page = client.get("/seeker/profile")
    assert page.status_code == 200 and "f-full_name" in page.text
    token = csrf_token(client, "/seeker/profile")
    bad = client.post(
        "/seeker/profile",
        data={
            "csrf_token": token,
            "full_name": "",
            "skills": "Excel\n打字",
            "expected_wage": "lots",
        },
    )
    assert bad.status_code == 422
    assert 'id="f-full_name-error"' in bad.text and 'id="f-expected_wage-error"' in bad.text
    assert "Excel\n打字</textarea>" in bad.text and 'value="lots"' in bad.text
    ok = client.post(
        "/seeker/profile",
        data={
            "csrf_token": token,
            "full_name": "李明",
            "skills": "Excel\n打字",
            "work_modes": ["remote", "hybrid"],
            "schedule": "part_time",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    profile = session.exec(select(SeekerProfile).where(SeekerProfile.account_id == acc.id)).one()
    assert profile.skills == ["Excel", "打字"] and set(profile.work_modes) == {"remote", "hybrid"}
    assert "资料已保存" in client.get(ok.headers["location"]).text


def test_health_needs_wait_for_consent(client: TestClient, session: Session) -> None:
    acc, profile = f.seeker(session)
    login(client, acc.email)
    page = client.get("/seeker/needs")
    assert "电梯" in page.text and "楼层之间有电梯" in page.text  # label and plain explanation
    token = csrf_token(client, "/seeker/needs")
    form = {
        "csrf_token": token,
        "version": str(profile.version),
        "need_lift": "essential",
        "need_extra_breaks": "preferred",
    }
    refused = client.post("/seeker/needs", data=form)
    assert refused.status_code == 422
    assert 'id="f-need_extra_breaks-error"' in refused.text
    assert 'value="essential" id="f-need_lift-essential" checked' in refused.text
    r = client.post(
        "/seeker/consents/health_needs/give", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    assert client.post("/seeker/needs", data=form, follow_redirects=False).status_code == 303
    session.rollback()
    needs = {n.code: n.level for n in session.exec(select(SeekerNeed)).all()}
    assert needs == {"lift": "essential", "extra_breaks": "preferred"}
    r = client.post(
        "/seeker/consents/health_needs/withdraw", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    session.rollback()
    assert {n.code for n in session.exec(select(SeekerNeed)).all()} == {"lift"}


def test_matches_show_reasons_and_save_dismiss(client: TestClient, session: Session) -> None:
    _, emp = f.employer_account(session)
    posting = f.posting(session, emp, offers={"lift": OfferAvailability.available})
    acc, profile = f.seeker(session)
    login(client, acc.email)
    page = client.get("/seeker/matches")
    assert page.status_code == 200
    assert posting.title in page.text and "推荐理由" in page.text
    token = csrf_token(client, "/seeker/matches")
    url = f"/seeker/matches/{posting.id}/feedback"
    r = client.post(url, data={"csrf_token": token, "kind": "dismissed"})
    assert r.status_code == 200 and "已隐藏" in r.text and posting.title not in r.text
    row = session.exec(select(MatchFeedback)).one()
    assert row.kind == "dismissed" and row.seeker_id == profile.id
    r = client.post(url, data={"csrf_token": token, "kind": "clear"})
    assert posting.title in r.text


def test_export_and_delete(client: TestClient, session: Session) -> None:
    acc, profile = f.seeker(session)
    login(client, acc.email)
    r = client.get("/seeker/data/export")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert r.json()["seeker_id"] == profile.id
    token = csrf_token(client, "/seeker/data/delete")
    wrong = client.post("/seeker/data/delete", data={"csrf_token": token, "confirm": "yes"})
    assert wrong.status_code == 422 and 'id="f-confirm-error"' in wrong.text
    r = client.post(
        "/seeker/data/delete", data={"csrf_token": token, "confirm": "删除"}, follow_redirects=False
    )
    assert r.status_code == 303
    session.rollback()
    session.expire_all()
    assert session.get(SeekerProfile, profile.id).full_name == ""  # type: ignore[union-attr]
    assert client.get("/seeker/profile", follow_redirects=False).status_code == 303


def test_trainings_and_consent_pages(client: TestClient, session: Session) -> None:
    training = f.training(session)
    acc, _ = f.seeker(session)
    login(client, acc.email)
    assert training.title in client.get("/seeker/trainings").text
    consents = client.get("/seeker/consents").text
    assert "单独同意" in consents and "/seeker/consents/sensitive_profile/give" in consents
