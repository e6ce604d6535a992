"""Shared column types, enums and the metadata naming convention."""

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        zone = value.tzinfo
        if zone is UTC:  # already in UTC (what utcnow() gives): nothing to convert
            return value
        if zone is None:
            raise ValueError("naive datetime given; use timezone-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


class Role(enum.StrEnum):
    seeker = "seeker"
    employer = "employer"
    caseworker = "caseworker"
    admin = "admin"
    # Accessibility volunteer (无障碍监督员): records checks of workplaces, nothing else.
    volunteer = "volunteer"


class Language(enum.StrEnum):
    zh = "zh"
    en = "en"


class WorkMode(enum.StrEnum):
    on_site = "on_site"
    hybrid = "hybrid"
    remote = "remote"


class Schedule(enum.StrEnum):
    full_time = "full_time"
    part_time = "part_time"
    flexible = "flexible"
    any = "any"


class DisabilityCategory(enum.StrEnum):
    """GB/T 26341-2010 categories."""

    vision = "vision"
    hearing = "hearing"
    speech = "speech"
    physical = "physical"
    intellectual = "intellectual"
    mental = "mental"
    multiple = "multiple"


class NeedLevel(enum.StrEnum):
    essential = "essential"
    preferred = "preferred"


class OfferAvailability(enum.StrEnum):
    available = "available"
    arrangeable = "arrangeable"


class PostingStatus(enum.StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"
    filled = "filled"


class TrainingStatus(enum.StrEnum):
    planned = "planned"
    open = "open"
    closed = "closed"
    cancelled = "cancelled"


class ReferralStatus(enum.StrEnum):
    proposed = "proposed"
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    sent = "sent"
    interviewing = "interviewing"
    hired = "hired"
    not_hired = "not_hired"
    withdrawn = "withdrawn"
    retained_90d = "retained_90d"


class OutboxStatus(enum.StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class CheckResult(enum.StrEnum):
    """What an on-site check found for one claimed accessibility feature."""

    confirmed = "confirmed"
    not_found = "not_found"
    partly = "partly"
