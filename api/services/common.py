"""Helpers every service uses: loading with 404, optimistic updates, pages."""

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import func
from sqlalchemy.sql import Select
from sqlmodel import Session, SQLModel, col, select

from api.errors import Conflict, InvalidInput, NotFound
from api.schemas.common import PageParams
from models import Accommodation, Centre

T = TypeVar("T", bound=SQLModel)


def get_or_404(session: Session, model: type[T], key: Any, *, what: str | None = None) -> T:
    """The row with this primary key, or NotFound."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"{what or model.__name__.lower()} {key} not found")
    return row


def apply_update(row: Any, update: SQLModel, *, exclude: set[str] | None = None) -> None:
    """Copy the fields a client sent onto row, after checking the version they read."""
    current = getattr(row, "version", None)
    sent = getattr(update, "version", None)
    if current is not None and sent is not None and sent != current:
        raise Conflict(
            "the record was changed since you read it", field="version", current_version=current
        )
    data = update.model_dump(exclude_unset=True, exclude={"version", *(exclude or set())})
    for key, value in data.items():
        setattr(row, key, value)


def paginate(session: Session, query: Select[Any], page: PageParams) -> tuple[list[Any], int]:
    """The rows of one page and the total count."""
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(session.exec(query.limit(page.limit).offset(page.offset)).all())  # type: ignore[call-overload]
    return rows, int(total)


def centre_by_code(session: Session, code: str, *, field: str = "centre_code") -> Centre:
    """The centre with this code, or an input error naming the field."""
    centre = session.exec(select(Centre).where(Centre.code == code)).first()
    if centre is None:
        raise InvalidInput(f"unknown centre code {code!r}", field=field)
    return centre


_ALL_LABELS = select(
    col(Accommodation.code), col(Accommodation.label_zh), col(Accommodation.label_en)
)


def labelled_codes(
    session: Session, rows: Sequence[tuple[Any, str, Any]], kind: str
) -> dict[Any, list[dict[str, Any]]]:
    """Vocabulary codes grouped by owner, each with its zh/en labels, as dicts ready for a
    response model: rows are (owner id, code, kind value), e.g. a posting's offers or a
    seeker's needs; `kind` names the third field ("availability", "level")."""
    # The whole vocabulary (a few dozen rows) with one statement built once: cheaper than an
    # IN list, whose SQL is rendered anew for every call and never prepared.
    labels = {code: (zh, en) for code, zh, en in session.exec(_ALL_LABELS).all()} if rows else {}
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for owner, code, value in sorted(rows, key=lambda r: (r[0], r[1])):
        if code in labels:
            grouped.setdefault(owner, []).append(
                {
                    "code": code,
                    kind: value,
                    "label_zh": labels[code][0],
                    "label_en": labels[code][1],
                }
            )
    return grouped
