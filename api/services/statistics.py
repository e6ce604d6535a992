"""The federation's counts per centre: seekers, postings, referrals by state, hires.

Counts of people (seekers, referrals, hires) of 1 to 4 read "<5", as in the referral
statistics; postings are not people and are shown as they are. A district total is hidden
too when it would give a hidden cell away by subtraction.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from sqlmodel import Session, col, func, select

from api.services.catalog import list_centres
from api.services.referrals import MIN_CELL, _cell
from models import Posting, Referral, SeekerProfile
from models.base import PostingStatus, ReferralStatus

Count = int | Literal["<5"] | None  # None: hidden so that no small cell can be worked out
HIRED: tuple[ReferralStatus, ...] = (ReferralStatus.hired, ReferralStatus.retained_90d)
STATES: tuple[ReferralStatus, ...] = tuple(ReferralStatus)


@dataclass
class CentreCounts:
    """One centre's row (code "" for postings of employers without a centre)."""

    centre_code: str
    name_zh: str
    name_en: str
    seekers: Count = 0
    postings_open: int = 0
    postings: int = 0
    referrals: dict[str, Count] = field(default_factory=dict)  # by current state
    referrals_total: Count = 0
    hires: Count = 0


@dataclass
class DistrictCounts:
    min_cell: int
    centres: list[CentreCounts]
    total: CentreCounts


def _total(true_values: list[int]) -> Count:
    """The district total, unless it would give away a hidden cell: shown when no cell is
    hidden, or when at least two are and they add up to MIN_CELL or more."""
    hidden = [v for v in true_values if 0 < v < MIN_CELL]
    if len(hidden) == 1 or (hidden and sum(hidden) < MIN_CELL):
        return None
    return _cell(sum(true_values))


def district_counts(session: Session) -> DistrictCounts:
    """Counts per centre now: active seekers, postings (open and all), referrals by their
    current state, and hires (hired or still employed at 90 days)."""
    centres = list_centres(session)
    seekers: dict[int | None, int] = defaultdict(int)
    for seeker_centre, n in session.exec(
        select(col(SeekerProfile.centre_id), func.count())
        .where(col(SeekerProfile.closed_at).is_(None))
        .group_by(col(SeekerProfile.centre_id))
    ):
        seekers[seeker_centre] = int(n)
    postings: dict[int | None, int] = defaultdict(int)
    postings_open: dict[int | None, int] = defaultdict(int)
    for posting_centre, status, n in session.exec(
        select(col(Posting.centre_id), col(Posting.status), func.count()).group_by(
            col(Posting.centre_id), col(Posting.status)
        )
    ):
        postings[posting_centre] += int(n)
        if status == PostingStatus.open:
            postings_open[posting_centre] += int(n)
    referrals: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for referral_centre, state, n in session.exec(
        select(col(SeekerProfile.centre_id), col(Referral.status), func.count())
        .join(SeekerProfile, col(SeekerProfile.id) == Referral.seeker_id)
        .group_by(col(SeekerProfile.centre_id), col(Referral.status))
    ):
        referrals[referral_centre][ReferralStatus(state).value] += int(n)

    keys: list[tuple[int | None, str, str, str]] = [
        (c.id, c.code, c.name_zh, c.name_en) for c in centres
    ]
    if postings.get(None):
        keys.append((None, "", "", ""))  # employers registered without a centre
    rows: list[CentreCounts] = []
    true: dict[str, list[int]] = defaultdict(list)
    for centre_id, code, zh, en in keys:
        by_state = referrals.get(centre_id, {})
        hires = sum(by_state.get(s.value, 0) for s in HIRED)
        total_refs = sum(by_state.values())
        row = CentreCounts(
            centre_code=code,
            name_zh=zh,
            name_en=en,
            seekers=_cell(seekers.get(centre_id, 0)),
            postings_open=postings_open.get(centre_id, 0),
            postings=postings.get(centre_id, 0),
            referrals={s.value: _cell(by_state.get(s.value, 0)) for s in STATES},
            referrals_total=_cell(total_refs),
            hires=_cell(hires),
        )
        rows.append(row)
        true["seekers"].append(seekers.get(centre_id, 0))
        true["referrals_total"].append(total_refs)
        true["hires"].append(hires)
        for s in STATES:
            true[s.value].append(by_state.get(s.value, 0))
    total = CentreCounts(
        centre_code="*",
        name_zh="全区",
        name_en="Whole district",
        seekers=_total(true["seekers"]),
        postings_open=sum(r.postings_open for r in rows),
        postings=sum(r.postings for r in rows),
        referrals={s.value: _total(true[s.value]) for s in STATES},
        referrals_total=_total(true["referrals_total"]),
        hires=_total(true["hires"]),
    )
    return DistrictCounts(min_cell=MIN_CELL, centres=rows, total=total)
