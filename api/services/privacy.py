"""Consent, sensitive data (encrypted, audited), access logs, export, erasure and retention."""

import json
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Column, Table, delete, or_, update
from sqlalchemy import inspect as sa_inspect
from sqlmodel import Session, SQLModel, col, select

import models
from api.crypto import reseal, seal, unseal
from api.deps import Principal
from api.errors import Conflict, InvalidInput, PermissionDenied
from api.schemas.privacy import (
    AccessLogEntry,
    BreakGlassOut,
    ConsentIn,
    ConsentPublic,
    ConsentText,
    ExportOut,
    SensitiveData,
)
from api.security import hash_password
from api.services import audit
from api.services import auth as auth_service
from api.services.consents import HEALTH_NEEDS, SENSITIVE_PROFILE, active_consent, health_codes
from api.services.seekers import get_profile, is_owner
from api.settings import Settings
from models import (
    Account,
    AuditLog,
    AuthSession,
    Consent,
    Embedding,
    LoginAttempt,
    Outbox,
    Referral,
    ReferralEvent,
    SeekerNeed,
    SeekerProfile,
    SeekerSensitive,
)
from models.base import OutboxStatus, Role, utcnow

CONSENT_TEXTS: dict[str, ConsentText] = {
    SENSITIVE_PROFILE: ConsentText(
        purpose=SENSITIVE_PROFILE,
        version="2026-11",
        scope=["disability_category", "disability_grade", "certificate_number", "health_notes"],
        title_zh="单独同意：保存残疾类别、等级、残疾人证号和健康备注",
        title_en="Separate consent: keep your disability category, grade, certificate number "
        "and health notes",
        text_zh=(
            "用途：让您所在职康中心的就业服务专员核实您可享受的就业服务，并在您为某次推荐"
            "勾选时告知用人单位。谁能看到：您本人；您所在中心的专员在有必要时查看，每次查看都会"
            "记录，您可以查到谁在何时因何查看。用人单位只在您为某次推荐单独勾选时才能看到。"
            "信息加密保存。不同意的后果：服务照常可用，我们按您的技能和所填便利需求为您匹配。"
            "您可以随时一步撤回同意，撤回后这些信息会被删除。"
        ),
        text_en=(
            "Purpose: so the caseworkers of your service centre can confirm which employment "
            "services you can receive, and so you can choose to tell an employer for one "
            "referral. Who sees it: you; your centre's caseworkers when needed, and every look "
            "is recorded and shown to you. Employers see it only if you tick it for a referral. "
            "It is stored encrypted. If you say no: the service works as before, matching on "
            "your skills and the accommodations you ask for. You can withdraw in one step at "
            "any time; the information is then deleted."
        ),
    ),
    HEALTH_NEEDS: ConsentText(
        purpose=HEALTH_NEEDS,
        version="2026-11",
        scope=["health_related_needs"],
        title_zh="单独同意：使用与健康有关的便利需求",
        title_en="Separate consent: use accommodation needs that say something about health",
        text_zh=(
            "用途：有些便利需求（如弹性工作时间安排、额外休息、治疗请假）会透露健康信息。"
            "同意后，我们用它们为您匹配岗位；用人单位只在推荐时看到与该岗位有关的需求。"
            "不同意的后果：您仍可使用服务，这些需求不会被保存或用于匹配。"
            "您可以随时撤回，撤回后这些需求会被删除。"
        ),
        text_en=(
            "Purpose: some needs (a flexible schedule, extra breaks, leave for treatment) say "
            "something about your health. With your consent we use them to match you; an "
            "employer sees only the needs relevant to its job, in a referral. If you say no: "
            "you can still use the service; these needs are neither kept nor used. You can "
            "withdraw at any time; the needs are then deleted."
        ),
    ),
}


def consent_texts() -> list[ConsentText]:
    return list(CONSENT_TEXTS.values())


def _owner_profile(session: Session, principal: Principal, seeker_id: int) -> SeekerProfile:
    profile = get_profile(session, principal, seeker_id)
    if not is_owner(principal, profile):
        raise PermissionDenied("only the seeker may do this")
    return profile


