"""Scoring signals; each returns values in [0, 1], or None where the inputs do not say."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

from matcher.text import normalise
from matcher.types import Need, Offer, PostingDoc, SeekerDoc

FloatArray = npt.NDArray[np.float32]

EARTH_RADIUS_KM = 6371.0088
DEFAULT_COMMUTE_KM = 15.0
SAME_STREET_SCORE = 1.0
SAME_CENTRE_SCORE = 0.7
FRESHNESS_HALF_LIFE_DAYS = 30.0
SKILL_FUZZ_CUTOFF = 85.0
# Skills are looked for in this much of a seeker's free text (bounds the cost of huge texts).
MAX_TEXT_CHARS = 4000
# Required skills weigh most; optional ones fill the rest.
REQUIRED_SHARE = 0.8


def dense_similarity(query: FloatArray, passages: FloatArray) -> FloatArray:
    """Cosine of a unit (dim,) query with unit (n, dim) rows, clipped to [0, 1]: shape (n,)."""
    if passages.shape[0] == 0:
        return np.zeros(0, dtype=np.float32)
    out: FloatArray = np.clip(passages @ query, 0.0, 1.0).astype(np.float32, copy=False)
    return out


# --- skills -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SkillCoverage:
    """Coverage in [0, 1] of a posting's skills by a seeker's, with the skills named."""

    score: float
    matched: list[str]
    missing: list[str]


def _skill_key(skill: str) -> str:
    return normalise(skill).replace(" ", "").replace("-", "").replace("_", "")


def key_matches(key: str, have: str) -> bool:
    """True when the skill key ``key`` equals, contains or nearly spells one held skill key."""
    if not have:
        return False
    if key == have:
        return True
    shorter = min(len(key), len(have))
    # Containment only for skills of some length: "c" must not match "excel".
    contained = key in have or have in key
    if shorter >= 2 and contained and shorter / max(len(key), len(have)) > 0.5:
        return True
    return shorter >= 4 and fuzz.ratio(key, have) >= SKILL_FUZZ_CUTOFF


def in_text_key(key: str, have_text: str) -> bool:
    """True when the skill key is named in the seeker's (keyed) text."""
    return len(key) >= 2 and key in have_text


def skill_matches(wanted: str, have_keys: Sequence[str], have_text: str = "") -> bool:
    """True when ``wanted`` equals, contains or nearly spells one of ``have_keys`` (or the text)."""
    key = _skill_key(wanted)
    if not key:
        return False
    if any(key_matches(key, have) for have in have_keys):
        return True
    return in_text_key(key, have_text)


def skill_coverage(
    seeker_skills: Sequence[str],
    required: Sequence[str],
    optional: Sequence[str] = (),
    seeker_text: str = "",
) -> SkillCoverage | None:
    """Share of required (80%) and optional (20%) skills the seeker has; None if none are listed.

    Tolerant of case, full/half width, spacing and near-spellings; a skill named in the
    seeker's text also counts.
    """
    if not required and not optional:
        return None
    have = [_skill_key(s) for s in seeker_skills]
    text_key = _skill_key(seeker_text[:MAX_TEXT_CHARS])
    matched: list[str] = []
    missing: list[str] = []
    req_hits = 0
    for skill in required:
        if skill_matches(skill, have, text_key):
            req_hits += 1
            matched.append(skill)
        else:
            missing.append(skill)
    opt_hits = 0
    for skill in optional:
        if skill_matches(skill, have, text_key):
            opt_hits += 1
            matched.append(skill)
    req_part = req_hits / len(required) if required else None
    opt_part = opt_hits / len(optional) if optional else None
    if req_part is None:
        score = opt_part or 0.0
    elif opt_part is None:
        score = req_part
    else:
        score = REQUIRED_SHARE * req_part + (1 - REQUIRED_SHARE) * opt_part
    return SkillCoverage(score=float(score), matched=matched, missing=missing)


