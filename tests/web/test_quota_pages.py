"""The employer's quota page: the position with the rules and arithmetic in both languages,
the figures form (kept input, errors next to the field, a stale version told), no JS needed."""

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from models import Employer
from tests import factories as f
from tests.web.conftest import csrf_token, login


def _employer(session: Session, staff: int = 150) -> tuple[str, Employer]:
    acc, emp = f.employer_account(session, f.employer(session, staff_count=staff))
    return acc.email, emp


def test_quota_page_shows_the_position_in_both_languages(
    client: TestClient, session: Session
) -> None:
    email, _ = _employer(session, staff=150)
    login(client, email)
    page = client.get("/employer/quota")
    assert page.status_code == 200
    text = page.text
    assert 'href="/employer/quota" aria-current="page"' in text
    # 150 × 1.5% = 2.25; nobody counted; 0 < 1% → 90%: 2.25 × 120,000 = 270,000.00 → 243,000.00
    assert "还差 2.25 人" in text and "243,000.00 元" in text
    assert "应安排：150 × 1.5% = 2.25 人" in text
    assert "持一、二级残疾人证的每人按 2 人计算" in text
    client.cookies.set("jobmatch_lang", "en")
    text = client.get("/employer/quota").text
    assert '<html lang="en"' in text
    assert "You are 2.25 people short" in text and "243,000.00 yuan" in text
    assert "Required: 150 × 1.5% = 2.25 people" in text
    assert "Enterprises with 30 staff or fewer are exempt" in text


def test_figures_form_saves_and_updates_the_position(client: TestClient, session: Session) -> None:
    email, emp = _employer(session, staff=150)
    login(client, email)
    token = csrf_token(client, "/employer/quota")
    form = {
        "csrf_token": token,
        "version": "1",
        "staff_count": "200",
        "disabled_staff_grade_1_2": "1",
        "disabled_staff_grade_3_4": "1",
    }
    assert client.post("/employer/quota", data={**form, "csrf_token": ""}).status_code == 403
    r = client.post("/employer/quota", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/employer/quota?done=quota_saved"
    page = client.get(r.headers["location"]).text
    assert 'id="flash"' in page and "人数已保存" in page
    # 200 × 1.5% = 3; 1 × 2 + 1 = 3 → meets the ratio
    assert "已达到安排比例" in page and "已安排（折算）：1 × 2 + 1 = 3 人" in page
    session.expire_all()
    stored = session.get(Employer, emp.id)
    assert stored is not None and stored.staff_count == 200 and stored.version == 2


def test_figures_form_errors_are_next_to_the_field_and_input_is_kept(
    client: TestClient, session: Session
) -> None:
    email, emp = _employer(session, staff=40)
    login(client, email)
    token = csrf_token(client, "/employer/quota")
    base = {"csrf_token": token, "version": "1", "staff_count": "40"}
    r = client.post(
        "/employer/quota",
        data={**base, "disabled_staff_grade_1_2": "30", "disabled_staff_grade_3_4": "20"},
    )
    assert r.status_code == 422
    assert 'id="f-disabled_staff_grade_1_2-error"' in r.text
    assert "残疾职工人数不能多于在职职工人数" in r.text
    assert re.search(r'id="f-disabled_staff_grade_3_4"[^>]*value="20"', r.text)  # kept
    assert 'role="alert"' in r.text
    r = client.post(
        "/employer/quota",
        data={**base, "disabled_staff_grade_1_2": "", "disabled_staff_grade_3_4": "两"},
    )
    assert r.status_code == 422
    assert re.search(r'id="f-disabled_staff_grade_1_2-error">.*请填写人数', r.text)
    assert 'id="f-disabled_staff_grade_3_4-error"' in r.text
    # A stale version: told, with the newer version in the form to save again.
    session.expire_all()
    stored = session.get(Employer, emp.id)
    assert stored is not None
    stored.industry = "零售 retail"
    session.add(stored)
    session.commit()
    r = client.post(
        "/employer/quota",
        data={**base, "disabled_staff_grade_1_2": "0", "disabled_staff_grade_3_4": "1"},
    )
    assert r.status_code == 422 and "别人刚刚修改过这条记录" in r.text
    assert 'name="version" value="2"' in r.text


def test_only_employers_open_the_quota_page(client: TestClient, session: Session) -> None:
    acc, _ = f.seeker(session)
    login(client, acc.email)
    assert client.get("/employer/quota").status_code == 403
