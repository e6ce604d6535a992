"""Seeker profiles with accommodation needs."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import (
    Allow,
    AllowInHop,
    IdPath,
    JSONBytes,
    PageDep,
    Plain,
    Principal,
    Resolver,
    SeekerUser,
    SessionDep,
    in_one_hop,
)
from api.schemas.common import Page
from api.schemas.domain import SeekerProfileIn, SeekerProfilePublic, SeekerProfileUpdate
from api.services import seekers as service
from models.base import Role

router = APIRouter(prefix="/seekers", tags=["seekers"])

SeekerOrCaseworker = Annotated[Principal, Depends(Allow(Role.seeker, Role.caseworker))]
Caseworker = Annotated[Principal, Depends(Allow(Role.caseworker))]
ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "not logged in"},
    403: {"description": "role not allowed"},
    404: {"description": "no such seeker, or not yours"},
    409: {"description": "stale version or closed profile"},
    422: {"description": "invalid input"},
}


@router.post("", status_code=201, response_model=SeekerProfilePublic, responses=ERRORS)
def create_seeker_profile(
    data: SeekerProfileIn, principal: SeekerUser, session: SessionDep
) -> SeekerProfilePublic:
    """Create your own profile (one per account)."""
    return service.to_public(session, service.create_profile(session, principal, data))


@router.get("", response_model=Page[SeekerProfilePublic], responses=ERRORS)
async def list_seekers(
    caller: Annotated[Resolver, Depends(AllowInHop(Role.caseworker))],
    session: SessionDep,
    page: PageDep,
    include_closed: Annotated[bool, Query()] = False,
) -> JSONBytes:
    """The seekers of your centre (caseworkers)."""

    def work() -> Page[SeekerProfilePublic]:  # the caller, queries and commit on one hop
        principal = caller(session)
        rows, total = service.list_profiles(session, principal, page, include_closed=include_closed)
        return Page.of(service.profiles_to_public(session, rows), total, page)

    return PROFILE_PAGE(await in_one_hop(session, work))


PROFILE = Plain(SeekerProfilePublic)
PROFILE_PAGE = Plain(Page[SeekerProfilePublic])


@router.get("/me", response_model=SeekerProfilePublic, responses=ERRORS)
async def read_my_profile(
    caller: Annotated[Resolver, Depends(AllowInHop(Role.seeker))], session: SessionDep
) -> JSONBytes:
    """Your own profile."""

    def work() -> SeekerProfilePublic:  # the caller, queries and commit on one hop
        principal = caller(session)
        return service.to_public(session, service.my_profile(session, principal))

    return PROFILE(await in_one_hop(session, work))


@router.get("/{seeker_id}", response_model=SeekerProfilePublic, responses=ERRORS)
def read_seeker(
    seeker_id: IdPath, principal: SeekerOrCaseworker, session: SessionDep
) -> SeekerProfilePublic:
    """One profile: your own, or one of your centre's seekers."""
    return service.to_public(session, service.get_profile(session, principal, seeker_id))


@router.patch("/{seeker_id}", response_model=SeekerProfilePublic, responses=ERRORS)
def update_seeker(
    seeker_id: IdPath,
    data: SeekerProfileUpdate,
    principal: SeekerOrCaseworker,
    session: SessionDep,
) -> SeekerProfilePublic:
    """Change a profile; send the version you read (409 if someone changed it since)."""
    profile = service.update_profile(session, principal, seeker_id, data)
    return service.to_public(session, profile)


@router.post("/{seeker_id}/close", response_model=SeekerProfilePublic, responses=ERRORS)
def close_seeker(
    seeker_id: IdPath, principal: SeekerOrCaseworker, session: SessionDep
) -> SeekerProfilePublic:
    """Close a profile: it no longer appears in matching."""
    return service.to_public(session, service.close_profile(session, principal, seeker_id))
