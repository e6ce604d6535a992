"""Create, read, update, list and close each resource, with ownership enforced."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from api.settings import Settings
from models.base import NeedLevel, OfferAvailability, PostingStatus, Role, utcnow
from tests import factories as f


def test_centres_and_vocabulary_are_seeded(client: TestClient) -> None:
    centres = client.get("/centres").json()
    assert len(centres) == 9
    assert all(c["name_zh"] and c["name_en"] for c in centres)
    vocab = client.get("/accommodations").json()
    groups = {v["group"] for v in vocab}
    assert {
        "access",
        "workstation",
        "vision",
        "hearing",
        "speech",
        "cognitive",
        "mental_health",
        "schedule_place",
        "hiring_process",
    } <= groups
    lift = next(v for v in vocab if v["code"] == "lift")
    assert lift["label_zh"] == "电梯" and lift["label_en"].startswith("Lift")


def test_seeker_profile_lifecycle(client: TestClient, session: Session, settings: Settings) -> None:
    acc = f.account(session, Role.seeker)
    h = f.headers(session, settings, acc)
    assert client.get("/seekers/me", headers=h).status_code == 404
    body = {
        "full_name": "王芳 Wang Fang",
        "skills": ["Excel", " excel ", "数据录入", ""],
        "desired_roles": ["数据录入员", "data entry"],
        "language": "zh",
        "needs": [
            {"code": "lift", "level": "essential"},
            {"code": "quiet_workspace", "level": "preferred"},
        ],
        "lat": 30.27,
        "lon": 120.15,
        "commute_limit_km": 5,
    }
    r = client.post("/seekers", headers=h, json=body)
    assert r.status_code == 201, r.text
    profile = r.json()
    assert profile["skills"] == ["Excel", "数据录入"]  # trimmed, de-duplicated
    assert {n["code"]: n["level"] for n in profile["needs"]} == {
        "lift": "essential",
        "quiet_workspace": "preferred",
    }
    assert client.post("/seekers", headers=h, json=body).status_code == 409
    sid = profile["id"]
    r = client.patch(
        f"/seekers/{sid}",
        headers=h,
        json={
            "version": profile["version"],
            "headline": "细心的数据录入员 careful data clerk",
            "needs": [{"code": "screen_magnification", "level": "essential"}],
        },
    )
    assert r.status_code == 200, r.text
    assert [n["code"] for n in r.json()["needs"]] == ["screen_magnification"]
    stale = client.patch(
        f"/seekers/{sid}",
        headers=h,
        json={"version": profile["version"], "headline": "lost update"},
    )
    assert stale.status_code == 409
    assert stale.json()["current_version"] == profile["version"] + 1
    assert client.get(f"/seekers/{sid}", headers=h).json()["headline"].startswith("细心")
    r = client.post(f"/seekers/{sid}/close", headers=h)
    assert r.status_code == 200 and r.json()["closed_at"]


def test_seekers_see_only_their_own_and_caseworkers_their_centre(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _, mine = f.seeker(session, centre_code="heping")
    other_acc, other = f.seeker(session, centre_code="xinhua")
    h_other = f.headers(session, settings, other_acc)
    assert client.get(f"/seekers/{mine.id}", headers=h_other).status_code == 404
    r = client.patch(f"/seekers/{mine.id}", headers=h_other, json={"version": 1, "headline": "x"})
    assert r.status_code == 404
    cw_heping = f.headers(
        session, settings, f.account(session, Role.caseworker, centre_code="heping")
    )
    assert client.get(f"/seekers/{mine.id}", headers=cw_heping).status_code == 200
    assert client.get(f"/seekers/{other.id}", headers=cw_heping).status_code == 404
    listed = client.get("/seekers", headers=cw_heping).json()
    assert [s["id"] for s in listed["items"]] == [mine.id]
    assert listed["total"] == 1


def test_centre_seekers_pages_count_every_seeker_on_each_page_and_past_the_end(
    client: TestClient, session: Session, settings: Settings
) -> None:
    made = [f.seeker(session, centre_code="heping")[1].id for _ in range(5)]
    f.seeker(session, centre_code="xinhua")  # another centre's: never counted
    cw = f.headers(session, settings, f.account(session, Role.caseworker, centre_code="heping"))
    seen = []
    for offset in (0, 2, 4):
        body = client.get(f"/seekers?limit=2&offset={offset}", headers=cw).json()
        assert (body["total"], body["limit"], body["offset"]) == (5, 2, offset)
        seen += [s["id"] for s in body["items"]]
    assert seen == sorted(made, reverse=True)
    past = client.get("/seekers?limit=2&offset=7", headers=cw).json()
    assert (past["items"], past["total"]) == ([], 5)
    other = f.headers(session, settings, f.account(session, Role.caseworker, centre_code="donghu"))
    assert client.get("/seekers?offset=3", headers=other).json()["total"] == 0


def test_unknown_need_code_names_the_field(
    client: TestClient, session: Session, settings: Settings
) -> None:
    h = f.headers(session, settings, f.account(session, Role.seeker))
    r = client.post(
        "/seekers",
        headers=h,
        json={
            "full_name": "A",
            "needs": [
                {"code": "lift", "level": "essential"},
                {"code": "jetpack", "level": "preferred"},
            ],
        },
    )
    assert r.status_code == 422
    assert r.json()["field"] == "needs.1.code"


def test_posting_ownership_and_visibility(
    client: TestClient, session: Session, settings: Settings
) -> None:
    emp_acc, emp = f.employer_account(session)
    rival_acc, _ = f.employer_account(session)
    h_emp = f.headers(session, settings, emp_acc)
    h_rival = f.headers(session, settings, rival_acc)
    h_seeker = f.headers(session, settings, f.account(session, Role.seeker))
    r = client.post(
        "/postings",
        headers=h_emp,
        json={
            "title": "软件测试 Software tester",
            "status": "draft",
            "work_mode": "remote",
            "offers": [
                {"code": "screen_reader_software", "availability": "available"},
                {"code": "flexible_hours", "availability": "arrangeable"},
            ],
        },
    )
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["employer_id"] == emp.id and len(draft["offers"]) == 2
    # A draft is the employer's own business.
    assert client.get(f"/postings/{draft['id']}", headers=h_seeker).status_code == 404
    assert client.get(f"/postings/{draft['id']}", headers=h_rival).status_code == 404
    r = client.patch(
        f"/postings/{draft['id']}",
        headers=h_emp,
        json={"version": draft["version"], "status": "open"},
    )
    assert r.status_code == 200
    opened = r.json()
    assert client.get(f"/postings/{draft['id']}", headers=h_seeker).status_code == 200
    r = client.patch(
        f"/postings/{draft['id']}",
        headers=h_rival,
        json={"version": opened["version"], "title": "hijack"},
    )
    assert r.status_code == 403
    r = client.post("/postings", headers=h_rival, json={"title": "x", "employer_id": emp.id})
    assert r.status_code == 403
    r = client.post(f"/postings/{draft['id']}/close", headers=h_emp)
    assert r.json()["status"] == "closed"
    r = client.patch(
        f"/postings/{draft['id']}",
        headers=h_emp,
        json={"version": r.json()["version"], "title": "reopen?"},
    )
    assert r.status_code == 409


def test_seekers_list_only_open_unexpired_postings(
    client: TestClient, session: Session, settings: Settings
) -> None:
    emp = f.employer(session)
    open_one = f.posting(session, emp, offers={"lift": OfferAvailability.available})
    f.posting(session, emp, status=PostingStatus.closed)
    f.posting(session, emp, status=PostingStatus.draft)
    f.posting(session, emp, expires_at=utcnow() - timedelta(days=1))
    h = f.headers(session, settings, f.account(session, Role.seeker))
    r = client.get("/postings", headers=h)
    assert [p["id"] for p in r.json()["items"]] == [open_one.id]
    assert r.json()["items"][0]["offers"][0]["label_en"].startswith("Lift")
    staff = f.headers(session, settings, f.account(session, Role.caseworker))
    assert client.get("/postings", headers=staff).json()["total"] == 4


def test_employer_verify_and_close(
    client: TestClient, session: Session, settings: Settings
) -> None:
    emp_acc, emp = f.employer_account(session, f.employer(session, verified=False))
    posting = f.posting(session, emp)
    h_emp = f.headers(session, settings, emp_acc)
    cw = f.headers(session, settings, f.account(session, Role.caseworker))
    assert client.post(f"/employers/{emp.id}/verify", headers=h_emp).status_code == 403
    r = client.post(f"/employers/{emp.id}/verify", headers=cw)
    assert r.json()["verified"] is True
    other_acc, other = f.employer_account(session)
    h_other = f.headers(session, settings, other_acc)
    assert client.get(f"/employers/{emp.id}", headers=h_other).status_code == 404
    r = client.patch(
        f"/employers/{emp.id}",
        headers=h_emp,
        json={"version": r.json()["version"], "staff_count": 250},
    )
    assert r.status_code == 200 and r.json()["staff_count"] == 250
    assert client.post(f"/employers/{emp.id}/close", headers=h_emp).status_code == 200
    r = client.get(f"/postings/{posting.id}", headers=cw)
    assert r.json()["status"] == "closed"
    assert other.id != emp.id


def test_trainings_by_centre_staff(
    client: TestClient, session: Session, settings: Settings
) -> None:
    cw = f.headers(session, settings, f.account(session, Role.caseworker, centre_code="heping"))
    cw_other = f.headers(
        session, settings, f.account(session, Role.caseworker, centre_code="donghu")
    )
    today = utcnow().date()
    body = {
        "title": "Excel 数据处理培训 Excel training",
        "skills_taught": ["Excel"],
        "starts_on": str(today + timedelta(days=3)),
        "ends_on": str(today + timedelta(days=10)),
        "capacity": 12,
        "accessibility": ["lift", "sign_language_interpreter"],
    }
    r = client.post("/trainings", headers=cw, json=body)
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    assert (
        client.post("/trainings", headers=cw, json={**body, "centre_code": "donghu"}).status_code
        == 403
    )
    r = client.post("/trainings", headers=cw, json={**body, "ends_on": str(today)})
    assert r.status_code == 422
    assert (
        client.patch(
            f"/trainings/{tid}", headers=cw_other, json={"version": 1, "capacity": 5}
        ).status_code
        == 403
    )
    r = client.patch(f"/trainings/{tid}", headers=cw, json={"version": 1, "capacity": 20})
    assert r.json()["capacity"] == 20
    seeker = f.headers(session, settings, f.account(session, Role.seeker))
    assert [t["id"] for t in client.get("/trainings", headers=seeker).json()["items"]] == [tid]
    assert client.post(f"/trainings/{tid}/close", headers=cw).json()["status"] == "closed"
    assert client.get("/trainings", headers=seeker).json()["items"] == []


def test_admin_edits_the_vocabulary(
    client: TestClient, session: Session, settings: Settings
) -> None:
    admin = f.headers(session, settings, f.account(session, Role.admin, centre_code=None))
    r = client.post(
        "/accommodations",
        headers=admin,
        json={
            "code": "service_animal",
            "group": "access",
            "label_zh": "允许服务犬",
            "label_en": "Service animal allowed",
        },
    )
    assert r.status_code == 201
    r = client.patch(
        "/accommodations/service_animal", headers=admin, json={"label_en": "Service dog welcome"}
    )
    assert r.json()["label_en"] == "Service dog welcome"
    assert client.post("/accommodations/service_animal/retire", headers=admin).status_code == 200
    codes = [v["code"] for v in client.get("/accommodations").json()]
    assert "service_animal" not in codes
    h = f.headers(session, settings, f.account(session, Role.seeker))
    r = client.post(
        "/seekers",
        headers=h,
        json={"full_name": "A", "needs": [{"code": "service_animal", "level": "essential"}]},
    )
    assert r.status_code == 422


def test_staff_accounts(client: TestClient, session: Session, settings: Settings) -> None:
    admin = f.headers(session, settings, f.account(session, Role.admin, centre_code=None))
    r = client.post(
        "/accounts",
        headers=admin,
        json={
            "email": "new.cw@example.com",
            "password": f.PASSWORD,
            "role": "caseworker",
            "centre_code": "binjiang",
        },
    )
    assert r.status_code == 201 and r.json()["centre_id"] is not None
    r = client.post(
        "/accounts",
        headers=admin,
        json={"email": "cw2@example.com", "password": f.PASSWORD, "role": "caseworker"},
    )
    assert r.status_code == 422
    r = client.get("/accounts?role=caseworker", headers=admin)
    assert r.json()["total"] == 1
    assert NeedLevel.essential.value == "essential"


def test_trainings_list_pages_and_filters(
    client: TestClient, session: Session, settings: Settings
) -> None:
    cw = f.headers(session, settings, f.account(session, Role.caseworker, centre_code="heping"))
    today = utcnow().date()
    ids = []
    for days in (5, 3):
        body = {
            "title": f"培训 training in {days} days",
            "starts_on": str(today + timedelta(days=days)),
            "ends_on": str(today + timedelta(days=days + 7)),
            "skills_taught": ["Excel"],
        }
        r = client.post("/trainings", headers=cw, json=body)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    seeker = f.headers(session, settings, f.account(session, Role.seeker))
    page = client.get("/trainings?limit=1", headers=seeker).json()
    assert [t["id"] for t in page["items"]] == [ids[1]] and page["total"] == 2  # soonest first
    assert page["items"][0]["skills_taught"] == ["Excel"] and page["items"][0]["version"] == 1
    past = client.get("/trainings?limit=1&offset=5", headers=seeker).json()
    assert past["items"] == [] and past["total"] == 2
    assert client.get("/trainings?centre_code=donghu", headers=seeker).json()["total"] == 0
    assert client.get("/trainings?centre_code=heping", headers=seeker).json()["total"] == 2
    assert client.get("/trainings?centre_code=nowhere", headers=seeker).status_code == 422
    client.post(f"/trainings/{ids[0]}/close", headers=cw)
    assert client.get("/trainings", headers=seeker).json()["total"] == 1
    assert client.get("/trainings?include_closed=true", headers=seeker).json()["total"] == 2
