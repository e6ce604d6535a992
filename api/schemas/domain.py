"""Request and response shapes built on the tables' *Base classes."""

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlmodel import SQLModel

from api import uscc
from api.schemas.common import StrictInput, clean_list
from models.base import (
    Language,
    NeedLevel,
    OfferAvailability,
    PostingStatus,
    Role,
    Schedule,
    TrainingStatus,
    WorkMode,
)
from models.tables import (
    AccommodationBase,
    CentreBase,
    EmployerBase,
    PostingBase,
    SeekerProfileBase,
    TrainingBase,
)

USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
# The disabled staff an employer declares are among its staff.
DISABLED_ABOVE_STAFF = "disabled staff cannot outnumber the staff"
Password = Annotated[str, Field(min_length=10, max_length=128)]
# What the service accepts as an e-mail address, stated in the schema itself: one @, no spaces,
# a dot in the domain. Deliverability is checked by mailing, not by guessing.
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")]


class PasswordChangeIn(StrictInput):
    current_password: Annotated[str, Field(min_length=1, max_length=128)]
    new_password: Password


Code = Annotated[str, Field(min_length=1, max_length=48, pattern=r"^[a-z0-9_]+$")]


# --- auth and accounts ---------------------------------------------------------------------


class TokenOut(SQLModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_at: datetime


class LoginIn(StrictInput):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=128)]


class AccountPublic(SQLModel):
    id: int
    email: str
    role: Role
    display_name: str
    language: Language
    centre_id: int | None
    employer_id: int | None
    is_active: bool
    created_at: datetime


class EmployerIn(EmployerBase, StrictInput):
    @model_validator(mode="after")
    def _disabled_within_staff(self) -> "EmployerIn":
        if self.disabled_staff_grade_1_2 + self.disabled_staff_grade_3_4 > self.staff_count:
            raise ValueError(DISABLED_ABOVE_STAFF)
        return self

    @field_validator("uscc")
    @classmethod
    def _uscc(cls, value: str) -> str:
        value = value.strip().upper()
        if not USCC_RE.match(value):
            raise ValueError("not an 18-character unified social credit code")
        if not uscc.is_valid(value):
            raise ValueError("the check character of this credit code is wrong")
        return value


class RegisterBase(StrictInput):
    email: Email
    password: Password
    display_name: Annotated[str, Field(max_length=100)] = ""
    language: Language = Language.zh
    centre_code: Annotated[str | None, Field(max_length=32)] = None


class SeekerRegisterIn(RegisterBase):
    role: Literal[Role.seeker]


class EmployerRegisterIn(RegisterBase):
    role: Literal[Role.employer]
    employer: EmployerIn


RegisterIn = Annotated[SeekerRegisterIn | EmployerRegisterIn, Field(discriminator="role")]


class StaffAccountIn(StrictInput):
    email: Email
    password: Password
    role: Literal[Role.caseworker, Role.admin, Role.volunteer]
    display_name: Annotated[str, Field(max_length=100)] = ""
    language: Language = Language.zh
    centre_code: Annotated[str | None, Field(max_length=32)] = None

    @model_validator(mode="after")
    def _centre(self) -> "StaffAccountIn":
        if self.role == Role.caseworker and not self.centre_code:
            raise ValueError("a caseworker belongs to a centre: give centre_code")
        return self


# --- centres and vocabulary ------------------------------------------------------------


class CentrePublic(CentreBase):
    id: int


class AccommodationIn(AccommodationBase, StrictInput):
    code: Code


class AccommodationUpdate(StrictInput):
    group: Annotated[str | None, Field(max_length=32)] = None
    label_zh: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    label_en: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    description_zh: Annotated[str | None, Field(max_length=500)] = None
    description_en: Annotated[str | None, Field(max_length=500)] = None
    health_related: bool | None = None


class AccommodationPublic(AccommodationBase):
    pass


# --- seekers ---------------------------------------------------------------------------