def list_consents(session: Session, principal: Principal, seeker_id: int) -> list[ConsentPublic]:
    get_profile(session, principal, seeker_id)
    rows = session.exec(
        select(Consent).where(Consent.seeker_id == seeker_id).order_by(col(Consent.given_at))
    )
    return [ConsentPublic.model_validate(r) for r in rows]


def give_consent(
    session: Session, principal: Principal, seeker_id: int, data: ConsentIn
) -> ConsentPublic:
    """Record the seeker's separate consent to the current text of a purpose."""
    _owner_profile(session, principal, seeker_id)
    text = CONSENT_TEXTS[data.purpose]
    if data.text_version != text.version:
        raise Conflict(
            "the consent text has changed; read the current version",
            field="text_version",
            current_version=text.version,
        )
    existing = active_consent(session, seeker_id, data.purpose)
    if existing is not None and existing.text_version == text.version:
        return ConsentPublic.model_validate(existing)
    if existing is not None:
        existing.withdrawn_at = utcnow()  # superseded by consent to the newer text
        session.add(existing)
    consent = Consent(
        seeker_id=seeker_id, purpose=data.purpose, scope=list(text.scope), text_version=text.version
    )
    session.add(consent)
    session.flush()
    audit.record_by(
        session,
        principal,
        "consent_given",
        object_type="consent",
        object_id=consent.id or "",
        purpose=data.purpose,
    )
    return ConsentPublic.model_validate(consent)


def withdraw_consent(
    session: Session, principal: Principal, seeker_id: int, consent_id: int
) -> ConsentPublic:
    """Withdraw in one step: the data the consent covered is deleted at once."""
    _owner_profile(session, principal, seeker_id)
    consent = session.get(Consent, consent_id)
    if consent is None or consent.seeker_id != seeker_id:
        raise InvalidInput(f"consent {consent_id} is not yours", field="consent_id")
    if consent.withdrawn_at is None:
        consent.withdrawn_at = utcnow()
        session.add(consent)
        if consent.purpose == SENSITIVE_PROFILE:
            session.execute(
                delete(SeekerSensitive).where(col(SeekerSensitive.seeker_id) == seeker_id)
            )
        elif consent.purpose == HEALTH_NEEDS:
            _delete_health_needs(session, seeker_id)
        audit.record_by(
            session,
            principal,
            "consent_withdrawn",
            object_type="consent",
            object_id=consent_id,
            purpose=consent.purpose,
        )
        session.flush()
    return ConsentPublic.model_validate(consent)


def _delete_health_needs(session: Session, seeker_id: int) -> None:
    codes = health_codes(session)
    if codes:
        session.execute(
            delete(SeekerNeed).where(
                col(SeekerNeed.seeker_id) == seeker_id, col(SeekerNeed.code).in_(codes)
            )
        )
        profile = session.get(SeekerProfile, seeker_id)
        if profile is not None:  # the matcher must see the change: bump the profile
            profile.updated_at = utcnow()
            session.add(profile)


# --- sensitive data ------------------------------------------------------------------------


def write_sensitive(
    session: Session,
    settings: Settings,
    principal: Principal,
    seeker_id: int,
    data: SensitiveData,
) -> SensitiveData:
    """Store (encrypted) the seeker's sensitive data; needs their separate consent."""
    _owner_profile(session, principal, seeker_id)
    consent = active_consent(session, seeker_id, SENSITIVE_PROFILE)
    if consent is None:
        raise Conflict(
            "give the sensitive_profile consent before storing these fields",
            consent_required=SENSITIVE_PROFILE,
        )
    sealed = seal(settings, data.model_dump_json())
    row = session.get(SeekerSensitive, seeker_id)
    if row is None:
        row = SeekerSensitive(seeker_id=seeker_id, sealed=sealed, consent_id=consent.id)
    else:
        row.sealed, row.consent_id, row.updated_at = sealed, consent.id, utcnow()
    session.add(row)
    session.flush()
    return data


def load_sensitive(session: Session, settings: Settings, seeker_id: int) -> SensitiveData | None:
    """Decrypt a seeker's sensitive data (no checks, no audit: callers do both)."""
    row = session.get(SeekerSensitive, seeker_id)
    if row is None:
        return None
    return SensitiveData.model_validate_json(unseal(settings, row.sealed))


