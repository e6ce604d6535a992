"""Referral pages for caseworkers (the centre's queue: review, approve or reject with a reason,
send) and employers (referrals received: exactly the consented fields, and the outcomes).
Rules live in api.services.referrals; these pages only call it."""

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import Allow, IdPath, IndexDep, Principal, SessionDep, SettingsDep
from api.errors import DomainError, InvalidState, NotFound, PermissionDenied
from api.schemas.common import PageParams
from api.schemas.referrals import (
    ApproveIn,
    DeadlineIn,
    HireIn,
    InterviewIn,
    NotHiredIn,
    NotHiredReason,
    ReferralDetail,
    RejectIn,
    RetainedIn,
)
from api.services import catalog
from api.services import referrals as service
from api.services.matches import explain_pair
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
from api.web.forms import apply_domain, apply_validation, optional
from api.web.i18n import Translator
from api.web.pushes import local_time
from models import SeekerProfile
from models.base import ReferralStatus, Role

router = APIRouter(route_class=PageRoute, tags=["pages"], responses=PAGE_RESPONSES)
CaseworkerPage = Annotated[Principal, Depends(Allow(Role.caseworker))]
EmployerPage = Annotated[Principal, Depends(Allow(Role.employer))]
OutcomeStep = Literal["interview", "hire", "not-hired", "retained"]  # as in the page's forms
NOT_HIRED_REASONS: tuple[str, ...] = NotHiredReason.__args__  # type: ignore[attr-defined]
RS = ReferralStatus


def _t(request: Request, principal: Principal) -> Translator:
    return Translator(language_of(request, principal))


def _version(form: Form) -> int | None:
    value = form.get("version").strip()
    return int(value) if value.isdigit() else None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def deadline_words(t: Translator, deadline: datetime | None, zone: str) -> str:
    """The review deadline in words and as a date: "due in 2 days (2026-12-01 17:00)";
    past it, "overdue" in words (never by colour alone)."""
    if deadline is None:
        return t("deadline_none")
    aware = deadline if deadline.tzinfo is not None else deadline.replace(tzinfo=UTC)
    tz = ZoneInfo(zone)
    when = local_time(aware, zone)
    now = datetime.now(UTC)
    if aware < now:
        return t("deadline_overdue", at=when)
    days = (aware.astimezone(tz).date() - now.astimezone(tz).date()).days
    if days <= 0:
        return t("deadline_today", at=when)
    if days == 1:
        return t("deadline_tomorrow", at=when)
    return t("deadline_in_days", n=days, at=when)


def rule_words(t: Translator, code: str, detail: str, descriptions: dict[str, str]) -> str:
    """A failed instant-approval rule in plain words (the rule's own text if not known)."""
    key = "rule_failed_" + code
    if t.has(key):
        return t(key)
    return descriptions.get(code) or f"{code}: {detail}"


def history_rows(t: Translator, detail: Any, zone: str) -> list[dict[str, str]]:
    rows = []
    for e in detail.history:
        role = e.actor_role
        rows.append(
            {
                "when": local_time(e.at, zone),
                "from": t("referral_status_" + e.from_status.value) if e.from_status else "—",
                "to": t("referral_status_" + e.to_status.value),
                "who": t("actor_" + role) if t.has("actor_" + role) else role,
                "reason": e.reason,
            }
        )
    return rows


def _refused(
    form: Form, t: Translator, exc: DomainError, aliases: dict[str, str] | None = None
) -> None:
    """A refused step: changed meanwhile or no longer allowed → say so and show it as it is
    now (with its current version); otherwise the message next to its field."""
    if isinstance(exc, InvalidState):
        form.values.pop("version", None)
        form.summary = t("err_referral_changed")
    else:
        apply_domain(form, t, exc, aliases)


# --- caseworker: the centre's queue ---------------------------------------------------------


