"""What is known of a posting's claimed accessibility features: verified on site, only
claimed, or disputed. Plain queries (no request objects), used by matching and the checks.

A feature's state comes from the latest check that looked at it: confirmed and not expired
is verified; confirmed but expired is a claim again; not found or only partly there is
disputed until a newer check confirms it or the employer withdraws the claim.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from models import AccessibilityCheck, AccessibilityFinding, PostingOffer
from models.base import CheckResult, OfferAvailability

# Matching sees a verified feature as a second offer with this suffix, and a seeker who wants
# verified features for essential needs as needing the suffixed code: the matcher's own hard
# constraint then does the rest, with no change to its ranking code.
VERIFIED_SUFFIX = "+verified"


def verified_code(code: str) -> str:
    return code + VERIFIED_SUFFIX


def base_code(code: str) -> str:
    """The vocabulary code behind a matching code (verified or not)."""
    return code.removesuffix(VERIFIED_SUFFIX)


@dataclass(frozen=True)
class FeatureStatus:
    code: str
    availability: OfferAvailability
    status: str  # "verified", "claimed" or "disputed"
    checked_on: date | None = None
    verified_until: datetime | None = None
    finding: AccessibilityFinding | None = None


# Statements run on every page of postings or matches are built once: SQLAlchemy then reuses
# their cache key and compiled form (building and keying one anew costs ≈ 0.2 ms a query).
_LATEST_FINDINGS = (
    select(AccessibilityFinding, AccessibilityCheck)
    .join(AccessibilityCheck, col(AccessibilityCheck.id) == AccessibilityFinding.check_id)
    .where(col(AccessibilityFinding.posting_id).in_(bindparam("ids", expanding=True)))
    .order_by(col(AccessibilityCheck.visited_on).desc(), col(AccessibilityCheck.id).desc())
)
# The (posting id, code, availability) of the offers of the postings named by "ids".
OFFER_ROWS = select(
    col(PostingOffer.posting_id), col(PostingOffer.code), col(PostingOffer.availability)
).where(col(PostingOffer.posting_id).in_(bindparam("ids", expanding=True)))


def latest_findings(
    session: Session, posting_ids: Iterable[int]
) -> dict[int, dict[str, tuple[AccessibilityFinding, AccessibilityCheck]]]:
    """Per posting and code, the finding of the most recent check (by visit day, then id)."""
    ids = sorted(set(posting_ids))
    out: dict[int, dict[str, tuple[AccessibilityFinding, AccessibilityCheck]]] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        rows = session.exec(_LATEST_FINDINGS, params={"ids": chunk}).all()
        for finding, check in rows:
            out.setdefault(finding.posting_id, {}).setdefault(finding.code, (finding, check))
    return out


def status_of(
    availability: OfferAvailability,
    code: str,
    latest: tuple[AccessibilityFinding, AccessibilityCheck] | None,
    now: datetime,
) -> FeatureStatus:
    if latest is None:
        return FeatureStatus(code, availability, "claimed")
    finding, check = latest
    if finding.result != CheckResult.confirmed:
        return FeatureStatus(code, availability, "disputed", check.visited_on, None, finding)
    if check.expires_at > now:
        return FeatureStatus(
            code, availability, "verified", check.visited_on, check.expires_at, finding
        )
    return FeatureStatus(code, availability, "claimed", check.visited_on, None, finding)


def feature_states(
    session: Session,
    posting_ids: Iterable[int],
    now: datetime,
    offers: Sequence[tuple[int, str, OfferAvailability]] | None = None,
) -> dict[int, dict[str, FeatureStatus]]:
    """Per posting, each claimed feature (offer) with its state at `now`. `offers`, when the
    caller has already read them, are the postings' (posting id, code, availability) rows."""
    ids = sorted(set(posting_ids))
    latest = latest_findings(session, ids)
    out: dict[int, dict[str, FeatureStatus]] = {pid: {} for pid in ids}
    if offers is None:
        # Plain columns, not ORM objects: twenty postings may offer a few hundred features.
        rows: list[tuple[int, str, OfferAvailability]] = []
        for start in range(0, len(ids), 900):
            rows.extend(session.exec(OFFER_ROWS, params={"ids": ids[start : start + 900]}).all())
        offers = rows
    for posting_id, code, availability in sorted(offers, key=lambda r: r[1]):
        if posting_id in out:
            found = latest.get(posting_id, {}).get(code)
            out[posting_id][code] = status_of(availability, code, found, now)
    return out


def verified_codes(
    session: Session,
    posting_ids: Iterable[int],
    now: datetime,
    offers: Sequence[tuple[int, str, OfferAvailability]] | None = None,
) -> dict[int, set[str]]:
    """Per posting, the claimed features verified on site at `now` (`offers` as in
    feature_states)."""
    return {
        pid: {code for code, s in states.items() if s.status == "verified"}
        for pid, states in feature_states(session, posting_ids, now, offers).items()
    }
