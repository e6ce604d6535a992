"""Verified workplace accessibility through the API: volunteers, checks, photos, disputes and
the employer's answers, verified-only matching, expiry and reminders."""

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from api.cli import app as cli
from api.main import create_app
from api.settings import Settings, get_settings
from models import AccessibilityCheck, AccessibilityPhoto, AuditLog, Outbox, Posting, PostingOffer
from models.base import NeedLevel, OfferAvailability, Role, utcnow
from tests import factories as f

AV, AR = OfferAvailability.available, OfferAvailability.arrangeable
TODAY = utcnow().date().isoformat()


def h(session: Session, settings: Settings, acc: Any) -> dict[str, str]:
    return f.headers(session, settings, acc)


def check_body(**results: str) -> dict[str, Any]:
    return {
        "visited_on": TODAY,
        "note": "走访 visit",
        "findings": [
            {"code": c, "result": r, "note": f"{c} 备注 note"} for c, r in results.items()
        ],
    }


def jpeg_with_exif() -> bytes:
    """A real JPEG carrying EXIF with a GPS position, a camera and an orientation."""
    image = Image.new("RGB", (64, 48), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Secret Model 9"  # Model
    exif[0x0112] = 6  # Orientation: rotate 90°
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (30.0, 15.0, 0.0)
    gps[3], gps[4] = "E", (120.0, 10.0, 0.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=b"taken at Hangzhou by Wang")
    return out.getvalue()


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    emp = f.employer(session, name="无障碍测试公司 Access Co")
    employer_acc, _ = f.employer_account(session, emp)
    posting = f.posting(
        session, emp, offers={"lift": AV, "accessible_restroom": AV, "step_free_entrance": AR}
    )
    caseworker = f.account(session, Role.caseworker, centre_code="heping")
    volunteer = f.account(session, Role.volunteer, centre_code=None)
    return {
        "employer": emp,
        "employer_acc": employer_acc,
        "posting": posting,
        "caseworker": caseworker,
        "volunteer": volunteer,
    }


# --- the volunteer role -------------------------------------------------------------------


def test_admin_creates_a_volunteer_who_may_only_check(
    client: TestClient, session: Session, settings: Settings, world: dict[str, Any]
) -> None:
    admin = f.account(session, Role.admin, centre_code=None)
    r = client.post(
        "/accounts",
        headers=h(session, settings, admin),
        json={
            "email": "volunteer-new@example.com",
            "password": "a-good-long-password",
            "role": "volunteer",
            "display_name": "无障碍监督员 Volunteer",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "volunteer"
    token = client.post(
        "/auth/token",
        data={"username": "volunteer-new@example.com", "password": "a-good-long-password"},
    )
    assert token.status_code == 200, token.text
    vh = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert client.get("/auth/me", headers=vh).json()["role"] == "volunteer"
    work = client.get("/accessibility/worklist", headers=vh)
    assert work.status_code == 200
    assert [i["posting_id"] for i in work.json()["items"]] == [world["posting"].id]
    assert work.json()["items"][0]["claimed"] == 3
    for method, path in [
        ("GET", "/trainings"),
        ("GET", "/seekers"),
        ("GET", "/employers"),
        ("GET", f"/postings/{world['posting'].id}/candidates"),
        ("GET", "/referrals"),
    ]:
        assert client.request(method, path, headers=vh).status_code == 403, path
    # and no one registers themselves as a volunteer
    r = client.post(
        "/auth/register",
        json={"email": "self@example.com", "password": "a-good-long-password", "role": "volunteer"},
    )
    assert r.status_code == 422


# --- checks ----------------------------------------------------------------------------------


def test_a_check_makes_features_verified_disputed_or_leaves_them_claimed(
    client: TestClient, session: Session, settings: Settings, world: dict[str, Any]
) -> None:
    pid = world["posting"].id
    r = client.post(
        f"/postings/{pid}/accessibility-checks",
        headers=h(session, settings, world["volunteer"]),
        json=check_body(lift="confirmed", accessible_restroom="partly"),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["checker_role"] == "volunteer" and body["checked_by_me"] is True
    assert {x["code"]: x["result"] for x in body["findings"]} == {
        "lift": "confirmed",
        "accessible_restroom": "partly",
    }
    seeker, _ = f.seeker(session)
    posting = client.get(f"/postings/{pid}", headers=h(session, settings, seeker)).json()
    states = {o["code"]: (o["verification"], o["checked_on"]) for o in posting["offers"]}
    assert states == {
        "lift": ("verified", TODAY),
        "accessible_restroom": ("disputed", TODAY),
        "step_free_entrance": ("claimed", None),
    }
    # a seeker sees the states, not the check history; the employer sees both
    seen = client.get(f"/postings/{pid}/accessibility", headers=h(session, settings, seeker))
    assert seen.status_code == 200
    assert seen.json()["checks"] == []
    assert {x["code"]: x["status"] for x in seen.json()["features"]}["lift"] == "verified"
    own = client.get(
        f"/postings/{pid}/accessibility", headers=h(session, settings, world["employer_acc"])
    ).json()
    assert len(own["checks"]) == 1 and own["checks"][0]["note"] == "走访 visit"
    audit = session.exec(
        select(AuditLog).where(AuditLog.action == "accessibility_check_recorded")
    ).one()
    assert audit.actor_role == "volunteer" and audit.detail["lift"] == "confirmed"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"visited_on": "2999-01-01"}, 422, "visited_on"),
        ({"visited_on": "2001-01-01"}, 422, "visited_on"),
        (
            {"findings": [{"code": "sign_language_interpreter", "result": "confirmed"}]},
            422,
            "findings.0.code",
        ),
        ({"findings": []}, 422, "findings"),
        ({"findings": [{"code": "lift", "result": "maybe"}]}, 422, "findings.0.result"),
        ({"findings": [{"code": "lift", "result": "confirmed"}] * 2}, 422, None),
    ],
)
def test_bad_checks_are_refused_with_the_field(
    client: TestClient,
    session: Session,
    settings: Settings,
    world: dict[str, Any],
    change: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    body = {**check_body(lift="confirmed"), **change}
    r = client.post(
        f"/postings/{world['posting'].id}/accessibility-checks",
        headers=h(session, settings, world["caseworker"]),
        json=body,
    )
    assert r.status_code == status, r.text
    if field:
        assert r.json()["field"] == field
    assert session.exec(select(AccessibilityCheck)).all() == []


def test_closed_postings_are_not_checked_and_seekers_never_check(
    client: TestClient, session: Session, settings: Settings, world: dict[str, Any]
) -> None:
    pid = world["posting"].id
    seeker, _ = f.seeker(session)
    r = client.post(
        f"/postings/{pid}/accessibility-checks",
        headers=h(session, settings, seeker),
        json=check_body(lift="confirmed"),
    )
    assert r.status_code == 403
    client.post(f"/postings/{pid}/close", headers=h(session, settings, world["employer_acc"]))
    r = client.post(
        f"/postings/{pid}/accessibility-checks",
        headers=h(session, settings, world["caseworker"]),
        json=check_body(lift="confirmed"),
    )
    assert r.status_code in (404, 409), r.text


# --- photos ------------------------------------------------------------------------------


def _finding(
    client: TestClient,
    session: Session,
    settings: Settings,
    world: dict[str, Any],
    result: str = "not_found",
) -> int:
    r = client.post(
        f"/postings/{world['posting'].id}/accessibility-checks",
        headers=h(session, settings, world["volunteer"]),
        json=check_body(lift=result),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["findings"][0]["id"])


def test_photos_are_stripped_of_metadata_and_served_only_to_those_allowed(
    client: TestClient, session: Session, settings: Settings, world: dict[str, Any]
) -> None:
    fid = _finding(client, session, settings, world)
    vh = h(session, settings, world["volunteer"])
    original = jpeg_with_exif()
    assert b"Secret Model 9" in original and b"Hangzhou" in original
    r = client.post(
        f"/accessibility/findings/{fid}/photos",
        headers=vh,
        files={"file": ("IMG_0001.JPG", original, "image/jpeg")},
    )
    assert r.status_code == 201, r.text
    photo = r.json()
    assert photo["content_type"] == "image/jpeg"
    assert (photo["width"], photo["height"]) == (48, 64)  # the orientation was applied
    row = session.get(AccessibilityPhoto, photo["id"])
    assert row is not None
    stored = settings.photo_dir / row.stored_name
    assert stored.is_file() and "IMG_0001" not in row.stored_name
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
    data = client.get(photo["url"], headers=vh)
    assert data.status_code == 200
    assert data.headers["content-type"] == "image/jpeg"
    assert data.headers["x-content-type-options"] == "nosniff"
    for secret in (b"Secret Model 9", b"PhoneMaker", b"Hangzhou", b"Exif"):
        assert secret not in data.content
    with Image.open(io.BytesIO(data.content)) as img:
        assert not img.getexif() and "comment" not in img.info
    # the workplace's employer and staff see it; a seeker and another employer do not
    assert (
        client.get(photo["url"], headers=h(session, settings, world["employer_acc"])).status_code
        == 200
    )
    seeker, _ = f.seeker(session)
    assert client.get(photo["url"], headers=h(session, settings, seeker)).status_code == 403
    other, _ = f.employer_account(session)
    assert client.get(photo["url"], headers=h(session, settings, other)).status_code == 404
    # nothing of the photo is served from the static folder
    assert client.get(f"/static/{row.stored_name}").status_code == 404


def test_photo_type_is_judged_by_content_not_name(
    client: TestClient, session: Session, settings: Settings, world: dict[str, Any]
) -> None:
    fid = _finding(client, session, settings, world)
    vh = h(session, settings, world["volunteer"])
    fake = client.post(
        f"/accessibility/findings/{fid}/photos",
        headers=vh,
        files={"file": ("photo.jpg", b"<script>alert(1)</script>" * 10, "image/jpeg")},
    )
    assert fake.status_code == 422 and fake.json()["field"] == "file"
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, format="GIF")
    refused = client.post(
        f"/accessibility/findings/{fid}/photos",
        headers=vh,
        files={"file": ("photo.png", gif.getvalue(), "image/png")},
    )
    assert refused.status_code == 422
    png_named_txt = client.post(
        f"/accessibility/findings/{fid}/photos",
        headers=vh,
        files={"file": ("notes.txt", f.png_bytes(), "text/plain")},
    )
    assert png_named_txt.status_code == 201, png_named_txt.text
    assert len(session.exec(select(AccessibilityPhoto)).all()) == 1
    assert len(list(settings.photo_dir.iterdir())) == 1