@router.get("/centre/referrals", response_model=None)
def queue_page(
    request: Request, principal: CaseworkerPage, session: SessionDep, settings: SettingsDep
) -> Response:
    """Your centre's referrals waiting for review, oldest first, with their deadlines."""
    t = _t(request, principal)
    result = service.queue(session, principal, PageParams(limit=100, offset=0))
    items = [
        {
            "id": i.referral.id,
            "seeker": i.seeker.full_name,
            "title": i.referral.posting.title,
            "employer": i.referral.posting.employer_name,
            "since": local_time(i.waiting_since, settings.timezone),
            "deadline": deadline_words(t, i.referral.deadline_at, settings.timezone),
            "overdue": i.referral.overdue,
            "failed": len(i.failed_rules),
        }
        for i in result.items
    ]
    return render(
        request,
        "staff/referrals.html",
        {"items": items, "total": result.total},
        principal=principal,
        title_key="queue_title",
    )


def _review_page(
    request: Request,
    principal: Principal,
    session: Session,
    settings: Settings,
    index: Any,
    referral_id: int,
    form: Form,
    status: int = 200,
) -> Response:
    t = _t(request, principal)
    detail: ReferralDetail = service.get_referral(session, principal, referral_id)
    profile = session.get(SeekerProfile, detail.seeker_id)
    descriptions = {
        r.code: t.pick(r.description_zh, r.description_en) for r in service.list_rules(session)
    }
    failed = [rule_words(t, v.code, v.detail, descriptions) for v in detail.rules if not v.passed]
    match = None
    if detail.status == RS.pending:
        match = explain_pair(session, index, detail.seeker_id, detail.posting.id, t.lang)
    vocab = {a.code: a for a in catalog.list_accommodations(session, include_retired=True)}
    form.values.setdefault("version", str(detail.version))
    if detail.deadline_at is not None:
        local = _aware(detail.deadline_at).astimezone(ZoneInfo(settings.timezone))
        form.values.setdefault("deadline_date", local.strftime("%Y-%m-%d"))
        form.values.setdefault("deadline_time", local.strftime("%H:%M"))
    title = t("review_title", title=detail.posting.title)
    return render(
        request,
        "staff/referral.html",
        {
            "form": form,
            "detail": detail,
            "seeker": profile.full_name if profile else "",
            "failed": failed,
            "match": match,
            "vocab": vocab,
            "history": history_rows(t, detail, settings.timezone),
            "deadline": deadline_words(t, detail.deadline_at, settings.timezone),
            "can_decide": detail.status == RS.pending,
            "can_send": RS.sent in detail.allowed_next and detail.consent_active,
            "heading": title,
        },
        principal=principal,
        status_code=status,
        title=title,
    )


@router.get("/centre/referrals/{referral_id}", response_model=None)
def review_page(
    request: Request,
    referral_id: IdPath,
    principal: CaseworkerPage,
    session: SessionDep,
    settings: SettingsDep,
    index: IndexDep,
) -> Response:
    """One referral: the match, the rules that stopped instant approval, the history."""
    return _review_page(request, principal, session, settings, index, referral_id, Form())


@router.post("/centre/referrals/{referral_id}/approve", response_model=None)
def approve(
    request: Request,
    referral_id: IdPath,
    principal: CaseworkerPage,
    session: SessionDep,
    settings: SettingsDep,
    index: IndexDep,
    form: FormDep,
) -> Response:
    """Approve the referral (an optional note)."""
    t = _t(request, principal)
    try:
        data = ApproveIn.model_validate(
            {"reason": form.get("approve_reason").strip(), "version": _version(form)}
        )
        service.approve(session, settings, principal, referral_id, data)
    except ValidationError as exc:
        apply_validation(form, t, exc, {"reason": "approve_reason"})
    except DomainError as exc:
        undo_changes(session, exc)
        if isinstance(exc, NotFound | PermissionDenied):
            raise
        _refused(form, t, exc, {"reason": "approve_reason"})
    else:
        return redirect(f"/centre/referrals/{referral_id}", "referral_approved")
    return _review_page(request, principal, session, settings, index, referral_id, form, 422)


