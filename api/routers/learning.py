"""Fusion weight sets learnt from outcomes: list them with their reports, roll back (admins)."""

from fastapi import APIRouter

from api.deps import AdminUser, IdPath, IndexDep, PageDep, SessionDep
from api.schemas.common import Page
from api.schemas.learning import ActivateIn, WeightSetDetail, WeightSetOut
from api.services import learning as service
from models import WeightSet

router = APIRouter(tags=["learning"])
ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "not logged in"},
    403: {"description": "admins only"},
    404: {"description": "no such weight set"},
    409: {"description": "already in force, or the set in force changed meanwhile"},
    422: {"description": "invalid input"},
}


def _out(row: WeightSet) -> WeightSetOut:
    return WeightSetOut.model_validate({**row.model_dump(), "in_force": bool(row.in_force)})


def _detail(row: WeightSet) -> WeightSetDetail:
    return WeightSetDetail.model_validate({**row.model_dump(), "in_force": bool(row.in_force)})


@router.get("/weight-sets", response_model=Page[WeightSetOut], responses=ERRORS)
def list_weight_sets(
    principal: AdminUser, session: SessionDep, page: PageDep
) -> Page[WeightSetOut]:
    """Every weight set `jobmatch learn` produced (adopted or not), newest first."""
    rows, total = service.list_sets(session, page.limit, page.offset)
    return Page.of([_out(r) for r in rows], total, page)


@router.get("/weight-sets/{set_id}", response_model=WeightSetDetail, responses=ERRORS)
def get_weight_set(set_id: IdPath, principal: AdminUser, session: SessionDep) -> WeightSetDetail:
    """One weight set with the report of the run that learnt it."""
    return _detail(service.get_set(session, set_id))


@router.post("/weight-sets/{set_id}/activate", response_model=WeightSetDetail, responses=ERRORS)
def activate_weight_set(
    set_id: IdPath,
    data: ActivateIn,
    principal: AdminUser,
    session: SessionDep,
    index: IndexDep,
) -> WeightSetDetail:
    """Put a kept weight set in force (roll back to an earlier one); audited. Every service
    process picks it up at its next poll."""
    row = service.activate(
        session,
        index,
        principal,
        set_id,
        expected_in_force=data.expected_in_force,
        reason=data.reason,
    )
    return _detail(row)
