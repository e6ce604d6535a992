"""Referrals: the state machine, consent to share, instant approval, the caseworker queue,
employer views and outcomes, pushes and statistics.

Every transition goes through `_transition`, which refuses illegal steps (InvalidState with
the allowed next states) and writes one ReferralEvent. Rows are read with SELECT ... FOR
UPDATE before a transition, so of two people acting at once the second sees the first's
result (and is told, 409) instead of overwriting it; the version counter backs this up.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlmodel import Session, col, func, or_, select

from api.deps import Principal
from api.errors import (
    Conflict,
    HiddenNotFound,
    InvalidInput,
    InvalidState,
    NotFound,
    PermissionDenied,
)
from api.schemas.common import Page, PageParams
from api.schemas.referrals import (
    BASE_FIELDS,
    OPTIONAL_FIELDS,
    ApproveIn,
    ConsentChoiceIn,
    DeadlineIn,
    Decision,
    DryRunIn,
    DryRunItem,
    DryRunOut,
    EmployerReferralOut,
    HireIn,
    HistoryItem,
    InterviewIn,
    InvitationIn,
    NotHiredIn,
    Origin,
    PostingBrief,
    PreviewOut,
    QueueItem,
    ReferralDetail,
    ReferralEventOut,
    ReferralIn,
    ReferralOut,
    RejectIn,
    RetainedIn,
    RuleCreate,
    RuleOut,
    RuleSpecOut,
    RuleUpdate,
    RuleVerdictOut,
    SeekerBrief,
    SharedNeed,
    StatsOut,
    StatsRow,
    WithdrawIn,
)
from api.services import audit, learning, outbox
from api.services import seekers as seeker_service
from api.services.common import paginate, paginate_rows
from api.services.matches import resolve_candidate
from api.services.matching import MatchIndex, candidate_pseudonym
from api.services.privacy import load_sensitive
from api.services.referral_rules import (
    CHECK_DESCRIPTIONS,
    PROFILE_FIELDS,
    Facts,
    RuleSpec,
    Verdict,
    approves,
    evaluate,
    validate_params,
)
from api.services.verification import verified_codes
from api.settings import Settings
from models import (
    Accommodation,
    Account,
    ApprovalRule,
    Centre,
    Consent,
    Employer,
    Posting,
    PostingOffer,
    Referral,
    ReferralEvent,
    SeekerNeed,
    SeekerProfile,
)
from models.base import (
    NeedLevel,
    OfferAvailability,
    PostingStatus,
    ReferralStatus,
    Role,
    utcnow,
)
from models.tables import REFERRAL_REOPENABLE

RS = ReferralStatus
PURPOSE: Final = "referral"
CONSENT_VERSION: Final = "2026-11"
CONSENT_TEXT_ZH: Final = (
    "我同意把以下信息提供给该岗位的用人单位，仅用于本次推荐：{fields}。"
    "残疾类别和等级只有在我勾选时才提供。我可以随时撤回同意，撤回后用人单位将无法再查看这些信息。"
)
CONSENT_TEXT_EN: Final = (
    "I agree that the employer of this posting receives the following, for this referral "
    "only: {fields}. My disability category and grade are shared only if I tick them. I can "
    "withdraw at any time; the employer then no longer sees these fields."
)
FIELD_LABELS: Final = {
    "name": ("姓名", "name"),
    "contact": ("联系方式（电话、电子邮箱）", "contact (phone, e-mail)"),
    "needs": ("与该岗位有关的便利需求", "the accommodation needs relevant to this posting"),
    "disability_category": ("残疾类别", "disability category"),
    "disability_grade": ("残疾等级", "disability grade"),
}
SENSITIVE_FIELDS: Final = frozenset({"disability_category", "disability_grade"})
DEADLINE_WORKING_DAYS: Final = 2

# The state machine: from each state, the states it may move to.
TRANSITIONS: Final[dict[ReferralStatus, tuple[ReferralStatus, ...]]] = {
    RS.proposed: (RS.pending, RS.withdrawn),
    RS.pending: (RS.approved, RS.rejected, RS.withdrawn),
    RS.approved: (RS.sent, RS.withdrawn),
    RS.rejected: (),
    RS.sent: (RS.interviewing, RS.not_hired, RS.withdrawn),
    RS.interviewing: (RS.hired, RS.not_hired, RS.withdrawn),
    RS.hired: (RS.retained_90d,),
    RS.not_hired: (),
    RS.withdrawn: (),
    RS.retained_90d: (),
}
OPEN_STATES: Final = (RS.proposed, RS.pending, RS.approved, RS.sent, RS.interviewing)
# An employer sees the consented fields only in these states (and while the consent stands).
SHARED_STATES: Final = (RS.sent, RS.interviewing, RS.hired, RS.not_hired, RS.retained_90d)
ORIGINS: Final[dict[Role, Origin]] = {
    Role.seeker: "seeker",
    Role.caseworker: "caseworker",
    Role.employer: "employer_invite",
    Role.admin: "admin",
}
SYSTEM_ROLE: Final = "system"


# --- small helpers ---------------------------------------------------------------------


def allowed_next(status: ReferralStatus) -> list[ReferralStatus]:
    return list(TRANSITIONS[status])


def _state_error(referral: Referral, detail: str) -> InvalidState:
    return InvalidState(
        detail,
        status=referral.status.value,
        version=referral.version,
        allowed=[s.value for s in allowed_next(referral.status)],
    )


def _check_transition(referral: Referral, to: ReferralStatus) -> None:
    if to not in TRANSITIONS[referral.status]:
        raise _state_error(
            referral, f"a referral that is {referral.status.value} cannot become {to.value}"
        )


def _transition(
    session: Session,
    referral: Referral,
    to: ReferralStatus,
    principal: Principal | None,
    *,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> ReferralEvent:
    """Move the referral to `to` and record who, when, from, to and why."""
    _check_transition(referral, to)
    now = utcnow()
    event = ReferralEvent(
        referral_id=referral.id or 0,
        from_status=referral.status,
        to_status=to,
        actor_id=principal.id if principal else None,
        actor_role=principal.role.value if principal else SYSTEM_ROLE,
        reason=reason.strip()[:2000],
        details=details or {},
        at=now,
    )
    referral.status = to
    referral.updated_at = now
    session.add(referral)
    session.add(event)
    session.flush()
    return event


def _local_tz(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def is_working_day(day: date) -> bool:
    """A working day in mainland China: the official calendar (public holidays and the weekend
    days worked in lieu, from the chinesecalendar package) for the years it covers, Monday to
    Friday beyond them (a newer release of the package brings the next year's schedule)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: datetime, days: int, tz: ZoneInfo) -> datetime:
    """`days` working days (see `is_working_day`, dates in tz) after start; from a day off the
    clock starts at 00:00 of the next working day."""
    local = start.astimezone(tz)
    if not is_working_day(local.date()):
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
        while not is_working_day(local.date()):
            local += timedelta(days=1)
    left = days
    while left > 0:
        local += timedelta(days=1)
        if is_working_day(local.date()):
            left -= 1
    return local.astimezone(UTC)


def _posting_open(posting: Posting, now: datetime) -> bool:
    return posting.status == PostingStatus.open and (
        posting.expires_at is None or posting.expires_at > now
    )


def _is_owner(principal: Principal, profile: SeekerProfile) -> bool:
    return principal.role == Role.seeker and profile.account_id == principal.id


def _origin(session: Session, referral: Referral) -> Origin:
    creator = session.get(Account, referral.created_by)
    return ORIGINS[Role(creator.role)] if creator else "seeker"


def _active_consent(session: Session, referral: Referral) -> Consent | None:
    if referral.consent_id is None:
        return None
    consent = session.get(Consent, referral.consent_id)
    if consent is None or consent.withdrawn_at is not None:
        return None
    return consent


def _was_sent(session: Session, referral_id: int) -> bool:
    return (
        session.exec(
            select(ReferralEvent.id).where(
                ReferralEvent.referral_id == referral_id, ReferralEvent.to_status == RS.sent
            )
        ).first()
        is not None
    )


def _employer_may_see(session: Session, principal: Principal, referral: Referral) -> bool:
    """Its own postings' referrals once sent, and its own invitations."""
    if referral.status in SHARED_STATES:
        return True
    creator = session.get(Account, referral.created_by)
    if creator is not None and creator.employer_id == principal.account.employer_id:
        return True
    return _was_sent(session, referral.id or 0)


def _can_see(
    session: Session,
    principal: Principal,
    referral: Referral,
    profile: SeekerProfile,
    posting: Posting,
) -> bool:
    if principal.role == Role.admin:
        return True
    if principal.role == Role.seeker:
        return profile.account_id == principal.id
    if principal.role == Role.caseworker:
        return profile.centre_id == principal.account.centre_id
    if principal.role == Role.employer:
        return posting.employer_id == principal.account.employer_id and _employer_may_see(
            session, principal, referral
        )
    return False


def _load(
    session: Session, principal: Principal, referral_id: int, *, lock: bool = False
) -> tuple[Referral, SeekerProfile, Posting]:
    """The referral (locked for a transition), its seeker and posting; 404 if not yours."""
    query = select(Referral).where(Referral.id == referral_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    referral = session.exec(query).first()
    if referral is None:
        raise NotFound(f"referral {referral_id} not found")
    profile = session.get(SeekerProfile, referral.seeker_id)
    posting = session.get(Posting, referral.posting_id)
    assert profile is not None and posting is not None
    if not _can_see(session, principal, referral, profile, posting):
        audit.record(
            session,
            "access_denied",
            actor_id=principal.id,
            actor_role=principal.role.value,
            object_type="referral",
            object_id=referral_id,
            request_id=principal.request_id,
        )
        raise HiddenNotFound(f"referral {referral_id} not found")
    return referral, profile, posting


def _check_version(referral: Referral, version: int | None) -> None:
    if version is not None and version != referral.version:
        raise _state_error(referral, "the referral was changed since you read it; reload it")


# --- pushes ----------------------------------------------------------------------------

STATUS_LABELS: Final[dict[ReferralStatus, tuple[str, str]]] = {
    RS.proposed: ("待您确认", "waiting for your consent"),
    RS.pending: ("待审核", "waiting for review"),
    RS.approved: ("已批准", "approved"),
    RS.rejected: ("未通过", "not approved"),
    RS.sent: ("已推荐给用人单位", "sent to the employer"),
    RS.interviewing: ("面试中", "interviewing"),
    RS.hired: ("已录用", "hired"),
    RS.not_hired: ("未录用", "not hired"),
    RS.withdrawn: ("已撤回", "withdrawn"),
    RS.retained_90d: ("在岗满 90 天", "still employed at 90 days"),
}
# kind -> language -> (title, body); bodies never name a person, a disability or a need.
TEMPLATES: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "referral_queued": {
        "zh": ("新的推荐待审核", "推荐 #{id}（岗位：{posting}）等待您中心审核，截止 {deadline}。"),
        "en": (
            "A referral waits for review",
            "Referral #{id} (posting: {posting}) waits in your centre's queue; due {deadline}.",
        ),
    },
    "referral_decided": {
        "zh": ("推荐审核结果", "您对岗位“{posting}”的推荐{status}。"),
        "en": ("Your referral was decided", "Your referral to “{posting}” was {status}."),
    },
    "referral_invitation": {
        "zh": ("用人单位邀请您", "岗位“{posting}”的用人单位邀请您应聘，请查看并决定是否同意推荐。"),
        "en": (
            "An employer invites you",
            "The employer of “{posting}” invites you to apply; see it and decide whether "
            "to agree to a referral.",
        ),
    },
    "referral_proposed": {
        "zh": ("专员为您推荐了岗位", "您的就业服务专员为您推荐了岗位“{posting}”，请查看并确认。"),
        "en": (
            "Your caseworker proposes a posting",
            "Your caseworker proposes a referral to “{posting}”; see it and confirm.",
        ),
    },
    "referral_outcome": {
        "zh": ("推荐有了新进展", "推荐 #{id}（岗位：{posting}）：{status}。"),
        "en": ("A referral has news", "Referral #{id} (posting: {posting}): {status}."),
    },
}


def _push(
    session: Session,
    settings: Settings,
    recipient: Account,
    kind: str,
    referral: Referral,
    posting: Posting,
) -> None:
    """Write one push to the outbox, once per (recipient, kind, referral state)."""
    lang = recipient.language.value if recipient.language else "zh"
    title, body = TEMPLATES[kind][lang]
    label = STATUS_LABELS[referral.status][0 if lang == "zh" else 1]
    deadline = ""
    if referral.deadline_at is not None:
        deadline = referral.deadline_at.astimezone(_local_tz(settings)).strftime("%Y-%m-%d %H:%M")
    text = body.format(id=referral.id, posting=posting.title[:80], status=label, deadline=deadline)
    payload = {
        "title": title,
        "body": text,
        "language": lang,
        "referral_id": referral.id,
        "status": referral.status.value,
        "link": f"/referrals/{referral.id}",
    }
    outbox.write(
        session,
        [
            outbox.Push(
                recipient_id=recipient.id or 0,
                kind=kind,
                item_key=f"referral:{referral.id}:{referral.status.value}",
                period="",
                payload=payload,
            )
        ],
    )


def _centre_caseworkers(session: Session, centre_id: int) -> list[Account]:
    return list(
        session.exec(
            select(Account)
            .where(
                Account.role == Role.caseworker,
                Account.centre_id == centre_id,
                Account.is_active,
            )
            .order_by(col(Account.id))
        )
    )


def _push_seeker(
    session: Session, settings: Settings, kind: str, referral: Referral, profile: SeekerProfile
) -> None:
    posting = session.get(Posting, referral.posting_id)
    seeker = session.get(Account, profile.account_id)
    if seeker is not None and seeker.is_active and posting is not None:
        _push(session, settings, seeker, kind, referral, posting)


def _push_outcome(
    session: Session, settings: Settings, referral: Referral, profile: SeekerProfile
) -> None:
    """An outcome goes to the caseworker who approved, else to the centre's caseworkers."""
    posting = session.get(Posting, referral.posting_id)
    assert posting is not None
    decider = session.exec(
        select(Account)
        .join(ReferralEvent, col(ReferralEvent.actor_id) == col(Account.id))
        .where(
            ReferralEvent.referral_id == referral.id,
            ReferralEvent.to_status == RS.approved,
            Account.role == Role.caseworker,
            Account.is_active,
        )
    ).first()
    recipients = [decider] if decider else _centre_caseworkers(session, profile.centre_id)
    for account in recipients:
        _push(session, settings, account, "referral_outcome", referral, posting)


# --- views -----------------------------------------------------------------------------


def _posting_brief(session: Session, posting: Posting) -> PostingBrief:
    employer = session.get(Employer, posting.employer_id)
    return PostingBrief(
        id=posting.id or 0,
        title=posting.title,
        employer_id=posting.employer_id,
        employer_name=employer.name if employer else "",
        employer_verified=bool(employer and employer.verified),
        status=posting.status.value,
    )


def to_out(session: Session, referral: Referral) -> ReferralOut:
    posting = session.get(Posting, referral.posting_id)
    assert posting is not None
    now = utcnow()
    return ReferralOut(
        id=referral.id or 0,
        seeker_id=referral.seeker_id,
        posting=_posting_brief(session, posting),
        status=referral.status,
        origin=_origin(session, referral),
        created_by=referral.created_by,
        shared_fields=list(referral.shared_fields),
        consent_id=referral.consent_id,
        consent_active=_active_consent(session, referral) is not None,
        deadline_at=referral.deadline_at,
        overdue=bool(
            referral.status == RS.pending
            and referral.deadline_at is not None
            and referral.deadline_at < now
        ),
        allowed_next=allowed_next(referral.status),
        version=referral.version,
        created_at=referral.created_at,
        updated_at=referral.updated_at,
    )


def _events(session: Session, referral_id: int) -> list[ReferralEvent]:
    return list(
        session.exec(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral_id)
            .order_by(col(ReferralEvent.at), col(ReferralEvent.id))
        )
    )


