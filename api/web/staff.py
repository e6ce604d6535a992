"""Caseworker pages (the centre's seekers, trainings) and admin pages (the accommodation
vocabulary, centres, staff accounts)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select

from api.deps import Allow, IdPath, Principal, SessionDep
from api.errors import DomainError
from api.schemas.common import PageParams
from api.schemas.domain import AccommodationIn, AccommodationUpdate, StaffAccountIn, TrainingIn
from api.services import catalog
from api.services import seekers as seeker_service
from api.services.common import get_or_404
from api.web.core import (
    PAGE_RESPONSES,
    Form,
    FormDep,
    PageRoute,
    language_of,
    redirect,
    render,
    undo_changes,
)
from api.web.forms import apply_domain, apply_validation, lines, optional
from api.web.i18n import Translator
from models import Accommodation, SeekerNeed
from models.base import Role

router = APIRouter(route_class=PageRoute, tags=["pages"], responses=PAGE_RESPONSES)
CaseworkerPage = Annotated[Principal, Depends(Allow(Role.caseworker))]
AdminPage = Annotated[Principal, Depends(Allow(Role.admin))]
CodePath = Annotated[str, Path(min_length=1, max_length=48, pattern=r"^[a-z0-9_]+$")]
PAGE_SIZE = 20
GROUPS = (
    "access",
    "workstation",
    "vision",
    "hearing",
    "speech",
    "cognitive",
    "mental_health",
    "schedule_place",
    "hiring_process",
)


def _t(request: Request, principal: Principal) -> Translator:
    return Translator(language_of(request, principal))


# --- caseworker ------------------------------------------------------------------------------


@router.get("/centre/seekers", response_model=None)
def centre_seekers_page(
    request: Request,
    principal: CaseworkerPage,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """The seekers of your centre, newest first."""
    rows, total = seeker_service.list_profiles(
        session, principal, PageParams(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    )
    counts: dict[int, int] = {}
    ids = [p.id for p in rows]
    if ids:
        for need in session.exec(select(SeekerNeed).where(col(SeekerNeed.seeker_id).in_(ids))):
            counts[need.seeker_id] = counts.get(need.seeker_id, 0) + 1
    return render(
        request,
        "staff/seekers.html",
        {
            "seekers": rows,
            "counts": counts,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
        },
        principal=principal,
        title_key="centre_seekers_title",
    )


def _centre_code(session: Session, principal: Principal) -> str | None:
    centres = {c.id: c.code for c in catalog.list_centres(session)}
    return centres.get(principal.account.centre_id)


@router.get("/centre/trainings", response_model=None)
def centre_trainings_page(
    request: Request, principal: CaseworkerPage, session: SessionDep
) -> Response:
    """Your centre's trainings (open, planned and past)."""
    code = _centre_code(session, principal)
    rows, _ = catalog.list_trainings(
        session, PageParams(limit=100, offset=0), centre_code=code, include_closed=True
    )
    centres = {c.id: c for c in catalog.list_centres(session)}
    return render(
        request,
        "trainings.html",
        {"trainings": rows, "centres": centres, "can_publish": True},
        principal=principal,
        title_key="centre_trainings_title",
    )


def _training_page(
    request: Request, principal: Principal, form: Form, status: int = 200
) -> Response:
    return render(
        request,
        "staff/training_form.html",
        {"form": form},
        principal=principal,
        status_code=status,
        title_key="new_training",
    )


@router.get("/centre/trainings/new", response_model=None)
def new_training_page(request: Request, principal: CaseworkerPage) -> Response:
    """Publish a training for your centre."""
    return _training_page(request, principal, Form(values={"capacity": "20"}))


@router.post("/centre/trainings/new", response_model=None)
def create_training(
    request: Request, principal: CaseworkerPage, session: SessionDep, form: FormDep
) -> Response:
    t = _t(request, principal)
    try:
        data = TrainingIn.model_validate(
            {
                "title": form.get("title").strip(),
                "description": form.get("description").strip(),
                "provider": form.get("provider").strip(),
                "location_text": form.get("location_text").strip(),
                "starts_on": optional(form.get("starts_on")),
                "ends_on": optional(form.get("ends_on")),
                "capacity": optional(form.get("capacity")) or 20,
                "skills_taught": lines(form.get("skills_taught")),
            }
        )
        catalog.create_training(session, principal, data)
    except ValidationError as exc:
        apply_validation(form, t, exc)
    except DomainError as exc:
        undo_changes(session, exc)
        apply_domain(form, t, exc)
    else:
        return redirect("/centre/trainings", "training_saved")
    return _training_page(request, principal, form, 422)


# --- admin: vocabulary -------------------------------------------------------------------------

VOCAB_TEXT = ("group", "label_zh", "label_en", "description_zh", "description_en")


def _vocab_page(
    request: Request, session: Session, principal: Principal, form: Form, status: int = 200
) -> Response:
    t = _t(request, principal)
    return render(
        request,
        "staff/accommodations.html",
        {
            "form": form,
            "rows": catalog.list_accommodations(session, include_retired=True),
            "groups": [(g, t("group_" + g)) for g in GROUPS],
        },
        principal=principal,
        status_code=status,
        title_key="accommodations_title",
    )


@router.get("/manage/accommodations", response_model=None)
def accommodations_page(request: Request, principal: AdminPage, session: SessionDep) -> Response:
    """The shared accommodation vocabulary, and a form to add to it."""
    return _vocab_page(request, session, principal, Form(values={"group": "access"}))


