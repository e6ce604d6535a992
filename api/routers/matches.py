"""Matches for seekers, candidates for postings, feedback on matches."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from api.deps import (
    LIMITED,
    Allow,
    AllowInHop,
    IdPath,
    IndexDep,
    JSONBytes,
    PageDep,
    Principal,
    ReadCacheDep,
    Resolver,
    SessionDep,
    SettingsDep,
    in_one_hop,
)
from api.schemas.matching import CandidatePage, FeedbackIn, FeedbackOut, MatchPage
from api.services import matches as service
from models.base import Role, WorkMode

router = APIRouter(tags=["matching"])

SeekerOrCaseworker = Annotated[Principal, Depends(Allow(Role.seeker, Role.caseworker))]
EmployerOrStaff = Annotated[Principal, Depends(Allow(Role.employer, Role.caseworker, Role.admin))]
ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "not logged in"},
    403: {"description": "role not allowed"},
    404: {"description": "no such seeker or posting, or not yours"},
    422: {"description": "invalid input"},
}
Score = Annotated[float, Query(ge=0.0, le=1.0, description="hide results scoring below this")]


@router.get(
    "/seekers/{seeker_id}/matches",
    response_model=MatchPage,
    responses={**ERRORS, **LIMITED},
)
async def list_matches(
    seeker_id: IdPath,
    caller: Annotated[
        Resolver, Depends(AllowInHop(Role.seeker, Role.caseworker, account_limit="matching"))
    ],
    session: SessionDep,
    index: IndexDep,
    cache: ReadCacheDep,
    page: PageDep,
    work_mode: WorkMode | None = None,
    max_distance_km: Annotated[float | None, Query(gt=0, le=500)] = None,
    min_score: Score = 0.0,
    include_dismissed: bool = False,
) -> JSONBytes:
    """Open postings ranked for the seeker under their accommodation needs, with reasons."""

    def work() -> bytes:  # the caller, rate limit, ranking and commit on one thread hop
        principal = caller(session)  # first: authentication before anything else
        return service.matches_json(
            session,
            index,
            cache,
            principal,
            seeker_id,
            page,
            work_mode=work_mode,
            max_distance_km=max_distance_km,
            min_score=min_score,
            include_dismissed=include_dismissed,
        )

    return JSONBytes(await in_one_hop(session, work))


@router.get(
    "/postings/{posting_id}/candidates",
    response_model=CandidatePage,
    responses={**ERRORS, **LIMITED},
)
async def list_candidates(
    posting_id: IdPath,
    caller: Annotated[
        Resolver,
        Depends(AllowInHop(Role.employer, Role.caseworker, Role.admin, account_limit="matching")),
    ],
    session: SessionDep,
    settings: SettingsDep,
    index: IndexDep,
    cache: ReadCacheDep,
    page: PageDep,
    min_score: Score = 0.0,
) -> JSONBytes:
    """Pseudonymous candidates for a posting: no name, contact or sensitive field."""

    def work() -> bytes:  # the caller, rate limit, ranking and commit on one thread hop
        principal = caller(session)  # first: authentication before anything else
        return service.candidates_json(
            session,
            index,
            cache,
            settings.secret_key.get_secret_value(),
            principal,
            posting_id,
            page,
            min_score=min_score,
        )

    return JSONBytes(await in_one_hop(session, work))


@router.put(
    "/seekers/{seeker_id}/feedback/{posting_id}", response_model=FeedbackOut, responses=ERRORS
)
def set_feedback(
    seeker_id: IdPath,
    posting_id: IdPath,
    data: FeedbackIn,
    principal: SeekerOrCaseworker,
    session: SessionDep,
    index: IndexDep,
) -> FeedbackOut:
    """Save or dismiss a match, with an optional reason (kept to improve matching)."""
    return service.set_feedback(session, principal, seeker_id, posting_id, data, index=index)


@router.delete("/seekers/{seeker_id}/feedback/{posting_id}", status_code=204, responses=ERRORS)
def clear_feedback(
    seeker_id: IdPath, posting_id: IdPath, principal: SeekerOrCaseworker, session: SessionDep
) -> None:
    """Forget a saved or dismissed mark."""
    service.clear_feedback(session, principal, seeker_id, posting_id)


@router.get("/seekers/{seeker_id}/feedback", response_model=list[FeedbackOut], responses=ERRORS)
def list_feedback(
    seeker_id: IdPath,
    principal: SeekerOrCaseworker,
    session: SessionDep,
    kind: Literal["saved", "dismissed"] | None = None,
) -> list[FeedbackOut]:
    """The seeker's saved and dismissed matches, newest first."""
    return service.list_feedback(session, principal, seeker_id, kind)