def _latest_verdicts(events: Sequence[ReferralEvent]) -> list[RuleVerdictOut]:
    for event in reversed(events):
        if event.to_status == RS.pending and "rules" in event.details:
            return [RuleVerdictOut.model_validate(v) for v in event.details["rules"]]
    return []


def to_detail(session: Session, referral: Referral) -> ReferralDetail:
    events = _events(session, referral.id or 0)
    return ReferralDetail.model_validate(
        to_out(session, referral),
        update={
            "history": [ReferralEventOut.model_validate(e) for e in events],
            "rules": _latest_verdicts(events),
        },
    )


def _relevant_needs(session: Session, referral: Referral) -> list[SharedNeed]:
    """The seeker's essential needs, and the preferred ones the posting offers."""
    offers = {
        o.code: o.availability
        for o in session.exec(
            select(PostingOffer).where(PostingOffer.posting_id == referral.posting_id)
        )
    }
    rows = session.exec(
        select(SeekerNeed, Accommodation)
        .join(Accommodation, col(Accommodation.code) == SeekerNeed.code)
        .where(SeekerNeed.seeker_id == referral.seeker_id)
        .order_by(col(SeekerNeed.code))
    ).all()
    return [
        SharedNeed(
            code=n.code,
            label_zh=a.label_zh,
            label_en=a.label_en,
            level=n.level,
            availability=offers.get(n.code),
            health_related=a.health_related,
        )
        for n, a in rows
        if n.level == NeedLevel.essential or n.code in offers
    ]


