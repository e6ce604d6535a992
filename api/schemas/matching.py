"""Shapes of matches, candidates and match feedback."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field
from sqlmodel import SQLModel

from api.schemas.accessibility import NeedVerification
from api.schemas.common import StrictInput
from models.base import WorkMode


class ExplanationOut(SQLModel):
    """Why a result is shown, in plain language and in parts."""

    text: str
    matched_skills: list[str]
    missing_skills: list[str]
    needs_met: list[str]
    needs_arrangeable: list[str]
    needs_unmet: list[str]
    distance_km: float | None
    top_signal: str
    # For the seeker's own matches: each need the posting offers, verified on site (with the
    # visit's date), only claimed by the employer, or disputed by a check.
    needs_verification: list[NeedVerification] = Field(default_factory=list)


class PostingSummary(SQLModel):
    id: int
    title: str
    employer_id: int
    employer_name: str
    employer_verified: bool
    work_mode: WorkMode
    location_text: str
    wage_min: int | None
    wage_max: int | None
    expires_at: datetime | None


class MatchOut(SQLModel):
    """One posting matched to a seeker; score and signals in [0, 1], shares sum to 1."""

    posting: PostingSummary
    score: float
    signals: dict[str, float]
    contributions: dict[str, float]
    explanation: ExplanationOut
    feedback: Literal["saved", "dismissed"] | None = None


class CandidateOut(SQLModel):
    """A pseudonymous candidate for a posting: no name, contact or sensitive field."""

    candidate: str
    seeker_id: int | None = Field(
        default=None, description="only for caseworkers of the seeker's own centre"
    )
    score: float
    signals: dict[str, float]
    contributions: dict[str, float]
    explanation: ExplanationOut


class MatchPage(SQLModel):
    items: list[MatchOut]
    total: int
    limit: int
    offset: int


class CandidatePage(SQLModel):
    items: list[CandidateOut]
    total: int
    limit: int
    offset: int


class FeedbackIn(StrictInput):
    kind: Literal["saved", "dismissed"]
    reason: Annotated[str, Field(max_length=500)] = ""


class FeedbackOut(SQLModel):
    seeker_id: int
    posting_id: int
    kind: Literal["saved", "dismissed"]
    reason: str
    score: float | None
    updated_at: datetime
