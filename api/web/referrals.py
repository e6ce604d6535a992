"""Referral pages for seekers: ask for a referral from a match, see exactly what the employer
would receive before agreeing, and follow the status. Rules live in api.services.referrals."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from api.deps import Allow, IdPath, IndexDep, Principal, SessionDep, SettingsDep
from api.errors import Conflict
from api.schemas.common import PageParams
from api.schemas.referrals import OPTIONAL_FIELDS, ConsentChoiceIn, ReferralIn
from api.services import referrals as service
from api.web.core import (
    PAGE_RESPONSES,
    Form,
    FormDep,
    PageRoute,
    language_of,
    redirect,
    render,
)
from api.web.i18n import Translator
from api.web.pushes import local_time
from models.base import Role

router = APIRouter(route_class=PageRoute, tags=["pages"], responses=PAGE_RESPONSES)
SeekerPage = Annotated[Principal, Depends(Allow(Role.seeker))]


def field_label(t: Translator, name: str) -> str:
    zh, en = service.FIELD_LABELS.get(name, (name, name))
    return t.pick(zh, en)


@router.post("/seeker/matches/{posting_id}/referral", response_model=None)
def ask_referral(
    posting_id: IdPath,
    principal: SeekerPage,
    session: SessionDep,
    settings: SettingsDep,
    index: IndexDep,
) -> Response:
    """Start a referral to this job; nothing is shared until you agree on the next page."""
    try:
        referral = service.create_referral(
            session,
            settings,
            principal,
            ReferralIn.model_validate({"posting_id": posting_id}),
            index,
        )
    except Conflict as exc:
        existing = exc.extra.get("referral_id")
        if existing is None:
            raise
        return redirect(f"/seeker/referrals/{existing}/consent")
    return redirect(f"/seeker/referrals/{referral.id}/consent")


def _consent_page(
    request: Request,
    principal: Principal,
    session: Any,
    settings: Any,
    referral_id: int,
    form: Form,
    status: int = 200,
) -> Response:
    t = Translator(language_of(request, principal))
    share = [s for s in form.getlist("share") if s in OPTIONAL_FIELDS]
    detail = service.get_referral(session, principal, referral_id)
    preview = service.preview(session, settings, principal, referral_id, share)
    return render(
        request,
        "seeker/referral_consent.html",
        {
            "form": form,
            "detail": detail,
            "preview": preview,
            "consent_text": t.pick(preview.text_zh, preview.text_en),
            "fields": [(name, field_label(t, name)) for name in preview.fields],
            "optional": [(name, field_label(t, name)) for name in OPTIONAL_FIELDS],
            "can_consent": detail.status.value == "proposed",
            "heading": t("referral_consent_title", title=detail.posting.title),
        },
        principal=principal,
        status_code=status,
        title=t("referral_consent_title", title=detail.posting.title),
    )


@router.get("/seeker/referrals/{referral_id}/consent", response_model=None)
def consent_page(
    request: Request,
    referral_id: IdPath,
    principal: SeekerPage,
    session: SessionDep,
    settings: SettingsDep,
    share: Annotated[list[str], Query(max_length=2)] = [],  # noqa: B006
) -> Response:
    """Exactly what the employer would receive, with the optional fields you tick."""
    form = Form(values={"share": share})
    return _consent_page(request, principal, session, settings, referral_id, form)


@router.post("/seeker/referrals/{referral_id}/consent", response_model=None)
def give_consent(
    request: Request,
    referral_id: IdPath,
    principal: SeekerPage,
    session: SessionDep,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    """Agree and send the request: approved at once when every rule passes, else reviewed."""
    t = Translator(language_of(request, principal))
    if form.get("agree") != "yes":
        form.errors["agree"] = t("err_agree")
        return _consent_page(request, principal, session, settings, referral_id, form, 422)
    share = [s for s in form.getlist("share") if s in OPTIONAL_FIELDS]
    choice = ConsentChoiceIn.model_validate(
        {"agree": True, "text_version": form.get("text_version"), "share": share}
    )
    service.give_consent(session, settings, principal, referral_id, choice)
    return redirect("/seeker/referrals", "referral_requested")


@router.get("/seeker/referrals", response_model=None)
def referrals_page(
    request: Request, principal: SeekerPage, session: SessionDep, settings: SettingsDep
) -> Response:
    """Your referrals and where each one is."""
    result = service.list_referrals(session, principal, PageParams(limit=100, offset=0))
    items = [
        {
            "id": r.id,
            "title": r.posting.title,
            "employer": r.posting.employer_name,
            "status": r.status.value,
            "when": local_time(r.updated_at, settings.timezone),
            "deadline": local_time(r.deadline_at, settings.timezone) if r.deadline_at else "",
        }
        for r in result.items
    ]
    return render(
        request,
        "seeker/referrals.html",
        {"items": items},
        principal=principal,
        title_key="referrals_title",
    )
