"""Matches for seekers and candidates for postings through the API, kept current on writes."""

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.main import create_app
from api.settings import Settings
from models import Embedding
from models.base import NeedLevel, OfferAvailability, PostingStatus, Role, WorkMode
from tests import factories as f

AV, AR = OfferAvailability.available, OfferAvailability.arrangeable


def setup_world(session: Session) -> dict[str, Any]:
    emp = f.employer(session, name="杭州数据服务有限公司")
    world = {
        "lift_entry": f.posting(
            session,
            emp,
            title="数据录入员 Data entry clerk",
            description="录入和核对业务数据，整理 Excel 表格。",
            required_skills=["Excel", "数据录入"],
            offers={"lift": AV},
        ),
        "no_lift": f.posting(
            session,
            emp,
            title="数据录入员",
            description="录入数据 Excel",
            required_skills=["Excel"],
            offers={"quiet_workspace": AV},
        ),
        "arrange": f.posting(
            session,
            emp,
            title="仓库拣货员 Warehouse picker",
            description="按订单拣选货物并扫码出库。",
            required_skills=["拣货"],
            offers={"lift": AR},
        ),
        "closed": f.posting(
            session,
            emp,
            title="数据录入员 closed",
            required_skills=["Excel"],
            offers={"lift": AV},
            status=PostingStatus.closed,
        ),
    }
    acc, profile = f.seeker(
        session,
        skills=["Excel", "数据录入", "打字"],
        desired_roles=["数据录入员"],
        headline="数据录入员",
        experience="做过三年数据录入，熟悉 Excel。",
        needs={"lift": NeedLevel.essential, "quiet_workspace": NeedLevel.preferred},
    )
    world.update(seeker_account=acc, seeker=profile, employer=emp)
    return world


def ids(body: dict[str, Any]) -> list[int]:
    return [m["posting"]["id"] for m in body["items"]]


