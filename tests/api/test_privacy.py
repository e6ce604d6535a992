"""Consent, encrypted sensitive fields, audited reads, export, erasure and retention."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import String, Text, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import models
from api.crypto import new_key
from api.db import read_only
from api.services.privacy import (
    NOT_EXPORTED,
    STAFF_ONLY,
    load_sensitive,
    personal_tables,
    purge,
    rotate_keys,
)
from api.settings import Settings
from models import AuditLog, Embedding, LoginAttempt, SeekerNeed, SeekerSensitive
from models.base import NeedLevel, OfferAvailability, Role, utcnow
from tests import factories as f

CERT = "33010219800101123X42"  # ID number, then category 4 (physical), grade 2
SENSITIVE = {
    "disability_category": "physical",
    "disability_grade": 2,
    "certificate_number": CERT,
    "health_notes": "左腿截肢 left leg amputated",
}


def consent(client: TestClient, sid: int, h: dict[str, str], purpose: str) -> dict[str, Any]:
    texts = {t["purpose"]: t for t in client.get("/privacy/consent-texts").json()}
    r = client.post(
        f"/seekers/{sid}/consents",
        headers=h,
        json={"purpose": purpose, "text_version": texts[purpose]["version"]},
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_consent_texts_say_purpose_audience_and_refusal(client: TestClient) -> None:
    texts = client.get("/privacy/consent-texts").json()
    assert {t["purpose"] for t in texts} == {"sensitive_profile", "health_needs"}
    for t in texts:
        assert "用途" in t["text_zh"] and "Purpose" in t["text_en"]
        assert "不同意" in t["text_zh"] and "say no" in t["text_en"]


def test_sensitive_fields_need_consent_and_are_encrypted(
    client: TestClient, session: Session, settings: Settings
) -> None:
    acc, profile = f.seeker(session)
    h = f.headers(session, settings, acc)
    url = f"/seekers/{profile.id}/sensitive"
    r = client.put(url, headers=h, json=SENSITIVE)
    assert r.status_code == 409 and r.json()["consent_required"] == "sensitive_profile"
    r = client.post(
        f"/seekers/{profile.id}/consents",
        headers=h,
        json={"purpose": "sensitive_profile", "text_version": "2019-01"},
    )
    assert r.status_code == 409
    consent(client, profile.id, h, "sensitive_profile")
    r = client.put(url, headers=h, json=SENSITIVE)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    row = session.exec(select(SeekerSensitive)).one()
    for value in (CERT, "physical", "截肢"):
        assert value not in row.sealed
    got = client.get(url, headers=h)
    assert got.json() == SENSITIVE and got.headers["cache-control"] == "no-store"


def test_caseworker_reads_with_a_purpose_and_the_seeker_sees_it(
    client: TestClient, session: Session, settings: Settings
) -> None:
    acc, profile = f.seeker(session)
    h = f.headers(session, settings, acc)
    consent(client, profile.id, h, "sensitive_profile")
    client.put(f"/seekers/{profile.id}/sensitive", headers=h, json=SENSITIVE)
    cw = f.headers(session, settings, f.account(session, Role.caseworker))
    url = f"/seekers/{profile.id}/sensitive"
    r = client.get(url, headers=cw)
    assert r.status_code == 422 and r.json()["field"] == "purpose"
    r = client.get(url, headers=cw, params={"purpose": "核实残疾等级以办理培训补贴"})
    assert r.status_code == 200 and r.json()["disability_grade"] == 2
    reads = session.exec(select(AuditLog).where(AuditLog.action == "sensitive_read")).all()
    assert len(reads) == 1 and reads[0].purpose.startswith("核实")
    log = client.get(f"/seekers/{profile.id}/access-log", headers=h).json()
    assert [(e["actor_role"], e["action"]) for e in log] == [("caseworker", "sensitive_read")]
    # The seeker's own reads are not logged as someone else's.
    client.get(url, headers=h)
    assert len(client.get(f"/seekers/{profile.id}/access-log", headers=h).json()) == 1
    other_cw = f.headers(
        session, settings, f.account(session, Role.caseworker, centre_code="xinhua")
    )
    assert client.get(url, headers=other_cw, params={"purpose": "curious"}).status_code == 404
    denied = session.exec(select(AuditLog).where(AuditLog.action == "access_denied")).all()
    assert len(denied) == 1 and denied[0].object_id == str(profile.id)
    emp_acc, _ = f.employer_account(session)
    assert client.get(url, headers=f.headers(session, settings, emp_acc)).status_code == 403


def test_withdrawal_deletes_and_stops_use(
    client: TestClient, session: Session, settings: Settings
) -> None:
    acc, profile = f.seeker(session)
    h = f.headers(session, settings, acc)
    c = consent(client, profile.id, h, "sensitive_profile")
    client.put(f"/seekers/{profile.id}/sensitive", headers=h, json=SENSITIVE)
    r = client.post(f"/seekers/{profile.id}/consents/{c['id']}/withdraw", headers=h)
    assert r.status_code == 200 and r.json()["withdrawn_at"]
    assert client.get(f"/seekers/{profile.id}/sensitive", headers=h).json() is None
    assert session.exec(select(SeekerSensitive)).first() is None
    assert (
        client.put(f"/seekers/{profile.id}/sensitive", headers=h, json=SENSITIVE).status_code == 409
    )


def test_health_needs_need_their_own_consent(
    client: TestClient, session: Session, settings: Settings
) -> None:
    emp = f.employer(session)
    posting = f.posting(session, emp, offers={"extra_breaks": OfferAvailability.available})
    acc, profile = f.seeker(session)
    h = f.headers(session, settings, acc)
    body = {
        "version": 1,
        "needs": [
            {"code": "lift", "level": "preferred"},
            {"code": "extra_breaks", "level": "essential"},
        ],
    }
    r = client.patch(f"/seekers/{profile.id}", headers=h, json=body)
    assert r.status_code == 409 and r.json()["field"] == "needs.1.code"
    c = consent(client, profile.id, h, "health_needs")
    r = client.patch(f"/seekers/{profile.id}", headers=h, json=body)
    assert r.status_code == 200
    matches = client.get(f"/seekers/{profile.id}/matches", headers=h).json()
    assert matches["items"][0]["explanation"]["needs_met"] == ["extra_breaks"]
    client.post(f"/seekers/{profile.id}/consents/{c['id']}/withdraw", headers=h)
    codes = [n.code for n in session.exec(select(SeekerNeed)).all()]
    assert codes == ["lift"]
    matches = client.get(f"/seekers/{profile.id}/matches", headers=h).json()
    assert matches["items"][0]["explanation"]["needs_met"] == []
    assert matches["items"][0]["posting"]["id"] == posting.id


@pytest.mark.parametrize(
    ("change", "field_hint"),
    [
        ({"certificate_number": "33010219800101123X12"}, "category digit"),
        ({"certificate_number": "33010219800101123X43"}, "grade digit"),
        ({"certificate_number": "123"}, "20 characters"),
        ({"disability_grade": 5}, "disability_grade"),
        ({"disability_category": "unknown"}, "disability_category"),
    ],
)
def test_sensitive_input_is_validated(
    client: TestClient,
    session: Session,
    settings: Settings,
    change: dict[str, Any],
    field_hint: str,
) -> None:
    acc, profile = f.seeker(session)
    h = f.headers(session, settings, acc)
    consent(client, profile.id, h, "sensitive_profile")
    r = client.put(f"/seekers/{profile.id}/sensitive", headers=h, json={**SENSITIVE, **change})
    assert r.status_code == 422
    assert field_hint in r.text
    assert CERT not in r.text and "截肢" not in r.text  # errors do not echo sensitive input


def test_data_keys_rotate(session: Session, settings: Settings, client: TestClient) -> None:
    old = new_key()
    s_old = settings.model_copy(update={"data_keys": SecretStr(old)})
    acc, profile = f.seeker(session)
    h = f.headers(session, settings, acc)
    consent(client, profile.id, h, "sensitive_profile")
    from api.schemas.privacy import SensitiveData
    from api.services import privacy

    session.add(
        SeekerSensitive(
            seeker_id=profile.id or 0,
            sealed=privacy.seal(s_old, SensitiveData.model_validate(SENSITIVE).model_dump_json()),
        )
    )
    session.commit()
    new = new_key()
    both = settings.model_copy(update={"data_keys": SecretStr(f"{new},{old}")})
    assert load_sensitive(session, both, profile.id or 0) is not None
    assert rotate_keys(session, both) == 1
    session.commit()
    only_new = settings.model_copy(update={"data_keys": SecretStr(new)})
    data = load_sensitive(session, only_new, profile.id or 0)
    assert data is not None and data.certificate_number == CERT


def tables_pointing_at_people() -> set[str]:
    """Tables with a foreign key to a seeker, an account or a referral."""
    out = set()
    for table in models.metadata.sorted_tables:
        targets = {fk.column.table.name for fk in table.foreign_keys}
        if targets & {"seeker_profile", "account", "referral"} or table.name in (
            "account",
            "seeker_profile",
        ):
            out.add(table.name)
    return out


def test_every_personal_table_is_exported() -> None:
    missing = tables_pointing_at_people() - set(personal_tables()) - STAFF_ONLY
    assert not missing, f"tables about a person that export and erasure do not cover: {missing}"


def full_record(client: TestClient, session: Session, settings: Settings) -> dict[str, Any]:
    emp = f.employer(session)
    posting = f.posting(session, emp, offers={"lift": OfferAvailability.available})
    acc, profile = f.seeker(
        session,
        full_name="欧阳娜娜 Ouyang Nana",
        phone="13900001111",
        needs={"lift": NeedLevel.essential},
        experience="独特经历 XYZZY",
    )
    h = f.headers(session, settings, acc)
    consent(client, profile.id, h, "sensitive_profile")
    client.put(f"/seekers/{profile.id}/sensitive", headers=h, json=SENSITIVE)
    client.get(f"/seekers/{profile.id}/matches", headers=h)
    client.put(
        f"/seekers/{profile.id}/feedback/{posting.id}",
        headers=h,
        json={"kind": "saved", "reason": "离家近 XYZZY"},
    )
    return {"account": acc, "profile": profile, "headers": h, "posting": posting}


def test_export_holds_every_personal_column(
    client: TestClient, session: Session, settings: Settings
) -> None:
    rec = full_record(client, session, settings)
    r = client.get(f"/seekers/{rec['profile'].id}/export", headers=rec["headers"])
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["sensitive"]["certificate_number"] == CERT
    for table in models.metadata.sorted_tables:
        if table.name not in personal_tables():
            continue
        rows = body["tables"][table.name]
        expected = {c.name for c in table.columns} - NOT_EXPORTED.get(table.name, set())
        for row in rows:
            assert set(row) == expected, table.name
    for name in (
        "account",
        "seeker_profile",
        "seeker_need",
        "consent",
        "match_feedback",
        "embedding",
    ):
        assert body["tables"][name], name
    assert "password_hash" not in r.text and "sealed" not in r.text
    assert body["tables"]["seeker_profile"][0]["full_name"] == "欧阳娜娜 Ouyang Nana"


def text_columns_containing(engine: Engine, needles: list[str]) -> list[str]:
    """Every (table.column) whose text holds one of the needles."""
    found = []
    with read_only(engine).connect() as conn:
        insp = inspect(conn)
        for table in insp.get_table_names():
            for column in insp.get_columns(table):
                if (
                    not isinstance(column["type"], String | Text)
                    and "JSON" not in str(column["type"]).upper()
                ):
                    continue
                name = column["name"]
                for needle in needles:
                    q = text(f'SELECT COUNT(*) FROM "{table}" WHERE CAST("{name}" AS TEXT) LIKE :n')
                    if conn.execute(q, {"n": f"%{needle}%"}).scalar():
                        found.append(f"{table}.{name}")
    return found


def test_erasure_leaves_nothing(
    client: TestClient, session: Session, settings: Settings, engine: Engine, app: Any
) -> None:
    rec = full_record(client, session, settings)
    sid, email = rec["profile"].id, rec["account"].email
    needles = ["欧阳娜娜", "Ouyang", "13900001111", "XYZZY", email, CERT]
    assert text_columns_containing(engine, needles)
    r = client.post(f"/seekers/{sid}/erase", headers=rec["headers"], json={"confirm": "ERASE"})
    assert r.status_code == 204, r.text
    assert text_columns_containing(engine, needles) == []
    assert client.get("/auth/me", headers=rec["headers"]).status_code == 401
    assert str(sid) not in {d.id for d in app.state.match_index.seekers.seekers_}
    left = session.exec(
        select(Embedding).where(Embedding.owner_type == "seeker", Embedding.owner_id == sid)
    ).all()
    assert left == []
    emp_acc, _ = f.employer_account(session)
    # The count survives: the profile row remains, empty, for anonymised statistics.
    assert session.exec(text("SELECT COUNT(*) FROM seeker_profile")).one()[0] == 1  # type: ignore[call-overload]
    assert emp_acc.id
    erasures = session.exec(select(AuditLog).where(AuditLog.action == "erasure")).all()
    assert len(erasures) == 1


def test_erase_needs_confirmation(client: TestClient, session: Session, settings: Settings) -> None:
    acc, profile = f.seeker(session)
    r = client.post(
        f"/seekers/{profile.id}/erase", headers=f.headers(session, settings, acc), json={}
    )
    assert r.status_code == 422 and r.json()["field"] == "confirm"


def test_retention_purge(session: Session, settings: Settings) -> None:
    old = utcnow() - timedelta(days=settings.retain_login_attempts_days + 1)
    session.add(LoginAttempt(email="x@example.com", at=old))
    session.add(LoginAttempt(email="y@example.com"))
    _, closed = f.seeker(session, full_name="早已关闭 Long Closed")
    closed.closed_at = utcnow() - timedelta(days=settings.retain_closed_profiles_days + 1)
    session.add(closed)
    session.commit()
    done = purge(session, settings)
    session.commit()
    assert done["login_attempts"] == 1 and done["closed_profiles_erased"] == 1
    session.refresh(closed)
    assert closed.full_name == ""


def test_admin_break_glass_is_audited_and_shown_to_the_seeker(
    client: TestClient, session: Session, settings: Settings
) -> None:
    acc, profile = f.seeker(session)
    h = f.headers(session, settings, acc)
    consent(client, profile.id, h, "sensitive_profile")
    client.put(f"/seekers/{profile.id}/sensitive", headers=h, json=SENSITIVE)
    admin = f.headers(session, settings, f.account(session, Role.admin, centre_code=None))
    assert client.get(f"/seekers/{profile.id}", headers=admin).status_code == 403
    url = f"/admin/break-glass/seekers/{profile.id}"
    assert client.post(url, headers=admin, json={"reason": "x"}).status_code == 422
    r = client.post(url, headers=admin, json={"reason": "投诉调查 complaint investigation #42"})
    assert r.status_code == 200 and r.json()["sensitive"]["certificate_number"] == CERT
    assert r.headers["cache-control"] == "no-store"
    log = client.get(f"/seekers/{profile.id}/access-log", headers=h).json()
    assert [(e["actor_role"], e["action"]) for e in log] == [("admin", "break_glass")]
    assert log[0]["purpose"].startswith("投诉调查")