# --- accommodation needs ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NeedsFit:
    """Which needs a posting meets; ``score`` in [0, 1] (arrangeable counts half)."""

    score: float
    met: list[str]
    arrangeable: list[str]
    unmet_essential: list[str]
    unmet_preferred: list[str]


ARRANGEABLE_CREDIT = 0.5


def needs_fit(needs: Iterable[Need], offers: Iterable[Offer]) -> NeedsFit | None:
    """Needs met now, arrangeable or unmet; None when the seeker states no needs."""
    needs = list(needs)
    if not needs:
        return None
    # A code offered twice counts as available when any of its offers is (as in ranking).
    offered: dict[str, str] = {}
    for o in offers:
        if offered.get(o.code) != "available":
            offered[o.code] = o.availability
    met: list[str] = []
    arrangeable: list[str] = []
    unmet_essential: list[str] = []
    unmet_preferred: list[str] = []
    for need in needs:
        availability = offered.get(need.code)
        if availability == "available":
            met.append(need.code)
        elif availability == "arrangeable":
            arrangeable.append(need.code)
        elif need.essential:
            unmet_essential.append(need.code)
        else:
            unmet_preferred.append(need.code)
    score = (len(met) + ARRANGEABLE_CREDIT * len(arrangeable)) / len(needs)
    return NeedsFit(score, met, arrangeable, unmet_essential, unmet_preferred)


# --- location -----------------------------------------------------------------------------


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (>= 0)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def distance_km(seeker: SeekerDoc, posting: PostingDoc) -> float | None:
    """Distance between seeker and workplace when both coordinates are known."""
    if None in (seeker.lat, seeker.lon, posting.lat, posting.lon):
        return None
    return haversine_km(seeker.lat, seeker.lon, posting.lat, posting.lon)  # type: ignore[arg-type]


def location_fit(seeker: SeekerDoc, posting: PostingDoc) -> float | None:
    """1 for remote or at the door, falling linearly to 0 at the commute limit; None if unknown.

    Without coordinates, the same street scores 1 and the same centre 0.7.
    """
    if posting.work_mode == "remote":
        return 1.0
    dist = distance_km(seeker, posting)
    if dist is not None:
        limit = seeker.commute_limit_km or DEFAULT_COMMUTE_KM
        return max(0.0, 1.0 - dist / limit) if limit > 0 else float(dist == 0)
    if seeker.street_code and seeker.street_code == posting.street_code:
        return SAME_STREET_SCORE
    if seeker.centre_code and seeker.centre_code == posting.centre_code:
        return SAME_CENTRE_SCORE
    return None


# --- work mode, schedule, wage, freshness -------------------------------------------------


def schedule_compatible(wanted: str, offered: str) -> bool:
    """A seeker's schedule fits when either side says any/flexible or they are equal."""
    return wanted == offered or "any" in (wanted, offered) or "flexible" in (wanted, offered)


def mode_schedule_fit(seeker: SeekerDoc, posting: PostingDoc) -> float:
    """1 for an exact schedule and accepted work mode, 0.75 when only compatible, 0 otherwise."""
    if posting.work_mode not in seeker.work_modes:
        return 0.0
    if not schedule_compatible(seeker.schedule, posting.schedule):
        return 0.0
    exact = seeker.schedule == posting.schedule or seeker.schedule == "any"
    return 1.0 if exact else 0.75


def wage_fit(expected: int | None, wage_min: int | None, wage_max: int | None) -> float | None:
    """1 when the top of the range reaches the expected wage, falling with the square of the gap."""
    top = wage_max if wage_max is not None else wage_min
    if expected is None or expected <= 0 or top is None:
        return None
    if top >= expected:
        return 1.0
    return max(0.0, top / expected) ** 2


def freshness(
    posted_at: datetime | None, now: datetime, half_life_days: float = FRESHNESS_HALF_LIFE_DAYS
) -> float | None:
    """Halves every ``half_life_days`` since posting: (0, 1]; None when the date is unknown."""
    if posted_at is None:
        return None
    age_days = max(0.0, (now - posted_at).total_seconds() / 86400.0)
    return float(0.5 ** (age_days / half_life_days))
