"""The domain as SQLModel tables.

Every table model has a `*Base` with the fields a client may set; the API's schemas derive
Create / Update / Public shapes from them. Mutable rows carry a `version` used for
optimistic concurrency (SQLAlchemy's version counter): a stale write fails instead of
silently overwriting another writer.
"""

import enum
from datetime import date, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import declared_attr
from sqlmodel import JSON, Field, SQLModel

from models.base import (
    CheckResult,
    Language,
    NeedLevel,
    OfferAvailability,
    OutboxStatus,
    PostingStatus,
    ReferralStatus,
    Role,
    Schedule,
    TrainingStatus,
    UTCDateTime,
    WorkMode,
    utcnow,
)


def enum_type(enum_cls: type[enum.Enum]) -> sa.Enum:
    """A portable enum column: VARCHAR with a CHECK, not a native PostgreSQL type."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=24,
        validate_strings=True,
    )


def created_at_field() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Versioned(SQLModel):
    """Adds an optimistic-concurrency counter."""

    version: int = Field(default=1, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


# --- centres and accounts -------------------------------------------------------------


class CentreBase(SQLModel):
    code: str = Field(max_length=32, unique=True, index=True)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(max_length=100)
    street_zh: str = Field(default="", max_length=100)
    address: str = Field(default="", max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class Centre(CentreBase, table=True):
    """One of the district's street-level service centres (职康中心)."""

    id: int | None = Field(default=None, primary_key=True)


