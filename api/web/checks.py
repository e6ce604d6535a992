"""Pages of verified workplace accessibility: the work list and the check form (caseworkers
and volunteers), a workplace's claimed and verified features (everyone) with the employer's
answer to a dispute."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import UploadFile

from api.deps import Allow, IdPath, Principal, SessionDep, SettingsDep
from api.errors import DomainError
from api.schemas.accessibility import CheckIn, ReplyIn
from api.schemas.common import PageParams
from api.services import accessibility as service
from api.services.outbox import local_zone
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
from api.web.forms import apply_domain, apply_validation, optional
from api.web.i18n import Translator
from models.base import Role, utcnow

router = APIRouter(route_class=PageRoute, tags=["pages"], responses=PAGE_RESPONSES)
S, E, C, A, V = Role.seeker, Role.employer, Role.caseworker, Role.admin, Role.volunteer
CheckerPage = Annotated[Principal, Depends(Allow(C, V))]
AnyPage = Annotated[Principal, Depends(Allow(S, E, C, A, V))]
EmployerPage = Annotated[Principal, Depends(Allow(E))]
PAGE_SIZE = 20
RESULTS = ("", "confirmed", "partly", "not_found")


async def read_uploads(request: Request) -> dict[str, UploadFile]:
    """The files of a multipart form (the form itself is read once and kept)."""
    data = await request.form()
    return {
        key: value
        for key in data
        for value in data.getlist(key)
        if isinstance(value, UploadFile) and value.filename
    }


UploadsDep = Annotated[dict[str, UploadFile], Depends(read_uploads)]


def _t(request: Request, principal: Principal) -> Translator:
    return Translator(language_of(request, principal))


@router.get("/checks", response_model=None)
def worklist_page(
    request: Request,
    principal: CheckerPage,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Workplaces that claim accessibility: never checked first, then the oldest checks."""
    result = service.worklist(session, PageParams(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE))
    return render(
        request,
        "checks/worklist.html",
        {"result": result, "page": page, "pages": max(1, -(-result.total // PAGE_SIZE))},
        principal=principal,
        title_key="checks_title",
    )


def _check_page(
    request: Request,
    session: Session,
    principal: Principal,
    posting_id: int,
    form: Form,
    status: int = 200,
) -> Response:
    state = service.posting_accessibility(session, principal, posting_id)
    t = _t(request, principal)
    return render(
        request,
        "checks/form.html",
        {
            "form": form,
            "state": state,
            "results": [(r, t("check_result_" + (r or "skip"))) for r in RESULTS],
        },
        principal=principal,
        status_code=status,
        title=t("check_form_title", title=state.title),
    )


@router.get("/checks/postings/{posting_id}/new", response_model=None)
def new_check_page(
    request: Request,
    posting_id: IdPath,
    principal: CheckerPage,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Record an on-site check of a workplace."""
    today = utcnow().astimezone(local_zone(settings.timezone)).date().isoformat()
    return _check_page(request, session, principal, posting_id, Form(values={"visited_on": today}))


@router.post("/checks/postings/{posting_id}/new", response_model=None)
def record_check(
    request: Request,
    posting_id: IdPath,
    principal: CheckerPage,
    session: SessionDep,
    settings: SettingsDep,
    form: FormDep,
    uploads: UploadsDep,
) -> Response:
    t = _t(request, principal)
    state = service.posting_accessibility(session, principal, posting_id)
    codes = [feature.code for feature in state.features]
    chosen = [c for c in codes if form.get("result_" + c)]
    aliases = {f"findings.{i}.result": "result_" + c for i, c in enumerate(chosen)}
    aliases.update({f"findings.{i}.note": "note_" + c for i, c in enumerate(chosen)})
    aliases["findings"] = "result_" + codes[0] if codes else "visited_on"
    current = ""
    try:
        data = CheckIn.model_validate(
            {
                "visited_on": optional(form.get("visited_on")),
                "note": form.get("note").strip(),
                "findings": [
                    {
                        "code": c,
                        "result": form.get("result_" + c),
                        "note": form.get("note_" + c).strip(),
                    }
                    for c in chosen
                ],
            }
        )
        check = service.record_check(session, principal, settings, posting_id, data)
        findings = {
            x.code: x
            for c in service.checks_of(session, principal, posting_id)
            if c.id == check.id
            for x in c.findings
        }
        for code in chosen:
            upload = uploads.get("photo_" + code)
            if upload is not None and code in findings:
                current = "photo_" + code
                service.add_photo(session, principal, settings, findings[code].id, upload.file)
    except ValidationError as exc:
        apply_validation(form, t, exc, aliases)
    except DomainError as exc:
        undo_changes(session, exc)
        if exc.field == "file" and current:
            form.errors.setdefault(current, t("err_photo"))
        else:
            apply_domain(form, t, exc, aliases)
    else:
        return redirect(f"/workplaces/{posting_id}", "check_saved")
    return _check_page(request, session, principal, posting_id, form, 422)


def _workplace_page(
    request: Request,
    session: Session,
    principal: Principal,
    posting_id: int,
    forms: dict[int, Form] | None = None,
    status: int = 200,
) -> Response:
    state = service.posting_accessibility(session, principal, posting_id)
    t = _t(request, principal)
    own = principal.role == Role.employer and principal.account.employer_id == state.employer_id
    return render(
        request,
        "checks/workplace.html",
        {
            "state": state,
            "own": own,
            "forms": forms or {},
            "can_check": principal.role in (C, V),
            "actions": [
                (a, t("reply_action_" + a)) for a in ("keep", "make_arrangeable", "withdraw_offer")
            ],
        },
        principal=principal,
        status_code=status,
        title=t("workplace_title", title=state.title),
    )


@router.get("/workplaces/{posting_id}", response_model=None)
def workplace_page(
    request: Request, posting_id: IdPath, principal: AnyPage, session: SessionDep
) -> Response:
    """A workplace's accessibility: verified on site, only claimed, or disputed."""
    return _workplace_page(request, session, principal, posting_id)


@router.post("/workplaces/{posting_id}/findings/{finding_id}/reply", response_model=None)
def reply_to_finding(
    request: Request,
    posting_id: IdPath,
    finding_id: IdPath,
    principal: EmployerPage,
    session: SessionDep,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    """The employer's answer to a feature found missing or partly there."""
    t = _t(request, principal)
    try:
        data = ReplyIn.model_validate(
            {
                "version": optional(form.get("version")),
                "note": form.get("note").strip(),
                "action": form.get("action") or "keep",
            }
        )
        service.reply(session, principal, settings, finding_id, data)
    except ValidationError as exc:
        apply_validation(form, t, exc)
    except DomainError as exc:
        undo_changes(session, exc)
        apply_domain(form, t, exc)
    else:
        return redirect(f"/workplaces/{posting_id}", "reply_saved")
    forms: dict[int, Any] = {finding_id: form}
    return _workplace_page(request, session, principal, posting_id, forms, 422)