def _shared_values(
    session: Session, settings: Settings, referral: Referral, fields: Iterable[str]
) -> dict[str, Any]:
    """Exactly the given fields of the seeker, as the employer receives them."""
    wanted = set(fields)
    profile = session.get(SeekerProfile, referral.seeker_id)
    assert profile is not None
    out: dict[str, Any] = {}
    if "name" in wanted:
        out["name"] = profile.full_name
    if "contact" in wanted:
        account = session.get(Account, profile.account_id)
        out["contact"] = {"phone": profile.phone, "email": account.email if account else ""}
    if "needs" in wanted:
        out["needs"] = [
            n.model_dump(mode="json", exclude={"health_related"})
            for n in _relevant_needs(session, referral)
        ]
    if wanted & SENSITIVE_FIELDS:
        sensitive = load_sensitive(session, settings, referral.seeker_id)
        if "disability_category" in wanted:
            category = sensitive.disability_category if sensitive else None
            out["disability_category"] = category.value if category else None
        if "disability_grade" in wanted:
            out["disability_grade"] = sensitive.disability_grade if sensitive else None
    return out


def _is_sensitive_view(session: Session, referral: Referral, fields: Sequence[str]) -> bool:
    if set(fields) & SENSITIVE_FIELDS:
        return True
    return "needs" in fields and any(n.health_related for n in _relevant_needs(session, referral))


def employer_view(
    session: Session,
    settings: Settings,
    principal: Principal,
    referral: Referral,
    *,
    preview_fields: Sequence[str] | None = None,
) -> EmployerReferralOut:
    """The referral as its employer sees it; with preview_fields, as it would see it with
    that consent. A real view that shows sensitive fields is audited."""
    posting = session.get(Posting, referral.posting_id)
    assert posting is not None
    consent = _active_consent(session, referral)
    if preview_fields is not None:
        fields, show = list(preview_fields), True
    else:
        fields = [f for f in (consent.scope if consent else []) if f in FIELD_LABELS]
        show = consent is not None and referral.status in SHARED_STATES
    shared = _shared_values(session, settings, referral, fields) if show else {}
    if show and preview_fields is None and _is_sensitive_view(session, referral, fields):
        audit.record(
            session,
            "sensitive_read",
            actor_id=principal.id,
            actor_role=principal.role.value,
            object_type="seeker_sensitive",
            object_id=referral.seeker_id,
            purpose=f"referral {referral.id}: the seeker's consented fields",
            request_id=principal.request_id,
            detail={"referral_id": referral.id, "fields": sorted(set(fields))},
        )
    creator = session.get(Account, referral.created_by)
    return EmployerReferralOut(
        id=referral.id or 0,
        posting_id=referral.posting_id,
        posting_title=posting.title,
        candidate=candidate_pseudonym(
            settings.secret_key.get_secret_value(), referral.posting_id, referral.seeker_id
        ),
        status=referral.status,
        invited=bool(creator and creator.role == Role.employer),
        consent_active=consent is not None,
        shared_fields=fields if show else [],
        shared=shared,
        allowed_next=[
            s for s in allowed_next(referral.status) if s in EMPLOYER_STEPS.get(referral.status, ())
        ],
        version=referral.version,
        updated_at=referral.updated_at,
    )