class Account(SQLModel, table=True):
    """A login: seeker, employer, caseworker or admin."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str = Field(max_length=256)
    role: Role = Field(sa_type=enum_type(Role))
    display_name: str = Field(default="", max_length=100)
    language: Language = Field(default=Language.zh, sa_type=enum_type(Language))
    centre_id: int | None = Field(default=None, foreign_key="centre.id", index=True)
    employer_id: int | None = Field(default=None, foreign_key="employer.id", index=True)
    is_active: bool = Field(default=True)
    created_at: datetime = created_at_field()
    password_changed_at: datetime = created_at_field()


class AuthSession(SQLModel, table=True):
    """A server-side session; a token is valid only while its session is neither revoked nor
    expired, so logout really ends it."""

    __tablename__: ClassVar[str] = "auth_session"

    id: str = Field(primary_key=True, max_length=64)
    account_id: int = Field(foreign_key="account.id", index=True)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginAttempt(SQLModel, table=True):
    """Each failed login, kept for throttling across processes."""

    __tablename__: ClassVar[str] = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    client_ip: str = Field(default="", max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


# --- accommodation vocabulary ----------------------------------------------------------


class AccommodationBase(SQLModel):
    code: str = Field(primary_key=True, max_length=48)
    group: str = Field(max_length=32, index=True)
    label_zh: str = Field(max_length=100)
    label_en: str = Field(max_length=100)
    description_zh: str = Field(default="", max_length=500)
    description_en: str = Field(default="", max_length=500)
    # True where stating this need reveals health information (PIPL sensitive).
    health_related: bool = Field(default=False)
    active: bool = Field(default=True)


class Accommodation(AccommodationBase, table=True):
    """One code of the shared accommodation vocabulary (needs and offers)."""


# --- seekers ---------------------------------------------------------------------------


class SeekerProfileBase(SQLModel):
    full_name: str = Field(max_length=100)
    phone: str = Field(default="", max_length=32)
    headline: str = Field(default="", max_length=200)
    skills: list[str] = Field(default_factory=list, sa_type=JSON)
    experience: str = Field(default="", max_length=5000)
    education: str = Field(default="", max_length=500)
    desired_roles: list[str] = Field(default_factory=list, sa_type=JSON)
    location_text: str = Field(default="", max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    commute_limit_km: float | None = Field(default=None, ge=0, le=500)
    schedule: Schedule = Field(default=Schedule.any, sa_type=enum_type(Schedule))
    work_modes: list[WorkMode] = Field(
        default_factory=lambda: [WorkMode.on_site, WorkMode.hybrid, WorkMode.remote],
        sa_type=JSON,
    )
    expected_wage: int | None = Field(default=None, ge=0, le=1_000_000)
    language: Language = Field(default=Language.zh, sa_type=enum_type(Language))
    # True: an essential need counts as met only where an on-site check verified it.
    verified_only_essential: bool = Field(default=False)


class SeekerProfile(SeekerProfileBase, Versioned, table=True):
    """A seeker's profile (non-sensitive part)."""

    __tablename__: ClassVar[str] = "seeker_profile"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", unique=True)
    centre_id: int = Field(foreign_key="centre.id", index=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SeekerSensitive(SQLModel, table=True):
    """The sensitive part of a seeker (PIPL): disability category, grade, certificate number
    and health notes, kept apart and encrypted at rest as one sealed JSON document; stored
    only under the seeker's separate consent, read only where necessary (and audited)."""

    __tablename__: ClassVar[str] = "seeker_sensitive"

    seeker_id: int = Field(foreign_key="seeker_profile.id", primary_key=True)
    sealed: str = Field(sa_type=sa.Text)  # Fernet token of the JSON document
    consent_id: int | None = Field(default=None, foreign_key="consent.id")
    updated_at: datetime = created_at_field()


class Consent(SQLModel, table=True):
    """A consent given (and perhaps withdrawn) by a seeker for one purpose and scope."""

    id: int | None = Field(default=None, primary_key=True)
    seeker_id: int = Field(foreign_key="seeker_profile.id", index=True)
    purpose: str = Field(max_length=64)
    scope: list[str] = Field(default_factory=list, sa_type=JSON)
    text_version: str = Field(max_length=32)
    given_at: datetime = created_at_field()
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SeekerNeed(SQLModel, table=True):
    """An accommodation a seeker needs, essential or preferred."""

    __tablename__: ClassVar[str] = "seeker_need"

    seeker_id: int = Field(foreign_key="seeker_profile.id", primary_key=True)
    code: str = Field(foreign_key="accommodation.code", primary_key=True, max_length=48)
    level: NeedLevel = Field(sa_type=enum_type(NeedLevel))


# --- employers and postings ------------------------------------------------------------


class EmployerBase(SQLModel):
    name: str = Field(max_length=200)
    uscc: str = Field(max_length=18, unique=True, index=True)  # 统一社会信用代码
    staff_count: int = Field(default=0, ge=0, le=10_000_000)
    # Disabled staff employed other than through this service, as counts only (never per
    # person): holders of a grade 1–2 certificate, and of a grade 3–4 one (quota figures).
    disabled_staff_grade_1_2: int = Field(default=0, ge=0, le=10_000_000)
    disabled_staff_grade_3_4: int = Field(default=0, ge=0, le=10_000_000)
    industry: str = Field(default="", max_length=100)
    address: str = Field(default="", max_length=200)
    contact_email: str = Field(default="", max_length=254)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class Employer(EmployerBase, Versioned, table=True):
    """A company or public body hiring."""

    id: int | None = Field(default=None, primary_key=True)
    centre_id: int | None = Field(default=None, foreign_key="centre.id", index=True)
    verified: bool = Field(default=False)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verified_by: int | None = Field(default=None)  # account id; no FK (account → employer)
    created_at: datetime = created_at_field()
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PostingBase(SQLModel):
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=10_000)
    required_skills: list[str] = Field(default_factory=list, sa_type=JSON)
    optional_skills: list[str] = Field(default_factory=list, sa_type=JSON)
    location_text: str = Field(default="", max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    work_mode: WorkMode = Field(default=WorkMode.on_site, sa_type=enum_type(WorkMode))
    schedule: Schedule = Field(default=Schedule.full_time, sa_type=enum_type(Schedule))
    wage_min: int | None = Field(default=None, ge=0, le=1_000_000)
    wage_max: int | None = Field(default=None, ge=0, le=1_000_000)
    openings: int = Field(default=1, ge=1, le=10_000)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Posting(PostingBase, Versioned, table=True):
    """A vacancy with what the workplace offers.

    An imported posting carries the partner's source name and its id there (unique per
    source), the hash of the imported content and the version the import left it at: a
    re-import of the same content changes nothing, and an edit made in the app since is
    never overwritten by an import.
    """

    __table_args__ = (sa.UniqueConstraint("source", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    employer_id: int = Field(foreign_key="employer.id", index=True)
    centre_id: int | None = Field(default=None, foreign_key="centre.id", index=True)
    status: PostingStatus = Field(
        default=PostingStatus.open, sa_type=enum_type(PostingStatus), index=True
    )
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    source: str | None = Field(default=None, max_length=64)
    external_id: str | None = Field(default=None, max_length=128)
    import_hash: str | None = Field(default=None, max_length=64)
    imported_version: int | None = Field(default=None)


class PostingOffer(SQLModel, table=True):
    """An accommodation a posting's workplace offers now or can arrange."""

    __tablename__: ClassVar[str] = "posting_offer"

    posting_id: int = Field(foreign_key="posting.id", primary_key=True)
    code: str = Field(foreign_key="accommodation.code", primary_key=True, max_length=48)
    availability: OfferAvailability = Field(sa_type=enum_type(OfferAvailability))


# --- trainings -------------------------------------------------------------------------


class TrainingBase(SQLModel):
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=5000)
    skills_taught: list[str] = Field(default_factory=list, sa_type=JSON)
    provider: str = Field(default="", max_length=200)
    location_text: str = Field(default="", max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    starts_on: date
    ends_on: date
    capacity: int = Field(default=20, ge=1, le=100_000)
    accessibility: list[str] = Field(default_factory=list, sa_type=JSON)


class Training(TrainingBase, Versioned, table=True):
    """A vocational training a centre publishes."""

    id: int | None = Field(default=None, primary_key=True)
    centre_id: int | None = Field(default=None, foreign_key="centre.id", index=True)
    status: TrainingStatus = Field(default=TrainingStatus.open, sa_type=enum_type(TrainingStatus))
    seats_taken: int = Field(default=0, ge=0)
    created_by: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = created_at_field()


# --- referrals -------------------------------------------------------------------------


# A referral in one of these states is over without a decision on the seeker's fit: the pair
# may be referred again (the old referral stays, with its history).
REFERRAL_REOPENABLE = (ReferralStatus.withdrawn, ReferralStatus.rejected)
_LIVE_REFERRAL = sa.text(
    f"status NOT IN ({', '.join(repr(s.value) for s in REFERRAL_REOPENABLE)})"
)


class Referral(Versioned, table=True):
    """A seeker proposed to a posting; moves through the referral state machine. At most one
    live referral per seeker and posting; withdrawn and rejected ones may be followed by a
    new one."""

    __table_args__ = (
        sa.Index(
            "uq_referral_live_pair",
            "seeker_id",
            "posting_id",
            unique=True,
            sqlite_where=_LIVE_REFERRAL,
            postgresql_where=_LIVE_REFERRAL,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    seeker_id: int = Field(foreign_key="seeker_profile.id", index=True)
    posting_id: int = Field(foreign_key="posting.id", index=True)
    status: ReferralStatus = Field(
        default=ReferralStatus.proposed, sa_type=enum_type(ReferralStatus), index=True
    )
    created_by: int = Field(foreign_key="account.id")
    shared_fields: list[str] = Field(default_factory=list, sa_type=JSON)
    consent_id: int | None = Field(default=None, foreign_key="consent.id")
    deadline_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class ReferralEvent(SQLModel, table=True):
    """One transition of a referral: who, when, from, to, why."""

    __tablename__: ClassVar[str] = "referral_event"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    from_status: ReferralStatus | None = Field(default=None, sa_type=enum_type(ReferralStatus))
    to_status: ReferralStatus = Field(sa_type=enum_type(ReferralStatus))
    actor_id: int | None = Field(default=None, foreign_key="account.id")
    actor_role: str = Field(default="", max_length=24)
    reason: str = Field(default="", max_length=2000)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    at: datetime = created_at_field()


# --- pushes and audit ------------------------------------------------------------------


class Outbox(SQLModel, table=True):
    """One push, written once per (recipient, kind, item, period) before any delivery."""

    __table_args__ = (sa.UniqueConstraint("recipient_id", "kind", "item_key", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    recipient_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(max_length=48)
    item_key: str = Field(max_length=128)
    period: str = Field(default="", max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: OutboxStatus = Field(default=OutboxStatus.pending, sa_type=enum_type(OutboxStatus))
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=2000)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditLog(SQLModel, table=True):
    """Append-only record of sensitive reads, consent changes, approvals, exports, denials."""

    __tablename__: ClassVar[str] = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None)
    actor_role: str = Field(default="", max_length=24)
    action: str = Field(max_length=64, index=True)
    object_type: str = Field(default="", max_length=48)
    object_id: str = Field(default="", max_length=64)
    purpose: str = Field(default="", max_length=200)
    request_id: str = Field(default="", max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


# --- matching --------------------------------------------------------------------------


class Embedding(SQLModel, table=True):
    """A stored text vector of a seeker profile or a posting, per model and text version.

    `text_hash` is the hash of the exact text embedded: a changed text or model re-embeds
    only what changed.
    """

    __table_args__ = (sa.UniqueConstraint("owner_type", "owner_id", "model"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_type: str = Field(max_length=16)  # "seeker" or "posting"
    owner_id: int = Field(index=True)
    model: str = Field(max_length=200)
    text_hash: str = Field(max_length=64)
    dim: int
    vector: bytes = Field(sa_type=sa.LargeBinary)  # float32, L2-normalised
    updated_at: datetime = created_at_field()


class MatchFeedbackBase(SQLModel):
    kind: str = Field(max_length=16)  # "saved" or "dismissed"
    reason: str = Field(default="", max_length=500)


class MatchFeedback(MatchFeedbackBase, table=True):
    """A seeker's (or their caseworker's) reaction to a match, kept as a label for learning."""

    __tablename__: ClassVar[str] = "match_feedback"
    __table_args__ = (sa.UniqueConstraint("seeker_id", "posting_id"),)

    id: int | None = Field(default=None, primary_key=True)
    seeker_id: int = Field(foreign_key="seeker_profile.id", index=True)
    posting_id: int = Field(foreign_key="posting.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="account.id")
    score: float | None = None  # the match score shown when the feedback was given
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


# --- pushes ----------------------------------------------------------------------------


class PushFrequency(enum.StrEnum):
    daily = "daily"
    weekly = "weekly"
    off = "off"


class PushPreferenceBase(SQLModel):
    # False: no pushes at all (PIPL Art. 24 opt-out); pushes already written stay in the inbox.
    enabled: bool = Field(default=True)
    frequency: PushFrequency = Field(default=PushFrequency.weekly, sa_type=enum_type(PushFrequency))
    # Extra channels besides the in-app inbox, which is always on: "email", "webhook".
    channels: list[str] = Field(default_factory=list, sa_type=JSON)
    # Local "HH:MM" (settings.timezone); e-mail and webhook wait while quiet, the inbox does not.
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)
    min_score: float = Field(default=0.5, ge=0, le=1)
    trainings: bool = Field(default=True)


class PushPreference(PushPreferenceBase, Versioned, table=True):
    """An account's choices for pushes; no row means the defaults."""

    __tablename__: ClassVar[str] = "push_preference"

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    updated_at: datetime = created_at_field()


class JobRun(SQLModel, table=True):
    """One run of a scheduled job: when, where, how it ended (for catch-up and `jobs list`)."""

    __tablename__: ClassVar[str] = "job_run"

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=48, index=True)
    runner: str = Field(default="", max_length=128)
    started_at: datetime = created_at_field()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default="running", max_length=16)  # running, ok, failed
    summary: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    error: str = Field(default="", max_length=500)


# Delivery claims pending rows that are due: index the claim's filter.
sa.Index(
    "ix_outbox_status_next_attempt_at",
    Outbox.__table__.c.status,  # type: ignore[attr-defined]
    Outbox.__table__.c.next_attempt_at,  # type: ignore[attr-defined]
)


# --- referral rules --------------------------------------------------------------------


class ApprovalRuleBase(SQLModel):
    enabled: bool = Field(default=True)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    description_zh: str = Field(default="", max_length=500)
    description_en: str = Field(default="", max_length=500)


class ApprovalRule(ApprovalRuleBase, Versioned, table=True):
    """One instant-approval (秒批) rule, kept as data: a referral that passes every enabled
    rule is approved at once; any other waits in its centre's queue. `code` names the check
    the service implements; admins switch rules on and off and set their parameters."""

    __tablename__: ClassVar[str] = "approval_rule"

    code: str = Field(primary_key=True, max_length=48)
    position: int = Field(default=0)  # the order rules are shown and evaluated in
    updated_at: datetime = created_at_field()
    updated_by: int | None = Field(default=None)  # account id; no FK (not a personal table)


# --- rate limits -----------------------------------------------------------------------


class RateCounter(SQLModel, table=True):
    """Requests counted per key (an account or an address) and fixed time window, shared by
    every service process (PostgreSQL deployments)."""

    __tablename__: ClassVar[str] = "rate_counter"

    key: str = Field(primary_key=True, max_length=128)
    window_start: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    count: int = Field(default=0)


# --- learning from outcomes ------------------------------------------------------------


class PairSignal(SQLModel, table=True):
    """The matcher's signals of one (seeker, posting) pair as they stood when the seeker first
    reacted to the match or a referral for it began: the features its outcome is learnt with.

    Only the matcher's signals (numbers in [0, 1]); nothing sensitive and no text.
    """

    __tablename__: ClassVar[str] = "pair_signal"
    __table_args__ = (sa.UniqueConstraint("seeker_id", "posting_id"),)

    id: int | None = Field(default=None, primary_key=True)
    seeker_id: int = Field(foreign_key="seeker_profile.id", index=True)
    posting_id: int = Field(foreign_key="posting.id", index=True)
    # dense, lexical, text and each side signal; None where the signal is unknown for the pair.
    signals: dict[str, float | None] = Field(default_factory=dict, sa_type=JSON)
    model: str = Field(default="", max_length=200)  # the embedding model of dense and text
    source: str = Field(default="", max_length=16)  # "feedback" or "referral"
    captured_at: datetime = created_at_field()


class WeightSet(SQLModel, table=True):
    """One set of fusion weights with the report that chose it. Every learning run is kept
    (adopted or not); at most one set is in force (`in_force` true, NULL for the others, so a
    unique constraint allows only one); none in force means the matcher's defaults."""

    __tablename__: ClassVar[str] = "weight_set"

    id: int | None = Field(default=None, primary_key=True)
    weights: dict[str, float] = Field(default_factory=dict, sa_type=JSON)
    source: str = Field(max_length=16)  # "default" or "learned"
    adopted: bool = Field(default=False)  # better than the set in force when it was learnt
    metrics: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    report: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    in_force: bool | None = Field(default=None, unique=True)
    # The set that was in force just before this one was last put in force.
    previous_id: int | None = Field(default=None, foreign_key="weight_set.id")
    created_at: datetime = created_at_field()
    created_by: int | None = Field(default=None)  # account id; no FK (not a personal table)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- verified workplace accessibility ----------------------------------------------------


class AccessibilityCheck(SQLModel, table=True):
    """One on-site check of a posting's workplace by a caseworker or accessibility volunteer;
    valid until `expires_at`, after which its confirmations count as claims again."""

    __tablename__: ClassVar[str] = "accessibility_check"

    id: int | None = Field(default=None, primary_key=True)
    posting_id: int = Field(foreign_key="posting.id", index=True)
    employer_id: int = Field(foreign_key="employer.id", index=True)
    checked_by: int = Field(foreign_key="account.id", index=True)
    checker_role: str = Field(max_length=24)
    visited_on: date
    note: str = Field(default="", max_length=2000)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # Set by the scheduled job once the check has expired and the posting was re-indexed.
    lapsed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccessibilityFinding(Versioned, table=True):
    """What a check found for one claimed feature, and the employer's answer to it."""

    __tablename__: ClassVar[str] = "accessibility_finding"
    __table_args__ = (sa.UniqueConstraint("check_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="accessibility_check.id", index=True)
    posting_id: int = Field(foreign_key="posting.id", index=True)
    code: str = Field(foreign_key="accommodation.code", max_length=48)
    result: CheckResult = Field(sa_type=enum_type(CheckResult))
    note: str = Field(default="", max_length=1000)
    employer_reply: str = Field(default="", max_length=2000)
    reply_action: str = Field(default="", max_length=24)
    replied_by: int | None = Field(default=None, foreign_key="account.id")
    replied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccessibilityPhoto(SQLModel, table=True):
    """A photo of a finding, re-encoded without metadata and stored under a random name
    outside any static folder; served only to those allowed."""

    __tablename__: ClassVar[str] = "accessibility_photo"

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="accessibility_finding.id", index=True)
    stored_name: str = Field(max_length=64, unique=True)
    content_type: str = Field(max_length=32)
    size_bytes: int
    width: int
    height: int
    uploaded_by: int = Field(foreign_key="account.id")
    created_at: datetime = created_at_field()
