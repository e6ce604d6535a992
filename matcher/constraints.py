"""Hard constraints: a posting that fails one is not a match, whatever its score."""

from __future__ import annotations

from datetime import UTC, datetime

from matcher.signals import distance_km, schedule_compatible
from matcher.types import PostingDoc, SeekerDoc

OPEN_STATUS = "open"


def essential_needs_unmet(seeker: SeekerDoc, posting: PostingDoc) -> list[str]:
    """Codes of essential needs the posting neither offers nor can arrange."""
    offered = {o.code for o in posting.offers}
    return [n.code for n in seeker.needs if n.essential and n.code not in offered]


def is_open(posting: PostingDoc, now: datetime) -> bool:
    """Open status and not past ``expires_at`` (``now`` must be timezone-aware)."""
    if posting.status != OPEN_STATUS:
        return False
    return posting.expires_at is None or posting.expires_at > now


def within_commute(seeker: SeekerDoc, posting: PostingDoc) -> bool:
    """Within the seeker's commute limit; remote postings and unknown places always pass."""
    if posting.work_mode == "remote" or seeker.commute_limit_km is None:
        return True
    dist = distance_km(seeker, posting)
    return dist is None or dist <= seeker.commute_limit_km


def violations(seeker: SeekerDoc, posting: PostingDoc, now: datetime | None = None) -> list[str]:
    """Names of the hard constraints the pair fails; empty means the posting may be shown."""
    now = now or datetime.now(UTC)
    failed: list[str] = []
    if not is_open(posting, now):
        failed.append("closed")
    if essential_needs_unmet(seeker, posting):
        failed.append("essential_needs")
    if posting.work_mode not in seeker.work_modes:
        failed.append("work_mode")
    if not schedule_compatible(seeker.schedule, posting.schedule):
        failed.append("schedule")
    if not within_commute(seeker, posting):
        failed.append("distance")
    return failed


def is_feasible(seeker: SeekerDoc, posting: PostingDoc, now: datetime | None = None) -> bool:
    """True when no hard constraint fails."""
    return not violations(seeker, posting, now)
