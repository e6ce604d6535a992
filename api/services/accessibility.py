"""Verified workplace accessibility (无障碍): on-site checks of what a posting's workplace
claims, photos of findings, the employer's answers, and the expiry of checks.

Nothing changes silently: a feature found missing stays claimed but shows as disputed, the
employer is told (a push) and answers (keeping, withdrawing or downgrading the claim);
every step is audited. A change of what is verified touches the posting, so every
process's match index picks it up.
"""

import logging
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, BinaryIO

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.db import after_commit, read_only, session_scope
from api.deps import Principal
from api.errors import Conflict, InvalidInput, InvalidState, NotFound, PermissionDenied
from api.schemas.accessibility import (
    CheckIn,
    CheckOut,
    FeatureState,
    FindingOut,
    PhotoOut,
    PostingAccessibilityOut,
    ReplyIn,
    WorkItem,
    WorkPage,
)
from api.schemas.common import PageParams
from api.services import audit, outbox, photos
from api.services import employers as employer_service
from api.services.outbox import Push, local_zone
from api.services.verification import feature_states
from api.settings import Settings
from models import (
    AccessibilityCheck,
    AccessibilityFinding,
    AccessibilityPhoto,
    Accommodation,
    Account,
    Employer,
    Posting,
    PostingOffer,
)
from models.base import CheckResult, OfferAvailability, PostingStatus, Role, utcnow

log = logging.getLogger(__name__)

CHECKERS = (Role.caseworker, Role.volunteer)
# Who sees a workplace's check history (notes, photos): staff, volunteers, its employer.
HISTORY_READERS = (Role.caseworker, Role.admin, Role.volunteer)
ORPHAN_AGE_SECONDS = 3600.0


def _labels(session: Session, codes: Iterable[str]) -> dict[str, Accommodation]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = session.exec(select(Accommodation).where(col(Accommodation.code).in_(wanted)))
    return {a.code: a for a in rows}


def _touch(session: Session, posting: Posting) -> None:
    """Mark the posting changed (its version moves), so match indexes re-read it."""
    posting.updated_at = utcnow()
    session.add(posting)


def page_url(settings: Settings, posting_id: int) -> str:
    return f"{settings.public_base_url.rstrip('/')}/workplaces/{posting_id}"


def _local_today(settings: Settings) -> date:
    return utcnow().astimezone(local_zone(settings.timezone)).date()


def _expiry(settings: Settings, visited_on: date) -> datetime:
    zone = local_zone(settings.timezone)
    start = datetime(visited_on.year, visited_on.month, visited_on.day, tzinfo=zone)
    return (start + timedelta(days=settings.accessibility_check_valid_days)).astimezone(UTC)


def _employer_accounts(session: Session, employer_id: int) -> list[Account]:
    return list(
        session.exec(
            select(Account).where(
                Account.employer_id == employer_id,
                Account.role == Role.employer,
                col(Account.is_active).is_(True),
            )
        )
    )


# --- recording a check ----------------------------------------------------------------------


def record_check(
    session: Session, principal: Principal, settings: Settings, posting_id: int, data: CheckIn
) -> AccessibilityCheck:
    """Record what an on-site visit found for the posting's claimed features."""
    if principal.role not in CHECKERS:
        raise PermissionDenied("only caseworkers and accessibility volunteers record checks")
    posting = employer_service.get_posting(session, principal, posting_id)
    if posting.status != PostingStatus.open:
        raise Conflict(f"this posting is {posting.status.value}; only open postings are checked")
    today = _local_today(settings)
    if data.visited_on > today:
        raise InvalidInput("the visit cannot be in the future", field="visited_on")
    if data.visited_on <= today - timedelta(days=settings.accessibility_check_valid_days):
        raise InvalidInput("a visit this old would already have expired", field="visited_on")
    offered = {
        o.code
        for o in session.exec(select(PostingOffer).where(PostingOffer.posting_id == posting_id))
    }
    for i, finding in enumerate(data.findings):
        if finding.code not in offered:
            raise InvalidInput(
                f"the posting does not claim {finding.code!r}", field=f"findings.{i}.code"
            )
    check = AccessibilityCheck(
        posting_id=posting_id,
        employer_id=posting.employer_id,
        checked_by=principal.id,
        checker_role=principal.role.value,
        visited_on=data.visited_on,
        note=data.note.strip(),
        expires_at=_expiry(settings, data.visited_on),
    )
    session.add(check)
    session.flush()
    rows = [
        AccessibilityFinding(
            check_id=check.id or 0,
            posting_id=posting_id,
            code=f.code,
            result=f.result,
            note=f.note.strip(),
        )
        for f in data.findings
    ]
    session.add_all(rows)
    _touch(session, posting)
    session.flush()
    results = {r.code: r.result.value for r in rows}
    audit.record_by(
        session,
        principal,
        "accessibility_check_recorded",
        object_type="posting",
        object_id=posting_id,
        detail={"check_id": check.id, "visited_on": data.visited_on.isoformat(), **results},
    )
    disputed = [r for r in rows if r.result != CheckResult.confirmed]
    if disputed:
        _tell_employer(session, settings, posting, check, disputed)
    return check


