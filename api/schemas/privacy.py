"""Shapes of consents, sensitive data, access logs and data exports."""

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator
from sqlmodel import SQLModel

from api.schemas.common import StrictInput
from models.base import DisabilityCategory

Purpose = Literal["sensitive_profile", "health_needs"]
# The two digits a disability certificate number (残疾人证号) ends with: category, grade.
CERTIFICATE_RE = re.compile(r"^\d{17}[\dX][1-7][1-4]$")
CATEGORY_DIGIT = {
    DisabilityCategory.vision: "1",
    DisabilityCategory.hearing: "2",
    DisabilityCategory.speech: "3",
    DisabilityCategory.physical: "4",
    DisabilityCategory.intellectual: "5",
    DisabilityCategory.mental: "6",
    DisabilityCategory.multiple: "7",
}


class ConsentText(SQLModel):
    purpose: Purpose
    version: str
    scope: list[str]
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str


class ConsentIn(StrictInput):
    purpose: Purpose
    text_version: Annotated[str, Field(min_length=1, max_length=32)]


class ConsentPublic(SQLModel):
    id: int
    purpose: str
    scope: list[str]
    text_version: str
    given_at: datetime
    withdrawn_at: datetime | None


class SensitiveData(StrictInput):
    """Disability category (GB/T 26341-2010), grade 1 (most severe) to 4, certificate number,
    health notes. Sensitive personal information: stored only with consent, encrypted."""

    disability_category: DisabilityCategory | None = None
    disability_grade: Annotated[int | None, Field(ge=1, le=4)] = None
    certificate_number: Annotated[str | None, Field(max_length=20)] = None
    health_notes: Annotated[str | None, Field(max_length=2000)] = None

    @model_validator(mode="after")
    def _certificate(self) -> "SensitiveData":
        number = self.certificate_number
        if number:
            number = number.strip().upper()
            if not CERTIFICATE_RE.match(number):
                raise ValueError(
                    "certificate_number: 20 characters, an ID number then category and grade"
                )
            if self.disability_category and number[18] != CATEGORY_DIGIT[self.disability_category]:
                raise ValueError("certificate_number: its category digit differs from the category")
            if self.disability_grade and number[19] != str(self.disability_grade):
                raise ValueError("certificate_number: its grade digit differs from the grade")
            self.certificate_number = number
        return self


class AccessLogEntry(SQLModel):
    at: datetime
    actor_role: str
    action: str
    purpose: str


class EraseIn(StrictInput):
    confirm: Literal["ERASE"] = Field(description='type "ERASE" to confirm')


class ExportOut(SQLModel):
    exported_at: datetime
    seeker_id: int
    tables: dict[str, list[dict[str, Any]]]
    sensitive: dict[str, Any] | None


class BreakGlassIn(StrictInput):
    reason: Annotated[
        str,
        Field(
            min_length=10, max_length=500, description="why an admin must see this person's record"
        ),
    ]


class BreakGlassOut(SQLModel):
    seeker_id: int
    profile: dict[str, Any]
    sensitive: dict[str, Any] | None
