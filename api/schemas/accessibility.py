"""Shapes of accessibility checks, findings, photos and the employer's answers."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator
from sqlmodel import SQLModel

from api.schemas.common import StrictInput
from api.schemas.domain import Code
from models.base import CheckResult, OfferAvailability

# verified: confirmed on site by a check that has not expired; claimed: the employer's word
# only (never checked, or the check expired); disputed: the latest check did not find it (or
# found it only partly): shown as such until a new check confirms it or the claim is withdrawn.
VerificationStatus = Literal["verified", "claimed", "disputed"]
ReplyAction = Literal["keep", "withdraw_offer", "make_arrangeable"]


class FindingIn(StrictInput):
    code: Code
    result: CheckResult
    note: Annotated[str, Field(max_length=1000)] = ""


class CheckIn(StrictInput):
    """One on-site check: the day of the visit and what was found for each claimed feature."""

    visited_on: date
    note: Annotated[str, Field(max_length=2000)] = ""
    findings: Annotated[list[FindingIn], Field(min_length=1, max_length=60)]

    @model_validator(mode="after")
    def _unique(self) -> "CheckIn":
        if len({f.code for f in self.findings}) != len(self.findings):
            raise ValueError("each accommodation code may appear once in findings")
        return self


class PhotoOut(SQLModel):
    id: int
    finding_id: int
    content_type: str
    size_bytes: int
    width: int
    height: int
    created_at: datetime
    url: str


class FindingOut(SQLModel):
    id: int
    check_id: int
    posting_id: int
    code: str
    label_zh: str
    label_en: str
    result: CheckResult
    note: str
    employer_reply: str
    reply_action: str
    replied_at: datetime | None
    version: int
    photos: list[PhotoOut] = Field(default_factory=list)


class CheckOut(SQLModel):
    id: int
    posting_id: int
    employer_id: int
    checker_role: str
    checked_by_me: bool
    visited_on: date
    note: str
    created_at: datetime
    expires_at: datetime
    expired: bool
    findings: list[FindingOut]


class FeatureState(SQLModel):
    """One claimed feature of a workplace and what is known of it."""

    code: str
    label_zh: str
    label_en: str
    availability: OfferAvailability
    status: VerificationStatus
    checked_on: date | None = Field(default=None, description="the visit of the latest check")
    verified_until: datetime | None = None
    finding_id: int | None = None
    finding_note: str = ""
    employer_reply: str = ""


class PostingAccessibilityOut(SQLModel):
    """A posting's workplace: claims and checks. Seekers and other employers get the states
    only; the check history (notes, photos) goes to staff, volunteers and the employer."""

    posting_id: int
    title: str
    employer_id: int
    employer_name: str
    location_text: str
    features: list[FeatureState]
    checks: list[CheckOut]


class ReplyIn(StrictInput):
    """The employer's answer to a feature found missing or partly there."""

    version: int = Field(ge=1, le=2**31 - 1, description="the finding's version you read")
    note: Annotated[str, Field(min_length=1, max_length=2000)]
    action: ReplyAction = "keep"


class WorkItem(SQLModel):
    """A posting whose workplace claims accessibility, with the state of its checks."""

    posting_id: int
    title: str
    employer_name: str
    location_text: str
    claimed: int
    verified: int
    disputed: int
    last_visited_on: date | None
    expires_at: datetime | None


class WorkPage(SQLModel):
    items: list[WorkItem]
    total: int
    limit: int
    offset: int


class NeedVerification(SQLModel):
    """For a match: one of the seeker's needs the posting offers, verified or only claimed."""

    code: str
    essential: bool
    status: VerificationStatus
    checked_on: date | None = None
