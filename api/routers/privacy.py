"""Consent, sensitive data, who read it, export and erasure."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.deps import (
    PUBLIC,
    AdminUser,
    Allow,
    IdPath,
    Principal,
    SeekerUser,
    SessionDep,
    SettingsDep,
)
from api.schemas.privacy import (
    AccessLogEntry,
    BreakGlassIn,
    BreakGlassOut,
    ConsentIn,
    ConsentPublic,
    ConsentText,
    EraseIn,
    ExportOut,
    SensitiveData,
)
from api.services import privacy as service
from models.base import Role

router = APIRouter(tags=["privacy"])

SeekerOrCaseworker = Annotated[Principal, Depends(Allow(Role.seeker, Role.caseworker))]
SeekerOrAdmin = Annotated[Principal, Depends(Allow(Role.seeker, Role.admin))]
ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "not logged in"},
    403: {"description": "role not allowed, or only the seeker may do this"},
    404: {"description": "no such seeker, or not yours"},
    409: {"description": "consent missing, or the consent text changed"},
    422: {"description": "invalid input"},
}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _no_store(response: Response) -> None:
    response.headers.update(NO_STORE)


@router.get(
    "/privacy/consent-texts", response_model=list[ConsentText], dependencies=[Depends(PUBLIC)]
)
def list_consent_texts() -> list[ConsentText]:
    """What each separate consent is for, who sees what, and what saying no means."""
    return service.consent_texts()


@router.get("/seekers/{seeker_id}/consents", response_model=list[ConsentPublic], responses=ERRORS)
def list_consents(
    seeker_id: IdPath, principal: SeekerOrCaseworker, session: SessionDep
) -> list[ConsentPublic]:
    """The seeker's consents, given and withdrawn."""
    return service.list_consents(session, principal, seeker_id)


@router.post(
    "/seekers/{seeker_id}/consents", status_code=201, response_model=ConsentPublic, responses=ERRORS
)
def give_consent(
    seeker_id: IdPath, data: ConsentIn, principal: SeekerUser, session: SessionDep
) -> ConsentPublic:
    """Give a separate consent to the current text of a purpose."""
    return service.give_consent(session, principal, seeker_id, data)


@router.post(
    "/seekers/{seeker_id}/consents/{consent_id}/withdraw",
    response_model=ConsentPublic,
    responses=ERRORS,
)
def withdraw_consent(
    seeker_id: IdPath, consent_id: IdPath, principal: SeekerUser, session: SessionDep
) -> ConsentPublic:
    """Withdraw a consent; what it covered is deleted at once."""
    return service.withdraw_consent(session, principal, seeker_id, consent_id)


@router.put("/seekers/{seeker_id}/sensitive", response_model=SensitiveData, responses=ERRORS)
def write_sensitive(
    seeker_id: IdPath,
    data: SensitiveData,
    principal: SeekerUser,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> SensitiveData:
    """Store your disability category, grade, certificate number and health notes
    (needs the sensitive_profile consent; kept encrypted)."""
    _no_store(response)
    return service.write_sensitive(session, settings, principal, seeker_id, data)


@router.get("/seekers/{seeker_id}/sensitive", response_model=SensitiveData | None, responses=ERRORS)
def read_sensitive(
    seeker_id: IdPath,
    principal: SeekerOrCaseworker,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    purpose: Annotated[
        str | None, Query(max_length=200, description="why (required for caseworkers)")
    ] = None,
) -> SensitiveData | None:
    """The seeker's sensitive data: the seeker reads freely; their caseworker states why, and
    the read is recorded for the seeker to see."""
    _no_store(response)
    return service.read_sensitive(session, settings, principal, seeker_id, purpose)


@router.delete("/seekers/{seeker_id}/sensitive", status_code=204, responses=ERRORS)
def delete_sensitive(seeker_id: IdPath, principal: SeekerUser, session: SessionDep) -> None:
    """Delete your sensitive data (the consent stays until you withdraw it)."""
    service.delete_sensitive(session, principal, seeker_id)


@router.get(
    "/seekers/{seeker_id}/access-log", response_model=list[AccessLogEntry], responses=ERRORS
)
def read_access_log(
    seeker_id: IdPath, principal: SeekerUser, session: SessionDep
) -> list[AccessLogEntry]:
    """Who read your sensitive data or exported your record, when and why."""
    return service.access_log(session, principal, seeker_id)


@router.get("/seekers/{seeker_id}/export", response_model=ExportOut, responses=ERRORS)
def export_seeker(
    seeker_id: IdPath,
    principal: SeekerUser,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> ExportOut:
    """Everything held about you, as JSON."""
    _no_store(response)
    response.headers["Content-Disposition"] = f'attachment; filename="jobmatch-{seeker_id}.json"'
    return service.export(session, settings, principal, seeker_id)


@router.post("/seekers/{seeker_id}/erase", status_code=204, responses=ERRORS)
def erase_seeker(
    seeker_id: IdPath, data: EraseIn, principal: SeekerOrAdmin, session: SessionDep
) -> None:
    """Erase the seeker from every table and the match index; their sessions end."""
    service.erase(session, principal, seeker_id)


@router.post(
    "/admin/break-glass/seekers/{seeker_id}", response_model=BreakGlassOut, responses=ERRORS
)
def break_glass(
    seeker_id: IdPath,
    data: BreakGlassIn,
    principal: AdminUser,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> BreakGlassOut:
    """Admins see individual records only this way: with a reason, recorded and shown to
    the seeker in their access log."""
    _no_store(response)
    return service.break_glass(session, settings, principal, seeker_id, data.reason)
