"""Admin pages through their forms (instant-approval rules with a dry run, the federation's
counts with small cells hidden, employer accounts made by staff) and the caseworker's
deadline change on the referral review page."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.settings import Settings
from models import Account, ApprovalRule, AuditLog, Employer, Referral
from models.base import Role, utcnow
from tests import factories as f
from tests.api.test_referrals import ask, world
from tests.web.conftest import csrf_token, login


def _rule(session: Session, code: str) -> ApprovalRule:
    session.rollback()
    row = session.get(ApprovalRule, code)
    assert row is not None
    session.refresh(row)
    return row


def test_only_admins_open_the_admin_pages(client: TestClient, session: Session) -> None:
    login(client, f.account(session, Role.caseworker).email)
    for path in ("/manage/rules", "/manage/statistics", "/manage/accounts/employer"):
        assert client.get(path).status_code == 403, path


def test_admin_switches_changes_tries_and_adds_rules(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings, verified=False)
    queued = ask(client, w)["id"]  # waits: the employer is not verified
    client.cookies.clear()
    admin = f.account(session, Role.admin, centre_code=None)
    login(client, admin.email)
    page = client.get("/manage/rules")
    assert page.status_code == 200 and "用人单位已通过核验" in page.text
    assert 'href="/manage/rules/new"' in page.text  # max_arrangeable_needs is not in force
    token = csrf_token(client, "/manage/rules")

    # Switch a rule off from the list; a stale version is refused and said so.
    version = _rule(session, "employer_verified").version
    no_token = {"enabled": "no", "version": str(version)}
    assert client.post("/manage/rules/employer_verified/switch", data=no_token).status_code == 403
    form = {"csrf_token": token, "enabled": "no", "version": str(version)}
    r = client.post("/manage/rules/employer_verified/switch", data=form, follow_redirects=False)
    assert r.status_code == 303 and "done=rule_switched_off" in r.headers["location"]
    assert _rule(session, "employer_verified").enabled is False
    stale = client.post("/manage/rules/employer_verified/switch", data=form)
    assert stale.status_code == 409 and "刚被别人修改过" in stale.text
    assert 'id="error-summary"' in stale.text

    # Change parameters: a bad number is kept and explained next to its field.
    edit = client.get("/manage/rules/max_open_referrals/edit")
    assert edit.status_code == 200 and 'value="5"' in edit.text
    version = _rule(session, "max_open_referrals").version
    data = {"csrf_token": token, "enabled": "yes", "p_max": "很多", "version": str(version)}
    bad = client.post("/manage/rules/max_open_referrals/edit", data=data)
    assert (
        bad.status_code == 422 and 'id="f-p_max-error"' in bad.text and 'value="很多"' in bad.text
    )

    # Try before saving: the dry run shows the queued referral; nothing is saved.
    tried = client.post(
        "/manage/rules/essential_needs_met/edit",
        data={
            "csrf_token": token,
            "enabled": "yes",
            "p_allow_arrangeable": "no",
            "version": str(_rule(session, "essential_needs_met").version),
            "days": "30",
            "action": "dry_run",
        },
    )
    assert tried.status_code == 200 and 'id="dry-heading"' in tried.text
    assert f"#{queued} " in tried.text and "最近 30 天" in tried.text
    assert _rule(session, "essential_needs_met").params == {"allow_arrangeable": True}
    r = client.post(
        "/manage/rules/max_open_referrals/edit",
        data={**data, "p_max": "2", "action": "save"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert _rule(session, "max_open_referrals").params == {"max": 2}

    # The current rules' dry run: with the employer check off, the queued one would pass.
    run = client.get("/manage/rules/dry-run?days=7")
    assert run.status_code == 200 and "仍在等待审核" in run.text

    # Add the rule not in force yet.
    choose = client.get("/manage/rules/new")
    assert 'href="/manage/rules/new?code=max_arrangeable_needs"' in choose.text
    new = client.get("/manage/rules/new?code=max_arrangeable_needs")
    assert new.status_code == 200 and 'name="p_max"' in new.text and 'value="1"' in new.text
    add = {"csrf_token": token, "code": "max_arrangeable_needs", "enabled": "yes"}
    bad = client.post("/manage/rules/new", data={**add, "p_max": "-1", "action": "save"})
    assert bad.status_code == 422 and 'id="f-p_max-error"' in bad.text
    r = client.post(
        "/manage/rules/new", data={**add, "p_max": "0", "action": "save"}, follow_redirects=False
    )
    assert r.status_code == 303 and "done=rule_created" in r.headers["location"]
    assert _rule(session, "max_arrangeable_needs").params == {"max": 0}
    assert "每项检查都已经是规则" in client.get("/manage/rules/new").text
    session.rollback()
    actions = {a.action for a in session.exec(select(AuditLog))}
    assert {"approval_rule_changed", "approval_rule_created"} <= actions


def test_statistics_hide_small_counts(client: TestClient, session: Session) -> None:
    for _ in range(6):
        f.seeker(session, centre_code="heping")
    for _ in range(2):
        f.seeker(session, centre_code="binjiang")
    admin = f.account(session, Role.admin, centre_code=None)
    login(client, admin.email)
    client.cookies.set("jobmatch_lang", "en")
    page = client.get("/manage/statistics")
    assert page.status_code == 200
    text = page.text
    heping = text.split("Heping", 1)[1].split("</tr>", 1)[0]
    assert "<td>6</td>" in heping
    binjiang = text.split("Binjiang", 1)[1].split("</tr>", 1)[0]
    assert "fewer than 5" in binjiang and "<td>2</td>" not in binjiang
    total = text.split("Whole district", 1)[1].split("</tr>", 1)[0]
    assert "not shown" in total and "<td>8</td>" not in total  # 8 - 6 would give 2 away


def test_admin_creates_an_employer_account(client: TestClient, session: Session) -> None:
    admin = f.account(session, Role.admin, centre_code=None)
    login(client, admin.email)
    token = csrf_token(client, "/manage/accounts/employer")
    data = {
        "csrf_token": token,
        "email": "hr@example.com",
        "password": "a-long-and-unusual-passphrase",
        "employer_name": "和平图书馆 Heping Library",
        "employer_uscc": "12345",
        "centre_code": "heping",
        "verified": "yes",
    }
    bad = client.post("/manage/accounts/employer", data=data)
    assert bad.status_code == 422 and 'id="f-employer_uscc-error"' in bad.text
    assert 'value="和平图书馆 Heping Library"' in bad.text
    r = client.post(
        "/manage/accounts/employer",
        data={**data, "employer_uscc": f.uscc(424242)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    session.rollback()
    account = session.exec(select(Account).where(Account.email == "hr@example.com")).one()
    employer = session.get(Employer, account.employer_id)
    assert account.role == Role.employer and employer is not None and employer.verified
    assert 'href="/manage/accounts/employer"' in client.get("/manage/accounts").text


def test_caseworker_changes_a_deadline_with_a_reason(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings, verified=False)
    rid = ask(client, w)["id"]
    client.cookies.set("jobmatch_lang", "zh")
    login(client, w.caseworker.email)
    page = client.get(f"/centre/referrals/{rid}")
    assert 'action="/centre/referrals/' + str(rid) + '/deadline"' in page.text
    token = csrf_token(client, f"/centre/referrals/{rid}")
    session.rollback()
    referral = session.get(Referral, rid)
    assert referral is not None
    version = referral.version
    day = (utcnow() + timedelta(days=6)).strftime("%Y-%m-%d")
    url = f"/centre/referrals/{rid}/deadline"
    base = {"csrf_token": token, "version": str(version), "deadline_date": day}
    bad = client.post(url, data={**base, "deadline_time": "25:00", "deadline_reason": " "})
    assert bad.status_code == 422
    assert 'id="f-deadline_time-error"' in bad.text and 'id="f-deadline_reason-error"' in bad.text
    assert 'value="25:00"' in bad.text
    past = client.post(
        url, data={**base, "deadline_date": "2020-01-01", "deadline_reason": "节假日 holiday"}
    )
    assert past.status_code == 422 and "将来的时间" in past.text
    ok = client.post(
        url, data={**base, "deadline_reason": "节假日 holiday"}, follow_redirects=False
    )
    assert ok.status_code == 303 and "done=deadline_changed" in ok.headers["location"]
    shown = client.get(ok.headers["location"])
    assert "审核期限已修改" in shown.text and f'value="{day}"' in shown.text
    stale = client.post(url, data={**base, "deadline_reason": "again"})
    assert stale.status_code == 422 and "已被别人处理或已变化" in stale.text
    session.rollback()
    referral = session.get(Referral, rid)
    assert referral is not None and referral.deadline_at is not None
    local = referral.deadline_at.astimezone(ZoneInfo(settings.timezone))
    assert local.strftime("%Y-%m-%d %H:%M") == f"{day} 17:00"  # no time typed: 17:00
    entry = session.exec(
        select(AuditLog).where(
            AuditLog.action == "referral_deadline_set", AuditLog.object_id == str(rid)
        )
    ).one()
    assert entry.detail["reason"] == "节假日 holiday"


def test_another_centre_cannot_change_the_deadline(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = world(session, settings, verified=False)
    rid = ask(client, w)["id"]
    other = f.account(session, Role.caseworker, centre_code="binjiang")
    client.cookies.set("jobmatch_lang", "zh")
    login(client, other.email)
    token = csrf_token(client, "/centre/referrals")
    day = (utcnow() + timedelta(days=6)).strftime("%Y-%m-%d")
    r = client.post(
        f"/centre/referrals/{rid}/deadline",
        data={"csrf_token": token, "deadline_date": day, "deadline_reason": "想改 want to"},
    )
    assert r.status_code == 404 and "找不到" in r.text
    session.rollback()
    assert not session.exec(
        select(AuditLog).where(AuditLog.action == "referral_deadline_set")
    ).all()


def test_admin_texts_do_not_shadow_other_texts() -> None:
    """The admin pages' texts live in their own module; a key in both would hide one."""
    from api.web.i18n import _CORE_TEXTS
    from api.web.texts_admin import ADMIN_TEXTS

    assert not set(ADMIN_TEXTS) & set(_CORE_TEXTS)
    assert all(zh and en for zh, en in ADMIN_TEXTS.values())
