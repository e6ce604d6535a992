"""SQLModel tables of jobmatch; no imports from api or matcher."""

from models.base import metadata
from models.tables import (
    Accommodation,
    Account,
    AuditLog,
    AuthSession,
    Centre,
    Consent,
    Employer,
    LoginAttempt,
    Outbox,
    Posting,
    PostingOffer,
    Referral,
    ReferralEvent,
    SeekerNeed,
    SeekerProfile,
    SeekerSensitive,
    Training,
)

__all__ = [
    "Accommodation",
    "Account",
    "AuditLog",
    "AuthSession",
    "Centre",
    "Consent",
    "Employer",
    "LoginAttempt",
    "Outbox",
    "Posting",
    "PostingOffer",
    "Referral",
    "ReferralEvent",
    "SeekerNeed",
    "SeekerProfile",
    "SeekerSensitive",
    "Training",
    "metadata",
]
