"""Trainings, the accommodation vocabulary, centres and staff accounts."""

from sqlalchemy import Table, func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from api.deps import Principal
from api.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from api.schemas.common import Page, PageParams
from api.schemas.domain import (
    AccommodationIn,
    AccommodationUpdate,
    StaffAccountIn,
    TrainingIn,
    TrainingPublic,
    TrainingUpdate,
)
from api.services import auth as auth_service
from api.services.common import (
    apply_update,
    centre_by_code,
    get_or_404,
    paginate,
    paginate_rows,
)
from api.services.seekers import validate_codes
from models import Accommodation, Account, AuditLog, Centre, Training
from models.base import Role, TrainingStatus

# --- trainings -------------------------------------------------------------------------


def create_training(session: Session, principal: Principal, data: TrainingIn) -> Training:
    centre_id = principal.account.centre_id
    if data.centre_code:
        centre_id = centre_by_code(session, data.centre_code).id
    if principal.role == Role.caseworker and centre_id != principal.account.centre_id:
        raise PermissionDenied("a caseworker publishes trainings for their own centre")
    validate_codes(session, data.accessibility, "accessibility")
    training = Training.model_validate(
        data.model_dump(exclude={"centre_code"}),
        update={"centre_id": centre_id, "created_by": principal.id},
    )
    session.add(training)
    session.flush()
    return training


def _check_training_write(principal: Principal, training: Training) -> None:
    if principal.role == Role.admin:
        return
    if principal.role == Role.caseworker and training.centre_id == principal.account.centre_id:
        return
    raise PermissionDenied("only staff of the training's centre may change it")


def update_training(
    session: Session, principal: Principal, training_id: int, data: TrainingUpdate
) -> Training:
    training = get_or_404(session, Training, training_id, what="training")
    _check_training_write(principal, training)
    if training.status in (TrainingStatus.closed, TrainingStatus.cancelled):
        raise Conflict(f"this training is {training.status.value}")
    if data.accessibility is not None:
        validate_codes(session, data.accessibility, "accessibility")
    apply_update(training, data)
    if training.capacity < training.seats_taken:
        raise InvalidInput("capacity is below the seats already taken", field="capacity")
    session.add(training)
    session.flush()
    return training


def close_training(session: Session, principal: Principal, training_id: int) -> Training:
    training = get_or_404(session, Training, training_id, what="training")
    _check_training_write(principal, training)
    if training.status not in (TrainingStatus.closed, TrainingStatus.cancelled):
        training.status = TrainingStatus.closed
        session.add(training)
        session.flush()
    return training


def list_trainings(
    session: Session,
    page: PageParams,
    *,
    centre_code: str | None = None,
    include_closed: bool = False,
) -> tuple[list[Training], int]:
    query = select(Training)
    if centre_code:
        query = query.where(Training.centre_id == centre_by_code(session, centre_code).id)
    if not include_closed:
        query = query.where(col(Training.status).in_([TrainingStatus.open, TrainingStatus.planned]))
    return paginate_rows(session, query.order_by(col(Training.starts_on), col(Training.id)), page)


_TRAINING: Table = Training.__table__  # type: ignore[attr-defined]
# The public fields, as plain table columns, and the total on each row (one statement a page).
_TRAINING_PAGE = sql_select(
    *(_TRAINING.c[name] for name in TrainingPublic.model_fields), func.count().over()
)
_OPEN_STATES = (TrainingStatus.open, TrainingStatus.planned)


def training_page(
    session: Session,
    page: PageParams,
    *,
    centre_code: str | None = None,
    include_closed: bool = False,
) -> Page[TrainingPublic]:
    """The page list_trainings gives, read as Core rows straight into TrainingPublic (no ORM
    object a row)."""
    t = _TRAINING.c
    query = _TRAINING_PAGE
    if centre_code:
        query = query.where(t.centre_id == centre_by_code(session, centre_code).id)
    if not include_closed:
        query = query.where(t.status.in_(_OPEN_STATES))
    query = query.order_by(t.starts_on, t.id).limit(page.limit).offset(page.offset)
    rows = session.connection().execute(query).all()
    if not rows and page.offset > 0:  # a page past the end: count on its own
        _rows, total = list_trainings(
            session,
            PageParams(limit=1, offset=0),
            centre_code=centre_code,
            include_closed=include_closed,
        )
    else:
        total = int(rows[0][-1]) if rows else 0
    fields = tuple(TrainingPublic.model_fields)
    items = [TrainingPublic.model_validate(dict(zip(fields, row, strict=False))) for row in rows]
    return Page.of(items, total, page)


# --- vocabulary ------------------------------------------------------------------------


def list_accommodations(session: Session, *, include_retired: bool = False) -> list[Accommodation]:
    query = select(Accommodation)
    if not include_retired:
        query = query.where(Accommodation.active)
    return list(session.exec(query.order_by(col(Accommodation.group), col(Accommodation.code))))


def create_accommodation(session: Session, data: AccommodationIn) -> Accommodation:
    if session.get(Accommodation, data.code) is not None:
        raise Conflict(f"accommodation code {data.code!r} exists", field="code")
    row = Accommodation.model_validate(data)
    session.add(row)
    session.flush()
    return row


def update_accommodation(session: Session, code: str, data: AccommodationUpdate) -> Accommodation:
    row = get_or_404(session, Accommodation, code, what="accommodation")
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is None:
            raise InvalidInput(f"{key} may not be null", field=key)
        setattr(row, key, value)
    session.add(row)
    session.flush()
    return row


def retire_accommodation(session: Session, code: str) -> Accommodation:
    """Retire a code: existing needs and offers keep it, new ones may not use it."""
    row = get_or_404(session, Accommodation, code, what="accommodation")
    row.active = False
    session.add(row)
    session.flush()
    return row


# --- centres and staff accounts --------------------------------------------------------


def list_centres(session: Session) -> list[Centre]:
    return list(session.exec(select(Centre).order_by(col(Centre.id))))


def create_staff_account(session: Session, principal: Principal, data: StaffAccountIn) -> Account:
    centre_id = centre_by_code(session, data.centre_code).id if data.centre_code else None
    account = auth_service.create_account(
        session,
        email=str(data.email),
        password=data.password,
        role=Role(data.role),
        display_name=data.display_name,
        centre_id=centre_id,
    )
    account.language = data.language
    session.add(
        AuditLog(
            actor_id=principal.id,
            actor_role=principal.role.value,
            action="account_created",
            object_type="account",
            object_id=str(account.id),
        )
    )
    session.flush()
    return account


def list_accounts(
    session: Session, page: PageParams, *, role: Role | None = None
) -> tuple[list[Account], int]:
    query = select(Account)
    if role is not None:
        query = query.where(Account.role == role)
    return paginate(session, query.order_by(col(Account.id)), page)


def disable_account(session: Session, principal: Principal, account_id: int) -> Account:
    account = get_or_404(session, Account, account_id, what="account")
    if account.id == principal.id:
        raise InvalidInput("you cannot disable your own account", field="account_id")
    if account.is_active:
        account.is_active = False
        session.add(account)
        auth_service.revoke_all_sessions(session, account.id or 0)
        session.add(
            AuditLog(
                actor_id=principal.id,
                actor_role=principal.role.value,
                action="account_disabled",
                object_type="account",
                object_id=str(account.id),
            )
        )
        session.flush()
    return account


def get_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    return account
