"""Trainings, the accommodation vocabulary, centres and staff accounts."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.deps import (
    MEMBER_ROLES,
    PUBLIC,
    AdminUser,
    AllowInHop,
    IdPath,
    JSONBytes,
    MemberUser,
    PageDep,
    Plain,
    Resolver,
    SessionDep,
    StaffUser,
    in_one_hop,
)
from api.schemas.common import Page
from api.schemas.domain import (
    AccommodationIn,
    AccommodationPublic,
    AccommodationUpdate,
    AccountPublic,
    CentrePublic,
    StaffAccountIn,
    TrainingIn,
    TrainingPublic,
    TrainingUpdate,
)
from api.services import catalog as service
from api.services.common import get_or_404
from models import Training
from models.base import Role

router = APIRouter(tags=["catalog"])

ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "not logged in"},
    403: {"description": "role not allowed"},
    404: {"description": "not found"},
    409: {"description": "conflict with the current state"},
    422: {"description": "invalid input"},
}
CodePath = Annotated[str, Path(min_length=1, max_length=48, pattern=r"^[a-z0-9_]+$")]


# --- trainings -------------------------------------------------------------------------


@router.post(
    "/trainings",
    status_code=201,
    response_model=TrainingPublic,
    tags=["trainings"],
    responses=ERRORS,
)
def create_training(data: TrainingIn, principal: StaffUser, session: SessionDep) -> TrainingPublic:
    """Publish a training (caseworkers for their centre, admins for any)."""
    return TrainingPublic.model_validate(service.create_training(session, principal, data))


TRAINING_PAGE = Plain(Page[TrainingPublic])


@router.get("/trainings", response_model=Page[TrainingPublic], tags=["trainings"], responses=ERRORS)
async def list_trainings(
    caller: Annotated[Resolver, Depends(AllowInHop(*MEMBER_ROLES))],
    session: SessionDep,
    page: PageDep,
    centre_code: Annotated[str | None, Query(max_length=32)] = None,
    include_closed: bool = False,
) -> JSONBytes:
    """Trainings open for enrolment, soonest first."""

    def work() -> Page[TrainingPublic]:  # the caller, queries and commit on one hop
        caller(session)
        return service.training_page(
            session, page, centre_code=centre_code, include_closed=include_closed
        )

    return TRAINING_PAGE(await in_one_hop(session, work))


@router.get(
    "/trainings/{training_id}", response_model=TrainingPublic, tags=["trainings"], responses=ERRORS
)
def read_training(
    training_id: IdPath, principal: MemberUser, session: SessionDep
) -> TrainingPublic:
    """One training."""
    return TrainingPublic.model_validate(
        get_or_404(session, Training, training_id, what="training")
    )


@router.patch(
    "/trainings/{training_id}", response_model=TrainingPublic, tags=["trainings"], responses=ERRORS
)
def update_training(
    training_id: IdPath, data: TrainingUpdate, principal: StaffUser, session: SessionDep
) -> TrainingPublic:
    """Change a training; send the version you read."""
    training = service.update_training(session, principal, training_id, data)
    return TrainingPublic.model_validate(training)


@router.post(
    "/trainings/{training_id}/close",
    response_model=TrainingPublic,
    tags=["trainings"],
    responses=ERRORS,
)
def close_training(
    training_id: IdPath, principal: StaffUser, session: SessionDep
) -> TrainingPublic:
    """Close a training for enrolment."""
    return TrainingPublic.model_validate(service.close_training(session, principal, training_id))


# --- vocabulary and centres ------------------------------------------------------------


@router.get(
    "/accommodations",
    response_model=list[AccommodationPublic],
    dependencies=[Depends(PUBLIC)],
    tags=["vocabulary"],
)
def list_accommodations(
    session: SessionDep, include_retired: bool = False
) -> list[AccommodationPublic]:
    """The accommodation vocabulary, labelled in Chinese and English."""
    rows = service.list_accommodations(session, include_retired=include_retired)
    return [AccommodationPublic.model_validate(r) for r in rows]


@router.post(
    "/accommodations",
    status_code=201,
    response_model=AccommodationPublic,
    tags=["vocabulary"],
    responses=ERRORS,
)
def create_accommodation(
    data: AccommodationIn, principal: AdminUser, session: SessionDep
) -> AccommodationPublic:
    """Add a code to the vocabulary (admins)."""
    return AccommodationPublic.model_validate(service.create_accommodation(session, data))


@router.patch(
    "/accommodations/{code}",
    response_model=AccommodationPublic,
    tags=["vocabulary"],
    responses=ERRORS,
)
def update_accommodation(
    code: CodePath, data: AccommodationUpdate, principal: AdminUser, session: SessionDep
) -> AccommodationPublic:
    """Relabel a code (admins)."""
    return AccommodationPublic.model_validate(service.update_accommodation(session, code, data))


@router.post(
    "/accommodations/{code}/retire",
    response_model=AccommodationPublic,
    tags=["vocabulary"],
    responses=ERRORS,
)
def retire_accommodation(
    code: CodePath, principal: AdminUser, session: SessionDep
) -> AccommodationPublic:
    """Retire a code: kept on existing needs and offers, refused on new ones (admins)."""
    return AccommodationPublic.model_validate(service.retire_accommodation(session, code))


@router.get(
    "/centres",
    response_model=list[CentrePublic],
    dependencies=[Depends(PUBLIC)],
    tags=["vocabulary"],
)
def list_centres(session: SessionDep) -> list[CentrePublic]:
    """The district's service centres."""
    return [CentrePublic.model_validate(c) for c in service.list_centres(session)]


# --- staff accounts --------------------------------------------------------------------


@router.post(
    "/accounts", status_code=201, response_model=AccountPublic, tags=["accounts"], responses=ERRORS
)
def create_account(
    data: StaffAccountIn, principal: AdminUser, session: SessionDep
) -> AccountPublic:
    """Create a caseworker or admin account (admins)."""
    return AccountPublic.model_validate(service.create_staff_account(session, principal, data))


@router.get("/accounts", response_model=Page[AccountPublic], tags=["accounts"], responses=ERRORS)
def list_accounts(
    principal: AdminUser, session: SessionDep, page: PageDep, role: Role | None = None
) -> Page[AccountPublic]:
    """All accounts (admins)."""
    rows, total = service.list_accounts(session, page, role=role)
    return Page.of([AccountPublic.model_validate(r) for r in rows], total, page)


@router.post(
    "/accounts/{account_id}/disable",
    response_model=AccountPublic,
    tags=["accounts"],
    responses=ERRORS,
)
def disable_account(account_id: IdPath, principal: AdminUser, session: SessionDep) -> AccountPublic:
    """Disable an account and end its sessions (admins)."""
    return AccountPublic.model_validate(service.disable_account(session, principal, account_id))
