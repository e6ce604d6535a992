"""Employer pages: organisation profile, quota position, vacancies with workplace offers,
candidates."""

from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from sqlmodel import Session

from api import quota as quota_rules
from api.deps import Allow, IdPath, IndexDep, Principal, SessionDep, SettingsDep
from api.errors import Conflict, DomainError, NotFound
from api.schemas.common import PageParams
from api.schemas.domain import EmployerUpdate, PostingIn, PostingUpdate
from api.schemas.quota import QuotaOut
from api.services import catalog
from api.services import employers as employer_service
from api.services import matches as match_service
from api.services import quota as quota_service
from api.settings import Settings
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
from models import Employer, Posting
from models.base import OfferAvailability, PostingStatus, Role, Schedule, WorkMode

router = APIRouter(
    prefix="/employer", route_class=PageRoute, tags=["pages"], responses=PAGE_RESPONSES
)
EmployerPage = Annotated[Principal, Depends(Allow(Role.employer))]
ORG_FIELDS = ("name", "industry", "address", "contact_email")
POSTING_ALIASES = {"expires_at": "expires_on"}
PAGE_SIZE = 10


def _t(request: Request, principal: Principal) -> Translator:
    return Translator(language_of(request, principal))


def _own_employer(session: Session, principal: Principal) -> Employer:
    if principal.account.employer_id is None:
        raise NotFound("your account has no organisation")
    return employer_service.get_employer(session, principal, principal.account.employer_id)


def _stale(form: Form, t: Translator, exc: DomainError) -> None:
    if isinstance(exc, Conflict) and "current_version" in exc.extra:
        form.values["version"] = str(exc.extra["current_version"])
        form.errors.pop("version", None)
        form.summary = t("err_stale")


# --- organisation --------------------------------------------------------------------------


def _org_page(
    request: Request, principal: Principal, employer: Employer, form: Form, status: int = 200
) -> Response:
    return render(
        request,
        "employer/organisation.html",
        {"form": form, "employer": employer},
        principal=principal,
        status_code=status,
        title_key="organisation_title",
    )


@router.get("/organisation", response_model=None)
def organisation_page(request: Request, principal: EmployerPage, session: SessionDep) -> Response:
    """Your organisation's details and whether a centre has verified it."""
    employer = _own_employer(session, principal)
    values: dict[str, Any] = {name: getattr(employer, name) for name in ORG_FIELDS}
    values.update(staff_count=str(employer.staff_count), version=str(employer.version))
    return _org_page(request, principal, employer, Form(values=values))


@router.post("/organisation", response_model=None)
def save_organisation(
    request: Request, principal: EmployerPage, session: SessionDep, form: FormDep
) -> Response:
    t = _t(request, principal)
    employer = _own_employer(session, principal)
    try:
        data = EmployerUpdate.model_validate(
            {
                **{name: form.get(name).strip() for name in ORG_FIELDS},
                "name": form.get("name").strip(),
                "staff_count": optional(form.get("staff_count")),
                "version": optional(form.get("version")),
            }
        )
        employer_service.update_employer(session, principal, employer.id or 0, data)
    except ValidationError as exc:
        apply_validation(form, t, exc)
    except DomainError as exc:
        undo_changes(session, exc)
        apply_domain(form, t, exc)
        _stale(form, t, exc)
    else:
        return redirect("/employer/organisation", "organisation_saved")
    return _org_page(request, principal, _own_employer(session, principal), form, 422)


# --- quota position --------------------------------------------------------------------------

QUOTA_FIELDS = ("staff_count", "disabled_staff_grade_1_2", "disabled_staff_grade_3_4")


def _quota_facts(t: Translator, q: QuotaOut) -> list[tuple[str, str]]:
    """The figures of the position as label and value, in the page's language."""
    people = t("quota_people")
    rows = [
        (t("quota_staff"), f"{q.staff_count}"),
        (t("quota_disabled_people"), f"{q.disabled_people}"),
        (t("quota_counted"), f"{q.counted}"),
        (t("quota_ratio"), quota_rules.percent(q.rules.ratio)),
        (t("quota_required"), f"{quota_rules.number(q.required)} {people}"),
        (t("quota_shortfall"), f"{quota_rules.number(q.shortfall)} {people}"),
        (t("quota_own_ratio"), quota_rules.percent(q.own_ratio)),
    ]
    if q.status == "short":
        rows += [
            (
                t("quota_fund_before"),
                t("quota_yuan", amount=quota_rules.money(q.fund_before_reduction)),
            ),
            (t("quota_pay_share"), quota_rules.percent(q.pay_share)),
        ]
    rows.append((t("quota_fund"), t("quota_yuan", amount=quota_rules.money(q.fund))))
    return rows