def _vocab_values(form: Form) -> dict[str, Any]:
    data: dict[str, Any] = {name: form.get(name).strip() for name in VOCAB_TEXT}
    data["health_related"] = form.get("health_related") == "yes"
    return data


@router.post("/manage/accommodations", response_model=None)
def add_accommodation(
    request: Request, principal: AdminPage, session: SessionDep, form: FormDep
) -> Response:
    t = _t(request, principal)
    try:
        data = AccommodationIn.model_validate(
            {**_vocab_values(form), "code": form.get("code").strip()}
        )
        catalog.create_accommodation(session, data)
    except ValidationError as exc:
        apply_validation(form, t, exc)
    except DomainError as exc:
        undo_changes(session, exc)
        apply_domain(form, t, exc)
    else:
        return redirect("/manage/accommodations", "accommodation_saved")
    return _vocab_page(request, session, principal, form, 422)


def _edit_vocab_page(
    request: Request, principal: Principal, row: Accommodation, form: Form, status: int = 200
) -> Response:
    t = _t(request, principal)
    return render(
        request,
        "staff/accommodation_edit.html",
        {"form": form, "row": row, "groups": [(g, t("group_" + g)) for g in GROUPS]},
        principal=principal,
        status_code=status,
        title=t("edit_accommodation", label=t.pick(row.label_zh, row.label_en)),
    )


@router.get("/manage/accommodations/{code}/edit", response_model=None)
def edit_accommodation_page(
    request: Request, code: CodePath, principal: AdminPage, session: SessionDep
) -> Response:
    row = get_or_404(session, Accommodation, code, what="accommodation")
    values: dict[str, Any] = {name: getattr(row, name) for name in VOCAB_TEXT}
    values["health_related"] = "yes" if row.health_related else ""
    return _edit_vocab_page(request, principal, row, Form(values=values))


@router.post("/manage/accommodations/{code}/edit", response_model=None)
def update_accommodation(
    request: Request, code: CodePath, principal: AdminPage, session: SessionDep, form: FormDep
) -> Response:
    t = _t(request, principal)
    row = get_or_404(session, Accommodation, code, what="accommodation")
    try:
        catalog.update_accommodation(
            session, code, AccommodationUpdate.model_validate(_vocab_values(form))
        )
    except ValidationError as exc:
        apply_validation(form, t, exc)
    except DomainError as exc:
        undo_changes(session, exc)
        apply_domain(form, t, exc)
    else:
        return redirect("/manage/accommodations", "accommodation_saved")
    return _edit_vocab_page(request, principal, row, form, 422)


@router.post("/manage/accommodations/{code}/retire", response_model=None)
def retire_accommodation(code: CodePath, principal: AdminPage, session: SessionDep) -> Response:
    """Retire a code: existing needs and offers keep it; nobody can choose it again."""
    catalog.retire_accommodation(session, code)
    return redirect("/manage/accommodations", "accommodation_retired")


# --- admin: centres and accounts -------------------------------------------------------------


@router.get("/manage/centres", response_model=None)
def centres_page(request: Request, principal: AdminPage, session: SessionDep) -> Response:
    """The district's service centres."""
    return render(
        request,
        "staff/centres.html",
        {"centres": catalog.list_centres(session)},
        principal=principal,
        title_key="centres_title",
    )


def _accounts_page(
    request: Request,
    session: Session,
    principal: Principal,
    form: Form,
    page: int = 1,
    status: int = 200,
) -> Response:
    t = _t(request, principal)
    rows, total = catalog.list_accounts(
        session, PageParams(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    )
    centres = catalog.list_centres(session)
    return render(
        request,
        "staff/accounts.html",
        {
            "form": form,
            "accounts": rows,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "centre_names": {c.id: t.pick(c.name_zh, c.name_en) for c in centres},
            "centres": [("", t("choose_one"))]
            + [(c.code, t.pick(c.name_zh, c.name_en)) for c in centres],
        },
        principal=principal,
        status_code=status,
        title_key="accounts_title",
    )


@router.get("/manage/accounts", response_model=None)
def accounts_page(
    request: Request,
    principal: AdminPage,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Every account, and a form to add staff."""
    form = Form(values={"role": "caseworker", "language": "zh"})
    return _accounts_page(request, session, principal, form, page)


@router.post("/manage/accounts", response_model=None)
def add_staff_account(
    request: Request, principal: AdminPage, session: SessionDep, form: FormDep
) -> Response:
    t = _t(request, principal)
    try:
        data = StaffAccountIn.model_validate(
            {
                "email": form.get("email").strip(),
                "password": form.get("password"),
                "role": form.get("role") or None,
                "display_name": form.get("display_name").strip(),
                "language": form.get("language") or "zh",
                "centre_code": optional(form.get("centre_code")),
            }
        )
        catalog.create_staff_account(session, principal, data)
    except ValidationError as exc:
        apply_validation(form, t, exc)
        if form.summary and not form.get("centre_code"):
            form.errors.setdefault("centre_code", t("err_choose"))
            form.summary = ""
    except DomainError as exc:
        undo_changes(session, exc)
        apply_domain(form, t, exc)
    else:
        return redirect("/manage/accounts", "account_saved")
    return _accounts_page(request, session, principal, form, status=422)


@router.post("/manage/accounts/{account_id}/disable", response_model=None)
def disable_account(account_id: IdPath, principal: AdminPage, session: SessionDep) -> Response:
    """Disable an account: its sessions end at once."""
    catalog.disable_account(session, principal, account_id)
    return redirect("/manage/accounts", "account_disabled")
