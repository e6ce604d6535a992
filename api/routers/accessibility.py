"""Verified workplace accessibility: checks, photos, the employer's answers, the work list."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile

from api.deps import Allow, IdPath, PageDep, Principal, SessionDep, SettingsDep
from api.schemas.accessibility import (
    CheckIn,
    CheckOut,
    FindingOut,
    PhotoOut,
    PostingAccessibilityOut,
    ReplyIn,
    WorkPage,
)
from api.services import accessibility as service
from models.base import Role

router = APIRouter(tags=["accessibility"])

S, E, C, A, V = Role.seeker, Role.employer, Role.caseworker, Role.admin, Role.volunteer
Checker = Annotated[Principal, Depends(Allow(C, V))]
CheckReader = Annotated[Principal, Depends(Allow(C, A, V))]
Anyone = Annotated[Principal, Depends(Allow(S, E, C, A, V))]
PhotoReader = Annotated[Principal, Depends(Allow(E, C, A, V))]
Staff = Annotated[Principal, Depends(Allow(C, A))]
EmployerUser = Annotated[Principal, Depends(Allow(E))]
ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "not logged in"},
    403: {"description": "role not allowed"},
    404: {"description": "no such posting, finding or photo, or not yours"},
    409: {"description": "the posting is closed, a stale version, or too many photos"},
    413: {"description": "the upload is too large"},
    422: {"description": "invalid input"},
}


@router.post(
    "/postings/{posting_id}/accessibility-checks",
    status_code=201,
    response_model=CheckOut,
    responses=ERRORS,
)
def record_check(
    posting_id: IdPath,
    data: CheckIn,
    principal: Checker,
    session: SessionDep,
    settings: SettingsDep,
) -> CheckOut:
    """Record an on-site check: each claimed feature confirmed, not found, or partly there."""
    check = service.record_check(session, principal, settings, posting_id, data)
    return next(c for c in service.checks_of(session, principal, posting_id) if c.id == check.id)


@router.get(
    "/postings/{posting_id}/accessibility",
    response_model=PostingAccessibilityOut,
    responses=ERRORS,
)
def read_posting_accessibility(
    posting_id: IdPath, principal: Anyone, session: SessionDep
) -> PostingAccessibilityOut:
    """Each claimed feature: verified on site (with the date), only claimed, or disputed."""
    return service.posting_accessibility(session, principal, posting_id)


@router.get("/accessibility/worklist", response_model=WorkPage, responses=ERRORS)
def list_worklist(
    principal: CheckReader,
    session: SessionDep,
    page: PageDep,
    due: Annotated[bool, Query(description="only never checked or expiring soon")] = False,
) -> WorkPage:
    """Open postings that claim accessibility, never checked first, then the oldest checks."""
    return service.worklist(session, page, due_only=due)


@router.post(
    "/accessibility/findings/{finding_id}/photos",
    status_code=201,
    response_model=PhotoOut,
    responses=ERRORS,
)
def add_photo(
    finding_id: IdPath,
    principal: Checker,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="a JPEG, PNG or WebP photo")],
) -> PhotoOut:
    """Add a photo to a finding; it is re-encoded without metadata (EXIF, GPS)."""
    row = service.add_photo(session, principal, settings, finding_id, file.file)
    return service.photo_out(row)


@router.get(
    "/accessibility/photos/{photo_id}",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {"image/jpeg": {}}, "description": "the photo"}},
)
def read_photo(
    photo_id: IdPath, principal: PhotoReader, session: SessionDep, settings: SettingsDep
) -> Response:
    """A finding's photo (staff, volunteers and the workplace's employer only)."""
    data, content_type = service.read_photo(session, principal, settings, photo_id)
    return Response(
        data,
        media_type=content_type,
        headers={
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="photo-{photo_id}.jpg"',
        },
    )


@router.delete("/accessibility/photos/{photo_id}", status_code=204, responses=ERRORS)
def delete_photo(
    photo_id: IdPath, principal: Staff, session: SessionDep, settings: SettingsDep
) -> None:
    """Remove a photo (say, one that shows a person)."""
    service.delete_photo(session, principal, settings, photo_id)


@router.post(
    "/accessibility/findings/{finding_id}/reply", response_model=FindingOut, responses=ERRORS
)
def reply_to_finding(
    finding_id: IdPath,
    data: ReplyIn,
    principal: EmployerUser,
    session: SessionDep,
    settings: SettingsDep,
) -> FindingOut:
    """Answer a feature found missing: keep the claim, withdraw it, or make it arrangeable."""
    finding = service.reply(session, principal, settings, finding_id, data)
    checks = service.checks_of(session, principal, finding.posting_id)
    return next(f for c in checks for f in c.findings if f.id == finding_id)