@router.post("/centre/referrals/{referral_id}/reject", response_model=None)
def reject(
    request: Request,
    referral_id: IdPath,
    principal: CaseworkerPage,
    session: SessionDep,
    settings: SettingsDep,
    index: IndexDep,
    form: FormDep,
) -> Response:
    """Reject the referral; a reason is required (the seeker is told)."""
    t = _t(request, principal)
    try:
        data = RejectIn.model_validate(
            {
                "reason": form.get("reason").strip(),
                "version": _version(form),
                "reason_code": form.get("reason_code") or None,
            }
        )
        service.reject(session, settings, principal, referral_id, data)
    except ValidationError as exc:
        apply_validation(form, t, exc)
        if "reason" in form.errors:
            form.errors["reason"] = t("err_reject_reason")
    except DomainError as exc:
        undo_changes(session, exc)
        if isinstance(exc, NotFound | PermissionDenied):
            raise
        _refused(form, t, exc)
    else:
        return redirect("/centre/referrals", "referral_rejected")
    return _review_page(request, principal, session, settings, index, referral_id, form, 422)


@router.post("/centre/referrals/{referral_id}/send", response_model=None)
def send(
    request: Request,
    referral_id: IdPath,
    principal: CaseworkerPage,
    session: SessionDep,
    settings: SettingsDep,
    index: IndexDep,
    form: FormDep,
) -> Response:
    """Send an approved referral to the employer."""
    t = _t(request, principal)
    try:
        service.send(session, principal, referral_id)
    except DomainError as exc:
        undo_changes(session, exc)
        if isinstance(exc, NotFound | PermissionDenied):
            raise
        _refused(form, t, exc)
        return _review_page(request, principal, session, settings, index, referral_id, form, 422)
    return redirect(f"/centre/referrals/{referral_id}", "referral_sent")


TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _deadline_from_form(form: Form, t: Translator, settings: Settings) -> datetime | None:
    """The new deadline typed as a local date and time (17:00 if no time), or None with the
    error next to its field."""
    try:
        day = date.fromisoformat(form.get("deadline_date").strip())
    except ValueError:
        form.errors["deadline_date"] = t("err_date")
        return None
    match = TIME_RE.match(form.get("deadline_time").strip() or "17:00")
    if match is None:
        form.errors["deadline_time"] = t("err_time")
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    when = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(settings.timezone))
    if when <= datetime.now(UTC):
        form.errors["deadline_date"] = t("err_deadline_past")
        return None
    return when


@router.post("/centre/referrals/{referral_id}/deadline", response_model=None)
def change_deadline(
    request: Request,
    referral_id: IdPath,
    principal: CaseworkerPage,
    session: SessionDep,
    settings: SettingsDep,
    index: IndexDep,
    form: FormDep,
) -> Response:
    """Change the review deadline of a referral in the queue; a reason is required."""
    t = _t(request, principal)
    aliases = {"reason": "deadline_reason", "deadline_at": "deadline_date"}
    when = _deadline_from_form(form, t, settings)
    reason = form.get("deadline_reason").strip()
    if not reason:
        form.errors["deadline_reason"] = t("err_deadline_reason")
    if when is not None and reason:
        try:
            data = DeadlineIn(deadline_at=when, reason=reason, version=_version(form))
            service.set_deadline(session, principal, referral_id, data)
        except ValidationError as exc:
            apply_validation(form, t, exc, aliases)
        except DomainError as exc:
            undo_changes(session, exc)
            if isinstance(exc, NotFound | PermissionDenied):
                raise
            _refused(form, t, exc, aliases)
        else:
            return redirect(f"/centre/referrals/{referral_id}", "deadline_changed")
    return _review_page(request, principal, session, settings, index, referral_id, form, 422)


# --- employer: referrals received -------------------------------------------------------------


@router.get("/employer/referrals", response_model=None)
def received_page(
    request: Request, principal: EmployerPage, session: SessionDep, settings: SettingsDep
) -> Response:
    """The referrals sent to your vacancies, newest change first."""
    result = service.list_received(session, settings, principal, PageParams(limit=100, offset=0))
    items = [
        {
            "id": r.id,
            "title": r.posting_title,
            "candidate": r.shared.get("name") or r.candidate,
            "status": r.status.value,
            "when": local_time(r.updated_at, settings.timezone),
        }
        for r in result.items
    ]
    response = render(
        request,
        "employer/referrals.html",
        {"items": items},
        principal=principal,
        title_key="received_title",
    )
    return response