class NeedIn(StrictInput):
    code: Code
    level: NeedLevel


class NeedPublic(BaseModel):
    code: str
    level: NeedLevel
    label_zh: str
    label_en: str


def _clean_text_lists(model: SQLModel, *names: str) -> None:
    for name in names:
        value = getattr(model, name, None)
        if value is not None:
            setattr(model, name, clean_list(value))


class SeekerProfileIn(SeekerProfileBase, StrictInput):
    full_name: Annotated[str, Field(min_length=1, max_length=100)]
    work_modes: list[WorkMode] = Field(
        default_factory=lambda: [WorkMode.on_site, WorkMode.hybrid, WorkMode.remote],
        min_length=1,
    )
    needs: list[NeedIn] = Field(default_factory=list, max_length=60)
    centre_code: Annotated[str | None, Field(max_length=32)] = None

    @model_validator(mode="after")
    def _clean(self) -> "SeekerProfileIn":
        _clean_text_lists(self, "skills", "desired_roles")
        self.work_modes = list(dict.fromkeys(self.work_modes))
        if len({n.code for n in self.needs}) != len(self.needs):
            raise ValueError("each accommodation code may appear once in needs")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


class SeekerProfileUpdate(StrictInput):
    version: int = Field(ge=1, le=2**31 - 1, description="the version you read; 409 if stale")
    full_name: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    phone: Annotated[str | None, Field(max_length=32)] = None
    headline: Annotated[str | None, Field(max_length=200)] = None
    skills: list[str] | None = None
    experience: Annotated[str | None, Field(max_length=5000)] = None
    education: Annotated[str | None, Field(max_length=500)] = None
    desired_roles: list[str] | None = None
    location_text: Annotated[str | None, Field(max_length=200)] = None
    lat: Annotated[float | None, Field(ge=-90, le=90)] = None
    lon: Annotated[float | None, Field(ge=-180, le=180)] = None
    commute_limit_km: Annotated[float | None, Field(ge=0, le=500)] = None
    schedule: Schedule | None = None
    work_modes: Annotated[list[WorkMode] | None, Field(min_length=1)] = None
    expected_wage: Annotated[int | None, Field(ge=0, le=1_000_000)] = None
    language: Language | None = None
    verified_only_essential: bool | None = None
    needs: Annotated[list[NeedIn] | None, Field(max_length=60)] = None

    @model_validator(mode="after")
    def _clean(self) -> "SeekerProfileUpdate":
        _clean_text_lists(self, "skills", "desired_roles")
        if self.needs is not None and len({n.code for n in self.needs}) != len(self.needs):
            raise ValueError("each accommodation code may appear once in needs")
        return self


class SeekerProfilePublic(SeekerProfileBase):
    id: int
    account_id: int
    centre_id: int
    version: int
    needs: list[NeedPublic]
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


# --- employers -------------------------------------------------------------------------


class EmployerUpdate(StrictInput):
    version: int = Field(ge=1, le=2**31 - 1)
    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    staff_count: Annotated[int | None, Field(ge=0, le=10_000_000)] = None
    disabled_staff_grade_1_2: Annotated[int | None, Field(ge=0, le=10_000_000)] = None
    disabled_staff_grade_3_4: Annotated[int | None, Field(ge=0, le=10_000_000)] = None
    industry: Annotated[str | None, Field(max_length=100)] = None
    address: Annotated[str | None, Field(max_length=200)] = None
    contact_email: Annotated[str | None, Field(max_length=254)] = None
    lat: Annotated[float | None, Field(ge=-90, le=90)] = None
    lon: Annotated[float | None, Field(ge=-180, le=180)] = None

    @field_validator("staff_count", "disabled_staff_grade_1_2", "disabled_staff_grade_3_4")
    @classmethod
    def _count_not_null(cls, value: int | None) -> int:
        if value is None:  # sent as null: a count is a number; leave it out to keep it
            raise ValueError("give a number, 0 or more")
        return value


