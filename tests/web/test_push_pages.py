"""Messages (the in-app inbox), notification settings with the one-step stop, and the
seeker's page of who read their data, through the forms."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.services import outbox
from api.services.preferences import stop_url
from api.settings import Settings
from models import AuditLog, Outbox, PushPreference
from models.base import Role
from tests import factories as f
from tests.web.conftest import csrf_token, login

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _offers(session: Session, account_id: int, n: int) -> list[int]:
    """n training offers, one a day; returns their ids, oldest first."""
    ids = []
    for i in range(n):
        outbox.write(
            session,
            [
                outbox.Push(
                    recipient_id=account_id,
                    kind=outbox.TRAINING_OFFER,
                    item_key=f"training:{i}",
                    period=f"2026-03-{i + 1:02d}",
                    payload={
                        "training": {
                            "title": f"课程{i} Course {i}",
                            "starts_on": "2099-01-01",
                            "location_text": "和平",
                            "seats_left": 3,
                        },
                        "skills": ["Excel"],
                        "postings": [{"title": "文员 Clerk", "missing_skills": ["Excel"]}],
                    },
                )
            ],
            now=START + timedelta(days=i),
        )
        session.commit()
        row = session.exec(
            select(Outbox).where(
                Outbox.recipient_id == account_id, Outbox.item_key == f"training:{i}"
            )
        ).one()
        ids.append(row.id or 0)
    return ids


def test_inbox_lists_newest_first_with_unread_in_words_and_pages(
    client: TestClient, session: Session
) -> None:
    acc = f.account(session, Role.seeker)
    ids = _offers(session, acc.id or 0, 12)
    login(client, acc.email)
    page = client.get("/messages")
    assert page.status_code == 200
    assert "消息（12 条未读）" in page.text  # the header link says how many
    assert page.text.index("课程11") < page.text.index("课程10")  # newest first
    assert "课程1 " not in page.text and "课程0" not in page.text  # on page 2
    assert page.text.count('class="tag tag-unread">未读</span>') == 10
    assert "第 1 页，共 2 页" in page.text
    second = client.get("/messages?page=2")
    assert "课程0" in second.text and "课程1 " in second.text
    # Open one: what it says, why, how to stop.
    one = client.get(f"/messages/{ids[0]}")
    assert one.status_code == 200
    assert "<h1>【培训推荐】课程0 Course 0</h1>" in one.text
    assert "为什么发给您" in one.text and "您几乎匹配上述岗位" in one.text
    assert "怎样停止" in one.text and 'action="/preferences/pushes/stop"' in one.text
    client.cookies.set("jobmatch_lang", "en")
    en = client.get(f"/messages/{ids[0]}")
    assert "Why you got this" in en.text and "Training that fits you" in en.text


def test_mark_read_and_unread_and_only_own_messages(client: TestClient, session: Session) -> None:
    acc = f.account(session, Role.employer, centre_code=None)
    other = f.account(session, Role.seeker)
    (mine,) = _offers(session, acc.id or 0, 1)
    (theirs,) = _offers(session, other.id or 0, 1)
    login(client, acc.email)
    token = csrf_token(client, "/messages")
    refused = client.post(f"/messages/{mine}/read", data={}, follow_redirects=False)
    assert refused.status_code == 403  # no CSRF token
    r = client.post(
        f"/messages/{mine}/read",
        data={"csrf_token": token, "back": "list", "page": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/messages?done=marked_read"
    page = client.get(r.headers["location"])
    assert "已标为已读" in page.text and "消息（0 条未读）" in page.text
    assert "已读" in page.text and "tag-unread" not in page.text
    r = client.post(f"/messages/{mine}/unread", data={"csrf_token": token}, follow_redirects=False)
    assert r.headers["location"] == f"/messages/{mine}?done=marked_unread"
    assert "消息（1 条未读）" in client.get(r.headers["location"]).text
    assert client.get(f"/messages/{theirs}").status_code == 404
    r = client.post(f"/messages/{theirs}/read", data={"csrf_token": token})
    assert r.status_code == 404
    session.rollback()
    assert session.get(Outbox, theirs).read_at is None  # type: ignore[union-attr]


def test_push_settings_keep_input_and_name_errors(client: TestClient, session: Session) -> None:
    acc = f.account(session, Role.seeker)
    login(client, acc.email)
    page = client.get("/preferences/pushes")
    assert page.status_code == 200
    assert 'value="weekly" id="f-frequency-2" checked' in page.text  # the defaults
    assert 'value="50"' in page.text
    assert "停止全部推送" in page.text and "第二十四条" in page.text
    token = csrf_token(client, "/preferences/pushes")
    form = {
        "csrf_token": token,
        "version": "0",
        "enabled": "yes",
        "frequency": "daily",
        "quiet_start": "25:00",
        "quiet_end": "07:00",
        "min_score": "lots",
        "trainings": "no",
    }
    bad = client.post("/preferences/pushes", data=form)
    assert bad.status_code == 422
    assert 'id="f-quiet_start-error"' in bad.text and 'id="f-min_score-error"' in bad.text
    assert "请用 24 小时制" in bad.text and "请填 0 到 100 之间的数" in bad.text
    assert 'value="25:00"' in bad.text and 'value="lots"' in bad.text
    assert 'value="daily" id="f-frequency" checked' in bad.text
    assert 'value="no" id="f-trainings-2" checked' in bad.text
    assert 'id="error-summary"' in bad.text and "<title>出错：" in bad.text
    half = client.post("/preferences/pushes", data={**form, "quiet_start": "", "min_score": "70"})
    assert half.status_code == 422 and 'id="f-quiet_start-error"' in half.text
    assert "都填上，或者都不填" in half.text
    ok = client.post(
        "/preferences/pushes",
        data={**form, "quiet_start": "22:00", "min_score": "70"},
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    session.rollback()
    row = session.get(PushPreference, acc.id)
    assert row is not None and row.frequency == "daily" and row.min_score == 0.7
    assert (row.quiet_start, row.quiet_end, row.trainings) == ("22:00", "07:00", False)
    assert "推送设置已保存" in client.get(ok.headers["location"]).text
    stale = client.post(
        "/preferences/pushes",
        data={**form, "quiet_start": "22:00", "min_score": "60", "version": str(row.version + 7)},
    )
    assert stale.status_code == 422 and "别人刚刚修改过" in stale.text
    assert f'name="version" value="{row.version}"' in stale.text  # the next save goes through


def test_stop_all_pushes_is_one_step_and_needs_the_token(
    client: TestClient, session: Session
) -> None:
    acc = f.account(session, Role.caseworker)
    login(client, acc.email)
    refused = client.post("/preferences/pushes/stop", data={}, follow_redirects=False)
    assert refused.status_code == 403
    token = csrf_token(client, "/preferences/pushes")
    r = client.post("/preferences/pushes/stop", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert "已停止全部推送" in page.text and "现在：全部推送已停止" in page.text
    assert 'value="no" id="f-enabled-2" checked' in page.text
    session.rollback()
    row = session.get(PushPreference, acc.id)
    assert row is not None and row.enabled is False
    refused_save = client.post("/preferences/pushes", data={"enabled": "yes"})
    assert refused_save.status_code == 403


def test_seeker_sees_who_read_their_data(client: TestClient, session: Session) -> None:
    acc, profile = f.seeker(session)
    worker = f.account(session, Role.caseworker)
    session.add(
        AuditLog(
            actor_id=worker.id,
            actor_role="caseworker",
            action="sensitive_read",
            object_type="seeker_sensitive",
            object_id=str(profile.id),
            purpose="安排面试时的便利 interview arrangements",
        )
    )
    session.commit()
    login(client, acc.email)
    data = client.get("/seeker/data")
    assert 'href="/seeker/data/access-log"' in data.text
    page = client.get("/seeker/data/access-log")
    assert page.status_code == 200
    assert "就业服务专员" in page.text and "查看了残疾信息" in page.text
    assert "安排面试时的便利 interview arrangements" in page.text
    assert '<th scope="col">原因</th>' in page.text
    other, _ = f.seeker(session)
    login(client, other.email)
    assert "还没有人看过" in client.get("/seeker/data/access-log").text


def test_stop_link_from_a_push_works_without_login(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """The link in every push opens a page; its one button stops all pushes (PIPL Art. 24).
    Opening the link alone stops nothing (mail scanners open links)."""
    account_id = f.account(session, Role.seeker).id or 0
    url = stop_url(settings, account_id)
    path = url[url.index("/stop-messages") :]
    page = client.get(path)
    assert page.status_code == 200 and 'method="post"' in page.text
    mine = select(PushPreference).where(PushPreference.account_id == account_id)
    assert session.exec(mine).first() is None
    session.rollback()
    done = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert done.status_code == 200 and 'role="status"' in done.text
    pref = session.exec(mine).one()
    assert pref.enabled is False
    assert client.get(path.replace("token=", "token=x")).status_code == 404
