"""Shapes of the fusion weight sets learnt from outcomes."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, field_validator
from sqlmodel import SQLModel

from api.schemas.common import StrictInput


class WeightSetOut(SQLModel):
    """A set of fusion weights: learnt from outcomes or the matcher's defaults."""

    id: int
    source: str = Field(description="learned, or default (the matcher's own weights)")
    adopted: bool = Field(description="better than the set in force when it was learnt")
    in_force: bool
    weights: dict[str, float]
    metrics: dict[str, Any] = Field(description="held-out nDCG and AUC: current vs fitted")
    previous_id: int | None = Field(description="the set in force before this one last was")
    created_at: datetime
    activated_at: datetime | None


class WeightSetDetail(WeightSetOut):
    """A weight set with the report of the run that learnt it (counts and metrics only)."""

    report: dict[str, Any]


class ActivateIn(StrictInput):
    """Put a weight set in force again; name the set you saw in force (null: the defaults)."""

    expected_in_force: int | None = Field(
        description="the id of the set in force when you looked; another now gives 409"
    )
    reason: Annotated[str, Field(min_length=1, max_length=200)]

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say why the weights change")
        return value.strip()