# The steps an employer takes (its outcomes), per state.
EMPLOYER_STEPS: Final[dict[ReferralStatus, tuple[ReferralStatus, ...]]] = {
    RS.sent: (RS.interviewing, RS.not_hired),
    RS.interviewing: (RS.hired, RS.not_hired),
    RS.hired: (RS.retained_90d,),
}


def consent_fields(share: Sequence[str]) -> list[str]:
    return [*BASE_FIELDS, *[f for f in OPTIONAL_FIELDS if f in share]]


def preview(
    session: Session,
    settings: Settings,
    principal: Principal,
    referral_id: int,
    share: Sequence[str],
) -> PreviewOut:
    """What the employer would receive if the seeker consents with these ticks."""
    referral, profile, _posting = _load(session, principal, referral_id)
    if not _is_owner(principal, profile):
        raise PermissionDenied("only the seeker previews their consent")
    fields = consent_fields(share)
    zh = "、".join(FIELD_LABELS[f][0] for f in fields)
    en = ", ".join(FIELD_LABELS[f][1] for f in fields)
    return PreviewOut(
        fields=fields,
        text_version=CONSENT_VERSION,
        text_zh=CONSENT_TEXT_ZH.format(fields=zh),
        text_en=CONSENT_TEXT_EN.format(fields=en),
        view=employer_view(session, settings, principal, referral, preview_fields=fields),
    )


# --- rules -----------------------------------------------------------------------------


def _rules(session: Session) -> list[ApprovalRule]:
    return list(
        session.exec(
            select(ApprovalRule).order_by(col(ApprovalRule.position), col(ApprovalRule.code))
        )
    )


def _specs(rules: Iterable[ApprovalRule]) -> list[RuleSpec]:
    return [RuleSpec(code=r.code, enabled=r.enabled, params=dict(r.params)) for r in rules]