def _tell_employer(
    session: Session,
    settings: Settings,
    posting: Posting,
    check: AccessibilityCheck,
    disputed: list[AccessibilityFinding],
) -> None:
    labels = _labels(session, [f.code for f in disputed])
    features = [
        {
            "code": f.code,
            "label": {
                "zh": labels[f.code].label_zh if f.code in labels else f.code,
                "en": labels[f.code].label_en if f.code in labels else f.code,
            },
            "result": f.result.value,
            "note": f.note,
            "finding_id": f.id,
        }
        for f in disputed
    ]
    recipients = _employer_accounts(session, posting.employer_id)
    pushes = [
        Push(
            recipient_id=acc.id or 0,
            kind=outbox.ACCESSIBILITY_DISPUTE,
            item_key=f"check:{check.id}",
            period="",
            payload={
                "posting_id": posting.id,
                "title": posting.title,
                "check_id": check.id,
                "visited_on": check.visited_on.isoformat(),
                "features": features,
                "url": page_url(settings, posting.id or 0),
            },
        )
        for acc in recipients
    ]
    outbox.write(session, pushes)
    audit.record(
        session,
        "accessibility_dispute_notified",
        object_type="posting",
        object_id=posting.id or "",
        detail={
            "check_id": check.id,
            "recipients": len(pushes),
            "codes": [f.code for f in disputed],
        },
    )


# --- reading ----------------------------------------------------------------------------------


def _photo_out(p: AccessibilityPhoto) -> PhotoOut:
    return PhotoOut(
        id=p.id or 0,
        finding_id=p.finding_id,
        content_type=p.content_type,
        size_bytes=p.size_bytes,
        width=p.width,
        height=p.height,
        created_at=p.created_at,
        url=f"/accessibility/photos/{p.id}",
    )


def finding_out(
    f: AccessibilityFinding, labels: dict[str, Accommodation], photo_rows: list[AccessibilityPhoto]
) -> FindingOut:
    a = labels.get(f.code)
    return FindingOut(
        id=f.id or 0,
        check_id=f.check_id,
        posting_id=f.posting_id,
        code=f.code,
        label_zh=a.label_zh if a else f.code,
        label_en=a.label_en if a else f.code,
        result=f.result,
        note=f.note,
        employer_reply=f.employer_reply,
        reply_action=f.reply_action,
        replied_at=f.replied_at,
        version=f.version,
        photos=[_photo_out(p) for p in photo_rows],
    )


def checks_of(session: Session, principal: Principal, posting_id: int) -> list[CheckOut]:
    """The posting's checks, newest first, with findings and photos."""
    now = utcnow()
    checks = list(
        session.exec(
            select(AccessibilityCheck)
            .where(AccessibilityCheck.posting_id == posting_id)
            .order_by(col(AccessibilityCheck.visited_on).desc(), col(AccessibilityCheck.id).desc())
        )
    )
    findings = list(
        session.exec(
            select(AccessibilityFinding)
            .where(AccessibilityFinding.posting_id == posting_id)
            .order_by(col(AccessibilityFinding.code))
        )
    )
    photo_rows: dict[int, list[AccessibilityPhoto]] = {}
    ids = [f.id for f in findings]
    if ids:
        for p in session.exec(
            select(AccessibilityPhoto)
            .where(col(AccessibilityPhoto.finding_id).in_(ids))
            .order_by(col(AccessibilityPhoto.id))
        ):
            photo_rows.setdefault(p.finding_id, []).append(p)
    labels = _labels(session, [f.code for f in findings])
    by_check: dict[int, list[FindingOut]] = {}
    for f in findings:
        by_check.setdefault(f.check_id, []).append(
            finding_out(f, labels, photo_rows.get(f.id or 0, []))
        )
    return [
        CheckOut(
            id=c.id or 0,
            posting_id=c.posting_id,
            employer_id=c.employer_id,
            checker_role=c.checker_role,
            checked_by_me=c.checked_by == principal.id,
            visited_on=c.visited_on,
            note=c.note,
            created_at=c.created_at,
            expires_at=c.expires_at,
            expired=c.expires_at <= now,
            findings=by_check.get(c.id or 0, []),
        )
        for c in checks
    ]


