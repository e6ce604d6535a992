"""Consent lookups shared by the services that store or use consented data."""

from typing import Final

from sqlmodel import Session, col, select

from api.errors import Conflict
from models import Accommodation, Consent

SENSITIVE_PROFILE: Final = "sensitive_profile"
HEALTH_NEEDS: Final = "health_needs"


def active_consent(session: Session, seeker_id: int, purpose: str) -> Consent | None:
    """The seeker's current, not withdrawn consent for a purpose."""
    return session.exec(
        select(Consent)
        .where(
            Consent.seeker_id == seeker_id,
            Consent.purpose == purpose,
            col(Consent.withdrawn_at).is_(None),
        )
        .order_by(col(Consent.given_at).desc())
    ).first()


def health_codes(session: Session) -> set[str]:
    return set(session.exec(select(Accommodation.code).where(Accommodation.health_related)))


def check_health_needs_consent(session: Session, seeker_id: int, codes: list[str]) -> None:
    """Health-related needs are stored only with the seeker's health_needs consent."""
    health = health_codes(session)
    for i, code in enumerate(codes):
        if code in health and active_consent(session, seeker_id, HEALTH_NEEDS) is None:
            raise Conflict(
                f"{code!r} says something about health: give the health_needs consent first",
                field=f"needs.{i}.code",
                consent_required=HEALTH_NEEDS,
            )
