"""Malformed and hostile input gets a 4xx naming the field and the reason, never a 500."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.settings import Settings
from models import Posting
from models.base import Role
from tests import factories as f


@pytest.fixture
def employer_headers(session: Session, settings: Settings) -> dict[str, str]:
    acc, _ = f.employer_account(session)
    return f.headers(session, settings, acc)


GOOD_POSTING = {"title": "仓库拣货员 Warehouse picker", "required_skills": ["拣货", "scanning"]}


def post(client: TestClient, headers: dict[str, str], body: object) -> tuple[int, dict]:
    r = client.post("/postings", headers=headers, json=body)
    return r.status_code, r.json()


def test_good_posting_is_created(client: TestClient, employer_headers: dict[str, str]) -> None:
    status, body = post(client, employer_headers, GOOD_POSTING)
    assert status == 201, body
    assert body["required_skills"] == ["拣货", "scanning"]


def test_malformed_json(client: TestClient, employer_headers: dict[str, str]) -> None:
    r = client.post(
        "/postings",
        headers={**employer_headers, "Content-Type": "application/json"},
        content=b'{"title": "x",',
    )
    assert r.status_code == 422
    assert r.json()["error"] == "validation_error"
    assert r.json()["errors"][0]["type"] == "json_invalid"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD_POSTING, "openings": "many"}, "openings"),
        ({**GOOD_POSTING, "required_skills": "Excel"}, "required_skills"),
        ({**GOOD_POSTING, "salary": 5000}, "salary"),
        ({**GOOD_POSTING, "title": "数据\x00录入"}, "title"),
        ({**GOOD_POSTING, "required_skills": ["ok", "bad\x00"]}, "required_skills"),
        ({**GOOD_POSTING, "wage_min": 10**30}, "wage_min"),
        ({**GOOD_POSTING, "openings": 2**63}, "openings"),
        ({**GOOD_POSTING, "title": ""}, "title"),
        ({**GOOD_POSTING, "title": "x" * 201}, "title"),
        ({**GOOD_POSTING, "work_mode": "teleport"}, "work_mode"),
        ({**GOOD_POSTING, "lat": 91.0, "lon": 0}, "lat"),
        (
            {**GOOD_POSTING, "offers": [{"code": "lift", "availability": "maybe"}]},
            "offers.0.availability",
        ),
        (
            {**GOOD_POSTING, "offers": [{"code": "teleporter", "availability": "available"}]},
            "offers.0.code",
        ),
        ({**GOOD_POSTING, "expires_at": "2020-01-01T00:00:00+08:00"}, "expires_at"),
        ({**GOOD_POSTING, "expires_at": "2099-01-01T00:00:00"}, "expires_at"),
        ([1, 2, 3], "body"),
    ],
)
def test_bad_fields_are_named(
    client: TestClient, employer_headers: dict[str, str], session: Session, body: object, field: str
) -> None:
    status, out = post(client, employer_headers, body)
    assert status == 422, out
    assert out["field"] == field, out
    assert out["detail"]
    assert session.exec(select(Posting)).first() is None  # nothing half-stored


def test_oversized_body_is_413(client: TestClient, employer_headers: dict[str, str]) -> None:
    big = {**GOOD_POSTING, "description": "字" * 40_000}  # > 64 KiB as UTF-8
    status, out = post(client, employer_headers, big)
    assert status == 413
    assert out["error"] == "payload_too_large"


def test_oversized_chunked_body_is_413(
    client: TestClient, employer_headers: dict[str, str]
) -> None:
    def chunks():  # no Content-Length: the body is counted as it streams
        yield b'{"title": "x", "description": "'
        for _ in range(100):
            yield b"a" * 1024
        yield b'"}'

    r = client.post(
        "/postings",
        headers={**employer_headers, "Content-Type": "application/json"},
        content=chunks(),
    )
    assert r.status_code == 413


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("offset=99999999999999999999", "offset"),
        ("status=bogus", "status"),
    ],
)
def test_bad_pages(
    client: TestClient, employer_headers: dict[str, str], query: str, field: str
) -> None:
    r = client.get(f"/postings?{query}", headers=employer_headers)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


def test_page_far_past_the_end_is_empty(
    client: TestClient, employer_headers: dict[str, str]
) -> None:
    r = client.get("/postings?offset=1000000", headers=employer_headers)
    assert r.status_code == 200
    assert r.json()["items"] == []


@pytest.mark.parametrize("ident", ["99999999999999999999", "0", "-5", "abc"])
def test_bad_path_ids(client: TestClient, employer_headers: dict[str, str], ident: str) -> None:
    r = client.get(f"/postings/{ident}", headers=employer_headers)
    assert r.status_code == 422
    assert r.json()["field"] == "posting_id"


def test_unique_conflicts_are_409(client: TestClient, session: Session, settings: Settings) -> None:
    admin = f.headers(session, settings, f.account(session, Role.admin, centre_code=None))
    emp = {"name": "甲公司", "uscc": f.uscc(7)}
    assert client.post("/employers", headers=admin, json=emp).status_code == 201
    r = client.post("/employers", headers=admin, json={**emp, "name": "乙公司"})
    assert r.status_code == 409
    assert r.json()["field"] == "uscc"
    r = client.post(
        "/accommodations",
        headers=admin,
        json={"code": "lift", "group": "access", "label_zh": "电梯", "label_en": "Lift"},
    )
    assert r.status_code == 409


def test_bad_credit_code(client: TestClient, session: Session, settings: Settings) -> None:
    admin = f.headers(session, settings, f.account(session, Role.admin, centre_code=None))
    good = f.uscc(8)
    wrong_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    for code in ("123", wrong_check, "I" * 18):
        r = client.post("/employers", headers=admin, json={"name": "x", "uscc": code})
        assert r.status_code == 422
        assert r.json()["field"] == "uscc"


def test_errors_never_500_on_mixed_language_text(
    client: TestClient, employer_headers: dict[str, str]
) -> None:
    body = {
        "title": "前台 Receptionist — 兼职/part-time 🙂",
        "description": "需要 Excel、沟通 skills",
        "required_skills": ["ＥＸＣＥＬ", "沟通"],
    }
    status, out = post(client, employer_headers, body)
    assert status == 201
    assert out["title"] == body["title"]


def test_body_that_is_not_utf8(client: TestClient, employer_headers: dict[str, str]) -> None:
    r = client.post(
        "/postings",
        headers={**employer_headers, "Content-Type": "application/json"},
        content=b"\x8f\xffnot json",
    )
    assert r.status_code == 422
    assert r.json()["field"] == "body"


def test_wrong_method_lists_every_allowed_one(client: TestClient) -> None:
    r = client.delete("/trainings/1")
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"GET", "PATCH", "HEAD"}
    assert r.json()["error"] == "method_not_allowed"