def _may_read_history(principal: Principal, posting: Posting) -> bool:
    if principal.role in HISTORY_READERS:
        return True
    return principal.role == Role.employer and principal.account.employer_id == posting.employer_id


def posting_accessibility(
    session: Session, principal: Principal, posting_id: int
) -> PostingAccessibilityOut:
    """A posting's claimed features with their states; the check history for those allowed."""
    posting = employer_service.get_posting(session, principal, posting_id)
    employer = session.get(Employer, posting.employer_id)
    states = feature_states(session, [posting_id], utcnow())[posting_id]
    labels = _labels(session, states)
    features = [
        FeatureState(
            code=code,
            label_zh=labels[code].label_zh if code in labels else code,
            label_en=labels[code].label_en if code in labels else code,
            availability=s.availability,
            status=s.status,  # type: ignore[arg-type]
            checked_on=s.checked_on,
            verified_until=s.verified_until,
            finding_id=s.finding.id if s.finding else None,
            finding_note=s.finding.note if s.finding and s.status == "disputed" else "",
            employer_reply=s.finding.employer_reply if s.finding else "",
        )
        for code, s in states.items()
    ]
    history = (
        checks_of(session, principal, posting_id) if _may_read_history(principal, posting) else []
    )
    return PostingAccessibilityOut(
        posting_id=posting_id,
        title=posting.title,
        employer_id=posting.employer_id,
        employer_name=employer.name if employer else "",
        location_text=posting.location_text,
        features=features,
        checks=history,
    )


def worklist(session: Session, page: PageParams, *, due_only: bool = False) -> WorkPage:
    """Open postings that claim accessibility: never checked first, then the oldest checks."""
    now = utcnow()
    last = (
        select(
            col(AccessibilityCheck.posting_id).label("posting_id"),
            func.max(AccessibilityCheck.visited_on).label("visited"),
            func.max(AccessibilityCheck.expires_at).label("expires"),
        )
        .group_by(col(AccessibilityCheck.posting_id))
        .subquery()
    )
    claims = select(PostingOffer.posting_id).distinct()
    query: Any = (
        select(Posting, Employer.name, last.c.visited, last.c.expires)
        .join(Employer, col(Employer.id) == Posting.employer_id)
        .outerjoin(last, last.c.posting_id == Posting.id)
        .where(
            Posting.status == PostingStatus.open,
            col(Posting.id).in_(claims),
        )
    )
    if due_only:
        query = query.where(last.c.expires.is_(None) | (last.c.expires < now + timedelta(days=30)))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(last.c.expires.is_not(None), last.c.expires, col(Posting.id))
        .limit(page.limit)
        .offset(page.offset)
    ).all()
    states = feature_states(session, [p.id or 0 for p, *_ in rows], now)
    items = []
    for posting, name, visited, expires in rows:
        s = states.get(posting.id or 0, {})
        items.append(
            WorkItem(
                posting_id=posting.id or 0,
                title=posting.title,
                employer_name=name,
                location_text=posting.location_text,
                claimed=len(s),
                verified=sum(1 for x in s.values() if x.status == "verified"),
                disputed=sum(1 for x in s.values() if x.status == "disputed"),
                last_visited_on=_as_date(visited),
                expires_at=_as_datetime(expires),
            )
        )
    return WorkPage(items=items, total=int(total), limit=page.limit, offset=page.offset)


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])  # SQLite aggregates return text


def _as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- photos -------------------------------------------------------------------------------------


def _finding(session: Session, finding_id: int) -> tuple[AccessibilityFinding, AccessibilityCheck]:
    finding = session.get(AccessibilityFinding, finding_id)
    if finding is None:
        raise NotFound(f"finding {finding_id} not found")
    check = session.get(AccessibilityCheck, finding.check_id)
    assert check is not None
    return finding, check


