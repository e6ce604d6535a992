"""Employers."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import Allow, IdPath, PageDep, Principal, SessionDep, SettingsDep, StaffUser
from api.schemas.common import Page
from api.schemas.domain import EmployerIn, EmployerPublic, EmployerUpdate
from api.schemas.quota import QuotaOut
from api.services import employers as service
from api.services import quota as quota_service
from models.base import Role

router = APIRouter(prefix="/employers", tags=["employers"])

EmployerOrStaff = Annotated[Principal, Depends(Allow(Role.employer, Role.caseworker, Role.admin))]
ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "not logged in"},
    403: {"description": "role not allowed"},
    404: {"description": "no such employer, or not yours"},
    409: {"description": "stale version, duplicate credit code or closed"},
    422: {"description": "invalid input"},
}


@router.post("", status_code=201, response_model=EmployerPublic, responses=ERRORS)
def create_employer(data: EmployerIn, principal: StaffUser, session: SessionDep) -> EmployerPublic:
    """Register an employer on its behalf (staff)."""
    employer = service.create_employer(session, data, centre_id=principal.account.centre_id)
    return EmployerPublic.model_validate(employer)


@router.get("", response_model=Page[EmployerPublic], responses=ERRORS)
def list_employers(
    principal: StaffUser,
    session: SessionDep,
    page: PageDep,
    verified: Annotated[bool | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[EmployerPublic]:
    """All employers (staff)."""
    rows, total = service.list_employers(session, page, verified=verified, q=q)
    return Page.of([EmployerPublic.model_validate(r) for r in rows], total, page)


@router.get("/{employer_id}", response_model=EmployerPublic, responses=ERRORS)
def read_employer(
    employer_id: IdPath, principal: EmployerOrStaff, session: SessionDep
) -> EmployerPublic:
    """One employer: your own organisation, or any for staff."""
    return EmployerPublic.model_validate(service.get_employer(session, principal, employer_id))


@router.patch("/{employer_id}", response_model=EmployerPublic, responses=ERRORS)
def update_employer(
    employer_id: IdPath, data: EmployerUpdate, principal: EmployerOrStaff, session: SessionDep
) -> EmployerPublic:
    """Change an employer's details; send the version you read."""
    employer = service.update_employer(session, principal, employer_id, data)
    return EmployerPublic.model_validate(employer)


@router.get("/{employer_id}/quota", response_model=QuotaOut, responses=ERRORS)
def read_quota(
    employer_id: IdPath, principal: EmployerOrStaff, session: SessionDep, settings: SettingsDep
) -> QuotaOut:
    """The employer's quota position (按比例安排残疾人就业): staff, disabled staff as counted,
    the ratio, the shortfall and the employment security fund, with the rules and arithmetic
    used. Your own organisation, or any for staff. Change the figures with PATCH
    /employers/{id} (staff_count, disabled_staff_grade_1_2, disabled_staff_grade_3_4)."""
    return quota_service.employer_quota(session, settings, principal, employer_id)


@router.post("/{employer_id}/verify", response_model=EmployerPublic, responses=ERRORS)
def verify_employer(
    employer_id: IdPath, principal: StaffUser, session: SessionDep
) -> EmployerPublic:
    """Mark an employer as verified (staff)."""
    return EmployerPublic.model_validate(service.verify_employer(session, principal, employer_id))


@router.post("/{employer_id}/close", response_model=EmployerPublic, responses=ERRORS)
def close_employer(
    employer_id: IdPath, principal: EmployerOrStaff, session: SessionDep
) -> EmployerPublic:
    """Close an employer and its open postings."""
    return EmployerPublic.model_validate(service.close_employer(session, principal, employer_id))
