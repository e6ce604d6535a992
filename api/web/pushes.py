"""Pages for every role: the in-app inbox (messages) and notification settings, with the
one-step stop of all pushes (PIPL Art. 24). Rules live in api.services.outbox and
api.services.preferences; these pages only read forms and call them."""

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import ALL_ROLES, PUBLIC, Allow, IdPath, Principal, SessionDep, SettingsDep
from api.errors import Conflict, DomainError
from api.schemas.common import PageParams
from api.schemas.pushes import PreferencesIn
from api.services import outbox, preferences
from api.services.common import paginate
from api.services.delivery import message_for
from api.settings import Settings
from api.web.core import (
    PAGE_RESPONSES,
    CsrfDep,
    Form,
    FormDep,
    PageRoute,
    language_of,
    optional_principal,
    redirect,
    render,
    undo_changes,
)
from api.web.forms import apply_domain, apply_validation
from api.web.i18n import Translator
from models import Outbox
from models.tables import PushFrequency

router = APIRouter(route_class=PageRoute, tags=["pages"], responses=PAGE_RESPONSES)
AnyUser = Annotated[Principal, Depends(Allow(*ALL_ROLES))]
PAGE_SIZE = 10


def _t(request: Request, principal: Principal) -> Translator:
    return Translator(language_of(request, principal))


def _item(row: Outbox, lang: str, settings: Settings) -> dict[str, Any]:
    message = message_for(row, lang, settings)
    zone = settings.timezone
    return {
        "id": row.id or 0,
        "kind": row.kind,
        "subject": message.subject,
        "lines": message.lines,
        "why": message.why,
        "unread": row.read_at is None,
        "sent": local_time(row.created_at, zone),
        "read": local_time(row.read_at, zone) if row.read_at else "",
    }