def add_photo(
    session: Session,
    principal: Principal,
    settings: Settings,
    finding_id: int,
    stream: BinaryIO,
) -> AccessibilityPhoto:
    """Add a photo to a finding: the checker who recorded it, or a caseworker."""
    _, check = _finding(session, finding_id)
    if principal.role != Role.caseworker and check.checked_by != principal.id:
        raise NotFound(f"finding {finding_id} not found")
    count = session.exec(
        select(func.count()).where(AccessibilityPhoto.finding_id == finding_id)
    ).one()
    if count >= settings.accessibility_photos_per_finding:
        raise Conflict(
            f"a finding holds at most {settings.accessibility_photos_per_finding} photos"
        )
    raw = photos.read_bounded(stream, settings.accessibility_photo_max_bytes)
    clean = photos.clean(
        raw,
        max_pixels=settings.accessibility_photo_max_pixels,
        max_side=settings.accessibility_photo_max_side,
    )
    name = photos.new_name()
    # The file is written first; a photo whose row never commits is an orphan that the
    # accessibility job deletes after an hour.
    photos.store(settings.photo_dir, name, clean.data)
    row = AccessibilityPhoto(
        finding_id=finding_id,
        stored_name=name,
        content_type=clean.content_type,
        size_bytes=len(clean.data),
        width=clean.width,
        height=clean.height,
        uploaded_by=principal.id,
    )
    session.add(row)
    session.flush()
    audit.record_by(
        session,
        principal,
        "accessibility_photo_added",
        object_type="accessibility_finding",
        object_id=finding_id,
        detail={"photo_id": row.id, "bytes": len(clean.data)},
    )
    return row


def photo_out(row: AccessibilityPhoto) -> PhotoOut:
    return _photo_out(row)


def _photo_posting(session: Session, photo_id: int) -> tuple[AccessibilityPhoto, Posting]:
    row = session.get(AccessibilityPhoto, photo_id)
    if row is None:
        raise NotFound(f"photo {photo_id} not found")
    finding = session.get(AccessibilityFinding, row.finding_id)
    posting = session.get(Posting, finding.posting_id) if finding else None
    if posting is None:
        raise NotFound(f"photo {photo_id} not found")
    return row, posting


def read_photo(
    session: Session, principal: Principal, settings: Settings, photo_id: int
) -> tuple[bytes, str]:
    """A photo's bytes, for staff, volunteers and the employer of the workplace."""
    row, posting = _photo_posting(session, photo_id)
    if not _may_read_history(principal, posting):
        raise NotFound(f"photo {photo_id} not found")
    try:
        return photos.load(settings.photo_dir, row.stored_name), row.content_type
    except (OSError, ValueError) as exc:
        log.warning("photo %s missing from the photo folder", photo_id)
        raise NotFound(f"photo {photo_id} not found") from exc


def delete_photo(session: Session, principal: Principal, settings: Settings, photo_id: int) -> None:
    """Remove a photo (for instance one that shows a person); the file goes after commit."""
    row, posting = _photo_posting(session, photo_id)
    name = row.stored_name
    session.delete(row)
    session.flush()
    audit.record_by(
        session,
        principal,
        "accessibility_photo_deleted",
        object_type="accessibility_finding",
        object_id=row.finding_id,
        detail={"photo_id": photo_id, "posting_id": posting.id},
    )
    after_commit(session, lambda: photos.remove(settings.photo_dir, name))


# --- the employer's answer ----------------------------------------------------------------------


def reply(
    session: Session, principal: Principal, settings: Settings, finding_id: int, data: ReplyIn
) -> AccessibilityFinding:
    """The employer answers a feature found missing or partly there, and may withdraw the
    claim or make it "can be arranged"; the feature stays disputed until checked again."""
    finding, check = _finding(session, finding_id)
    if principal.role != Role.employer or principal.account.employer_id != check.employer_id:
        raise NotFound(f"finding {finding_id} not found")
    if finding.result == CheckResult.confirmed:
        raise InvalidState("this feature was confirmed; there is nothing to answer")
    if data.version != finding.version:
        raise Conflict(
            "the finding was answered since you read it",
            field="version",
            current_version=finding.version,
        )
    posting = session.get(Posting, finding.posting_id)
    assert posting is not None
    offer = session.get(PostingOffer, (finding.posting_id, finding.code))
    if data.action != "keep":
        if posting.status in (PostingStatus.closed, PostingStatus.filled):
            raise Conflict(f"this posting is {posting.status.value}; it can no longer change")
        if offer is None:
            raise InvalidState("the posting no longer claims this feature", field="action")
        if data.action == "withdraw_offer":
            session.delete(offer)
        else:
            offer.availability = OfferAvailability.arrangeable
            session.add(offer)
        _touch(session, posting)
    finding.employer_reply = data.note.strip()
    finding.reply_action = data.action
    finding.replied_by = principal.id
    finding.replied_at = utcnow()
    session.add(finding)
    session.flush()
    audit.record_by(
        session,
        principal,
        "accessibility_reply",
        object_type="accessibility_finding",
        object_id=finding_id,
        detail={"posting_id": posting.id, "code": finding.code, "action": data.action},
    )
    label = _labels(session, [finding.code]).get(finding.code)
    outbox.write(
        session,
        [
            Push(
                recipient_id=check.checked_by,
                kind=outbox.ACCESSIBILITY_REPLY,
                item_key=f"finding:{finding_id}",
                period=f"v{finding.version}",
                payload={
                    "posting_id": posting.id,
                    "title": posting.title,
                    "finding_id": finding_id,
                    "label": {
                        "zh": label.label_zh if label else finding.code,
                        "en": label.label_en if label else finding.code,
                    },
                    "note": finding.employer_reply,
                    "action": data.action,
                    "url": page_url(settings, posting.id or 0),
                },
            )
        ],
    )
    return finding


