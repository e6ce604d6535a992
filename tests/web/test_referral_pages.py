"""Seeker referral pages: ask from a match, see exactly what the employer would receive,
agree (or be told to), follow the status."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models import Referral
from tests import factories as f
from tests.web.conftest import csrf_token, login


def test_seeker_asks_for_a_referral_with_the_consent_screen(
    client: TestClient, session: Session
) -> None:
    _, emp = f.employer_account(session)
    posting = f.posting(session, emp)
    acc, profile = f.seeker(session)
    login(client, acc.email)
    matches = client.get("/seeker/matches")
    assert f'action="/seeker/matches/{posting.id}/referral"' in matches.text
    token = csrf_token(client, "/seeker/matches")
    refused = client.post(f"/seeker/matches/{posting.id}/referral", data={})
    assert refused.status_code == 403  # no CSRF token
    r = client.post(
        f"/seeker/matches/{posting.id}/referral",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    consent_url = r.headers["location"]
    page = client.get(consent_url)
    assert page.status_code == 200
    assert "用人单位会收到的信息" in page.text and profile.full_name in page.text
    assert "残疾类别" in page.text and 'name="share"' in page.text
    assert "残疾类别</dt>" not in page.text  # not shared unless ticked
    ticked = client.get(consent_url + "?share=disability_category")
    assert "残疾类别</dt>" in ticked.text  # the preview follows the tick
    form = {"csrf_token": token, "text_version": "2026-11", "share": "disability_category"}
    bad = client.post(consent_url, data=form)
    assert bad.status_code == 422 and 'id="f-agree-error"' in bad.text
    assert 'value="disability_category" id="f-share" checked' in bad.text  # input kept
    ok = client.post(consent_url, data={**form, "agree": "yes"}, follow_redirects=False)
    assert ok.status_code == 303, ok.text
    session.rollback()
    referral = session.exec(select(Referral).where(Referral.seeker_id == profile.id)).one()
    assert referral.status in ("pending", "approved")
    assert referral.shared_fields == ["name", "contact", "needs", "disability_category"]
    listing = client.get(ok.headers["location"])
    assert "推荐申请已提交" in listing.text and posting.title in listing.text
    assert "状态：" in listing.text
    again = client.post(
        f"/seeker/matches/{posting.id}/referral",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert again.headers["location"] == consent_url  # one referral per job
    assert "已经提交过了" in client.get(consent_url).text
