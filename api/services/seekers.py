"""Seeker profiles and their accommodation needs."""

from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, delete, select

from api.deps import Principal
from api.errors import Conflict, HiddenNotFound, InvalidInput, NotFound, PermissionDenied
from api.schemas.common import PageParams
from api.schemas.domain import (
    NeedIn,
    SeekerProfileIn,
    SeekerProfilePublic,
    SeekerProfileUpdate,
)
from api.services import audit
from api.services.common import (
    apply_update,
    centre_by_code,
    get_or_404,
    paginate_rows,
)
from api.services.consents import check_health_needs_consent
from models import Accommodation, SeekerNeed, SeekerProfile
from models.base import Role, utcnow


def is_owner(principal: Principal, profile: SeekerProfile) -> bool:
    return principal.role == Role.seeker and profile.account_id == principal.id


def check_can_read(session: Session, principal: Principal, profile: SeekerProfile) -> None:
    """A seeker reads their own profile; a caseworker their centre's seekers."""
    _check_read(session, principal, profile.id or 0, profile.account_id, profile.centre_id)


def _check_read(
    session: Session, principal: Principal, seeker_id: int, account_id: int, centre_id: int
) -> None:
    if principal.role == Role.seeker and account_id == principal.id:
        return
    if principal.role == Role.caseworker and centre_id == principal.account.centre_id:
        return
    audit.record_by(
        session,
        principal,
        "access_denied",
        object_type="seeker",
        object_id=seeker_id or "",
    )
    # Say "not found" so that ids of other people's profiles reveal nothing.
    raise HiddenNotFound(f"seeker {seeker_id} not found")


# The two columns the read check needs, without loading (and decoding) the whole profile.
_OWNER_AND_CENTRE = select_columns(
    col(SeekerProfile.account_id), col(SeekerProfile.centre_id)
).where(col(SeekerProfile.id) == bindparam("sid"))


def check_can_read_id(session: Session, principal: Principal, seeker_id: int) -> None:
    """get_profile's checks (not found; the audited refusal) without loading the profile:
    for a request that is then served a kept page."""
    row = session.execute(_OWNER_AND_CENTRE, {"sid": seeker_id}).first()
    if row is None:
        raise NotFound(f"seeker {seeker_id} not found")
    _check_read(session, principal, seeker_id, row[0], row[1])


def validate_codes(session: Session, codes: list[str], field: str) -> dict[str, Accommodation]:
    """The vocabulary rows for these codes; an input error naming the first unknown one."""
    if not codes:
        return {}
    rows = session.exec(
        select(Accommodation).where(col(Accommodation.code).in_(codes), Accommodation.active)
    ).all()
    found = {row.code: row for row in rows}
    for i, code in enumerate(codes):
        if code not in found:
            raise InvalidInput(f"unknown accommodation code {code!r}", field=f"{field}.{i}.code")
    return found


def _set_needs(session: Session, profile: SeekerProfile, needs: list[NeedIn]) -> None:
    codes = [n.code for n in needs]
    validate_codes(session, codes, "needs")
    check_health_needs_consent(session, profile.id or 0, codes)
    session.execute(delete(SeekerNeed).where(col(SeekerNeed.seeker_id) == profile.id))
    for need in needs:
        session.add(SeekerNeed(seeker_id=profile.id or 0, code=need.code, level=need.level))


def to_public(session: Session, profile: SeekerProfile) -> SeekerProfilePublic:
    """The profile with its needs and their labels."""
    return profiles_to_public(session, [profile])[0]


# Profiles' needs with their labels (as labelled_codes gives them: codes no longer in the
# vocabulary left out; ordered by code, in Python, as there), in one statement built once.
_LABELLED_NEEDS = (
    select_columns(
        col(SeekerNeed.seeker_id),
        col(SeekerNeed.code),
        col(SeekerNeed.level),
        col(Accommodation.label_zh),
        col(Accommodation.label_en),
    )
    .join(Accommodation, col(Accommodation.code) == SeekerNeed.code)
    .where(col(SeekerNeed.seeker_id).in_(bindparam("ids", expanding=True)))
)