# --- the scheduled job ------------------------------------------------------------------------


def run_expiry_and_reminders(engine: Any, settings: Settings, now: datetime) -> dict[str, Any]:
    """Mark expired checks (re-indexing their postings), remind caseworkers of checks that
    expire soon or have expired (at most once each, by the outbox key), and delete photo
    files no row refers to."""
    zone = local_zone(settings.timezone)
    with session_scope(engine) as session:
        lapsed = list(
            session.exec(
                select(AccessibilityCheck).where(
                    col(AccessibilityCheck.lapsed_at).is_(None),
                    col(AccessibilityCheck.expires_at) <= now,
                )
            )
        )
        touched: set[int] = set()
        for check in lapsed:
            check.lapsed_at = now
            session.add(check)
            if check.posting_id not in touched:
                posting = session.get(Posting, check.posting_id)
                if posting is not None and posting.status == PostingStatus.open:
                    _touch(session, posting)
                touched.add(check.posting_id)
        session.flush()
    horizon = now + timedelta(days=settings.accessibility_remind_days)
    with session_scope(read_only(engine)) as session:
        latest = (
            select(func.max(AccessibilityCheck.id))
            .group_by(col(AccessibilityCheck.posting_id))
            .scalar_subquery()
        )
        due = session.exec(
            select(AccessibilityCheck, Posting)
            .join(Posting, col(Posting.id) == AccessibilityCheck.posting_id)
            .where(
                col(AccessibilityCheck.id).in_(latest),
                col(AccessibilityCheck.expires_at) <= horizon,
                Posting.status == PostingStatus.open,
            )
        ).all()
        staff: dict[int | None, list[int]] = {}
        for aid, cid in session.exec(
            select(Account.id, Account.centre_id).where(
                Account.role == Role.caseworker, col(Account.is_active).is_(True)
            )
        ):
            staff.setdefault(cid, []).append(aid or 0)
    everyone = [a for ids in staff.values() for a in ids]
    pushes = []
    for check, posting in due:
        state = "expired" if check.expires_at <= now else "expiring"
        recipients = staff.get(posting.centre_id, []) if posting.centre_id else everyone
        for aid in recipients:
            pushes.append(
                Push(
                    recipient_id=aid,
                    kind=outbox.ACCESSIBILITY_RECHECK,
                    item_key=f"check:{check.id}",
                    period=state,
                    payload={
                        "posting_id": posting.id,
                        "title": posting.title,
                        "check_id": check.id,
                        "state": state,
                        "visited_on": check.visited_on.isoformat(),
                        "expires_on": check.expires_at.astimezone(zone).date().isoformat(),
                        "url": page_url(settings, posting.id or 0),
                    },
                )
            )
    with session_scope(engine) as session:
        written = outbox.write(session, pushes, now)
    removed = sweep_orphans(engine, settings)
    return {"lapsed": len(lapsed), "due": len(due), "written": written, "orphans_removed": removed}


def sweep_orphans(engine: Any, settings: Settings) -> int:
    """Delete photo files older than an hour that no row refers to (a failed upload)."""
    files = photos.stored_names(settings.photo_dir)
    if not files:
        return 0
    with session_scope(read_only(engine)) as session:
        known = set(session.exec(select(AccessibilityPhoto.stored_name)))
    cutoff = time.time() - ORPHAN_AGE_SECONDS
    removed = 0
    for name, mtime in files.items():
        if name not in known and mtime < cutoff:
            photos.remove(settings.photo_dir, name)
            removed += 1
    return removed