def local_time(value: datetime, zone: str) -> str:
    """A stored time in the service's time zone, to the minute."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


# --- the inbox -------------------------------------------------------------------------------


@router.get("/messages", response_model=None)
def inbox_page(
    request: Request,
    principal: AnyUser,
    session: SessionDep,
    settings: SettingsDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    unread: Annotated[bool, Query()] = False,
) -> Response:
    """Your messages, newest first; unread ones say so in words."""
    lang = language_of(request, principal)
    rows, total = paginate(
        session,
        outbox.inbox_query(principal.id, unread_only=unread),
        PageParams(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE),
    )
    return render(
        request,
        "messages.html",
        {
            "items": [_item(r, lang, settings) for r in rows],
            "total": total,
            "unread_total": outbox.unread_count(session, principal.id),
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "unread_only": unread,
        },
        principal=principal,
        title_key="inbox_title",
    )


@router.get("/messages/{item_id}", response_model=None)
def message_page(
    request: Request,
    item_id: IdPath,
    principal: AnyUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """One message: what it says, why you got it, how to stop such messages."""
    row = outbox.own_item(session, principal.id, item_id)
    item = _item(row, language_of(request, principal), settings)
    return render(
        request,
        "message.html",
        {"item": item, "enabled": preferences.get(session, principal.id).enabled},
        principal=principal,
        title=item["subject"],
    )


def _back(form: Form, item_id: int) -> str:
    """Where a read/unread button returns: the message itself, or the list page it was on."""
    if form.get("back") != "list":
        return f"/messages/{item_id}"
    query = []
    page = form.get("page")
    if page.isdigit() and page != "1":
        query.append(f"page={page}")
    if form.get("unread") == "true":
        query.append("unread=true")
    return "/messages" + ("?" + "&".join(query) if query else "")


@router.post("/messages/{item_id}/read", response_model=None)
def mark_read(item_id: IdPath, principal: AnyUser, session: SessionDep, form: FormDep) -> Response:
    """Mark one of your messages read."""
    outbox.set_read(session, principal.id, item_id, True)
    return redirect(_back(form, item_id), "marked_read")


@router.post("/messages/{item_id}/unread", response_model=None)
def mark_unread(
    item_id: IdPath, principal: AnyUser, session: SessionDep, form: FormDep
) -> Response:
    """Mark one of your messages unread again."""
    outbox.set_read(session, principal.id, item_id, False)
    return redirect(_back(form, item_id), "marked_unread")


# --- notification settings -------------------------------------------------------------------


def _percent(score: float) -> str:
    return str(round(score * 100))


def _settings_form(session: Session, principal: Principal) -> Form:
    row = preferences.get(session, principal.id)
    return Form(
        values={
            "enabled": "yes" if row.enabled else "no",
            "frequency": PushFrequency(row.frequency).value,
            "channels": list(row.channels),
            "quiet_start": row.quiet_start or "",
            "quiet_end": row.quiet_end or "",
            "min_score": _percent(row.min_score),
            "trainings": "yes" if row.trainings else "no",
            "version": str(row.version),
        }
    )


def _settings_page(
    request: Request,
    session: Session,
    settings: Settings,
    principal: Principal,
    form: Form,
    status: int = 200,
) -> Response:
    t = _t(request, principal)
    return render(
        request,
        "push_settings.html",
        {
            "form": form,
            "enabled": preferences.get(session, principal.id).enabled,
            "frequencies": [(f.value, t("frequency_" + f.value)) for f in PushFrequency],
            "channels": [
                (c, t("channel_" + c))
                for c in preferences.available_channels(settings)
                if c != "inbox"
            ],
            "yes_no": [("yes", t("yes")), ("no", t("no"))],
            "on_off": [("yes", t("push_enabled_yes")), ("no", t("push_enabled_no"))],
            "zone": settings.timezone,
        },
        principal=principal,
        status_code=status,
        title_key="push_title",
    )


@router.get("/preferences/pushes", response_model=None)
def push_settings_page(
    request: Request, principal: AnyUser, session: SessionDep, settings: SettingsDep
) -> Response:
    """Whether, how often and where you get messages; stop them all in one step."""
    form = _settings_form(session, principal)
    return _settings_page(request, session, settings, principal, form)


def _score(form: Form, t: Translator) -> float | None:
    """The lowest match as a fraction, from a percentage; None (and an error) if not one."""
    raw = form.get("min_score").strip().removesuffix("%").strip()
    try:
        value = float(raw)
    except ValueError:
        form.errors["min_score"] = t("err_required") if not raw else t("err_percent")
        return None
    if not 0 <= value <= 100:
        form.errors["min_score"] = t("err_percent")
        return None
    return value / 100


@router.post("/preferences/pushes", response_model=None)
def save_push_settings(
    request: Request,
    principal: AnyUser,
    session: SessionDep,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    """Save all the choices at once."""
    t = _t(request, principal)
    score = _score(form, t)
    version = form.get("version")
    data = {
        "enabled": form.get("enabled") != "no",
        "frequency": form.get("frequency") or None,
        "channels": [c for c in form.getlist("channels") if c],
        "quiet_start": form.get("quiet_start").strip() or None,
        "quiet_end": form.get("quiet_end").strip() or None,
        "min_score": score if score is not None else 0.5,
        "trainings": form.get("trainings") != "no",
        "version": int(version) if version.isdigit() and version != "0" else None,
    }
    if data["frequency"] is None:
        data.pop("frequency")
        form.errors.setdefault("frequency", t("err_choose"))
    try:
        choices = PreferencesIn.model_validate(data)
        if not form.failed:
            preferences.put(session, settings, principal.id, choices)
    except ValidationError as exc:
        apply_validation(form, t, exc)
    except DomainError as exc:
        undo_changes(session, exc)
        apply_domain(form, t, exc)
        if isinstance(exc, Conflict) and "current_version" in exc.extra:
            form.values["version"] = str(exc.extra["current_version"])
            form.errors.pop("version", None)
            form.summary = t("err_stale")
    if not form.failed:
        return redirect("/preferences/pushes", "push_saved")
    return _settings_page(request, session, settings, principal, form, status=422)


@router.post("/preferences/pushes/stop", response_model=None)
def stop_all_pushes(principal: AnyUser, session: SessionDep, form: FormDep) -> Response:
    """One step: no pushes at all from now on (messages already here stay)."""
    preferences.stop_all(session, principal.id)
    back = "/preferences/pushes"
    came_from = form.get("back")
    if came_from.startswith("/messages/") and came_from.removeprefix("/messages/").isdigit():
        back = came_from
    return redirect(back, "push_stopped")


def _stop_page(
    request: Request,
    session: Session,
    settings: Settings,
    account: int,
    token: str,
    *,
    done: bool,
    status_code: int = 200,
) -> Response:
    valid = preferences.check_stop_token(settings.secret_key.get_secret_value(), account, token)
    return render(
        request,
        "stop_link.html",
        {"account": account, "token": token, "valid": valid, "done": done},
        principal=optional_principal(request, session),
        title_key="stop_link_title",
        status_code=status_code if valid else 404,
    )


StopAccount = Annotated[int, Query(ge=1, le=2**31 - 1)]
StopToken = Annotated[str, Query(min_length=1, max_length=128)]


@router.get("/stop-messages", dependencies=[Depends(PUBLIC)], response_model=None)
def stop_link_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    account: StopAccount,
    token: StopToken,
) -> Response:
    """Where a push's stop link lands: one button stops every push (PIPL Art. 24).

    A link only shows the button; pressing it stops, so a mail scanner that opens links
    stops nothing."""
    return _stop_page(request, session, settings, account, token, done=False)


@router.post("/stop-messages", dependencies=[Depends(PUBLIC), CsrfDep], response_model=None)
def stop_link_confirm(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    account: StopAccount,
    token: StopToken,
) -> Response:
    """Stop every push to the account the link names, without logging in."""
    if preferences.check_stop_token(settings.secret_key.get_secret_value(), account, token):
        preferences.stop_all(session, account)
        return _stop_page(request, session, settings, account, token, done=True)
    return _stop_page(request, session, settings, account, token, done=False)