def _received_page(
    request: Request,
    principal: Principal,
    session: Session,
    settings: Settings,
    referral_id: int,
    form: Form,
    status: int = 200,
) -> Response:
    t = _t(request, principal)
    view = service.get_received(session, settings, principal, referral_id)
    labels = {name: t.pick(*service.FIELD_LABELS[name]) for name in service.FIELD_LABELS}
    title = t("received_one_title", title=view.posting_title)
    return render(
        request,
        "employer/referral.html",
        {
            "form": form,
            "view": view,
            "fields": [(name, labels.get(name, name)) for name in view.shared_fields],
            "steps": [s.value for s in view.allowed_next],
            "reasons": [("", t("choose_one"))]
            + [(r, t("not_hired_" + r)) for r in NOT_HIRED_REASONS],
            "heading": title,
        },
        principal=principal,
        status_code=status,
        title=title,
    )


@router.get("/employer/referrals/{referral_id}", response_model=None)
def received_one_page(
    request: Request,
    referral_id: IdPath,
    principal: EmployerPage,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """One referral: exactly the fields the seeker agreed to share, and the next steps."""
    response = _received_page(request, principal, session, settings, referral_id, Form())
    return response


def _local_datetime(value: str, settings: Settings) -> datetime | str | None:
    """A date (and optional time) typed in local time, made aware; else as typed."""
    value = value.strip()
    if not value:
        return None
    try:
        naive = datetime.fromisoformat(
            value if ("T" in value or " " in value) else value + "T09:00"
        )
    except ValueError:
        return value
    return naive.replace(tzinfo=ZoneInfo(settings.timezone))


def _outcome(
    request: Request,
    principal: Principal,
    session: Session,
    settings: Settings,
    referral_id: int,
    form: Form,
    step: str,
) -> Response:
    t = _t(request, principal)
    aliases: dict[str, str] = {}
    try:
        if step == "interview":
            aliases = {"at": "interview_at", "note": "interview_note"}
            service.record_interview(
                session,
                settings,
                principal,
                referral_id,
                InterviewIn.model_validate(
                    {
                        "at": _local_datetime(form.get("interview_at"), settings),
                        "note": form.get("interview_note").strip(),
                    }
                ),
            )
        elif step == "hire":
            aliases = {"note": "hire_note"}
            service.record_hire(
                session,
                settings,
                principal,
                referral_id,
                HireIn.model_validate(
                    {
                        "start_date": optional(form.get("start_date")),
                        "note": form.get("hire_note").strip(),
                    }
                ),
            )
        elif step == "not_hired":
            aliases = {"reason": "not_hired_reason", "text": "not_hired_text"}
            service.record_not_hired(
                session,
                settings,
                principal,
                referral_id,
                NotHiredIn.model_validate(
                    {
                        "reason": form.get("not_hired_reason") or None,
                        "text": form.get("not_hired_text"),
                    }
                ),
            )
        else:
            aliases = {"note": "retained_note", "start_date": "retained_note"}
            service.record_retention(
                session,
                settings,
                principal,
                referral_id,
                RetainedIn.model_validate({"note": form.get("retained_note").strip()}),
            )
    except ValidationError as exc:
        apply_validation(form, t, exc, aliases)
        if step == "not_hired" and not form.errors and form.summary:
            form.summary = ""
            form.errors["not_hired_text"] = t("err_not_hired_text")
    except DomainError as exc:
        undo_changes(session, exc)
        if isinstance(exc, NotFound | PermissionDenied):
            raise
        if step == "retained" and "available_from" in exc.extra:
            form.errors["retained_note"] = t(
                "err_retention_early", on=str(exc.extra["available_from"])
            )
        elif step == "hire" and exc.field == "start_date":
            form.errors["start_date"] = t("err_start_date_range")
        else:
            _refused(form, t, exc, aliases)
    else:
        return redirect(f"/employer/referrals/{referral_id}", "outcome_" + step)
    return _received_page(request, principal, session, settings, referral_id, form, 422)


@router.post("/employer/referrals/{referral_id}/{step}", response_model=None)
def record_outcome(
    request: Request,
    referral_id: IdPath,
    step: Annotated[OutcomeStep, Path()],
    principal: EmployerPage,
    session: SessionDep,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    """Record one step of the outcome: an interview (date and time optional), a hire with its
    start date, not hired (a reason from the list, and text), or that the hire is still
    employed 90 days after the start date."""
    return _outcome(
        request, principal, session, settings, referral_id, form, step.replace("-", "_")
    )


__all__ = ["router"]
