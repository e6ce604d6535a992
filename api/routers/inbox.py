"""The in-app inbox, push preferences and the one-click stop, and the admin view of pushes."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlmodel import col, select

from api.deps import PUBLIC, AdminUser, AnyUser, IdPath, PageDep, SessionDep, SettingsDep
from api.errors import NotFound
from api.scheduler import job_list
from api.schemas.pushes import (
    InboxItem,
    InboxPage,
    JobOut,
    PreferencesIn,
    PreferencesOut,
    PushAdminOut,
    PushAdminPage,
    StatusFilter,
)
from api.services import outbox, preferences
from api.services.common import paginate
from api.services.delivery import message_for
from api.services.outbox import KINDS
from api.settings import Settings
from models import Outbox
from models.base import OutboxStatus

router = APIRouter(tags=["pushes"])

ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "not logged in"},
    403: {"description": "role not allowed"},
    404: {"description": "no such item, or not yours"},
    409: {"description": "changed since you read it, or not in a state for this"},
    422: {"description": "invalid input"},
}


def _item(row: Outbox, language: str, settings: Settings) -> InboxItem:
    message = message_for(row, language, settings)
    return InboxItem(
        id=row.id or 0,
        kind=row.kind,
        period=row.period,
        subject=message.subject,
        text="\n".join(message.lines),
        why=message.why,
        stop_url=message.stop_url,
        created_at=row.created_at,
        read_at=row.read_at,
        delivered_at=row.delivered_at,
        status=row.status.value,
    )


@router.get("/inbox", response_model=InboxPage, responses=ERRORS)
def list_inbox(
    principal: AnyUser,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    unread_only: bool = False,
) -> InboxPage:
    """Your pushes, newest first, in your language, each with why it was sent."""
    rows, total = paginate(session, outbox.inbox_query(principal.id, unread_only), page)
    language = principal.account.language.value
    return InboxPage(
        items=[_item(r, language, settings) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
        unread=outbox.unread_count(session, principal.id),
    )


@router.post("/inbox/{item_id}/read", response_model=InboxItem, responses=ERRORS)
def read_item(
    item_id: IdPath, principal: AnyUser, session: SessionDep, settings: SettingsDep
) -> InboxItem:
    """Mark one of your pushes read."""
    row = outbox.set_read(session, principal.id, item_id, True)
    return _item(row, principal.account.language.value, settings)


@router.post("/inbox/{item_id}/unread", response_model=InboxItem, responses=ERRORS)
def unread_item(
    item_id: IdPath, principal: AnyUser, session: SessionDep, settings: SettingsDep
) -> InboxItem:
    """Mark one of your pushes unread again."""
    row = outbox.set_read(session, principal.id, item_id, False)
    return _item(row, principal.account.language.value, settings)


@router.get("/pushes/preferences", response_model=PreferencesOut, responses=ERRORS)
def get_preferences(
    principal: AnyUser, session: SessionDep, settings: SettingsDep
) -> PreferencesOut:
    """Your push choices (the defaults until you change them)."""
    return preferences.to_out(preferences.get(session, principal.id), settings)


@router.put("/pushes/preferences", response_model=PreferencesOut, responses=ERRORS)
def put_preferences(
    data: PreferencesIn, principal: AnyUser, session: SessionDep, settings: SettingsDep
) -> PreferencesOut:
    """Choose frequency, channels, quiet hours, score threshold, or no pushes at all."""
    row = preferences.put(session, settings, principal.id, data)
    return preferences.to_out(row, settings)


@router.post(
    "/pushes/stop",
    status_code=204,
    dependencies=[Depends(PUBLIC)],
    responses={404: {"description": "the link is not valid"}, 422: {}},
)
def stop_pushes(
    session: SessionDep,
    settings: SettingsDep,
    account: Annotated[int, Query(ge=1, le=2**31 - 1)],
    token: Annotated[str, Query(min_length=16, max_length=128)],
) -> None:
    """One-click stop from a push's link: no pushes at all to this account from now on."""
    if not preferences.check_stop_token(settings.secret_key.get_secret_value(), account, token):
        raise NotFound("this stop link is not valid")
    preferences.stop_all(session, account)


@router.get("/admin/pushes", response_model=PushAdminPage, responses=ERRORS)
def list_pushes(
    _admin: AdminUser,
    session: SessionDep,
    page: PageDep,
    status: StatusFilter = "failed",
    kind: Annotated[str | None, Query(max_length=48, description=f"one of {KINDS}")] = None,
) -> PushAdminPage:
    """Pushes by delivery state (finally failed ones by default), with their last error."""
    query = select(Outbox).where(Outbox.status == OutboxStatus(status))
    if kind is not None:
        query = query.where(Outbox.kind == kind)
    rows, total = paginate(session, query.order_by(col(Outbox.id).desc()), page)
    return PushAdminPage.of(
        [PushAdminOut.model_validate(r, from_attributes=True) for r in rows], total, page
    )


@router.post("/admin/pushes/{push_id}/retry", response_model=PushAdminOut, responses=ERRORS)
def retry_push(push_id: IdPath, _admin: AdminUser, session: SessionDep) -> PushAdminOut:
    """Queue a finally failed push again (after fixing its cause)."""
    return PushAdminOut.model_validate(outbox.retry_failed(session, push_id), from_attributes=True)


@router.get("/admin/jobs", response_model=list[JobOut], responses=ERRORS)
def list_jobs(_admin: AdminUser, session: SessionDep, settings: SettingsDep) -> list[JobOut]:
    """The scheduled jobs, their next run and their latest run."""
    return job_list(session, settings)
