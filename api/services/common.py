"""Helpers every service uses: loading with 404, optimistic updates, pages."""

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import func
from sqlalchemy.sql import Select
from sqlmodel import Session, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

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


def paginate_rows(
    session: Session, query: SelectOfScalar[T], page: PageParams
) -> tuple[list[T], int]:
    """The rows of one page and the total count, in one statement (the total rides on each
    row as a window count) instead of two. Only for a select of one table's rows whose joins
    are many-to-one (they add no rows) and with no DISTINCT or GROUP BY: the window counts
    the rows the query yields before the page is cut."""
    counted = query.add_columns(func.count().over()).limit(page.limit).offset(page.offset)
    found = session.execute(counted).all()  # (row, total) pairs, not scalars as exec gives
    if found:
        return [row for row, _ in found], int(found[0][1])
    if page.offset == 0:
        return [], 0
    # A page past the end holds no row to carry the total: count it on its own.
    return [], int(session.exec(select(func.count()).select_from(query.subquery())).one())


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