def read_sensitive(
    session: Session,
    settings: Settings,
    principal: Principal,
    seeker_id: int,
    purpose: str | None,
) -> SensitiveData | None:
    """The owner reads freely; their centre's caseworker with a stated purpose, audited."""
    profile = get_profile(session, principal, seeker_id)
    if not is_owner(principal, profile):
        if not purpose or len(purpose.strip()) < 4:
            raise InvalidInput("state why you need these fields", field="purpose")
        audit.record_by(
            session,
            principal,
            "sensitive_read",
            object_type="seeker_sensitive",
            object_id=seeker_id,
            purpose=purpose.strip(),
        )
    return load_sensitive(session, settings, seeker_id)


def delete_sensitive(session: Session, principal: Principal, seeker_id: int) -> None:
    _owner_profile(session, principal, seeker_id)
    session.execute(delete(SeekerSensitive).where(col(SeekerSensitive.seeker_id) == seeker_id))
    session.flush()


def rotate_keys(session: Session, settings: Settings, batch: int = 500) -> int:
    """Re-encrypt every sealed record with the newest data key; returns how many."""
    count = 0
    rows = list(session.exec(select(SeekerSensitive)))
    for row in rows:
        row.sealed = reseal(settings, row.sealed)
        session.add(row)
        count += 1
        if count % batch == 0:
            session.flush()
    session.flush()
    return count


def access_log(session: Session, principal: Principal, seeker_id: int) -> list[AccessLogEntry]:
    """Who read this seeker's sensitive data, when and why (for the seeker)."""
    _owner_profile(session, principal, seeker_id)
    rows = session.exec(
        select(AuditLog)
        .where(
            col(AuditLog.object_id) == str(seeker_id),
            col(AuditLog.object_type).in_(["seeker_sensitive", "seeker_export"]),
            col(AuditLog.actor_id) != principal.id,
        )
        .order_by(col(AuditLog.at).desc())
    )
    return [
        AccessLogEntry(at=r.at, actor_role=r.actor_role, action=r.action, purpose=r.purpose)
        for r in rows
    ]


# --- export and erasure ----------------------------------------------------------------


Selector = Callable[[Session, SeekerProfile, Account], list[Any]]


def owner_columns(table: Table) -> list[tuple[Column[Any], str]]:
    """The columns of a table that point at a seeker ("seeker") or an account ("account")."""
    out = []
    for column in table.columns:
        for fk in column.foreign_keys:
            target = fk.column.table.name
            if target in ("seeker_profile", "account") and fk.column.name == "id":
                out.append((column, "seeker" if target == "seeker_profile" else "account"))
    return out


def _generic(table: Table) -> Selector:
    """Rows of a table that point at the seeker or their account."""

    def select_rows(session: Session, profile: SeekerProfile, account: Account) -> list[Any]:
        keys = {"seeker": profile.id, "account": account.id}
        condition = or_(*(column == keys[kind] for column, kind in owner_columns(table)))
        return [dict(r._mapping) for r in session.execute(table.select().where(condition))]

    return select_rows


def _by(column: Any, value: Callable[[SeekerProfile, Account], Any]) -> Selector:
    return lambda s, p, a: list(s.exec(select(column.class_).where(column == value(p, a))))


def _events(session: Session, profile: SeekerProfile, _account: Account) -> list[Any]:
    ids = select(Referral.id).where(Referral.seeker_id == profile.id)
    return list(session.exec(select(ReferralEvent).where(col(ReferralEvent.referral_id).in_(ids))))


def _embeddings(session: Session, profile: SeekerProfile, _account: Account) -> list[Any]:
    return list(
        session.exec(
            select(Embedding).where(
                Embedding.owner_type == "seeker", Embedding.owner_id == profile.id
            )
        )
    )


def _audit_rows(session: Session, profile: SeekerProfile, account: Account) -> list[Any]:
    return list(
        session.exec(
            select(AuditLog)
            .where(
                (col(AuditLog.actor_id) == account.id)
                | (col(AuditLog.object_id) == str(profile.id))
                & col(AuditLog.object_type).in_(["seeker", "seeker_sensitive", "seeker_export"])
            )
            .order_by(col(AuditLog.at))
        )
    )


