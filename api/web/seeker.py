"""Seeker pages: profile, accommodation needs, consents, matches, trainings, my data."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import Allow, IdPath, IndexDep, Principal, SessionDep, SettingsDep
from api.errors import Conflict, DomainError, NotFound
from api.schemas.common import PageParams
from api.schemas.domain import SeekerProfileIn, SeekerProfileUpdate
from api.schemas.matching import FeedbackIn
from api.schemas.privacy import ConsentIn
from api.services import catalog, privacy
from api.services import matches as match_service
from api.services import seekers as seeker_service
from api.services.consents import active_consent
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
from api.web.pushes import local_time
from models import SeekerProfile
from models.base import NeedLevel, Role, Schedule, WorkMode

router = APIRouter(
    prefix="/seeker", route_class=PageRoute, tags=["pages"], responses=PAGE_RESPONSES
)
SeekerPage = Annotated[Principal, Depends(Allow(Role.seeker))]
PAGE_SIZE = 10

PROFILE_TEXT = ("full_name", "phone", "headline", "experience", "education", "location_text")


def _profile(session: Session, principal: Principal) -> SeekerProfile | None:
    try:
        return seeker_service.my_profile(session, principal)
    except NotFound:
        return None


def _t(request: Request, principal: Principal) -> Translator:
    return Translator(language_of(request, principal))


def _needs_profile(request: Request, principal: Principal, title_key: str) -> Response:
    return render(request, "seeker/no_profile.html", principal=principal, title_key=title_key)


# --- profile -------------------------------------------------------------------------------


def _profile_form(profile: SeekerProfile) -> Form:
    values: dict[str, Any] = {name: getattr(profile, name) for name in PROFILE_TEXT}
    values.update(
        skills="\n".join(profile.skills),
        desired_roles="\n".join(profile.desired_roles),
        commute_limit_km=_number(profile.commute_limit_km),
        expected_wage=_number(profile.expected_wage),
        schedule=profile.schedule.value,
        work_modes=[WorkMode(m).value for m in profile.work_modes],
        language=profile.language.value,
        version=str(profile.version),
    )
    return Form(values=values)


def _number(value: float | int | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _profile_page(
    request: Request,
    session: Session,
    principal: Principal,
    form: Form,
    *,
    exists: bool,
    status: int = 200,
) -> Response:
    t = _t(request, principal)
    centres = [("", t("choose_one"))] + [
        (c.code, t.pick(c.name_zh, c.name_en)) for c in catalog.list_centres(session)
    ]
    return render(
        request,
        "seeker/profile.html",
        {
            "form": form,
            "exists": exists,
            "ask_centre": not exists and principal.account.centre_id is None,
            "centres": centres,
            "schedules": [(s.value, t("schedule_" + s.value)) for s in Schedule],
            "modes": [(m.value, t("mode_" + m.value)) for m in WorkMode],
        },
        principal=principal,
        status_code=status,
        title_key="profile_title",
    )


@router.get("/profile", response_model=None)
def profile_page(request: Request, principal: SeekerPage, session: SessionDep) -> Response:
    """Your profile: what we match you on."""
    profile = _profile(session, principal)
    form = _profile_form(profile) if profile else Form(values={"schedule": "any"})
    if profile is None:
        form.values["work_modes"] = [m.value for m in WorkMode]
        form.values["language"] = principal.account.language.value
    return _profile_page(request, session, principal, form, exists=profile is not None)


@router.post("/profile", response_model=None)
def save_profile(
    request: Request, principal: SeekerPage, session: SessionDep, form: FormDep
) -> Response:
    """Create or update your profile."""
    t = _t(request, principal)
    profile = _profile(session, principal)
    data: dict[str, Any] = {name: form.get(name).strip() for name in PROFILE_TEXT}
    data.update(
        skills=lines(form.get("skills")),
        desired_roles=lines(form.get("desired_roles")),
        commute_limit_km=optional(form.get("commute_limit_km")),
        expected_wage=optional(form.get("expected_wage")),
        schedule=form.get("schedule") or "any",
        work_modes=[m for m in form.getlist("work_modes") if m],
        language=form.get("language") or principal.account.language.value,
    )
    try:
        if profile is None:
            created = SeekerProfileIn.model_validate(
                {**data, "centre_code": optional(form.get("centre_code"))}
            )
            seeker_service.create_profile(session, principal, created)
        else:
            update = SeekerProfileUpdate.model_validate(
                {**data, "version": optional(form.get("version"))}
            )
            seeker_service.update_profile(session, principal, profile.id or 0, update)
    except ValidationError as exc:
        apply_validation(form, t, exc)
    except DomainError as exc:
        undo_changes(session, exc)
        apply_domain(form, t, exc)
        if isinstance(exc, Conflict) and "current_version" in exc.extra:
            form.values["version"] = str(exc.extra["current_version"])
            form.errors.pop("version", None)
            form.summary = t("err_stale")
    else:
        return redirect("/seeker/profile", "profile_saved")
    return _profile_page(request, session, principal, form, exists=profile is not None, status=422)


# --- accommodation needs -------------------------------------------------------------------


def _needs_page(
    request: Request,
    session: Session,
    principal: Principal,
    profile: SeekerProfile,
    form: Form,
    status: int = 200,
) -> Response:
    groups: dict[str, list[Any]] = {}
    for row in catalog.list_accommodations(session):
        groups.setdefault(row.group, []).append(row)
    return render(
        request,
        "seeker/needs.html",
        {
            "form": form,
            "groups": groups,
            "health_consent": active_consent(session, profile.id or 0, "health_needs") is not None,
            "levels": ["", NeedLevel.preferred.value, NeedLevel.essential.value],
        },
        principal=principal,
        status_code=status,
        title_key="needs_title",
    )


@router.get("/needs", response_model=None)
def needs_page(request: Request, principal: SeekerPage, session: SessionDep) -> Response:
    """Each accommodation with a plain explanation: not needed, preferred or essential."""
    profile = _profile(session, principal)
    if profile is None:
        return _needs_profile(request, principal, "needs_title")
    public = seeker_service.to_public(session, profile)
    values: dict[str, Any] = {"need_" + n.code: n.level.value for n in public.needs}
    values["version"] = str(profile.version)
    values["verified_only"] = "yes" if profile.verified_only_essential else ""
    return _needs_page(request, session, principal, profile, Form(values=values))


@router.post("/needs", response_model=None)
def save_needs(
    request: Request, principal: SeekerPage, session: SessionDep, form: FormDep
) -> Response:
    """Store your needs (health-related ones only with the health consent)."""
    t = _t(request, principal)
    profile = _profile(session, principal)
    if profile is None:
        return _needs_profile(request, principal, "needs_title")
    chosen = [
        (name.removeprefix("need_"), form.get(name))
        for name in form.values
        if name.startswith("need_") and form.get(name)
    ]
    aliases = {f"needs.{i}.code": "need_" + code for i, (code, _) in enumerate(chosen)}
    aliases.update({f"needs.{i}.level": "need_" + code for i, (code, _) in enumerate(chosen)})
    try:
        update = SeekerProfileUpdate.model_validate(
            {
                "version": optional(form.get("version")),
                "needs": [{"code": code, "level": level} for code, level in chosen],
                "verified_only_essential": form.get("verified_only") == "yes",
            }
        )
        seeker_service.update_profile(session, principal, profile.id or 0, update)
    except ValidationError as exc:
        apply_validation(form, t, exc, aliases)
    except DomainError as exc:
        undo_changes(session, exc)
        apply_domain(form, t, exc, aliases)
        if isinstance(exc, Conflict) and "current_version" in exc.extra:
            form.values["version"] = str(exc.extra["current_version"])
            form.errors.pop("version", None)
            form.summary = t("err_stale")
    else:
        return redirect("/seeker/needs", "needs_saved")
    refreshed = _profile(session, principal) or profile
    return _needs_page(request, session, principal, refreshed, form, status=422)


# --- consents ------------------------------------------------------------------------------


@router.get("/consents", response_model=None)
def consents_page(request: Request, principal: SeekerPage, session: SessionDep) -> Response:
    """The two separate consents: what each is for, and give or withdraw in one step."""
    profile = _profile(session, principal)
    if profile is None:
        return _needs_profile(request, principal, "consents_title")
    items = []
    for purpose, text in privacy.CONSENT_TEXTS.items():
        current = active_consent(session, profile.id or 0, purpose)
        items.append({"purpose": purpose, "text": text, "consent": current})
    return render(
        request,
        "seeker/consents.html",
        {"items": items},
        principal=principal,
        title_key="consents_title",
    )


def _known_purpose(purpose: str) -> str:
    if purpose not in privacy.CONSENT_TEXTS:
        raise NotFound(f"no consent purpose {purpose!r}")
    return purpose


@router.post("/consents/{purpose}/give", response_model=None)
def give_consent(purpose: str, principal: SeekerPage, session: SessionDep) -> Response:
    """Agree to the current text of one purpose."""
    profile = seeker_service.my_profile(session, principal)
    text = privacy.CONSENT_TEXTS[_known_purpose(purpose)]
    privacy.give_consent(
        session,
        principal,
        profile.id or 0,
        ConsentIn(purpose=text.purpose, text_version=text.version),
    )
    return redirect("/seeker/consents", "consent_given")


@router.post("/consents/{purpose}/withdraw", response_model=None)
def withdraw_consent(purpose: str, principal: SeekerPage, session: SessionDep) -> Response:
    """Withdraw in one step: what the consent covered is deleted."""
    profile = seeker_service.my_profile(session, principal)
    current = active_consent(session, profile.id or 0, _known_purpose(purpose))
    if current is not None:
        privacy.withdraw_consent(session, principal, profile.id or 0, current.id or 0)
    return redirect("/seeker/consents", "consent_withdrawn")


# --- matches -------------------------------------------------------------------------------


@router.get("/matches", response_model=None)
def matches_page(
    request: Request,
    principal: SeekerPage,
    session: SessionDep,
    index: IndexDep,
    page: Annotated[int, Query(ge=1, le=20)] = 1,
    hidden: Annotated[bool, Query()] = False,
) -> Response:
    """Jobs ranked for you, each with its reasons; save or dismiss."""
    profile = _profile(session, principal)
    if profile is None:
        return _needs_profile(request, principal, "matches_title")
    result = match_service.list_matches(
        session,
        index,
        principal,
        profile.id or 0,
        PageParams(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE),
        include_dismissed=hidden,
    )
    pages = max(1, -(-result.total // PAGE_SIZE))
    return render(
        request,
        "seeker/matches.html",
        {
            "result": result,
            "page": page,
            "pages": pages,
            "hidden": hidden,
            "vocab": {
                a.code: a for a in catalog.list_accommodations(session, include_retired=True)
            },
        },
        principal=principal,
        title_key="matches_title",
    )


FEEDBACK_DONE = {"saved": "match_saved", "dismissed": "match_dismissed", "clear": "match_undone"}


@router.post("/matches/{posting_id}/feedback", response_model=None)
def match_feedback(
    posting_id: IdPath,
    principal: SeekerPage,
    session: SessionDep,
    form: FormDep,
    index: IndexDep,
) -> Response:
    """Save, dismiss, or undo either."""
    profile = seeker_service.my_profile(session, principal)
    kind = form.get("kind")
    if kind == "clear":
        match_service.clear_feedback(session, principal, profile.id or 0, posting_id)
    elif kind in ("saved", "dismissed"):
        match_service.set_feedback(
            session,
            principal,
            profile.id or 0,
            posting_id,
            FeedbackIn.model_validate({"kind": kind}),
            index=index,
        )
    else:
        kind = "clear"
    back = "/seeker/matches"
    page = form.get("page")
    if page.isdigit() and page != "1":
        back += f"?page={page}"
    return redirect(back, FEEDBACK_DONE[kind])


# --- trainings -----------------------------------------------------------------------------


@router.get("/trainings", response_model=None)
def trainings_page(request: Request, principal: SeekerPage, session: SessionDep) -> Response:
    """Open and planned trainings."""
    rows, _total = catalog.list_trainings(session, PageParams(limit=100, offset=0))
    centres = {c.id: c for c in catalog.list_centres(session)}
    return render(
        request,
        "trainings.html",
        {"trainings": rows, "centres": centres, "can_publish": False},
        principal=principal,
        title_key="trainings_title",
    )


# --- my data -------------------------------------------------------------------------------


@router.get("/data", response_model=None)
def data_page(request: Request, principal: SeekerPage, session: SessionDep) -> Response:
    """Download everything held about you, or delete it."""
    profile = _profile(session, principal)
    if profile is None:
        return _needs_profile(request, principal, "data_title")
    return render(request, "seeker/data.html", principal=principal, title_key="data_title")


@router.get("/data/access-log", response_model=None)
def access_log_page(
    request: Request, principal: SeekerPage, session: SessionDep, settings: SettingsDep
) -> Response:
    """Who read your sensitive data or exported it: role, when and why."""
    profile = _profile(session, principal)
    if profile is None:
        return _needs_profile(request, principal, "access_log_title")
    entries = [
        {
            "when": local_time(e.at, settings.timezone),
            "role": e.actor_role,
            "action": e.action,
            "purpose": e.purpose,
        }
        for e in privacy.access_log(session, principal, profile.id or 0)
    ]
    return render(
        request,
        "seeker/access_log.html",
        {"entries": entries},
        principal=principal,
        title_key="access_log_title",
    )


@router.get("/data/export", response_model=None)
def export_data(principal: SeekerPage, session: SessionDep, settings: SettingsDep) -> Response:
    """Everything held about you, as a JSON file."""
    profile = seeker_service.my_profile(session, principal)
    data = privacy.export(session, settings, principal, profile.id or 0)
    return JSONResponse(
        data.model_dump(mode="json"),
        headers={
            "Content-Disposition": f'attachment; filename="jobmatch-my-data-{profile.id}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/data/delete", response_model=None)
def delete_page(request: Request, principal: SeekerPage, session: SessionDep) -> Response:
    """Confirm before deleting: say what goes and that it cannot be undone."""
    seeker_service.my_profile(session, principal)
    return render(
        request,
        "seeker/delete.html",
        {"form": Form()},
        principal=principal,
        title_key="delete_confirm_title",
    )


@router.post("/data/delete", response_model=None)
def delete_data(
    request: Request,
    principal: SeekerPage,
    session: SessionDep,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    """Erase yourself (typed confirmation), then leave logged out."""
    t = _t(request, principal)
    profile = seeker_service.my_profile(session, principal)
    typed = form.get("confirm").strip()
    if typed.casefold() not in {t("delete_confirm_word").casefold(), "delete", "删除"}:
        form.errors["confirm"] = t("err_confirm_delete")
        return render(
            request,
            "seeker/delete.html",
            {"form": form},
            principal=principal,
            status_code=422,
            title_key="delete_confirm_title",
        )
    privacy.erase(session, principal, profile.id or 0)
    response = redirect("/", "deleted")
    response.delete_cookie(settings.cookie_name, path="/")
    return response
