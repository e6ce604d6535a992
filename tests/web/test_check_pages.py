"""Accessibility check pages through their forms: a volunteer records a check with a photo,
the workplace page shows verified apart from claimed, the employer answers a dispute."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models import AccessibilityFinding, AccessibilityPhoto, PostingOffer
from models.base import OfferAvailability, Role, utcnow
from tests import factories as f
from tests.web.conftest import csrf_token, login


def test_volunteer_records_a_check_and_the_employer_answers(
    client: TestClient, session: Session
) -> None:
    employer_acc, emp = f.employer_account(session)
    posting = f.posting(
        session,
        emp,
        title="客服专员 Customer service",
        offers={
            "lift": OfferAvailability.available,
            "accessible_restroom": OfferAvailability.available,
        },
    )
    volunteer = f.account(session, Role.volunteer, centre_code=None)
    login(client, volunteer.email)
    work = client.get("/checks")
    assert work.status_code == 200 and "客服专员" in work.text
    path = f"/checks/postings/{posting.id}/new"
    form = client.get(path)
    assert 'enctype="multipart/form-data"' in form.text and 'id="f-result_lift"' in form.text
    token = csrf_token(client, path)
    bad = client.post(
        path, data={"csrf_token": token, "visited_on": "2999-01-01", "result_lift": "confirmed"}
    )
    assert bad.status_code == 422 and 'id="f-visited_on-error"' in bad.text
    today = utcnow().date().isoformat()
    ok = client.post(
        path,
        data={
            "csrf_token": token,
            "visited_on": today,
            "result_lift": "confirmed",
            "result_accessible_restroom": "not_found",
            "note_accessible_restroom": "没有无障碍卫生间 none found",
        },
        files={"photo_lift": ("lift.png", f.png_bytes(), "image/png")},
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    assert ok.headers["location"] == f"/workplaces/{posting.id}?done=check_saved"
    assert len(session.exec(select(AccessibilityPhoto)).all()) == 1
    page = client.get(f"/workplaces/{posting.id}")
    assert "已实地核实" in page.text and "有争议" in page.text and "none found" in page.text

    client.cookies.clear()
    login(client, employer_acc.email)
    page = client.get(f"/workplaces/{posting.id}")
    assert "提交答复" in page.text
    finding = session.exec(
        select(AccessibilityFinding).where(AccessibilityFinding.code == "accessible_restroom")
    ).one()
    reply = f"/workplaces/{posting.id}/findings/{finding.id}/reply"
    token = csrf_token(client, f"/workplaces/{posting.id}")
    empty = client.post(
        reply, data={"csrf_token": token, "version": "1", "note": "", "action": "keep"}
    )
    assert empty.status_code == 422 and "reply-note" in empty.text
    done = client.post(
        reply,
        data={
            "csrf_token": token,
            "version": "1",
            "note": "正在改造 being rebuilt",
            "action": "make_arrangeable",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    session.rollback()
    offer = session.get(PostingOffer, (posting.id, "accessible_restroom"))
    assert offer is not None and offer.availability == OfferAvailability.arrangeable
    assert "being rebuilt" in client.get(f"/workplaces/{posting.id}").text


def test_seeker_asks_for_verified_essential_needs_on_the_needs_page(
    client: TestClient, session: Session
) -> None:
    acc, profile = f.seeker(session)
    login(client, acc.email)
    page = client.get("/seeker/needs")
    assert (
        'name="verified_only"' in page.text
        and "checked" not in page.text.split('name="verified_only"')[1].split(">")[0]
    )
    token = csrf_token(client, "/seeker/needs")
    r = client.post(
        "/seeker/needs",
        data={
            "csrf_token": token,
            "version": str(profile.version),
            "need_lift": "essential",
            "verified_only": "yes",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    session.rollback()
    session.refresh(profile)
    assert profile.verified_only_essential is True
    again = client.get("/seeker/needs").text
    assert 'value="yes" id="f-verified_only" checked' in again


def test_admin_adds_a_volunteer_on_the_accounts_page(client: TestClient, session: Session) -> None:
    admin = f.account(session, Role.admin, centre_code=None)
    login(client, admin.email)
    token = csrf_token(client, "/manage/accounts")
    r = client.post(
        "/manage/accounts",
        data={
            "csrf_token": token,
            "email": "helper-v@example.com",
            "password": "a-good-long-password",
            "role": "volunteer",
            "display_name": "志愿者 Volunteer",
            "language": "zh",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = client.get("/manage/accounts")
    assert page.status_code == 200 and "无障碍监督员" in page.text
    client.cookies.clear()
    login(client, "helper-v@example.com")
    start = client.get("/checks")
    assert start.status_code == 200 and "无障碍核查" in start.text
    assert client.get("/seeker/matches").status_code == 403