# Tables whose rows about a person are found another way than by a foreign key to the
# seeker or the account. Every other table with such a key is exported and erased
# generically, so a new table is covered the day it is added.
SPECIAL_TABLES: dict[str, Selector] = {
    "account": _by(col(Account.id), lambda p, a: a.id),
    "seeker_profile": _by(col(SeekerProfile.id), lambda p, a: p.id),
    "login_attempt": _by(col(LoginAttempt.email), lambda p, a: a.email),
    "referral_event": _events,
    "embedding": _embeddings,
    "audit_log": _audit_rows,
}
# Tables that point at accounts for another reason than holding a person's data.
STAFF_ONLY = {
    "training",  # created_by: the staff member who published it
    # Accessibility checks of workplaces: the checker (caseworker or volunteer), the uploader
    # and the employer who answered; nothing about a seeker. Photos show workplaces (checkers
    # are told not to photograph people; staff delete one that does), so they are in no
    # seeker's export or erasure.
    "accessibility_check",
    "accessibility_finding",
    "accessibility_photo",
}


def personal_tables() -> dict[str, Selector]:
    """Every table that holds something about a seeker, with how to find their rows."""
    out: dict[str, Selector] = {}
    for table in models.metadata.sorted_tables:
        if table.name in SPECIAL_TABLES:
            out[table.name] = SPECIAL_TABLES[table.name]
        elif table.name not in STAFF_ONLY and owner_columns(table):
            out[table.name] = _generic(table)
    return out


# Columns left out of an export, and why.
NOT_EXPORTED: dict[str, set[str]] = {
    "account": {"password_hash"},  # a secret, and not information about the person
    "auth_session": {"id"},  # the session secret itself
    "seeker_sensitive": {"sealed"},  # exported decrypted, under "sensitive"
    "embedding": {"vector"},  # 384 numbers derived from the profile text; model and hash shown
}


def _row_dict(table: str, row: SQLModel | dict[str, Any]) -> dict[str, Any]:
    """Every stored column of a row (but those NOT_EXPORTED), as JSON-ready values."""
    skip = NOT_EXPORTED.get(table, set())
    if isinstance(row, dict):
        data = {k: v for k, v in row.items() if k not in skip}
    else:
        columns = sa_inspect(type(row)).column_attrs
        data = {c.key: getattr(row, c.key) for c in columns if c.key not in skip}
    plain: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return plain


def export(session: Session, settings: Settings, principal: Principal, seeker_id: int) -> ExportOut:
    """Everything held about the seeker, as JSON (PIPL Art. 45)."""
    profile = _owner_profile(session, principal, seeker_id)
    account = session.get(Account, profile.account_id)
    assert account is not None
    tables = {
        name: [_row_dict(name, r) for r in select_rows(session, profile, account)]
        for name, select_rows in personal_tables().items()
    }
    sensitive = load_sensitive(session, settings, seeker_id)
    audit.record_by(
        session,
        principal,
        "export",
        object_type="seeker_export",
        object_id=seeker_id,
    )
    return ExportOut(
        exported_at=utcnow(),
        seeker_id=seeker_id,
        tables=tables,
        sensitive=sensitive.model_dump(mode="json") if sensitive else None,
    )