def _quota_page(
    request: Request,
    session: Session,
    settings: Settings,
    principal: Principal,
    employer: Employer,
    form: Form,
    status: int = 200,
) -> Response:
    t = _t(request, principal)
    q = quota_service.employer_quota(session, settings, principal, employer.id or 0)
    if q.status == "exempt":
        summary = t("quota_summary_exempt", n=q.rules.exempt_max_staff)
    elif q.status == "meets":
        summary = t("quota_summary_meets")
    else:
        summary = t(
            "quota_summary_short",
            shortfall=quota_rules.number(q.shortfall),
            amount=quota_rules.money(q.fund),
        )
    return render(
        request,
        "employer/quota.html",
        {
            "form": form,
            "q": q,
            "summary": summary,
            "facts": _quota_facts(t, q),
            "working": q.working[t.lang],
            "rule_text": q.rule_text[t.lang],
        },
        principal=principal,
        status_code=status,
        title_key="quota_title",
    )


@router.get("/quota", response_model=None)
def quota_page(
    request: Request, principal: EmployerPage, session: SessionDep, settings: SettingsDep
) -> Response:
    """Your quota position: staff, disabled staff as counted, the ratio, the shortfall and
    the employment security fund, with the rules used; change your figures here."""
    employer = _own_employer(session, principal)
    values: dict[str, Any] = {name: str(getattr(employer, name)) for name in QUOTA_FIELDS}
    values["version"] = str(employer.version)
    return _quota_page(request, session, settings, principal, employer, Form(values=values))


