"""An employer's quota position: its declared figures, the hires confirmed through the
service, and the rules of api.quota applied to both.

A hire through the service counts once it is confirmed: its referral has reached
`retained_90d` (the employer recorded the person still employed 90 days after the start
date, which the service accepts only from that day on). A person counts once however many of
the employer's postings they were hired through. A hire counts as a grade 1–2 holder (twice)
only when the seeker shared the grade with this employer for that referral and the consent
still stands: then the count tells the employer nothing it was not told. Otherwise a hire
counts once. Each use of a grade is an audited sensitive read the seeker sees.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from api.deps import Principal
from api.quota import QuotaFigures, QuotaPosition, QuotaRules, quota_position, rule_text, working
from api.schemas.quota import QuotaHires, QuotaOut, QuotaRulesOut
from api.services import audit
from api.services.employers import get_employer
from api.services.privacy import load_sensitive
from api.settings import Settings
from api.uscc import is_public_body
from models import Consent, Employer, Posting, Referral
from models.base import ReferralStatus, utcnow

SEVERE_GRADES = (1, 2)
GRADE_FIELD = "disability_grade"


def rules_from(settings: Settings) -> QuotaRules:
    """The rules as configured."""
    return QuotaRules(
        ratio=settings.quota_ratio,
        severe_weight=settings.quota_severe_weight,
        exempt_max_staff=settings.quota_exempt_max_staff,
        average_wage=settings.quota_average_wage,
        reduced_threshold=settings.quota_reduced_threshold,
        share_at_or_above_threshold=settings.quota_share_at_or_above_threshold,
        share_below_threshold=settings.quota_share_below_threshold,
    )


@dataclass(frozen=True)
class Hires:
    """Hires through the service, in persons."""

    confirmed: int
    confirmed_severe: int  # of them, counted as grade 1–2 (grade shared with the employer)
    awaiting: int  # hired, not yet confirmed at 90 days


def _grade_shared(session: Session, referral: Referral) -> bool:
    if referral.consent_id is None:
        return False
    consent = session.get(Consent, referral.consent_id)
    return bool(consent and consent.withdrawn_at is None and GRADE_FIELD in consent.scope)


def service_hires(
    session: Session, settings: Settings, principal: Principal, employer_id: int
) -> Hires:
    """The employer's hires through the service: confirmed (each person once), how many of
    them count as grade 1–2, and those still waiting for the 90-day confirmation."""
    rows = session.exec(
        select(Referral)
        .join(Posting, col(Posting.id) == Referral.posting_id)
        .where(
            Posting.employer_id == employer_id,
            col(Referral.status).in_([ReferralStatus.hired, ReferralStatus.retained_90d]),
        )
        .order_by(col(Referral.id))
    ).all()
    confirmed: dict[int, list[Referral]] = {}
    hired: set[int] = set()
    for referral in rows:
        if referral.status == ReferralStatus.retained_90d:
            confirmed.setdefault(referral.seeker_id, []).append(referral)
        else:
            hired.add(referral.seeker_id)
    severe = 0
    for seeker_id, referrals in confirmed.items():
        shared = next((r for r in referrals if _grade_shared(session, r)), None)
        if shared is None:
            continue
        sensitive = load_sensitive(session, settings, seeker_id)
        audit.record_by(
            session,
            principal,
            "sensitive_read",
            object_type="seeker_sensitive",
            object_id=seeker_id,
            purpose=f"quota count of employer {employer_id} (referral {shared.id})",
            detail={"referral_id": shared.id, "fields": [GRADE_FIELD]},
        )
        if sensitive is not None and sensitive.disability_grade in SEVERE_GRADES:
            severe += 1
    return Hires(
        confirmed=len(confirmed),
        confirmed_severe=severe,
        awaiting=len(hired - set(confirmed)),
    )


def position_of(
    employer: Employer, hires: Hires, rules: QuotaRules
) -> tuple[QuotaFigures, QuotaPosition]:
    figures = QuotaFigures(
        staff=employer.staff_count,
        severe=employer.disabled_staff_grade_1_2 + hires.confirmed_severe,
        other=employer.disabled_staff_grade_3_4 + hires.confirmed - hires.confirmed_severe,
        public_body=is_public_body(employer.uscc),
    )
    return figures, quota_position(figures, rules)


def employer_quota(
    session: Session, settings: Settings, principal: Principal, employer_id: int
) -> QuotaOut:
    """The quota position of one employer (its own users, caseworkers and admins)."""
    employer = get_employer(session, principal, employer_id)
    rules = rules_from(settings)
    hires = service_hires(session, settings, principal, employer_id)
    figures, position = position_of(employer, hires, rules)
    return to_out(employer, hires, figures, position, rules, utcnow())


def to_out(
    employer: Employer,
    hires: Hires,
    figures: QuotaFigures,
    position: QuotaPosition,
    rules: QuotaRules,
    at: datetime,
) -> QuotaOut:
    return QuotaOut(
        employer_id=employer.id or 0,
        version=employer.version,
        as_of=at,
        staff_count=employer.staff_count,
        declared_grade_1_2=employer.disabled_staff_grade_1_2,
        declared_grade_3_4=employer.disabled_staff_grade_3_4,
        service_hires=QuotaHires(
            confirmed=hires.confirmed,
            counted_as_grade_1_2=hires.confirmed_severe,
            awaiting_confirmation=hires.awaiting,
        ),
        grade_1_2_people=figures.severe,
        other_people=figures.other,
        disabled_people=position.disabled_people,
        counted=position.counted,
        required=position.required.normalize(),
        shortfall=position.shortfall.normalize(),
        own_ratio=position.own_ratio,
        status=position.status,
        reached_threshold=position.reached_threshold,
        fund_before_reduction=position.fund_before_reduction,
        pay_share=position.pay_share,
        fund=position.fund,
        rules=QuotaRulesOut(
            ratio=rules.ratio,
            severe_weight=rules.severe_weight,
            exempt_max_staff=rules.exempt_max_staff,
            average_wage=rules.average_wage,
            reduced_threshold=rules.reduced_threshold,
            share_at_or_above_threshold=rules.share_at_or_above_threshold,
            share_below_threshold=rules.share_below_threshold,
        ),
        rule_text=rule_text(rules),
        working=working(position, figures, rules),
    )