def _filled(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return bool(value)


def collect_facts(
    session: Session, referral: Referral, profile: SeekerProfile, posting: Posting
) -> Facts:
    """What the rules look at, as it is now."""
    offers = {
        o.code: o.availability
        for o in session.exec(select(PostingOffer).where(PostingOffer.posting_id == posting.id))
    }
    essential = session.exec(
        select(SeekerNeed.code).where(
            SeekerNeed.seeker_id == profile.id, SeekerNeed.level == NeedLevel.essential
        )
    ).all()
    now = utcnow()
    unverified = 0
    if profile.verified_only_essential:  # the seeker counts only features verified on site
        pid = posting.id or 0
        rows = [(pid, code, availability) for code, availability in offers.items()]
        verified = verified_codes(session, [pid], now, offers=rows)[pid]
        unverified = sum(1 for c in essential if c in offers and c not in verified)
        offers = {c: a for c, a in offers.items() if c in verified}
    met = sum(1 for c in essential if offers.get(c) == OfferAvailability.available)
    arrangeable = sum(1 for c in essential if offers.get(c) == OfferAvailability.arrangeable)
    employer = session.get(Employer, posting.employer_id)
    open_count = session.exec(
        select(func.count())
        .select_from(Referral)
        .where(Referral.seeker_id == profile.id, col(Referral.status).in_(OPEN_STATES))
    ).one()
    return Facts(
        needs_met=met,
        needs_arrangeable=arrangeable,
        needs_unmet=len(essential) - met - arrangeable - unverified,
        needs_unverified=unverified,
        employer_verified=bool(employer and employer.verified and employer.closed_at is None),
        consented=_active_consent(session, referral) is not None,
        profile_filled=[f for f in PROFILE_FIELDS if _filled(getattr(profile, f))],
        posting_open=_posting_open(posting, now),
        open_referrals=int(open_count),
    )


def list_rules(session: Session) -> list[RuleOut]:
    return [RuleOut.model_validate(r) for r in _rules(session)]


def create_rule(session: Session, principal: Principal, data: RuleCreate) -> RuleOut:
    """Put a check the service implements into force (one rule per check; 409 if it is)."""
    params = validate_params(data.code, data.params)
    if session.get(ApprovalRule, data.code) is not None:
        raise Conflict(f"the rule {data.code} exists; change it instead", field="code")
    last = session.exec(select(func.max(ApprovalRule.position))).one()
    zh, en = CHECK_DESCRIPTIONS.get(data.code, ("", ""))
    rule = ApprovalRule(
        code=data.code,
        enabled=data.enabled,
        params=params,
        description_zh=data.description_zh.strip() or zh,
        description_en=data.description_en.strip() or en,
        position=int(last or 0) + 10,
        updated_at=utcnow(),
        updated_by=principal.id,
    )
    session.add(rule)
    session.flush()
    audit.record(
        session,
        "approval_rule_created",
        actor_id=principal.id,
        actor_role=principal.role.value,
        object_type="approval_rule",
        object_id=data.code,
        request_id=principal.request_id,
        detail={"after": {"enabled": rule.enabled, "params": rule.params}},
    )
    return RuleOut.model_validate(rule)


def update_rule(session: Session, principal: Principal, code: str, data: RuleUpdate) -> RuleOut:
    """Change a rule (takes effect for the next referral submitted; no deploy)."""
    rule = session.get(ApprovalRule, code)
    if rule is None:
        raise NotFound(f"rule {code} not found")
    if data.version is not None and data.version != rule.version:
        raise Conflict(
            "the rule was changed since you read it", field="version", current_version=rule.version
        )
    before = {"enabled": rule.enabled, "params": dict(rule.params)}
    sent = data.model_dump(exclude_unset=True, exclude={"version"})
    for key, value in sent.items():
        if value is None:
            raise InvalidInput(f"{key} may not be null", field=key)
    if "params" in sent:
        rule.params = validate_params(code, sent["params"])
    for key in ("enabled", "description_zh", "description_en"):
        if key in sent:
            setattr(rule, key, sent[key])
    rule.updated_at = utcnow()
    rule.updated_by = principal.id
    session.add(rule)
    session.flush()
    audit.record(
        session,
        "approval_rule_changed",
        actor_id=principal.id,
        actor_role=principal.role.value,
        object_type="approval_rule",
        object_id=code,
        request_id=principal.request_id,
        detail={"before": before, "after": {"enabled": rule.enabled, "params": rule.params}},
    )
    return RuleOut.model_validate(rule)


def dry_run(session: Session, data: DryRunIn) -> DryRunOut:
    """What the current (or proposed) rules would have decided for each referral submitted in
    the last `days` days, replayed on the facts recorded when it was submitted."""
    current = {r.code: r for r in _specs(_rules(session))}
    order = list(current)
    for i, spec in enumerate(data.rules or []):
        params = validate_params(spec.code, spec.params, field=f"rules.{i}.params")
        current[spec.code] = RuleSpec(code=spec.code, enabled=spec.enabled, params=params)
        if spec.code not in order:
            order.append(spec.code)
    rules = [current[c] for c in order]
    since = utcnow() - timedelta(days=data.days)
    submissions = session.exec(
        select(ReferralEvent)
        .where(ReferralEvent.to_status == RS.pending, col(ReferralEvent.at) >= since)
        .order_by(col(ReferralEvent.at), col(ReferralEvent.id))
    ).all()
    ids = [e.referral_id for e in submissions]
    instant_ids = set(
        session.exec(
            select(ReferralEvent.referral_id).where(
                col(ReferralEvent.referral_id).in_(ids),
                ReferralEvent.to_status == RS.approved,
                ReferralEvent.actor_role == SYSTEM_ROLE,
            )
        ).all()
    )
    items: list[DryRunItem] = []
    for event in submissions:
        if "facts" not in event.details:
            continue
        verdicts = evaluate(rules, Facts.from_json(event.details["facts"]))
        decision: Decision = "instant" if approves(verdicts) else "queue"
        actual: Decision = "instant" if event.referral_id in instant_ids else "queue"
        items.append(
            DryRunItem(
                referral_id=event.referral_id,
                submitted_at=event.at,
                decision=decision,
                failed=[v.code for v in verdicts if not v.passed],
                actual=actual,
                changed=decision != actual,
            )
        )
    instant = sum(1 for i in items if i.decision == "instant")
    return DryRunOut(
        rules=[RuleSpecOut(code=r.code, enabled=r.enabled, params=r.params) for r in rules],
        days=data.days,
        total=len(items),
        instant=instant,
        queue=len(items) - instant,
        changed=sum(1 for i in items if i.changed),
        items=items,
    )


# --- creating and consenting -----------------------------------------------------------


def _unmet_essential(session: Session, profile: SeekerProfile, posting: Posting) -> list[str]:
    offered = set(
        session.exec(select(PostingOffer.code).where(PostingOffer.posting_id == posting.id)).all()
    )
    essential = session.exec(
        select(SeekerNeed.code).where(
            SeekerNeed.seeker_id == profile.id, SeekerNeed.level == NeedLevel.essential
        )
    ).all()
    return sorted(c for c in essential if c not in offered)


def _new_referral(
    session: Session,
    principal: Principal,
    profile: SeekerProfile,
    posting: Posting,
    note: str,
    *,
    reveal_existing: bool,
    index: MatchIndex | None = None,
) -> Referral:
    earlier = session.exec(
        select(Referral.id, Referral.status)
        .where(Referral.seeker_id == profile.id, Referral.posting_id == posting.id)
        .order_by(col(Referral.id).desc())
    ).all()
    live = next((rid for rid, status in earlier if status not in REFERRAL_REOPENABLE), None)
    if live is not None or (earlier and principal.role == Role.employer):
        # An employer does not invite again a seeker who withdrew (or whose referral the
        # centre rejected); the seeker or their caseworker may start a new referral.
        extra = {"referral_id": live} if reveal_existing and live is not None else {}
        raise Conflict("there is already a referral for this posting", field="posting_id", **extra)
    now = utcnow()
    referral = Referral(
        seeker_id=profile.id or 0,
        posting_id=posting.id or 0,
        status=RS.proposed,
        created_by=principal.id,
        created_at=now,
        updated_at=now,
    )
    session.add(referral)
    session.flush()
    session.add(
        ReferralEvent(
            referral_id=referral.id or 0,
            from_status=None,
            to_status=RS.proposed,
            actor_id=principal.id,
            actor_role=principal.role.value,
            reason=note.strip(),
            details={"origin": ORIGINS[principal.role]},
            at=now,
        )
    )
    session.flush()
    if index is not None:  # the signals of the pair as they stand: its outcome's features
        learning.capture(session, index, referral.seeker_id, referral.posting_id, learning.REFERRAL)
    return referral


def create_referral(
    session: Session,
    settings: Settings,
    principal: Principal,
    data: ReferralIn,
    index: MatchIndex | None = None,
) -> Referral:
    """A seeker asks for a referral (perhaps consenting at once), or a caseworker proposes one
    for a seeker of their centre (the seeker then consents)."""
    if principal.role == Role.seeker:
        profile = (
            seeker_service.my_profile(session, principal)
            if data.seeker_id is None
            else seeker_service.get_profile(session, principal, data.seeker_id)
        )
    else:
        if data.seeker_id is None:
            raise InvalidInput("name the seeker you refer", field="seeker_id")
        if data.consent is not None:
            raise InvalidInput("only the seeker can give consent", field="consent")
        profile = seeker_service.get_profile(session, principal, data.seeker_id)
    if profile.closed_at is not None:
        raise Conflict("this profile is closed", field="seeker_id")
    posting = session.get(Posting, data.posting_id)
    if posting is None or posting.status == PostingStatus.draft:
        raise NotFound(f"posting {data.posting_id} not found", field="posting_id")
    if not _posting_open(posting, utcnow()):
        raise Conflict("the posting is closed or has expired", field="posting_id")
    if principal.role == Role.seeker:
        unmet = _unmet_essential(session, profile, posting)
        if unmet:
            raise Conflict(
                "the posting offers none of these essential needs",
                field="posting_id",
                unmet_needs=unmet,
            )
    referral = _new_referral(
        session, principal, profile, posting, data.note, reveal_existing=True, index=index
    )
    if principal.role != Role.seeker:
        _push_seeker(session, settings, "referral_proposed", referral, profile)
    if data.consent is not None:
        _consent_and_submit(session, settings, principal, referral, profile, posting, data.consent)
    return referral


def invite(
    session: Session,
    settings: Settings,
    index: MatchIndex,
    principal: Principal,
    posting_id: int,
    data: InvitationIn,
) -> EmployerReferralOut:
    """An employer invites a pseudonymous candidate; nothing about them is shared until the
    seeker accepts (consents) and the referral is approved and sent."""
    posting = session.get(Posting, posting_id)
    if posting is None or posting.employer_id != principal.account.employer_id:
        raise NotFound(f"posting {posting_id} not found")
    if not _posting_open(posting, utcnow()):
        raise Conflict("the posting is closed or has expired", field="posting_id")
    secret = settings.secret_key.get_secret_value()
    seeker_id = resolve_candidate(session, index, secret, posting_id, data.candidate)
    profile = session.get(SeekerProfile, seeker_id) if seeker_id is not None else None
    if profile is None or profile.closed_at is not None:
        raise NotFound("no such candidate for this posting", field="candidate")
    referral = _new_referral(
        session, principal, profile, posting, data.note, reveal_existing=False, index=index
    )
    _push_seeker(session, settings, "referral_invitation", referral, profile)
    return employer_view(session, settings, principal, referral)


def _consent_and_submit(
    session: Session,
    settings: Settings,
    principal: Principal,
    referral: Referral,
    profile: SeekerProfile,
    posting: Posting,
    choice: ConsentChoiceIn,
) -> None:
    if choice.text_version != CONSENT_VERSION:
        raise Conflict(
            "the consent text has changed; read the current version",
            field="consent.text_version",
            current_version=CONSENT_VERSION,
        )
    _check_transition(referral, RS.pending)
    fields = consent_fields(choice.share)
    consent = Consent(
        seeker_id=profile.id or 0, purpose=PURPOSE, scope=fields, text_version=CONSENT_VERSION
    )
    session.add(consent)
    session.flush()
    referral.consent_id = consent.id
    referral.shared_fields = fields
    audit.record(
        session,
        "consent_given",
        actor_id=principal.id,
        actor_role=principal.role.value,
        object_type="consent",
        object_id=consent.id or "",
        purpose=PURPOSE,
        request_id=principal.request_id,
        detail={"referral_id": referral.id, "fields": fields},
    )
    _submit(session, settings, principal, referral, profile, posting)


def _submit(
    session: Session,
    settings: Settings,
    principal: Principal,
    referral: Referral,
    profile: SeekerProfile,
    posting: Posting,
) -> None:
    """proposed → pending, then the rules: all pass → approved at once; else the queue."""
    facts = collect_facts(session, referral, profile, posting)
    verdicts: list[Verdict] = evaluate(_specs(_rules(session)), facts)
    passed = approves(verdicts)
    rules_json = [v.to_json() for v in verdicts]
    _transition(
        session,
        referral,
        RS.pending,
        principal,
        reason="consented and submitted",
        details={
            "facts": facts.to_json(),
            "rules": rules_json,
            "failed": [v.code for v in verdicts if not v.passed],
        },
    )
    if passed:
        _transition(
            session,
            referral,
            RS.approved,
            None,
            reason="instant approval: every enabled rule passed",
            details={"instant": True, "rules": rules_json},
        )
        audit.record(
            session,
            "referral_approved",
            actor_role=SYSTEM_ROLE,
            object_type="referral",
            object_id=referral.id or "",
            request_id=principal.request_id,
            detail={"instant": True},
        )
        _push_seeker(session, settings, "referral_decided", referral, profile)
        return
    referral.deadline_at = add_working_days(utcnow(), DEADLINE_WORKING_DAYS, _local_tz(settings))
    session.add(referral)
    session.flush()
    for caseworker in _centre_caseworkers(session, profile.centre_id):
        _push(session, settings, caseworker, "referral_queued", referral, posting)


def give_consent(
    session: Session,
    settings: Settings,
    principal: Principal,
    referral_id: int,
    data: ConsentChoiceIn,
) -> Referral:
    """The seeker consents to share the listed fields; the referral is submitted."""
    referral, profile, posting = _load(session, principal, referral_id, lock=True)
    if not _is_owner(principal, profile):
        raise PermissionDenied("only the seeker consents")
    _consent_and_submit(session, settings, principal, referral, profile, posting, data)
    return referral


def withdraw_consent(session: Session, principal: Principal, referral_id: int) -> Referral:
    """The seeker withdraws the consent: the employer no longer sees any of the fields."""
    referral, profile, _posting = _load(session, principal, referral_id, lock=True)
    if not _is_owner(principal, profile):
        raise PermissionDenied("only the seeker withdraws their consent")
    consent = _active_consent(session, referral)
    if consent is None:
        raise Conflict("this referral has no consent in force")
    now = utcnow()
    consent.withdrawn_at = now
    referral.updated_at = now
    session.add(consent)
    session.add(referral)
    audit.record(
        session,
        "consent_withdrawn",
        actor_id=principal.id,
        actor_role=principal.role.value,
        object_type="consent",
        object_id=consent.id or "",
        purpose=PURPOSE,
        request_id=principal.request_id,
        detail={"referral_id": referral.id},
    )
    session.flush()
    return referral


# --- the seeker's and the caseworker's steps -------------------------------------------


def withdraw(
    session: Session, principal: Principal, referral_id: int, data: WithdrawIn
) -> Referral:
    referral, profile, _posting = _load(session, principal, referral_id, lock=True)
    if not _is_owner(principal, profile):
        raise PermissionDenied("only the seeker withdraws a referral")
    _transition(session, referral, RS.withdrawn, principal, reason=data.reason)
    return referral


def _decide(
    session: Session,
    settings: Settings,
    principal: Principal,
    referral_id: int,
    to: ReferralStatus,
    reason: str,
    version: int | None,
    reason_code: str | None = None,
) -> Referral:
    referral, profile, _posting = _load(session, principal, referral_id, lock=True)
    _check_version(referral, version)
    details: dict[str, Any] = {"instant": False}
    if reason_code is not None:
        details["reason_code"] = reason_code
    _transition(session, referral, to, principal, reason=reason, details=details)
    audit.record(
        session,
        f"referral_{to.value}",
        actor_id=principal.id,
        actor_role=principal.role.value,
        object_type="referral",
        object_id=referral_id,
        request_id=principal.request_id,
    )
    _push_seeker(session, settings, "referral_decided", referral, profile)
    return referral


def approve(
    session: Session, settings: Settings, principal: Principal, referral_id: int, data: ApproveIn
) -> Referral:
    return _decide(
        session, settings, principal, referral_id, RS.approved, data.reason, data.version
    )


def reject(
    session: Session, settings: Settings, principal: Principal, referral_id: int, data: RejectIn
) -> Referral:
    return _decide(
        session,
        settings,
        principal,
        referral_id,
        RS.rejected,
        data.reason,
        data.version,
        data.reason_code,
    )


def set_deadline(
    session: Session, principal: Principal, referral_id: int, data: DeadlineIn
) -> Referral:
    """Change the review deadline of a referral in the queue (a reason is required; a stale
    version is refused with 409, like a decision)."""
    referral, _profile, _posting = _load(session, principal, referral_id, lock=True)
    _check_version(referral, data.version)
    if referral.status != RS.pending:
        raise _state_error(referral, "only a referral waiting in the queue has a deadline")
    before = referral.deadline_at
    referral.deadline_at = data.deadline_at
    referral.updated_at = utcnow()
    session.add(referral)
    session.flush()
    audit.record(
        session,
        "referral_deadline_set",
        actor_id=principal.id,
        actor_role=principal.role.value,
        object_type="referral",
        object_id=referral_id,
        request_id=principal.request_id,
        detail={
            "before": before.isoformat() if before else None,
            "after": data.deadline_at.isoformat(),
            "reason": data.reason,
        },
    )
    return referral


def send(session: Session, principal: Principal, referral_id: int) -> Referral:
    """Send an approved referral to the employer (the seeker or their centre's staff)."""
    referral, _profile, posting = _load(session, principal, referral_id, lock=True)
    _check_transition(referral, RS.sent)
    if _active_consent(session, referral) is None:
        raise Conflict("the seeker's consent is not in force", consent_required=PURPOSE)
    if not _posting_open(posting, utcnow()):
        raise Conflict("the posting is closed or has expired", field="posting_id")
    _transition(session, referral, RS.sent, principal)
    return referral


# --- the employer's steps --------------------------------------------------------------


def _employer_load(
    session: Session, principal: Principal, referral_id: int
) -> tuple[Referral, SeekerProfile, Posting]:
    referral, profile, posting = _load(session, principal, referral_id, lock=True)
    if posting.employer_id != principal.account.employer_id:  # pragma: no cover - _load
        raise NotFound(f"referral {referral_id} not found")
    return referral, profile, posting


def _outcome(
    session: Session,
    settings: Settings,
    principal: Principal,
    referral_id: int,
    to: ReferralStatus,
    *,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> EmployerReferralOut:
    referral, profile, _posting = _employer_load(session, principal, referral_id)
    _transition(session, referral, to, principal, reason=reason, details=details)
    _push_outcome(session, settings, referral, profile)
    return employer_view(session, settings, principal, referral)


def record_interview(
    session: Session, settings: Settings, principal: Principal, referral_id: int, data: InterviewIn
) -> EmployerReferralOut:
    details = {"interview_at": data.at.isoformat()} if data.at else {}
    return _outcome(
        session,
        settings,
        principal,
        referral_id,
        RS.interviewing,
        reason=data.note,
        details=details,
    )


def _today(settings: Settings) -> date:
    return utcnow().astimezone(_local_tz(settings)).date()


def record_hire(
    session: Session, settings: Settings, principal: Principal, referral_id: int, data: HireIn
) -> EmployerReferralOut:
    today = _today(settings)
    if not today - timedelta(days=730) <= data.start_date <= today + timedelta(days=365):
        raise InvalidInput(
            "start_date must lie within two years back and one year ahead", field="start_date"
        )
    return _outcome(
        session,
        settings,
        principal,
        referral_id,
        RS.hired,
        reason=data.note,
        details={"start_date": data.start_date.isoformat()},
    )


def record_not_hired(
    session: Session, settings: Settings, principal: Principal, referral_id: int, data: NotHiredIn
) -> EmployerReferralOut:
    return _outcome(
        session,
        settings,
        principal,
        referral_id,
        RS.not_hired,
        reason=data.text,
        details={"reason_code": data.reason},
    )


def _start_date(session: Session, referral_id: int) -> date | None:
    event = session.exec(
        select(ReferralEvent)
        .where(ReferralEvent.referral_id == referral_id, ReferralEvent.to_status == RS.hired)
        .order_by(col(ReferralEvent.at).desc())
    ).first()
    if event is None or "start_date" not in event.details:
        return None
    return date.fromisoformat(event.details["start_date"])


def record_retention(
    session: Session, settings: Settings, principal: Principal, referral_id: int, data: RetainedIn
) -> EmployerReferralOut:
    """Still employed 90 days after the start date: recorded only from that day on."""
    referral, profile, _posting = _employer_load(session, principal, referral_id)
    _check_transition(referral, RS.retained_90d)
    start = _start_date(session, referral_id)
    if start is None:
        raise _state_error(referral, "the hire has no start date")
    due = start + timedelta(days=90)
    if _today(settings) < due:
        raise Conflict(
            f"90-day retention can be recorded from {due.isoformat()}",
            field="start_date",
            available_from=due.isoformat(),
        )
    _transition(
        session,
        referral,
        RS.retained_90d,
        principal,
        reason=data.note,
        details={"start_date": start.isoformat()},
    )
    _push_outcome(session, settings, referral, profile)
    return employer_view(session, settings, principal, referral)


# --- reading ---------------------------------------------------------------------------


def get_referral(session: Session, principal: Principal, referral_id: int) -> ReferralDetail:
    referral, _profile, _posting = _load(session, principal, referral_id)
    return to_detail(session, referral)


def get_received(
    session: Session, settings: Settings, principal: Principal, referral_id: int
) -> EmployerReferralOut:
    referral, _profile, _posting = _load(session, principal, referral_id)
    return employer_view(session, settings, principal, referral)


def _centre_id(session: Session, code: str) -> int:
    centre = session.exec(select(Centre).where(Centre.code == code)).first()
    if centre is None:
        raise InvalidInput(f"unknown centre code {code!r}", field="centre_code")
    return centre.id or 0


def _scope_centre(session: Session, principal: Principal, centre_code: str | None) -> int | None:
    """The centre a list is limited to: a caseworker's own; for admins the one asked for."""
    wanted = _centre_id(session, centre_code) if centre_code else None
    if principal.role == Role.caseworker:
        own = principal.account.centre_id
        if wanted is not None and wanted != own:
            raise PermissionDenied("a caseworker sees only their own centre")
        return own or -1
    return wanted


def list_referrals(
    session: Session,
    principal: Principal,
    page: PageParams,
    *,
    status: ReferralStatus | None = None,
    centre_code: str | None = None,
    seeker_id: int | None = None,
) -> Page[ReferralOut]:
    """A seeker's own referrals; a caseworker's centre's; all for admins. Newest first."""
    query = select(Referral).join(SeekerProfile, col(SeekerProfile.id) == Referral.seeker_id)
    if principal.role == Role.seeker:
        query = query.where(SeekerProfile.account_id == principal.id)
    else:
        centre_id = _scope_centre(session, principal, centre_code)
        if centre_id is not None:
            query = query.where(SeekerProfile.centre_id == centre_id)
    if status is not None:
        query = query.where(Referral.status == status)
    if seeker_id is not None:
        query = query.where(Referral.seeker_id == seeker_id)
    rows, total = paginate(
        session, query.order_by(col(Referral.created_at).desc(), col(Referral.id).desc()), page
    )
    return Page.of([to_out(session, r) for r in rows], int(total), page)


def list_received(
    session: Session,
    settings: Settings,
    principal: Principal,
    page: PageParams,
    *,
    status: ReferralStatus | None = None,
) -> Page[EmployerReferralOut]:
    """The referrals sent to the employer's postings, and its own invitations."""
    employer_id = principal.account.employer_id or -1
    sent_ids = select(ReferralEvent.referral_id).where(ReferralEvent.to_status == RS.sent)
    own_accounts = select(Account.id).where(Account.employer_id == employer_id)
    query = (
        select(Referral)
        .join(Posting, col(Posting.id) == Referral.posting_id)
        .where(
            Posting.employer_id == employer_id,
            or_(
                col(Referral.status).in_(SHARED_STATES),
                col(Referral.created_by).in_(own_accounts),
                col(Referral.id).in_(sent_ids),
            ),
        )
    )
    if status is not None:
        query = query.where(Referral.status == status)
    rows, total = paginate_rows(
        session, query.order_by(col(Referral.updated_at).desc(), col(Referral.id).desc()), page
    )
    return Page.of([employer_view(session, settings, principal, r) for r in rows], int(total), page)


def queue(
    session: Session,
    principal: Principal,
    page: PageParams,
    *,
    centre_code: str | None = None,
    overdue: bool | None = None,
    explain: Callable[[int, int], dict[str, Any] | None] | None = None,
) -> Page[QueueItem]:
    """Referrals waiting for a caseworker, oldest first, with the rules that failed, the
    seeker's referral history and (given `explain(seeker_id, posting_id)`) the match
    explanation."""
    query = (
        select(Referral)
        .join(SeekerProfile, col(SeekerProfile.id) == Referral.seeker_id)
        .where(Referral.status == RS.pending)
    )
    centre_id = _scope_centre(session, principal, centre_code)
    if centre_id is not None:
        query = query.where(SeekerProfile.centre_id == centre_id)
    now = utcnow()
    if overdue is True:
        query = query.where(col(Referral.deadline_at) < now)
    elif overdue is False:
        query = query.where(
            or_(col(Referral.deadline_at).is_(None), col(Referral.deadline_at) >= now)
        )
    rows, total = paginate_rows(
        session, query.order_by(col(Referral.created_at), col(Referral.id)), page
    )
    items = []
    for referral in rows:
        profile = session.get(SeekerProfile, referral.seeker_id)
        assert profile is not None
        events = _events(session, referral.id or 0)
        waiting = next(
            (e.at for e in reversed(events) if e.to_status == RS.pending), referral.created_at
        )
        history = session.exec(
            select(Referral, Posting)
            .join(Posting, col(Posting.id) == Referral.posting_id)
            .where(Referral.seeker_id == referral.seeker_id, Referral.id != referral.id)
            .order_by(col(Referral.created_at).desc())
        ).all()
        items.append(
            QueueItem(
                referral=to_out(session, referral),
                seeker=SeekerBrief(
                    id=profile.id or 0, full_name=profile.full_name, centre_id=profile.centre_id
                ),
                waiting_since=waiting,
                failed_rules=[v for v in _latest_verdicts(events) if not v.passed],
                seeker_history=[
                    HistoryItem(
                        id=r.id or 0,
                        posting_id=p.id or 0,
                        posting_title=p.title,
                        status=r.status,
                        created_at=r.created_at,
                    )
                    for r, p in history
                ],
                match=explain(referral.seeker_id, referral.posting_id) if explain else None,
            )
        )
    return Page.of(items, int(total), page)


# --- statistics ------------------------------------------------------------------------

MIN_CELL: Final = 5
OUTCOME_CELLS: Final = {RS.rejected: "rejected", RS.hired: "hires", RS.retained_90d: "retained"}


def _cell(n: int) -> int | Literal["<5"]:
    """Counts of 1 to 4 people are shown as "<5"."""
    return "<5" if 0 < n < MIN_CELL else n


def _month_start(month: str, tz: ZoneInfo) -> datetime:
    year, mon = (int(p) for p in month.split("-"))
    return datetime(year, mon, 1, tzinfo=tz)


def stats(
    session: Session,
    settings: Settings,
    principal: Principal,
    *,
    since: str | None = None,
    until: str | None = None,
    centre_code: str | None = None,
) -> StatsOut:
    """Referrals, approvals (instant or queued, with the average time to approve), rejections,
    hires and 90-day retention per centre and month of the referral; small cells hidden."""
    tz = _local_tz(settings)
    now_local = utcnow().astimezone(tz)
    start = _month_start(since, tz) if since else datetime(now_local.year - 1, 1, 1, tzinfo=tz)
    end = now_local + timedelta(days=1)
    if until:
        last = _month_start(until, tz)
        end = (last + timedelta(days=32)).replace(day=1)
    if end <= start:
        raise InvalidInput("until is before since", field="until")
    centre_id = _scope_centre(session, principal, centre_code)
    query = (
        select(Referral.id, Referral.created_at, Centre.code)
        .join(SeekerProfile, col(SeekerProfile.id) == Referral.seeker_id)
        .join(Centre, col(Centre.id) == SeekerProfile.centre_id)
        .where(col(Referral.created_at) >= start, col(Referral.created_at) < end)
    )
    if centre_id is not None:
        query = query.where(SeekerProfile.centre_id == centre_id)
    referrals = session.exec(query).all()
    keys = {rid or 0: (code, at.astimezone(tz).strftime("%Y-%m")) for rid, at, code in referrals}
    events: dict[int, list[ReferralEvent]] = defaultdict(list)
    ids = list(keys)
    for chunk in range(0, len(ids), 500):
        for event in session.exec(
            select(ReferralEvent)
            .where(col(ReferralEvent.referral_id).in_(ids[chunk : chunk + 500]))
            .order_by(col(ReferralEvent.at), col(ReferralEvent.id))
        ):
            events[event.referral_id].append(event)
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    hours: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for rid, key in keys.items():
        c = counts[key]
        c["referrals"] += 1
        submitted: datetime | None = None
        for e in events[rid]:
            if e.to_status == RS.pending:
                submitted = e.at
            elif e.to_status == RS.approved:
                kind = "instant" if e.actor_role == SYSTEM_ROLE else "queued"
                c[f"approved_{kind}"] += 1
                if submitted is not None:
                    hours[key][kind].append((e.at - submitted).total_seconds() / 3600)
            elif e.to_status in OUTCOME_CELLS:
                c[OUTCOME_CELLS[e.to_status]] += 1

    def avg(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 2) if len(values) >= MIN_CELL else None

    rows = [
        StatsRow(
            centre_code=code,
            month=month,
            referrals=_cell(c["referrals"]),
            approved_instant=_cell(c["approved_instant"]),
            approved_queued=_cell(c["approved_queued"]),
            rejected=_cell(c["rejected"]),
            avg_hours_instant=avg(hours[(code, month)]["instant"]),
            avg_hours_queued=avg(hours[(code, month)]["queued"]),
            hires=_cell(c["hires"]),
            retained_90d=_cell(c["retained"]),
        )
        for (code, month), c in sorted(counts.items())
    ]
    return StatsOut(min_cell=MIN_CELL, rows=rows)
