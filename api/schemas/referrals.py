"""Shapes of referrals, their history, the caseworker queue, employer views, rules, stats."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from sqlmodel import SQLModel

from api.schemas.common import StrictInput
from models.base import NeedLevel, OfferAvailability, ReferralStatus

# What an employer always receives once a referral is sent (with the seeker's consent), and
# what it receives only when the seeker ticks it for this referral.
BASE_FIELDS: tuple[str, ...] = ("name", "contact", "needs")
OptionalField = Literal["disability_category", "disability_grade"]
OPTIONAL_FIELDS: tuple[str, ...] = OptionalField.__args__  # type: ignore[attr-defined]
NotHiredReason = Literal[
    "skills_mismatch",
    "position_filled",
    "candidate_declined",
    "no_show",
    "accommodation_not_possible",
    "other",
]
Origin = Literal["seeker", "caseworker", "employer_invite", "admin"]
Reason = Annotated[str, Field(max_length=2000)]
Version = Annotated[int | None, Field(default=None, ge=1, description="the version you read")]


def _strip(value: str) -> str:
    return value.strip()


# --- input -----------------------------------------------------------------------------


class ConsentChoiceIn(StrictInput):
    """The seeker's consent for one referral: name, contact and the needs relevant to the
    posting always; the disability category or grade only if ticked in `share`."""

    agree: Literal[True] = Field(description="true: I agree to share the listed fields")
    text_version: Annotated[str, Field(min_length=1, max_length=32)]
    share: list[OptionalField] = Field(default_factory=list, max_length=len(OPTIONAL_FIELDS))

    @field_validator("share")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class ReferralIn(StrictInput):
    """A seeker asks for a referral to a posting (seeker_id omitted: their own profile), or a
    caseworker proposes one for a seeker of their centre (seeker_id required)."""

    posting_id: Annotated[int, Field(ge=1, le=2**31 - 1)]
    seeker_id: Annotated[int | None, Field(default=None, ge=1, le=2**31 - 1)]
    note: Reason = ""
    consent: ConsentChoiceIn | None = Field(
        default=None, description="seekers only: consent now and submit in one step"
    )


class InvitationIn(StrictInput):
    """An employer invites a pseudonymous candidate of its posting."""

    candidate: Annotated[str, Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    note: Reason = ""


class WithdrawIn(StrictInput):
    reason: Reason = ""


class ApproveIn(StrictInput):
    reason: Reason = ""
    version: Version = None


class RejectIn(StrictInput):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    version: Version = None
    # What kind of reason: the match does not suit the seeker (a label for learning the
    # matcher's weights), an approval rule is not met, or something else.
    reason_code: Literal["not_suitable", "rule_not_met", "other"] | None = None

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a rejection needs a reason")
        return value.strip()


class DeadlineIn(StrictInput):
    """A new review deadline for a referral in the queue, with the reason (audited)."""

    deadline_at: datetime
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    version: Version = None

    @field_validator("deadline_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give a time zone")
        return value

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a new deadline needs a reason")
        return value.strip()


class InterviewIn(StrictInput):
    at: datetime | None = None
    note: Reason = ""

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone")
        return value


class HireIn(StrictInput):
    start_date: date
    note: Reason = ""


class NotHiredIn(StrictInput):
    reason: NotHiredReason
    text: Reason = ""

    @model_validator(mode="after")
    def _text_for_other(self) -> "NotHiredIn":
        self.text = self.text.strip()
        if self.reason == "other" and not self.text:
            raise ValueError("text: say why when the reason is 'other'")
        return self


class RetainedIn(StrictInput):
    note: Reason = ""


# --- output ----------------------------------------------------------------------------


class RuleVerdictOut(SQLModel):
    code: str
    passed: bool
    detail: str


class ReferralEventOut(SQLModel):
    id: int
    from_status: ReferralStatus | None
    to_status: ReferralStatus
    actor_id: int | None
    actor_role: str
    reason: str
    details: dict[str, Any]
    at: datetime


class PostingBrief(SQLModel):
    id: int
    title: str
    employer_id: int
    employer_name: str
    employer_verified: bool
    status: str


class ReferralOut(SQLModel):
    id: int
    seeker_id: int
    posting: PostingBrief
    status: ReferralStatus
    origin: Origin
    created_by: int
    shared_fields: list[str]
    consent_id: int | None
    consent_active: bool
    deadline_at: datetime | None
    overdue: bool
    allowed_next: list[ReferralStatus]
    version: int
    created_at: datetime
    updated_at: datetime


class ReferralDetail(ReferralOut):
    history: list[ReferralEventOut]
    rules: list[RuleVerdictOut] = Field(description="the latest rule evaluation, if any")


class SeekerBrief(SQLModel):
    id: int
    full_name: str
    centre_id: int


class HistoryItem(SQLModel):
    id: int
    posting_id: int
    posting_title: str
    status: ReferralStatus
    created_at: datetime


class QueueItem(SQLModel):
    referral: ReferralOut
    seeker: SeekerBrief
    waiting_since: datetime
    failed_rules: list[RuleVerdictOut]
    seeker_history: list[HistoryItem]
    # The match explanation (skills, needs met, distance); filled by the matching service.
    match: dict[str, Any] | None = None


class SharedNeed(SQLModel):
    code: str
    label_zh: str
    label_en: str
    level: NeedLevel
    availability: OfferAvailability | None  # None: an essential need the posting lacks
    health_related: bool = False


class EmployerReferralOut(SQLModel):
    """What an employer sees: the candidate's pseudonym and status, and, once the referral is
    sent and while the consent stands, exactly the consented fields in `shared`."""

    id: int
    posting_id: int
    posting_title: str
    candidate: str
    status: ReferralStatus
    invited: bool
    consent_active: bool
    shared_fields: list[str]
    shared: dict[str, Any]
    allowed_next: list[ReferralStatus]
    version: int
    updated_at: datetime


class PreviewOut(SQLModel):
    """Exactly what the employer would receive with these choices, and the consent text."""

    fields: list[str]
    text_version: str
    text_zh: str
    text_en: str
    view: EmployerReferralOut


# --- rules -----------------------------------------------------------------------------


class RuleOut(SQLModel):
    code: str
    enabled: bool
    params: dict[str, Any]
    description_zh: str
    description_en: str
    position: int
    version: int
    updated_at: datetime


class RuleUpdate(StrictInput):
    enabled: bool | None = None
    params: dict[str, Any] | None = None
    description_zh: Annotated[str | None, Field(max_length=500)] = None
    description_en: Annotated[str | None, Field(max_length=500)] = None
    version: Version = None


class RuleCreate(StrictInput):
    """A rule for a check the service implements that is not in force yet."""

    code: Annotated[str, Field(min_length=1, max_length=48, pattern=r"^[a-z0-9_]+$")]
    enabled: bool = True
    params: dict[str, Any] = Field(default_factory=dict)
    description_zh: Annotated[str, Field(max_length=500)] = ""
    description_en: Annotated[str, Field(max_length=500)] = ""


class RuleSpecOut(SQLModel):
    code: str
    enabled: bool
    params: dict[str, Any]


class RuleSpecIn(StrictInput):
    code: Annotated[str, Field(min_length=1, max_length=48)]
    enabled: bool = True
    params: dict[str, Any] = Field(default_factory=dict)


class DryRunIn(StrictInput):
    """Replay the referrals submitted in the last `days` days under these rules (omitted:
    the current rules)."""

    rules: list[RuleSpecIn] | None = Field(default=None, max_length=50)
    days: Annotated[int, Field(ge=1, le=366)] = 90


Decision = Literal["instant", "queue"]


class DryRunItem(SQLModel):
    referral_id: int
    submitted_at: datetime
    decision: Decision
    failed: list[str]
    actual: Decision | None
    changed: bool


class DryRunOut(SQLModel):
    rules: list[RuleSpecOut]
    days: int
    total: int
    instant: int
    queue: int
    changed: int
    items: list[DryRunItem]


# --- statistics ------------------------------------------------------------------------

Count = int | Literal["<5"]


class StatsRow(SQLModel):
    centre_code: str
    month: str  # YYYY-MM in the service's time zone
    referrals: Count
    approved_instant: Count
    approved_queued: Count
    rejected: Count
    avg_hours_instant: float | None  # None where fewer than 5 referrals stand behind it
    avg_hours_queued: float | None
    hires: Count
    retained_90d: Count


class StatsOut(SQLModel):
    min_cell: int
    rows: list[StatsRow]