class EmployerPublic(EmployerBase):
    id: int
    centre_id: int | None
    verified: bool
    verified_at: datetime | None
    version: int
    created_at: datetime
    closed_at: datetime | None


# --- postings --------------------------------------------------------------------------


class OfferIn(StrictInput):
    code: Code
    availability: OfferAvailability


class OfferPublic(BaseModel):
    code: str
    availability: OfferAvailability
    label_zh: str
    label_en: str
    # verified: confirmed on site by a check not yet expired; claimed: the employer's word
    # only; disputed: the latest check did not find it (or only partly).
    verification: Literal["verified", "claimed", "disputed"] = "claimed"
    checked_on: date | None = None
    verified_until: datetime | None = None


def _check_posting(model: "PostingIn | PostingUpdate") -> None:
    _clean_text_lists(model, "required_skills", "optional_skills")
    if (
        model.wage_min is not None
        and model.wage_max is not None
        and model.wage_min > model.wage_max
    ):
        raise ValueError("wage_min is above wage_max")
    offers = model.offers or []
    if len({o.code for o in offers}) != len(offers):
        raise ValueError("each accommodation code may appear once in offers")


class PostingIn(PostingBase, StrictInput):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    offers: list[OfferIn] = Field(default_factory=list, max_length=60)
    employer_id: Annotated[int | None, Field(ge=1, le=2**31 - 1)] = None
    status: Literal[PostingStatus.draft, PostingStatus.open] = PostingStatus.open

    @model_validator(mode="after")
    def _check(self) -> "PostingIn":
        _check_posting(self)
        return self


class PostingUpdate(StrictInput):
    version: int = Field(ge=1, le=2**31 - 1)
    title: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    description: Annotated[str | None, Field(max_length=10_000)] = None
    required_skills: list[str] | None = None
    optional_skills: list[str] | None = None
    location_text: Annotated[str | None, Field(max_length=200)] = None
    lat: Annotated[float | None, Field(ge=-90, le=90)] = None
    lon: Annotated[float | None, Field(ge=-180, le=180)] = None
    work_mode: WorkMode | None = None
    schedule: Schedule | None = None
    wage_min: Annotated[int | None, Field(ge=0, le=1_000_000)] = None
    wage_max: Annotated[int | None, Field(ge=0, le=1_000_000)] = None
    openings: Annotated[int | None, Field(ge=1, le=10_000)] = None
    expires_at: datetime | None = None
    status: Literal[PostingStatus.draft, PostingStatus.open] | None = None
    offers: Annotated[list[OfferIn] | None, Field(max_length=60)] = None

    @model_validator(mode="after")
    def _check(self) -> "PostingUpdate":
        _check_posting(self)
        return self


class PostingPublic(PostingBase):
    id: int
    employer_id: int
    employer_name: str
    employer_verified: bool
    status: PostingStatus
    offers: list[OfferPublic]
    version: int
    created_at: datetime
    updated_at: datetime
    source: str | None = None  # the partner an imported posting came from
    external_id: str | None = None  # its id there


# --- trainings -------------------------------------------------------------------------


class TrainingIn(TrainingBase, StrictInput):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    centre_code: Annotated[str | None, Field(max_length=32)] = None

    @model_validator(mode="after")
    def _check(self) -> "TrainingIn":
        _clean_text_lists(self, "skills_taught", "accessibility")
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class TrainingUpdate(StrictInput):
    version: int = Field(ge=1, le=2**31 - 1)
    title: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    description: Annotated[str | None, Field(max_length=5000)] = None
    skills_taught: list[str] | None = None
    provider: Annotated[str | None, Field(max_length=200)] = None
    location_text: Annotated[str | None, Field(max_length=200)] = None
    capacity: Annotated[int | None, Field(ge=1, le=100_000)] = None
    accessibility: list[str] | None = None


class TrainingPublic(TrainingBase):
    id: int
    centre_id: int | None
    status: TrainingStatus
    seats_taken: int
    version: int
    created_at: datetime