def erase(session: Session, principal: Principal, seeker_id: int) -> None:
    """Erase the seeker: delete or irreversibly anonymise them in every table; the referral
    counts survive without anything that points back to the person."""
    profile = (
        get_profile(session, principal, seeker_id)
        if principal.role != Role.admin
        else session.get(SeekerProfile, seeker_id)
    )
    if profile is None:
        raise InvalidInput(f"seeker {seeker_id} not found", field="seeker_id")
    if principal.role not in (Role.seeker, Role.admin):
        raise PermissionDenied("only the seeker (or an admin on their request) may erase")
    account = session.get(Account, profile.account_id)
    assert account is not None
    sid, aid, now = profile.id or 0, account.id or 0, utcnow()
    email = account.email
    referral_ids = select(Referral.id).where(Referral.seeker_id == sid)
    session.execute(
        update(ReferralEvent)
        .where(col(ReferralEvent.referral_id).in_(referral_ids))
        .values(reason="", details={})
    )
    session.execute(
        update(Referral)
        .where(col(Referral.seeker_id) == sid)
        .values(shared_fields=[], consent_id=None)
    )
    keys = {"seeker": sid, "account": aid}
    kept = {*SPECIAL_TABLES, "referral"}  # anonymised below, or kept for anonymised counts
    for table in reversed(models.metadata.sorted_tables):  # children before parents
        if table.name in kept or table.name in STAFF_ONLY or not owner_columns(table):
            continue
        condition = or_(*(column == keys[kind] for column, kind in owner_columns(table)))
        session.execute(table.delete().where(condition))
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.email) == email))
    session.execute(
        delete(Embedding).where(
            col(Embedding.owner_type) == "seeker", col(Embedding.owner_id) == sid
        )
    )
    for field, blank in (
        ("full_name", ""),
        ("phone", ""),
        ("headline", ""),
        ("skills", []),
        ("experience", ""),
        ("education", ""),
        ("desired_roles", []),
        ("location_text", ""),
        ("lat", None),
        ("lon", None),
        ("commute_limit_km", None),
        ("expected_wage", None),
    ):
        setattr(profile, field, blank)
    profile.closed_at = profile.closed_at or now
    profile.updated_at = now
    session.add(profile)
    account.email = f"erased-{aid}@erased.invalid"
    account.display_name = ""
    account.password_hash = hash_password(secrets.token_urlsafe(32))
    account.is_active = False
    session.add(account)
    auth_service.revoke_all_sessions(session, aid)
    audit.record_by(
        session,
        principal,
        "erasure",
        object_type="seeker",
        object_id=sid,
    )
    session.flush()


def purge(session: Session, settings: Settings) -> dict[str, int]:
    """Apply the retention limits in the settings; returns what was removed, per kind."""
    now = utcnow()
    done: dict[str, int] = {}
    result = session.execute(
        delete(LoginAttempt).where(
            col(LoginAttempt.at) < now - timedelta(days=settings.retain_login_attempts_days)
        )
    )
    done["login_attempts"] = result.rowcount or 0  # type: ignore[attr-defined]
    result = session.execute(
        delete(AuthSession).where(
            col(AuthSession.expires_at) < now - timedelta(days=settings.retain_sessions_days)
        )
    )
    done["sessions"] = result.rowcount or 0  # type: ignore[attr-defined]
    result = session.execute(
        delete(Outbox).where(
            col(Outbox.status) == OutboxStatus.delivered,
            col(Outbox.created_at) < now - timedelta(days=settings.retain_delivered_pushes_days),
        )
    )
    done["pushes"] = result.rowcount or 0  # type: ignore[attr-defined]
    cutoff = now - timedelta(days=settings.retain_closed_profiles_days)
    stale = session.exec(
        select(SeekerProfile).where(
            col(SeekerProfile.closed_at) < cutoff, SeekerProfile.full_name != ""
        )
    ).all()
    system = _system_principal(session)
    for profile in stale:
        erase(session, system, profile.id or 0)
    done["closed_profiles_erased"] = len(stale)
    session.flush()
    return done


def _system_principal(session: Session) -> Principal:
    """The retention job acts as an admin without a login session."""
    account = Account(id=None, email="system", password_hash="", role=Role.admin)
    return Principal(
        account=account,
        session_id="system",
        via_cookie=False,
        request_id="retention",
    )


def break_glass(
    session: Session, settings: Settings, principal: Principal, seeker_id: int, reason: str
) -> BreakGlassOut:
    """An admin's audited look at one person's record, for a stated reason."""
    profile = session.get(SeekerProfile, seeker_id)
    if profile is None:
        raise InvalidInput(f"seeker {seeker_id} not found", field="seeker_id")
    audit.record_by(
        session,
        principal,
        "break_glass",
        object_type="seeker_sensitive",
        object_id=seeker_id,
        purpose=reason.strip(),
    )
    sensitive = load_sensitive(session, settings, seeker_id)
    return BreakGlassOut(
        seeker_id=seeker_id,
        profile=_row_dict("seeker_profile", profile),
        sensitive=sensitive.model_dump(mode="json") if sensitive else None,
    )