@router.post("/quota", response_model=None)
def save_quota_figures(
    request: Request,
    principal: EmployerPage,
    session: SessionDep,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    t = _t(request, principal)
    employer = _own_employer(session, principal)
    try:
        data = EmployerUpdate.model_validate(
            {name: optional(form.get(name)) for name in (*QUOTA_FIELDS, "version")}
        )
        employer_service.update_employer(session, principal, employer.id or 0, data)
    except ValidationError as exc:
        apply_validation(form, t, exc)
    except DomainError as exc:
        undo_changes(session, exc)
        apply_domain(form, t, exc)
        _stale(form, t, exc)
    else:
        return redirect("/employer/quota", "quota_saved")
    fresh = _own_employer(session, principal)
    return _quota_page(request, session, settings, principal, fresh, form, 422)


# --- vacancies -----------------------------------------------------------------------------


@router.get("/vacancies", response_model=None)
def vacancies_page(
    request: Request,
    principal: EmployerPage,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Your vacancies in every state, newest first."""
    employer = _own_employer(session, principal)
    rows, total = employer_service.list_postings(
        session,
        principal,
        PageParams(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE),
        employer_id=employer.id,
    )
    return render(
        request,
        "employer/vacancies.html",
        {"postings": rows, "page": page, "pages": max(1, -(-total // PAGE_SIZE))},
        principal=principal,
        title_key="vacancies_title",
    )


def _posting_form(session: Session, posting: Posting, settings: Settings) -> Form:
    public = employer_service.posting_to_public(session, posting)
    zone = ZoneInfo(settings.timezone)
    values: dict[str, Any] = {
        "title": posting.title,
        "description": posting.description,
        "required_skills": "\n".join(posting.required_skills),
        "optional_skills": "\n".join(posting.optional_skills),
        "location_text": posting.location_text,
        "work_mode": posting.work_mode.value,
        "schedule": posting.schedule.value,
        "wage_min": "" if posting.wage_min is None else str(posting.wage_min),
        "wage_max": "" if posting.wage_max is None else str(posting.wage_max),
        "openings": str(posting.openings),
        "expires_on": posting.expires_at.astimezone(zone).date().isoformat()
        if posting.expires_at
        else "",
        "status": posting.status.value,
        "version": str(posting.version),
    }
    values.update({"offer_" + o.code: o.availability.value for o in public.offers})
    return Form(values=values)


def _posting_page(
    request: Request,
    session: Session,
    principal: Principal,
    form: Form,
    posting: Posting | None,
    status: int = 200,
) -> Response:
    t = _t(request, principal)
    groups: dict[str, list[Any]] = {}
    for row in catalog.list_accommodations(session):
        groups.setdefault(row.group, []).append(row)
    editable = posting is None or posting.status in (PostingStatus.draft, PostingStatus.open)
    return render(
        request,
        "employer/vacancy_form.html",
        {
            "form": form,
            "posting": posting,
            "editable": editable,
            "groups": groups,
            "levels": ["", OfferAvailability.available.value, OfferAvailability.arrangeable.value],
            "modes": [(m.value, t("mode_" + m.value)) for m in WorkMode],
            "schedules": [(s.value, t("schedule_" + s.value)) for s in Schedule if s != "any"],
            "statuses": [("open", t("status_open")), ("draft", t("status_draft"))],
        },
        principal=principal,
        status_code=status,
        title=t("vacancy_edit_title", title=posting.title) if posting else t("vacancy_new_title"),
    )


def _expires_at(value: str, settings: Settings) -> datetime | str | None:
    """The end of the closing day in local time; the text itself if it is not a date
    (so validation names the field)."""
    value = value.strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    return datetime.combine(day, time(23, 59), tzinfo=ZoneInfo(settings.timezone))


def _posting_data(form: Form, settings: Settings) -> tuple[dict[str, Any], dict[str, str]]:
    offers = [
        (name.removeprefix("offer_"), form.get(name))
        for name in form.values
        if name.startswith("offer_") and form.get(name)
    ]
    aliases = dict(POSTING_ALIASES)
    for i, (code, _) in enumerate(offers):
        aliases[f"offers.{i}.code"] = aliases[f"offers.{i}.availability"] = "offer_" + code
    data: dict[str, Any] = {
        "title": form.get("title").strip(),
        "description": form.get("description").strip(),
        "required_skills": lines(form.get("required_skills")),
        "optional_skills": lines(form.get("optional_skills")),
        "location_text": form.get("location_text").strip(),
        "work_mode": form.get("work_mode") or None,
        "schedule": form.get("schedule") or None,
        "wage_min": optional(form.get("wage_min")),
        "wage_max": optional(form.get("wage_max")),
        "openings": optional(form.get("openings")) or 1,
        "expires_at": _expires_at(form.get("expires_on"), settings),
        "status": form.get("status") or "open",
        "offers": [{"code": code, "availability": level} for code, level in offers],
    }
    return data, aliases


@router.get("/vacancies/new", response_model=None)
def new_vacancy_page(request: Request, principal: EmployerPage, session: SessionDep) -> Response:
    """Post a vacancy with the workplace's accessibility and accommodations."""
    _own_employer(session, principal)
    form = Form(values={"work_mode": "on_site", "schedule": "full_time", "openings": "1"})
    form.values["status"] = "open"
    return _posting_page(request, session, principal, form, None)


@router.post("/vacancies/new", response_model=None)
def create_vacancy(
    request: Request,
    principal: EmployerPage,
    session: SessionDep,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    t = _t(request, principal)
    data, aliases = _posting_data(form, settings)
    try:
        posting = employer_service.create_posting(
            session, principal, PostingIn.model_validate(data)
        )
    except ValidationError as exc:
        apply_validation(form, t, exc, aliases)
    except DomainError as exc:
        undo_changes(session, exc)
        apply_domain(form, t, exc, aliases)
    else:
        return redirect(f"/employer/vacancies/{posting.id}/edit", "vacancy_saved")
    return _posting_page(request, session, principal, form, None, 422)


def _own_posting(session: Session, principal: Principal, posting_id: int) -> Posting:
    posting = employer_service.get_posting(session, principal, posting_id)
    if posting.employer_id != principal.account.employer_id:
        raise NotFound(f"posting {posting_id} not found")  # open postings of others: not here
    return posting


@router.get("/vacancies/{posting_id}/edit", response_model=None)
def edit_vacancy_page(
    request: Request,
    posting_id: IdPath,
    principal: EmployerPage,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Change a vacancy and what its workplace offers."""
    posting = _own_posting(session, principal, posting_id)
    form = _posting_form(session, posting, settings)
    return _posting_page(request, session, principal, form, posting)


@router.post("/vacancies/{posting_id}/edit", response_model=None)
def update_vacancy(
    request: Request,
    posting_id: IdPath,
    principal: EmployerPage,
    session: SessionDep,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    t = _t(request, principal)
    _own_posting(session, principal, posting_id)
    data, aliases = _posting_data(form, settings)
    data["version"] = optional(form.get("version"))
    try:
        update = PostingUpdate.model_validate(data)
        employer_service.update_posting(session, principal, posting_id, update)
    except ValidationError as exc:
        apply_validation(form, t, exc, aliases)
    except DomainError as exc:
        undo_changes(session, exc)
        apply_domain(form, t, exc, aliases)
        _stale(form, t, exc)
    else:
        return redirect(f"/employer/vacancies/{posting_id}/edit", "vacancy_saved")
    fresh = _own_posting(session, principal, posting_id)
    return _posting_page(request, session, principal, form, fresh, 422)


@router.get("/vacancies/{posting_id}/candidates", response_model=None)
def candidates_page(
    request: Request,
    posting_id: IdPath,
    principal: EmployerPage,
    session: SessionDep,
    settings: SettingsDep,
    index: IndexDep,
    page: Annotated[int, Query(ge=1, le=20)] = 1,
) -> Response:
    """Pseudonymous candidates for your vacancy, each with the reasons."""
    posting = _own_posting(session, principal, posting_id)
    result = match_service.list_candidates(
        session,
        index,
        settings.secret_key.get_secret_value(),
        principal,
        posting_id,
        PageParams(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE),
    )
    t = _t(request, principal)
    return render(
        request,
        "employer/candidates.html",
        {
            "posting": posting,
            "result": result,
            "page": page,
            "pages": max(1, -(-result.total // PAGE_SIZE)),
            "vocab": {
                a.code: a for a in catalog.list_accommodations(session, include_retired=True)
            },
        },
        principal=principal,
        title=t("candidates_title", title=posting.title),
    )
