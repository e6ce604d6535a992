"""The shape of an employer's quota position (GET /employers/{id}/quota)."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, PlainSerializer
from sqlmodel import SQLModel

# Exact decimals travel as strings ("2.25", "15000.00"): no float rounding on the way.
Exact = Annotated[
    Decimal,
    PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json"),
]


class QuotaHires(SQLModel):
    """Hires through this service, in persons (never who)."""

    confirmed: int = Field(description="hires recorded as still employed after 90 days")
    counted_as_grade_1_2: int = Field(
        description="confirmed hires counted as grade 1–2: only where the person shared "
        "the grade with this employer for that referral"
    )
    awaiting_confirmation: int = Field(description="hired, not yet confirmed at 90 days")


class QuotaRulesOut(SQLModel):
    ratio: Exact
    severe_weight: int
    exempt_max_staff: int
    average_wage: Exact
    reduced_threshold: Exact
    share_at_or_above_threshold: Exact
    share_below_threshold: Exact


class QuotaOut(SQLModel):
    """Where an employer stands against the quota, with the rules and the arithmetic used."""

    employer_id: int
    version: int = Field(description="the employer's version (send it to change the figures)")
    as_of: datetime
    staff_count: int
    declared_grade_1_2: int = Field(description="declared: grade 1–2 staff not hired here")
    declared_grade_3_4: int = Field(description="declared: grade 3–4 staff not hired here")
    service_hires: QuotaHires
    grade_1_2_people: int
    other_people: int
    disabled_people: int
    counted: int = Field(description="disabled staff as counted (grade 1–2 weighted)")
    required: Exact = Field(description="staff × ratio, in people (may be fractional)")
    shortfall: Exact = Field(description="max(0, required − counted), in people")
    own_ratio: Exact = Field(description="counted ÷ staff")
    status: Literal["meets", "short", "exempt"]
    reached_threshold: bool
    fund_before_reduction: Exact = Field(description="shortfall × average wage, yuan")
    pay_share: Exact
    fund: Exact = Field(description="the employment security fund payable, yuan")
    rules: QuotaRulesOut
    rule_text: dict[str, str] = Field(description="the rules used, keyed zh and en")
    working: dict[str, list[str]] = Field(description="the arithmetic, keyed zh and en")