def test_matches_respect_essential_needs_and_explain(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = setup_world(session)
    h = f.headers(session, settings, w["seeker_account"])
    r = client.get(f"/seekers/{w['seeker'].id}/matches", headers=h)
    assert r.status_code == 200, r.text
    got = ids(r.json())
    assert got[0] == w["lift_entry"].id
    assert w["arrange"].id in got
    assert w["no_lift"].id not in got and w["closed"].id not in got
    top = r.json()["items"][0]
    assert 0 <= top["score"] <= 1
    assert abs(sum(top["contributions"].values()) - 1) < 1e-3
    e = top["explanation"]
    assert "Excel" in e["matched_skills"] and e["needs_met"] == ["lift"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in e["text"])  # a Chinese seeker reads Chinese
    arranged = next(m for m in r.json()["items"] if m["posting"]["id"] == w["arrange"].id)
    assert arranged["explanation"]["needs_arrangeable"] == ["lift"]
    assert top["posting"]["employer_name"] == "杭州数据服务有限公司"


def test_english_seeker_reads_english(
    client: TestClient, session: Session, settings: Settings
) -> None:
    emp = f.employer(session)
    f.posting(
        session,
        emp,
        title="Software tester",
        description="Write and run test cases.",
        required_skills=["software testing", "Python"],
    )
    acc, profile = f.seeker(
        session,
        skills=["Python", "Software Testing"],
        language="en",
        headline="QA engineer",
        desired_roles=["software tester"],
    )
    r = client.get(f"/seekers/{profile.id}/matches", headers=f.headers(session, settings, acc))
    e = r.json()["items"][0]["explanation"]
    assert e["text"].isascii()
    assert {"Python"} <= set(e["matched_skills"])


def test_filters_and_pages(client: TestClient, session: Session, settings: Settings) -> None:
    emp = f.employer(session)
    remote = [
        f.posting(
            session, emp, title=f"在线客服 {i}", required_skills=["打字"], work_mode=WorkMode.remote
        )
        for i in range(3)
    ]
    f.posting(session, emp, title="现场客服", required_skills=["打字"])
    acc, profile = f.seeker(session, skills=["打字"])
    h = f.headers(session, settings, acc)
    url = f"/seekers/{profile.id}/matches"
    r = client.get(url, headers=h, params={"work_mode": "remote", "limit": 2})
    assert r.json()["total"] == 3 and len(r.json()["items"]) == 2
    r2 = client.get(url, headers=h, params={"work_mode": "remote", "limit": 2, "offset": 2})
    assert set(ids(r.json()) + ids(r2.json())) == {p.id for p in remote}
    r = client.get(url, headers=h, params={"min_score": 1.0})
    assert r.json()["items"] == []
    assert client.get(url, headers=h, params={"min_score": 2}).status_code == 422


def test_index_follows_writes_in_this_and_other_processes(
    client: TestClient, session: Session, settings: Settings, engine: Any
) -> None:
    w = setup_world(session)
    emp_acc, _ = f.employer_account(session, w["employer"])
    h_emp = f.headers(session, settings, emp_acc)
    h_seeker = f.headers(session, settings, w["seeker_account"])
    url = f"/seekers/{w['seeker'].id}/matches"
    r = client.post(
        "/postings",
        headers=h_emp,
        json={
            "title": "Excel 数据录入专员",
            "required_skills": ["Excel", "数据录入"],
            "offers": [{"code": "lift", "availability": "available"}],
        },
    )
    new_id = r.json()["id"]
    assert new_id in ids(client.get(url, headers=h_seeker).json())
    stored = session.exec(
        select(Embedding).where(Embedding.owner_type == "posting", Embedding.owner_id == new_id)
    ).one()
    assert stored.model.startswith("hashing") and stored.dim > 0
    # Another process (its own app and index) sees the close made through this one.
    with TestClient(create_app(settings, engine)) as other:
        assert new_id in ids(other.get(url, headers=h_seeker).json())
        client.post(f"/postings/{new_id}/close", headers=h_emp)
        assert new_id not in ids(other.get(url, headers=h_seeker).json())
        r = other.patch(
            f"/postings/{w['no_lift'].id}",
            headers=h_emp,
            json={"version": 1, "offers": [{"code": "lift", "availability": "available"}]},
        )
        assert r.status_code == 200
    assert w["no_lift"].id in ids(client.get(url, headers=h_seeker).json())


def test_text_change_re_embeds_only_what_changed(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = setup_world(session)
    emp_acc, _ = f.employer_account(session, w["employer"])
    h_emp = f.headers(session, settings, emp_acc)
    client.get(
        f"/seekers/{w['seeker'].id}/matches",
        headers=f.headers(session, settings, w["seeker_account"]),
    )

    def stored() -> dict[int, str]:
        session.expire_all()
        rows = session.exec(select(Embedding).where(Embedding.owner_type == "posting")).all()
        session.rollback()
        return {r.owner_id: r.text_hash for r in rows}

    before = stored()
    assert set(before) >= {w["lift_entry"].id, w["arrange"].id}
    client.patch(
        f"/postings/{w['arrange'].id}", headers=h_emp, json={"version": 1, "wage_min": 4000}
    )  # not part of the embedded text
    client.patch(
        f"/postings/{w['lift_entry'].id}",
        headers=h_emp,
        json={"version": 1, "title": "高级数据录入员 Senior data entry clerk"},
    )
    after = stored()
    assert after[w["arrange"].id] == before[w["arrange"].id]
    assert after[w["lift_entry"].id] != before[w["lift_entry"].id]


def test_matches_are_private(client: TestClient, session: Session, settings: Settings) -> None:
    w = setup_world(session)
    other_acc, _ = f.seeker(session, centre_code="xinhua")
    url = f"/seekers/{w['seeker'].id}/matches"
    assert client.get(url, headers=f.headers(session, settings, other_acc)).status_code == 404
    cw_other = f.account(session, Role.caseworker, centre_code="xinhua")
    assert client.get(url, headers=f.headers(session, settings, cw_other)).status_code == 404
    cw = f.account(session, Role.caseworker, centre_code="heping")
    assert client.get(url, headers=f.headers(session, settings, cw)).status_code == 200


def test_candidates_are_pseudonymous(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = setup_world(session)
    _, blocked = f.seeker(
        session,
        skills=["Excel"],
        full_name="不该出现",
        needs={"sign_language_interpreter": NeedLevel.essential},
    )
    emp_acc, _ = f.employer_account(session, w["employer"])
    h_emp = f.headers(session, settings, emp_acc)
    r = client.get(f"/postings/{w['lift_entry'].id}/candidates", headers=h_emp)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1  # the seeker needing an interpreter is not offered one here
    cand = body["items"][0]
    assert cand["candidate"].startswith("C-") and cand["seeker_id"] is None
    text = r.text
    for secret in (w["seeker"].full_name, "不该出现", str(w["seeker_account"].email)):
        assert secret not in text
    assert cand["explanation"]["needs_met"] == ["lift"]
    assert "quiet_workspace" not in text  # a need this posting does not address
    r2 = client.get(f"/postings/{w['arrange'].id}/candidates", headers=h_emp)
    assert r2.json()["items"][0]["candidate"] != cand["candidate"]
    cw = f.account(session, Role.caseworker, centre_code="heping")
    r3 = client.get(
        f"/postings/{w['lift_entry'].id}/candidates", headers=f.headers(session, settings, cw)
    )
    assert r3.json()["items"][0]["seeker_id"] == w["seeker"].id
    rival_acc, _ = f.employer_account(session)
    r4 = client.get(
        f"/postings/{w['lift_entry'].id}/candidates",
        headers=f.headers(session, settings, rival_acc),
    )
    assert r4.status_code == 404
    assert blocked.id is not None


def test_feedback_saves_and_dismisses(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = setup_world(session)
    h = f.headers(session, settings, w["seeker_account"])
    sid, pid = w["seeker"].id, w["lift_entry"].id
    r = client.put(
        f"/seekers/{sid}/feedback/{pid}",
        headers=h,
        json={"kind": "dismissed", "reason": "太远了 too far"},
    )
    assert r.status_code == 200 and r.json()["kind"] == "dismissed"
    url = f"/seekers/{sid}/matches"
    assert pid not in ids(client.get(url, headers=h).json())
    shown = client.get(url, headers=h, params={"include_dismissed": True}).json()
    assert next(m for m in shown["items"] if m["posting"]["id"] == pid)["feedback"] == "dismissed"
    client.put(f"/seekers/{sid}/feedback/{pid}", headers=h, json={"kind": "saved"})
    saved = client.get(f"/seekers/{sid}/feedback", headers=h, params={"kind": "saved"}).json()
    assert [s["posting_id"] for s in saved] == [pid]
    assert client.delete(f"/seekers/{sid}/feedback/{pid}", headers=h).status_code == 204
    assert client.get(f"/seekers/{sid}/feedback", headers=h).json() == []
    r = client.put(f"/seekers/{sid}/feedback/{pid}", headers=h, json={"kind": "loved"})
    assert r.status_code == 422 and r.json()["field"] == "kind"


def test_a_broken_model_setting_names_the_setting(
    settings: Settings, engine: Any, tmp_path: Any
) -> None:
    import pytest

    from api.services.matching import ModelSettingError

    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    for spec in (str(tmp_path / "missing-model"), str(tmp_path / "broken")):
        bad = settings.model_copy(update={"embedding_model": spec})
        with (
            pytest.raises(ModelSettingError, match="JOBMATCH_EMBEDDING_MODEL"),
            TestClient(create_app(bad, engine)),
        ):
            pass


def test_empty_and_huge_profiles_do_not_break_matching(
    client: TestClient, session: Session, settings: Settings
) -> None:
    emp = f.employer(session)
    f.posting(session, emp, title="保洁员 Cleaner", description="清洁" * 3000, required_skills=[])
    acc, empty = f.seeker(session, skills=[], full_name="空 Empty")
    r = client.get(f"/seekers/{empty.id}/matches", headers=f.headers(session, settings, acc))
    assert r.status_code == 200
    acc2, huge = f.seeker(session, skills=["清洁"], experience="做过保洁 cleaning " * 300)
    r = client.get(f"/seekers/{huge.id}/matches", headers=f.headers(session, settings, acc2))
    assert r.status_code == 200 and r.json()["total"] == 1


def test_real_default_model_through_the_api(
    session: Session, settings: Settings, engine: Any
) -> None:
    """The shipped multilingual model matches Chinese to English and back."""
    emp = f.employer(session)
    accounting = f.posting(
        session,
        emp,
        title="Accounting assistant",
        description="Bookkeeping, invoices and month-end close.",
        required_skills=[],
    )
    f.posting(
        session,
        emp,
        title="Gardener",
        description="Look after plants and lawns.",
        required_skills=[],
    )
    acc, profile = f.seeker(
        session,
        skills=[],
        headline="会计助理",
        experience="负责记账、开发票和月末结账。",
        desired_roles=["会计"],
    )
    real = settings.model_copy(update={"embedding_model": "default"})
    with TestClient(create_app(real, engine)) as c:
        r = c.get(f"/seekers/{profile.id}/matches", headers=f.headers(session, settings, acc))
    assert r.status_code == 200
    assert ids(r.json())[0] == accounting.id


def test_repeat_views_reuse_the_ranking_until_something_changes(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """A seeker paging through matches is ranked once; a changed posting, or a changed
    profile, ranks again (the list is never older than what it depends on)."""
    w = setup_world(session)
    index = client.app.state.match_index  # type: ignore[attr-defined]
    h_seeker = f.headers(session, settings, w["seeker_account"])
    url = f"/seekers/{w['seeker'].id}/matches"
    calls: list[int] = []
    real_rank = index.postings.rank

    def counting_rank(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real_rank(*args, **kwargs)

    index.postings.rank = counting_rank
    first = client.get(url, headers=h_seeker).json()
    again = client.get(url + "?limit=1&offset=1", headers=h_seeker).json()
    assert len(calls) == 1 and ids(again) == ids(first)[1:2]
    emp_acc, _ = f.employer_account(session, w["employer"])
    h_emp = f.headers(session, settings, emp_acc)
    r = client.patch(
        f"/postings/{w['no_lift'].id}",
        headers=h_emp,
        json={"version": 1, "offers": [{"code": "lift", "availability": "available"}]},
    )
    assert r.status_code == 200
    assert w["no_lift"].id in ids(client.get(url, headers=h_seeker).json())
    assert len(calls) == 2
    r = client.patch(
        f"/seekers/{w['seeker'].id}",
        headers=h_seeker,
        json={"version": w["seeker"].version, "skills": ["拣货"]},
    )
    assert r.status_code == 200, r.text
    client.get(url, headers=h_seeker)
    assert len(calls) == 3


def test_repeat_candidate_views_reuse_the_ranking_until_a_seeker_changes(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """An employer paging through a posting's candidates is ranked once; a changed seeker
    (any seeker: each may enter or leave the list) or a changed posting ranks again."""
    w = setup_world(session)
    index = client.app.state.match_index  # type: ignore[attr-defined]
    emp_acc, _ = f.employer_account(session, w["employer"])
    h_emp = f.headers(session, settings, emp_acc)
    h_seeker = f.headers(session, settings, w["seeker_account"])
    url = f"/postings/{w['lift_entry'].id}/candidates"
    calls: list[int] = []
    real_rank = index.seekers.rank

    def counting_rank(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real_rank(*args, **kwargs)

    index.seekers.rank = counting_rank
    first = client.get(url, headers=h_emp).json()
    again = client.get(url, headers=h_emp).json()
    assert len(calls) == 1 and again == first and first["total"] == 1
    r = client.patch(
        f"/seekers/{w['seeker'].id}",
        headers=h_seeker,
        json={"version": w["seeker"].version, "needs": []},
    )
    assert r.status_code == 200, r.text
    client.get(url, headers=h_emp)
    assert len(calls) == 2
    r = client.patch(
        f"/postings/{w['no_lift'].id}",
        headers=h_emp,
        json={"version": 1, "offers": [{"code": "lift", "availability": "available"}]},
    )
    assert r.status_code == 200, r.text
    client.get(url, headers=h_emp)
    assert len(calls) == 3
