"""Employer, caseworker and admin pages through their forms."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models import Accommodation, Account, Posting, PostingOffer, Training
from models.base import Role
from tests import factories as f
from tests.web.conftest import csrf_token, login


def test_employer_posts_and_edits_a_vacancy(client: TestClient, session: Session) -> None:
    acc, emp = f.employer_account(session)
    f.seeker(session, skills=["Excel"])
    login(client, acc.email)
    assert emp.name in client.get("/employer/organisation").text
    token = csrf_token(client, "/employer/vacancies/new")
    form = {
        "csrf_token": token,
        "title": "",
        "required_skills": "Excel\n打字",
        "wage_min": "5000",
        "wage_max": "4000",
        "expires_on": "soon",
        "work_mode": "on_site",
        "schedule": "full_time",
        "status": "open",
        "offer_lift": "available",
        "offer_job_coach": "arrangeable",
    }
    bad = client.post("/employer/vacancies/new", data=form)
    assert bad.status_code == 422
    assert 'id="f-title-error"' in bad.text and 'id="f-expires_on-error"' in bad.text
    assert 'value="arrangeable" id="f-offer_job_coach-arrangeable" checked' in bad.text
    form.update(title="数据录入员", wage_max="6000", expires_on="2099-12-31")
    ok = client.post("/employer/vacancies/new", data=form, follow_redirects=False)
    assert ok.status_code == 303, ok.text
    posting = session.exec(select(Posting).where(Posting.employer_id == emp.id)).one()
    offers = {o.code: o.availability for o in session.exec(select(PostingOffer)).all()}
    assert offers == {"lift": "available", "job_coach": "arrangeable"}
    edit = client.get(f"/employer/vacancies/{posting.id}/edit")
    assert 'value="数据录入员"' in edit.text and 'value="2099-12-31"' in edit.text
    form.update(title="数据录入员（远程）", version=str(posting.version))
    r = client.post(f"/employer/vacancies/{posting.id}/edit", data=form, follow_redirects=False)
    assert r.status_code == 303
    stale = client.post(f"/employer/vacancies/{posting.id}/edit", data=form)
    assert stale.status_code == 422 and "别人刚刚修改过" in stale.text
    candidates = client.get(f"/employer/vacancies/{posting.id}/candidates")
    assert candidates.status_code == 200 and "候选人" in candidates.text
    assert "求职者 Seeker" not in candidates.text  # pseudonymous: no names
    assert posting.title in client.get("/employer/vacancies").text or "数据录入员" in (
        client.get("/employer/vacancies").text
    )


def test_employer_cannot_open_another_employers_vacancy(
    client: TestClient, session: Session
) -> None:
    _, other = f.employer_account(session)
    theirs = f.posting(session, other)
    acc, _ = f.employer_account(session)
    login(client, acc.email)
    for path in ("edit", "candidates"):
        r = client.get(f"/employer/vacancies/{theirs.id}/{path}")
        assert r.status_code == 404 and "找不到" in r.text


def test_caseworker_sees_centre_seekers_and_publishes_training(
    client: TestClient, session: Session
) -> None:
    _, mine = f.seeker(session, centre_code="heping")
    _, theirs = f.seeker(session, centre_code="binjiang")
    acc = f.account(session, Role.caseworker, centre_code="heping")
    login(client, acc.email)
    page = client.get("/centre/seekers").text
    assert mine.full_name in page and theirs.full_name not in page
    token = csrf_token(client, "/centre/trainings/new")
    data = {"csrf_token": token, "title": "读屏软件培训", "starts_on": "2099-01-10"}
    bad = client.post("/centre/trainings/new", data={**data, "ends_on": "2099-01-01"})
    assert bad.status_code == 422 and 'id="f-ends_on-error"' in bad.text
    r = client.post("/centre/trainings/new", data={**data, "ends_on": "2099-01-20"})
    assert r.status_code == 200 and "读屏软件培训" in r.text
    session.rollback()
    assert session.exec(select(Training).where(Training.title == "读屏软件培训")).one()


def test_admin_edits_vocabulary_and_adds_staff(client: TestClient, session: Session) -> None:
    acc = f.account(session, Role.admin, centre_code=None)
    login(client, acc.email)
    token = csrf_token(client, "/manage/accommodations")
    data = {
        "csrf_token": token,
        "code": "Bad Code",
        "group": "access",
        "label_zh": "坡道",
        "label_en": "Ramp",
    }
    bad = client.post("/manage/accommodations", data=data)
    assert bad.status_code == 422 and 'id="f-code-error"' in bad.text
    r = client.post("/manage/accommodations", data={**data, "code": "ramp"})
    assert r.status_code == 200 and "坡道" in r.text
    r = client.post("/manage/accommodations/ramp/retire", data={"csrf_token": token})
    session.rollback()
    assert session.get(Accommodation, "ramp").active is False  # type: ignore[union-attr]
    assert "滨江街道职康中心" in client.get("/manage/centres").text
    staff = {
        "csrf_token": token,
        "role": "caseworker",
        "email": "new.cw@example.com",
        "password": "a-long-and-unusual-passphrase",
    }
    bad = client.post("/manage/accounts", data=staff)
    assert bad.status_code == 422 and 'id="f-centre_code-error"' in bad.text
    r = client.post("/manage/accounts", data={**staff, "centre_code": "heping"})
    assert r.status_code == 200
    session.rollback()
    assert session.exec(select(Account).where(Account.email == "new.cw@example.com")).one()
