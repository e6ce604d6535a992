"""Caseworker queue and employer outcome pages: the queue with deadlines in words, review
with the failed rules, approve or reject (a reason required), send; the employer's view with
exactly the consented fields, interview, hire, not hired. Forms keep their input; no CSRF →
refused; another centre or employer → 404."""

from datetime import date

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.settings import Settings
from models import ReferralEvent
from models.base import ReferralStatus, Role
from tests import factories as f
from tests.api.test_referrals import ask, step, world
from tests.web.conftest import csrf_token, login


def test_caseworker_reviews_rejects_and_approves(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings, verified=False)  # the unverified employer: queued
    rid = ask(client, w)["id"]
    other = f.account(session, Role.caseworker, centre_code="binjiang")
    client.cookies.set("jobmatch_lang", "zh")  # this caseworker reads English otherwise
    login(client, w.caseworker.email)
    queue = client.get("/centre/referrals")
    assert queue.status_code == 200
    assert f'href="/centre/referrals/{rid}"' in queue.text
    assert "到期" in queue.text  # the deadline in words, with its date
    page = client.get(f"/centre/referrals/{rid}")
    assert page.status_code == 200
    assert "用人单位还没有通过核实" in page.text  # the failed rule in plain words
    assert 'id="history-heading"' in page.text and "求职者" in page.text
    token = csrf_token(client, f"/centre/referrals/{rid}")
    assert client.post(f"/centre/referrals/{rid}/reject", data={"reason": "x"}).status_code == 403
    empty = client.post(
        f"/centre/referrals/{rid}/reject", data={"csrf_token": token, "reason": "  "}
    )
    assert empty.status_code == 422
    assert 'href="#f-reason"' in empty.text and 'id="f-reason-error"' in empty.text
    assert 'aria-invalid="true"' in empty.text
    kept = client.post(
        f"/centre/referrals/{rid}/approve",
        data={"csrf_token": token, "approve_reason": "A" * 2001},
    )
    assert kept.status_code == 422 and "A" * 2001 in kept.text  # input kept
    ok = client.post(
        f"/centre/referrals/{rid}/approve",
        data={"csrf_token": token, "approve_reason": "核实通过"},
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    approved = client.get(ok.headers["location"])
    assert "已批准这份推荐" in approved.text and 'id="flash"' in approved.text
    assert f'action="/centre/referrals/{rid}/send"' in approved.text
    again = client.post(
        f"/centre/referrals/{rid}/reject", data={"csrf_token": token, "reason": "no"}
    )
    assert again.status_code == 422 and "已被别人处理" in again.text
    sent = client.post(
        f"/centre/referrals/{rid}/send", data={"csrf_token": token}, follow_redirects=False
    )
    assert sent.status_code == 303
    assert "推荐已发给用人单位" in client.get(sent.headers["location"]).text
    client.cookies.clear()
    client.cookies.set("jobmatch_lang", "zh")
    login(client, other.email)
    assert client.get(f"/centre/referrals/{rid}").status_code == 404
    token = csrf_token(client, "/centre/referrals")
    assert f"/centre/referrals/{rid}" not in client.get("/centre/referrals").text
    refused = client.post(f"/centre/referrals/{rid}/approve", data={"csrf_token": token})
    assert refused.status_code == 404


def test_caseworker_says_what_kind_of_reason_a_rejection_has(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings, verified=False)
    rid = ask(client, w)["id"]
    client.cookies.set("jobmatch_lang", "en")
    login(client, w.caseworker.email)
    page = client.get(f"/centre/referrals/{rid}")
    assert 'name="reason_code" value="not_suitable"' in page.text
    assert "the job does not suit this seeker" in page.text
    token = csrf_token(client, f"/centre/referrals/{rid}")
    bad = client.post(
        f"/centre/referrals/{rid}/reject",
        data={"csrf_token": token, "reason": "不适合 not a fit", "reason_code": "bogus"},
    )
    assert bad.status_code == 422 and 'href="#f-reason_code"' in bad.text
    assert "不适合 not a fit" in bad.text  # input kept
    ok = client.post(
        f"/centre/referrals/{rid}/reject",
        data={"csrf_token": token, "reason": "不适合 not a fit", "reason_code": "not_suitable"},
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    session.rollback()
    event = session.exec(
        select(ReferralEvent).where(
            ReferralEvent.referral_id == rid, ReferralEvent.to_status == ReferralStatus.rejected
        )
    ).one()
    assert event.details["reason_code"] == "not_suitable"


def test_employer_sees_consented_fields_and_records_outcomes(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings)  # every rule passes: approved at once
    rid = ask(client, w)["id"]
    assert step(client, rid, "send", w.hs).status_code == 200
    other_acc, _ = f.employer_account(session)
    login(client, w.employer.email)
    listing = client.get("/employer/referrals")
    assert listing.status_code == 200 and f'href="/employer/referrals/{rid}"' in listing.text
    page = client.get(f"/employer/referrals/{rid}")
    assert page.status_code == 200
    assert "13800001111" in page.text and w.seeker.email in page.text  # consented contact
    assert "残疾类别" not in page.text  # not consented, not shown
    assert f'action="/employer/referrals/{rid}/interview"' in page.text
    assert "/hire" not in page.text  # not before an interview
    token = csrf_token(client, f"/employer/referrals/{rid}")
    assert client.post(f"/employer/referrals/{rid}/interview", data={}).status_code == 403
    no_text = client.post(
        f"/employer/referrals/{rid}/not-hired",
        data={"csrf_token": token, "not_hired_reason": "other", "not_hired_text": ""},
    )
    assert no_text.status_code == 422 and 'id="f-not_hired_text-error"' in no_text.text
    assert 'value="other" selected' in no_text.text  # the choice is kept
    no_reason = client.post(
        f"/employer/referrals/{rid}/not-hired",
        data={"csrf_token": token, "not_hired_reason": "", "not_hired_text": "说明"},
    )
    assert no_reason.status_code == 422 and 'href="#f-not_hired_reason"' in no_reason.text
    assert ">说明</textarea>" in no_reason.text
    r = client.post(
        f"/employer/referrals/{rid}/interview",
        data={"csrf_token": token, "interview_at": "2026-12-01T14:30", "interview_note": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    assert "已记录面试" in page.text and f'action="/employer/referrals/{rid}/hire"' in page.text
    bad = client.post(
        f"/employer/referrals/{rid}/hire",
        data={"csrf_token": token, "start_date": "1990-01-01", "hire_note": "保留"},
    )
    assert bad.status_code == 422 and 'id="f-start_date-error"' in bad.text
    assert 'value="1990-01-01"' in bad.text and ">保留</textarea>" in bad.text
    r = client.post(
        f"/employer/referrals/{rid}/hire",
        data={"csrf_token": token, "start_date": date.today().isoformat()},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    assert "已记录录用" in page.text
    early = client.post(f"/employer/referrals/{rid}/retained", data={"csrf_token": token})
    assert early.status_code == 422 and 'id="f-retained_note-error"' in early.text
    client.cookies.clear()
    login(client, other_acc.email)
    assert client.get(f"/employer/referrals/{rid}").status_code == 404
    token = csrf_token(client, "/employer/referrals")
    refused = client.post(f"/employer/referrals/{rid}/interview", data={"csrf_token": token})
    assert refused.status_code == 404
