"""Shapes of push preferences, the in-app inbox and the admin view of failed pushes."""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from sqlmodel import SQLModel

from api.schemas.common import Page, StrictInput
from models.tables import PushFrequency

Channel = Literal["email", "webhook"]
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class PreferencesIn(StrictInput):
    """The whole set of push choices (PUT replaces them)."""

    enabled: bool = True
    frequency: PushFrequency = PushFrequency.weekly
    channels: Annotated[list[Channel], Field(default_factory=list, max_length=2)]
    quiet_start: str | None = Field(default=None, description='local time "HH:MM"')
    quiet_end: str | None = Field(default=None, description='local time "HH:MM"')
    min_score: float = Field(default=0.5, ge=0.0, le=1.0)
    trainings: bool = True
    version: int | None = Field(default=None, ge=1, description="the version you read")

    @field_validator("quiet_start", "quiet_end")
    @classmethod
    def _hhmm(cls, value: str | None) -> str | None:
        if value is not None and not HHMM.match(value):
            raise ValueError('use 24-hour local time "HH:MM", e.g. "22:00"')
        return value

    @field_validator("channels")
    @classmethod
    def _unique(cls, value: list[Channel]) -> list[Channel]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _both_or_neither(self) -> "PreferencesIn":
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("give both quiet_start and quiet_end, or neither")
        if self.quiet_start is not None and self.quiet_start == self.quiet_end:
            raise ValueError("quiet hours must not start and end at the same time")
        return self


class PreferencesOut(SQLModel):
    """An account's push choices; the in-app inbox is always on."""

    enabled: bool
    frequency: PushFrequency
    channels: list[str]
    quiet_start: str | None
    quiet_end: str | None
    min_score: float
    trainings: bool
    version: int
    timezone: str
    available_channels: list[str]
    updated_at: datetime | None


class StopIn(StrictInput):
    """One-click stop from a push's link: the account and the token the link carried."""

    account: int = Field(ge=1, le=2**31 - 1)
    token: str = Field(min_length=16, max_length=128)


class InboxItem(SQLModel):
    """One push as the recipient reads it, in their language, with why it was sent."""

    id: int
    kind: str
    period: str
    subject: str
    text: str
    why: str
    stop_url: str
    created_at: datetime
    read_at: datetime | None
    delivered_at: datetime | None
    status: str


class InboxPage(Page[InboxItem]):
    unread: int


class PushAdminOut(SQLModel):
    """A push seen by an admin: state and error, not its content."""

    id: int
    recipient_id: int
    kind: str
    item_key: str
    period: str
    status: str
    attempts: int
    last_error: str
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


class PushAdminPage(Page[PushAdminOut]):
    pass


class JobOut(SQLModel):
    """A scheduled job, its schedule and its latest run."""

    name: str
    description: str
    schedule: str
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_status: str | None


StatusFilter = Literal["pending", "delivered", "failed"]
