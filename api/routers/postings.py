"""Postings with the workplace's accommodation offers."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import TypeAdapter

from api.deps import (
    ALL_ROLES,
    Allow,
    AllowInHop,
    AnyUser,
    IdPath,
    JSONBytes,
    PageDep,
    Principal,
    ReadCacheDep,
    Resolver,
    SessionDep,
    in_one_hop,
)
from api.schemas.common import Page
from api.schemas.domain import PostingIn, PostingPublic, PostingUpdate
from api.services import employers as service
from models.base import PostingStatus, Role, WorkMode

router = APIRouter(prefix="/postings", tags=["postings"])

EmployerOrStaff = Annotated[Principal, Depends(Allow(Role.employer, Role.caseworker, Role.admin))]
ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "not logged in"},
    403: {"description": "role not allowed, or not your posting"},
    404: {"description": "no such posting"},
    409: {"description": "stale version, or the posting is closed"},
    422: {"description": "invalid input"},
}


@router.post("", status_code=201, response_model=PostingPublic, responses=ERRORS)
def create_posting(
    data: PostingIn, principal: EmployerOrStaff, session: SessionDep
) -> PostingPublic:
    """Post a vacancy with what the workplace offers."""
    posting = service.create_posting(session, principal, data)
    return service.posting_to_public(session, posting)


PAGE = TypeAdapter(Page[PostingPublic])


@router.get("", response_model=Page[PostingPublic], responses=ERRORS)
async def list_postings(
    caller: Annotated[Resolver, Depends(AllowInHop(*ALL_ROLES))],
    session: SessionDep,
    cache: ReadCacheDep,
    page: PageDep,
    status: Annotated[PostingStatus | None, Query()] = None,
    work_mode: Annotated[WorkMode | None, Query()] = None,
    employer_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> JSONBytes:
    """Open postings; employers also see their own drafts and closed ones."""

    def render(principal: Principal) -> bytes:
        rows, total = service.list_postings(
            session,
            principal,
            page,
            status=status,
            work_mode=work_mode,
            employer_id=employer_id,
            q=q,
        )
        return PAGE.dump_json(Page.of(service.postings_to_public(session, rows), total, page))

    def work() -> bytes:  # the caller, queries and commit on one thread hop
        principal = caller(session)
        # What the caller's role lets them see (see service.list_postings), then the query.
        key = (
            "postings",
            service.postings_view(principal),
            status,
            work_mode,
            employer_id,
            q,
            page.limit,
            page.offset,
        )
        return cache.get_or_render(
            key, lambda: render(principal), watched_ttl=service.POSTINGS_CACHE_SECONDS
        )

    return JSONBytes(await in_one_hop(session, work))


@router.get("/{posting_id}", response_model=PostingPublic, responses=ERRORS)
def read_posting(posting_id: IdPath, principal: AnyUser, session: SessionDep) -> PostingPublic:
    """One posting."""
    return service.posting_to_public(session, service.get_posting(session, principal, posting_id))


@router.patch("/{posting_id}", response_model=PostingPublic, responses=ERRORS)
def update_posting(
    posting_id: IdPath, data: PostingUpdate, principal: EmployerOrStaff, session: SessionDep
) -> PostingPublic:
    """Change a posting and its offers; send the version you read."""
    posting = service.update_posting(session, principal, posting_id, data)
    return service.posting_to_public(session, posting)


@router.post("/{posting_id}/close", response_model=PostingPublic, responses=ERRORS)
def close_posting(
    posting_id: IdPath, principal: EmployerOrStaff, session: SessionDep
) -> PostingPublic:
    """Close a posting."""
    posting = service.close_posting(session, principal, posting_id)
    return service.posting_to_public(session, posting)