def test_photo_size_limits(
    settings: Settings, engine: Engine, session: Session, world: dict[str, Any]
) -> None:
    small = settings.model_copy(update={"accessibility_photo_max_bytes": 20_000})
    with TestClient(create_app(small, engine), raise_server_exceptions=False) as client:
        fid = _finding(client, session, small, world)
        vh = h(session, small, world["volunteer"])
        noisy = io.BytesIO()
        Image.effect_noise((160, 160), 100).convert("RGB").save(noisy, format="PNG")
        big = noisy.getvalue()
        assert 20_000 < len(big) < 80_000
        r = client.post(
            f"/accessibility/findings/{fid}/photos",
            headers=vh,
            files={"file": ("big.png", big, "image/png")},
        )
        assert r.status_code == 422 and "larger than 20000" in r.json()["detail"]
        huge = b"\xff\xd8" + b"0" * 400_000
        r = client.post(
            f"/accessibility/findings/{fid}/photos",
            headers=vh,
            files={"file": ("huge.jpg", huge, "image/jpeg")},
        )
        assert r.status_code == 413
    assert session.exec(select(AccessibilityPhoto)).all() == []


def test_staff_remove_a_photo_and_its_file(
    client: TestClient, session: Session, settings: Settings, world: dict[str, Any]
) -> None:
    fid = _finding(client, session, settings, world)
    r = client.post(
        f"/accessibility/findings/{fid}/photos",
        headers=h(session, settings, world["volunteer"]),
        files={"file": ("a.png", f.png_bytes(), "image/png")},
    )
    pid = r.json()["id"]
    assert len(list(settings.photo_dir.iterdir())) == 1
    gone = client.delete(
        f"/accessibility/photos/{pid}", headers=h(session, settings, world["caseworker"])
    )
    assert gone.status_code == 204
    assert list(settings.photo_dir.iterdir()) == []
    assert session.exec(
        select(AuditLog).where(AuditLog.action == "accessibility_photo_deleted")
    ).one()