def profiles_to_public(
    session: Session, profiles: list[SeekerProfile]
) -> list[SeekerProfilePublic]:
    """Profiles with their needs and the needs' labels, loaded in one query for the list."""
    needs: dict[Any, list[dict[str, Any]]] = {}
    if profiles:
        rows = session.execute(_LABELLED_NEEDS, {"ids": [p.id for p in profiles]}).all()
        for owner, code, level, label_zh, label_en in sorted(rows, key=lambda r: (r[0], r[1])):
            needs.setdefault(owner, []).append(
                {"code": code, "level": level, "label_zh": label_zh, "label_en": label_en}
            )
    # From a dict of the row's fields: validating the row itself with `update=` goes through
    # SQLModel's attribute wrapper, several times slower for a page of profiles.
    return [
        SeekerProfilePublic.model_validate(
            {**{name: getattr(p, name) for name in _PROFILE_FIELDS}, "needs": needs.get(p.id, [])}
        )
        for p in profiles
    ]


_PROFILE_FIELDS = tuple(name for name in SeekerProfilePublic.model_fields if name != "needs")


def create_profile(session: Session, principal: Principal, data: SeekerProfileIn) -> SeekerProfile:
    """A seeker creates their own profile (one per account)."""
    existing = session.exec(
        select(SeekerProfile.id).where(SeekerProfile.account_id == principal.id)
    ).first()
    if existing is not None:
        raise Conflict("you already have a profile", profile_id=existing)
    centre_id = principal.account.centre_id
    if data.centre_code:
        centre_id = centre_by_code(session, data.centre_code).id
    if centre_id is None:
        raise InvalidInput("choose your service centre", field="centre_code")
    profile = SeekerProfile.model_validate(
        data.model_dump(exclude={"needs", "centre_code"}),
        update={"account_id": principal.id, "centre_id": centre_id},
    )
    session.add(profile)
    session.flush()
    _set_needs(session, profile, data.needs)
    session.flush()
    return profile


def get_profile(session: Session, principal: Principal, seeker_id: int) -> SeekerProfile:
    profile = get_or_404(session, SeekerProfile, seeker_id, what="seeker")
    check_can_read(session, principal, profile)
    return profile


def my_profile(session: Session, principal: Principal) -> SeekerProfile:
    profile = session.exec(
        select(SeekerProfile).where(SeekerProfile.account_id == principal.id)
    ).first()
    if profile is None:
        raise NotFound("you have no profile yet; create one with POST /seekers")
    return profile


def update_profile(
    session: Session, principal: Principal, seeker_id: int, data: SeekerProfileUpdate
) -> SeekerProfile:
    profile = get_profile(session, principal, seeker_id)
    if profile.closed_at is not None:
        raise Conflict("this profile is closed")
    apply_update(profile, data, exclude={"needs"})
    if (profile.lat is None) != (profile.lon is None):
        raise InvalidInput("give both lat and lon, or neither", field="lat")
    profile.updated_at = utcnow()
    session.add(profile)
    session.flush()  # one version bump per update: all column changes go in one flush
    if data.needs is not None:
        _set_needs(session, profile, data.needs)
        session.flush()
    return profile


def close_profile(session: Session, principal: Principal, seeker_id: int) -> SeekerProfile:
    profile = get_profile(session, principal, seeker_id)
    if principal.role not in (Role.seeker, Role.caseworker):
        raise PermissionDenied("only the seeker or their caseworker may close a profile")
    if profile.closed_at is None:
        profile.closed_at = utcnow()
        profile.updated_at = profile.closed_at
        session.add(profile)
        session.flush()
    return profile


def list_profiles(
    session: Session, principal: Principal, page: PageParams, *, include_closed: bool = False
) -> tuple[list[SeekerProfile], int]:
    """A caseworker's centre's seekers, newest first."""
    query = select(SeekerProfile).where(SeekerProfile.centre_id == principal.account.centre_id)
    if not include_closed:
        query = query.where(col(SeekerProfile.closed_at).is_(None))
    query = query.order_by(col(SeekerProfile.id).desc())
    return paginate_rows(session, query, page)