# --- disputes and the employer's answer ----------------------------------------------------


def test_a_claim_found_missing_is_told_to_the_employer_who_answers(
    client: TestClient, session: Session, settings: Settings, world: dict[str, Any]
) -> None:
    fid = _finding(client, session, settings, world, "not_found")
    pid = world["posting"].id
    push = session.exec(select(Outbox).where(Outbox.recipient_id == world["employer_acc"].id)).one()
    assert push.kind == "accessibility_dispute"
    assert push.payload["features"][0]["code"] == "lift"
    eh = h(session, settings, world["employer_acc"])
    inbox = client.get("/inbox", headers=eh).json()["items"]
    assert "lift" not in inbox[0]["subject"] and "电梯" in inbox[0]["text"]
    # the claim is still there, shown as disputed: nothing changed silently
    offers = {o["code"]: o for o in client.get(f"/postings/{pid}", headers=eh).json()["offers"]}
    assert offers["lift"]["availability"] == "available"
    assert offers["lift"]["verification"] == "disputed"
    # a volunteer cannot answer for the employer; another employer cannot either
    body = {"version": 1, "note": "电梯在维修 the lift is being repaired", "action": "keep"}
    other, _ = f.employer_account(session)
    assert (
        client.post(
            f"/accessibility/findings/{fid}/reply", headers=h(session, settings, other), json=body
        ).status_code
        == 404
    )
    r = client.post(f"/accessibility/findings/{fid}/reply", headers=eh, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["employer_reply"] == body["note"] and r.json()["version"] == 2
    stale = client.post(f"/accessibility/findings/{fid}/reply", headers=eh, json=body)
    assert stale.status_code == 409
    state = client.get(f"/postings/{pid}/accessibility", headers=eh).json()
    lift = next(x for x in state["features"] if x["code"] == "lift")
    assert lift["status"] == "disputed" and lift["employer_reply"] == body["note"]
    # the checker hears of the answer
    assert session.exec(
        select(Outbox).where(
            Outbox.recipient_id == world["volunteer"].id, Outbox.kind == "accessibility_reply"
        )
    ).one()
    # the employer then withdraws the claim: the offer goes, audited, the posting moves on
    before = session.get(Posting, pid)
    assert before is not None
    version = before.version
    r = client.post(
        f"/accessibility/findings/{fid}/reply",
        headers=eh,
        json={"version": 2, "note": "确实没有电梯 no lift indeed", "action": "withdraw_offer"},
    )
    assert r.status_code == 200, r.text
    session.rollback()
    assert session.get(PostingOffer, (pid, "lift")) is None
    after = session.get(Posting, pid)
    assert after is not None and after.version > version
    actions = [
        a.detail["action"]
        for a in session.exec(select(AuditLog).where(AuditLog.action == "accessibility_reply"))
    ]
    assert actions == ["keep", "withdraw_offer"]


def test_a_confirmed_feature_needs_no_answer_and_arrangeable_is_a_fix(
    client: TestClient, session: Session, settings: Settings, world: dict[str, Any]
) -> None:
    eh = h(session, settings, world["employer_acc"])
    ok = _finding(client, session, settings, world, "confirmed")
    r = client.post(
        f"/accessibility/findings/{ok}/reply",
        headers=eh,
        json={"version": 1, "note": "谢谢 thanks", "action": "keep"},
    )
    assert r.status_code == 409
    partly = _finding(client, session, settings, world, "partly")
    r = client.post(
        f"/accessibility/findings/{partly}/reply",
        headers=eh,
        json={"version": 1, "note": "可以安排 can arrange", "action": "make_arrangeable"},
    )
    assert r.status_code == 200, r.text
    session.rollback()
    offer = session.get(PostingOffer, (world["posting"].id, "lift"))
    assert offer is not None and offer.availability == OfferAvailability.arrangeable


# --- matching ----------------------------------------------------------------------------


def test_matches_show_verified_apart_from_claimed_and_verified_only_is_a_hard_constraint(
    client: TestClient, session: Session, settings: Settings, world: dict[str, Any]
) -> None:
    emp = world["employer"]
    checked = world["posting"]
    claimed = f.posting(session, emp, title="数据录入员 claimed lift", offers={"lift": AV})
    acc, profile = f.seeker(
        session,
        needs={"lift": NeedLevel.essential, "accessible_restroom": NeedLevel.preferred},
        language="en",
    )
    r = client.post(
        f"/postings/{checked.id}/accessibility-checks",
        headers=h(session, settings, world["caseworker"]),
        json=check_body(lift="confirmed", accessible_restroom="not_found"),
    )
    assert r.status_code == 201
    sh = h(session, settings, acc)
    items = client.get(f"/seekers/{profile.id}/matches", headers=sh).json()["items"]
    by_id = {i["posting"]["id"]: i["explanation"] for i in items}
    assert set(by_id) == {checked.id, claimed.id}
    v = {n["code"]: (n["status"], n["checked_on"]) for n in by_id[checked.id]["needs_verification"]}
    assert v == {"lift": ("verified", TODAY), "accessible_restroom": ("disputed", TODAY)}
    assert "Verified on site" in by_id[checked.id]["text"]
    assert [n["status"] for n in by_id[claimed.id]["needs_verification"]] == ["claimed"]
    assert sorted(by_id[checked.id]["needs_met"]) == ["accessible_restroom", "lift"]

    r = client.patch(
        f"/seekers/{profile.id}",
        headers=sh,
        json={"version": profile.version, "verified_only_essential": True},
    )
    assert r.status_code == 200, r.text
    assert r.json()["verified_only_essential"] is True
    items = client.get(f"/seekers/{profile.id}/matches", headers=sh).json()["items"]
    assert [i["posting"]["id"] for i in items] == [checked.id]
    # the feature's own code, never the matcher's internal verified code
    assert sorted(items[0]["explanation"]["needs_met"]) == ["accessible_restroom", "lift"]
    assert "+verified" not in str(items[0])

    # the check expires: at once the posting no longer counts, before any job ran
    session.exec(  # type: ignore[call-overload]
        update(AccessibilityCheck).values(expires_at=utcnow() - timedelta(minutes=1))
    )
    session.commit()
    assert client.get(f"/seekers/{profile.id}/matches", headers=sh).json()["items"] == []
    # the job marks it lapsed and moves the posting, so every index re-reads it
    from api.scheduler import run_job
    from api.services.digests import JobContext

    summary = run_job("accessibility", JobContext(client.app.state.engine, settings))  # type: ignore[attr-defined]
    assert summary["lapsed"] == 1
    session.rollback()
    assert session.exec(select(AccessibilityCheck)).one().lapsed_at is not None
    state = client.get(f"/postings/{checked.id}", headers=sh).json()
    lift = next(o for o in state["offers"] if o["code"] == "lift")
    assert lift["verification"] == "claimed"


# --- expiry reminders ---------------------------------------------------------------------


def test_reminders_go_to_caseworkers_once_per_state_and_run_by_hand(
    client: TestClient,
    session: Session,
    settings: Settings,
    engine: Engine,
    world: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    posting = session.get(Posting, world["posting"].id)
    assert posting is not None
    posting.centre_id = world["caseworker"].centre_id
    session.add(posting)
    session.commit()
    other_centre = f.account(session, Role.caseworker, centre_code="binjiang")
    _finding(client, session, settings, world, "confirmed")
    session.exec(  # type: ignore[call-overload]
        update(AccessibilityCheck).values(expires_at=utcnow() + timedelta(days=3))
    )
    session.commit()
    (tmp_path / "photos").mkdir(exist_ok=True)
    monkeypatch.setenv("JOBMATCH_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("JOBMATCH_EMBEDDING_MODEL", "hashing")
    monkeypatch.setenv("JOBMATCH_ACCESSIBILITY_PHOTO_DIR", str(tmp_path / "photos"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        first = runner.invoke(cli, ["jobs", "run", "accessibility"])
        assert first.exit_code == 0, first.output
        assert '"written": 1' in first.output
        again = runner.invoke(cli, ["jobs", "run", "accessibility"])
        assert '"written": 0' in again.output
        session.exec(  # type: ignore[call-overload]
            update(AccessibilityCheck).values(expires_at=utcnow() - timedelta(days=1))
        )
        session.commit()
        expired = runner.invoke(cli, ["jobs", "run", "accessibility"])
        assert '"written": 1' in expired.output
    finally:
        get_settings.cache_clear()
    rows = session.exec(
        select(Outbox).where(Outbox.kind == "accessibility_recheck").order_by(col(Outbox.id))
    ).all()
    assert [(r.recipient_id, r.period) for r in rows] == [
        (world["caseworker"].id, "expiring"),
        (world["caseworker"].id, "expired"),
    ]
    assert other_centre.id not in {r.recipient_id for r in rows}
    inbox = client.get("/inbox", headers=h(session, settings, world["caseworker"])).json()
    assert any("check" in i["subject"].lower() or "核查" in i["subject"] for i in inbox["items"])


def test_a_verified_health_related_need_never_reaches_a_push(
    client: TestClient, session: Session, settings: Settings, engine: Engine, world: dict[str, Any]
) -> None:
    import json

    from api.services import digests
    from tests.api.test_push import ctx, set_prefs

    posting = f.posting(
        session,
        world["employer"],
        offers={"extra_breaks": AV, "lift": AV},
    )
    r = client.post(
        f"/postings/{posting.id}/accessibility-checks",
        headers=h(session, settings, world["caseworker"]),
        json=check_body(extra_breaks="confirmed", lift="confirmed"),
    )
    assert r.status_code == 201, r.text
    acc, _ = f.seeker(
        session,
        needs={"extra_breaks": NeedLevel.essential, "lift": NeedLevel.preferred},
        verified_only_essential=True,
    )
    set_prefs(client, h(session, settings, acc))
    digests.run_digest(ctx(engine, settings))
    [row] = session.exec(select(Outbox).where(Outbox.kind == "digest")).all()
    assert row.payload["items"][0]["posting_id"] == posting.id  # matched on the verified code
    text = json.dumps(row.payload, ensure_ascii=False)
    assert "Lift / elevator" in text
    assert "Extra breaks" not in text and "extra_breaks" not in text and "+verified" not in text
