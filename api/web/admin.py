"""Admin pages: the instant-approval (秒批) rules (list, switch on and off, change, add, with a
dry run over past referrals), employer accounts made by staff, and the federation's counts.

The rules live in api.services.referrals and api.services.referral_rules; these pages only
call them. The vocabulary, centres and staff accounts are in api.web.staff.
"""

import typing
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from api.deps import Allow, Principal, SessionDep, SettingsDep
from api.errors import Conflict, DomainError, InvalidState, NotFound
from api.schemas.domain import EmployerRegisterIn
from api.schemas.referrals import DryRunIn, DryRunOut, RuleCreate, RuleOut, RuleSpecIn, RuleUpdate
from api.services import audit, catalog, statistics
from api.services import referrals as service
from api.services.employers import verify_employer
from api.services.referral_rules import CHECK_DESCRIPTIONS, CHECKS, PROFILE_FIELDS
from api.services.registration import register
from api.settings import Settings
from api.web.common import REGISTER_ALIASES
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
from models import Centre, Posting, Referral, SeekerProfile
from models.base import Role

router = APIRouter(route_class=PageRoute, tags=["pages"], responses=PAGE_RESPONSES)
AdminPage = Annotated[Principal, Depends(Allow(Role.admin))]
RuleCodePath = Annotated[str, Path(min_length=1, max_length=48, pattern=r"^[a-z0-9_]+$")]
DRY_RUN_ROWS = 200  # rows of a dry run shown on a page (the counts cover all)
DEFAULT_DAYS = 90


def _t(request: Request, principal: Principal) -> Translator:
    return Translator(language_of(request, principal))


def rule_text(t: Translator, code: str, zh: str = "", en: str = "") -> str:
    """What a rule checks, in the page's language: its own description, else the default."""
    own = t.pick(zh, en)
    if own:
        return own
    default = CHECK_DESCRIPTIONS.get(code)
    return t.pick(*default) if default else code


# --- parameters as form fields -------------------------------------------------------------


def _param_kind(annotation: Any) -> str:
    """How a parameter is asked for: yes/no, a number, a set of choices, or text."""
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if typing.get_origin(annotation) is list:
        return "list"
    return "text"


def _param_aliases(code: str) -> dict[str, str]:
    """Where a service's error about a parameter goes: next to that parameter's field."""
    return {f"params.{name}": "p_" + name for name in CHECKS[code][0].model_fields}


def param_fields(t: Translator, code: str, form: Form) -> list[dict[str, Any]]:
    """One form field per parameter of the check: yes/no, a number, or a set of choices."""
    model: type[BaseModel] = CHECKS[code][0]
    fields = []
    for name, info in model.model_fields.items():
        key = f"param_{code}_{name}"
        kind = _param_kind(info.annotation)
        options: list[tuple[str, str]] = []
        if kind == "bool":
            options = [("yes", t("yes")), ("no", t("no"))]
        elif kind == "list":
            options = [(f, t(f) if t.has(f) else f) for f in PROFILE_FIELDS]
        fields.append(
            {
                "name": "p_" + name,
                "kind": kind,
                "label": t(key) if t.has(key) else name,
                "hint": t(key + "_hint") if t.has(key + "_hint") else "",
                "options": options,
            }
        )
    return fields


def params_to_form(params: dict[str, Any]) -> dict[str, Any]:
    """A rule's stored parameters as form values."""
    values: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, bool):
            values["p_" + name] = "yes" if value else "no"
        elif isinstance(value, list):
            values["p_" + name] = [str(v) for v in value]
        else:
            values["p_" + name] = str(value)
    return values


def params_from_form(code: str, form: Form) -> dict[str, Any]:
    """The parameters typed into the form (checked by the check's own model later)."""
    model: type[BaseModel] = CHECKS[code][0]
    params: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        kind = _param_kind(info.annotation)
        field_name = "p_" + name
        if kind == "bool":
            params[name] = form.get(field_name) == "yes"
        elif kind == "list":
            params[name] = [v for v in form.getlist(field_name) if v]
        else:
            raw = form.get(field_name).strip()
            params[name] = raw if raw else None
    return params


def _checked_params(code: str, form: Form, t: Translator) -> dict[str, Any] | None:
    """The parameters, or None with the errors put next to their fields."""
    model: type[BaseModel] = CHECKS[code][0]
    try:
        return model.model_validate(params_from_form(code, form)).model_dump()
    except ValidationError as exc:
        aliases = {name: "p_" + name for name in model.model_fields}
        apply_validation(form, t, exc, aliases)
        return None


def _days(form: Form, t: Translator) -> int | None:
    raw = form.get("days").strip() or str(DEFAULT_DAYS)
    if not raw.isdigit() or not 1 <= int(raw) <= 366:
        form.errors["days"] = t("err_days")
        return None
    return int(raw)


# --- the rules list -----------------------------------------------------------------------


def _rules_page(
    request: Request, session: Session, principal: Principal, form: Form, status: int = 200
) -> Response:
    t = _t(request, principal)
    rules = service.list_rules(session)
    in_force = {r.code for r in rules}
    rows = [
        {
            "rule": r,
            "text": rule_text(t, r.code, r.description_zh, r.description_en),
            "params": params_in_words(t, r.code, r.params),
        }
        for r in rules
    ]
    return render(
        request,
        "admin/rules.html",
        {"form": form, "rows": rows, "can_add": any(c not in in_force for c in CHECKS)},
        principal=principal,
        status_code=status,
        title_key="rules_title",
    )


def params_in_words(t: Translator, code: str, params: dict[str, Any]) -> list[str]:
    """Each parameter as "label: value" in the page's language."""
    out = []
    sep = "、" if t.lang == "zh" else ", "
    for name, value in params.items():
        key = f"param_{code}_{name}"
        label = t(key) if t.has(key) else name
        if isinstance(value, bool):
            shown = t("yes") if value else t("no")
        elif isinstance(value, list):
            shown = sep.join(t(v) if t.has(v) else str(v) for v in value) or t("none_chosen")
        else:
            shown = str(value)
        out.append(f"{label}：{shown}" if t.lang == "zh" else f"{label}: {shown}")
    return out


@router.get("/manage/rules", response_model=None)
def rules_page(request: Request, principal: AdminPage, session: SessionDep) -> Response:
    """The instant-approval rules in force: what each checks, on or off, its settings."""
    return _rules_page(request, session, principal, Form())


@router.post("/manage/rules/{code}/switch", response_model=None)
def switch_rule(
    request: Request,
    code: RuleCodePath,
    principal: AdminPage,
    session: SessionDep,
    form: FormDep,
) -> Response:
    """Switch a rule on or off (applies to the next referral submitted)."""
    t = _t(request, principal)
    enabled = form.get("enabled") == "yes"
    version = form.get("version").strip()
    try:
        service.update_rule(
            session,
            principal,
            code,
            RuleUpdate(enabled=enabled, version=int(version) if version.isdigit() else None),
        )
    except DomainError as exc:
        undo_changes(session, exc)
        if isinstance(exc, NotFound):
            raise
        form.summary = t("err_rule_changed") if isinstance(exc, Conflict) else t("err_invalid")
        return _rules_page(request, session, principal, form, 409)
    return redirect("/manage/rules", "rule_switched_on" if enabled else "rule_switched_off")


# --- one rule: change it or add it, and try it first (dry run) ---------------------------------


def _failed_words(t: Translator, code: str, descriptions: dict[str, str]) -> str:
    """A rule a referral does not meet, in plain words ("the employer is not verified")."""
    key = "rule_failed_" + code
    return t(key) if t.has(key) else descriptions.get(code) or rule_text(t, code)


def _dry_run_view(
    t: Translator, session: Session, settings: Settings, result: DryRunOut
) -> dict[str, Any]:
    """The dry run as the page shows it: counts, then referrals (those decided differently
    first), each with its posting, centre, current state and the rules it would fail."""
    descriptions = {
        r.code: rule_text(t, r.code, r.description_zh, r.description_en)
        for r in service.list_rules(session)
    }
    items = sorted(result.items, key=lambda i: (not i.changed, i.submitted_at), reverse=False)
    shown = items[:DRY_RUN_ROWS]
    ids = [i.referral_id for i in shown]
    info: dict[int, tuple[str, str, str]] = {}
    if ids:
        centres: dict[int | None, Centre] = {c.id: c for c in catalog.list_centres(session)}
        query = (
            select(Referral, Posting, SeekerProfile)
            .join(Posting, col(Posting.id) == Referral.posting_id)
            .join(SeekerProfile, col(SeekerProfile.id) == Referral.seeker_id)
            .where(col(Referral.id).in_(ids))
        )
        for referral, posting, profile in session.exec(query):
            home = centres.get(profile.centre_id)
            name = t.pick(home.name_zh, home.name_en) if home else ""
            info[referral.id or 0] = (referral.status.value, posting.title, name)
    rows = []
    for item in shown:
        status, title, centre = info.get(item.referral_id, ("", "", ""))
        rows.append(
            {
                "id": item.referral_id,
                "submitted": local_time(item.submitted_at, settings.timezone),
                "title": title,
                "centre": centre,
                "status": status,
                "waiting": status == "pending",
                "decision": item.decision,
                "actual": item.actual,
                "changed": item.changed,
                "failed": [_failed_words(t, c, descriptions) for c in item.failed],
            }
        )
    return {
        "days": result.days,
        "total": result.total,
        "instant": result.instant,
        "queue": result.queue,
        "changed": result.changed,
        "waiting_now_instant": sum(1 for r in rows if r["waiting"] and r["decision"] == "instant"),
        "rows": rows,
        "more": max(0, len(items) - len(shown)),
    }


def _rule_form_page(
    request: Request,
    session: Session,
    settings: Settings,
    principal: Principal,
    code: str,
    form: Form,
    *,
    rule: RuleOut | None,
    dry_run: DryRunOut | None = None,
    status: int = 200,
) -> Response:
    t = _t(request, principal)
    title = (
        t("rule_edit_title", rule=rule_text(t, code, rule.description_zh, rule.description_en))
        if rule is not None
        else t("rule_new_title", rule=rule_text(t, code))
    )
    return render(
        request,
        "admin/rule_form.html",
        {
            "form": form,
            "code": code,
            "rule": rule,
            "params": param_fields(t, code, form),
            "action": f"/manage/rules/{code}/edit" if rule is not None else "/manage/rules/new",
            "dry": _dry_run_view(t, session, settings, dry_run) if dry_run else None,
            "heading": title,
        },
        principal=principal,
        status_code=status,
        title=title,
    )


def _find_rule(session: Session, code: str) -> RuleOut:
    for rule in service.list_rules(session):
        if rule.code == code:
            return rule
    raise NotFound(f"rule {code} not found")


def _rule_values(rule: RuleOut) -> dict[str, Any]:
    return {
        "enabled": "yes" if rule.enabled else "no",
        "description_zh": rule.description_zh,
        "description_en": rule.description_en,
        "version": str(rule.version),
        "days": str(DEFAULT_DAYS),
        **params_to_form(rule.params),
    }


@router.get("/manage/rules/{code}/edit", response_model=None)
def edit_rule_page(
    request: Request,
    code: RuleCodePath,
    principal: AdminPage,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Change a rule's settings; try them on past referrals before saving."""
    rule = _find_rule(session, code)
    form = Form(values=_rule_values(rule))
    return _rule_form_page(request, session, settings, principal, code, form, rule=rule)


def _try_rules(
    session: Session, code: str, enabled: bool, params: dict[str, Any], days: int
) -> DryRunOut:
    spec = RuleSpecIn(code=code, enabled=enabled, params=params)
    return service.dry_run(session, DryRunIn(rules=[spec], days=days))


def _read_rule_form(
    request: Request,
    session: Session,
    settings: Settings,
    principal: Principal,
    code: str,
    form: Form,
    rule: RuleOut | None,
) -> Response | tuple[bool, dict[str, Any]]:
    """The rule's switch and parameters from the form; or the form again, with its errors
    (422) or with the dry run's result when the admin asked to try it first."""
    t = _t(request, principal)
    enabled = form.get("enabled") == "yes"
    params = _checked_params(code, form, t)
    days = _days(form, t)
    if params is None or days is None:
        return _rule_form_page(
            request, session, settings, principal, code, form, rule=rule, status=422
        )
    if form.get("action") == "dry_run":
        result = _try_rules(session, code, enabled, params, days)
        return _rule_form_page(
            request, session, settings, principal, code, form, rule=rule, dry_run=result
        )
    return enabled, params


@router.post("/manage/rules/{code}/edit", response_model=None)
def update_rule(
    request: Request,
    code: RuleCodePath,
    principal: AdminPage,
    session: SessionDep,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    """Save the rule (action=save), or show what it would decide first (action=dry_run)."""
    t = _t(request, principal)
    rule = _find_rule(session, code)
    read = _read_rule_form(request, session, settings, principal, code, form, rule)
    if isinstance(read, Response):
        return read
    enabled, params = read
    version = form.get("version").strip()
    try:
        data = RuleUpdate.model_validate(
            {
                "enabled": enabled,
                "params": params,
                "description_zh": form.get("description_zh").strip(),
                "description_en": form.get("description_en").strip(),
                "version": int(version) if version.isdigit() else None,
            }
        )
        service.update_rule(session, principal, code, data)
    except ValidationError as exc:
        apply_validation(form, t, exc)
    except DomainError as exc:
        undo_changes(session, exc)
        if isinstance(exc, Conflict | InvalidState):
            rule = _find_rule(session, code)
            form.values["version"] = str(rule.version)
            form.summary = t("err_rule_changed")
        else:
            apply_domain(form, t, exc, _param_aliases(code))
    else:
        return redirect("/manage/rules", "rule_saved")
    return _rule_form_page(request, session, settings, principal, code, form, rule=rule, status=422)


def _new_rule_choice(request: Request, session: Session, principal: Principal) -> Response:
    t = _t(request, principal)
    in_force = {r.code for r in service.list_rules(session)}
    available = [(c, rule_text(t, c)) for c in CHECKS if c not in in_force]
    return render(
        request,
        "admin/rule_choose.html",
        {"available": available},
        principal=principal,
        title_key="rule_add_title",
    )


@router.get("/manage/rules/new", response_model=None)
def new_rule_page(
    request: Request,
    principal: AdminPage,
    session: SessionDep,
    settings: SettingsDep,
    code: Annotated[str, Query(max_length=48)] = "",
) -> Response:
    """Add a rule: first choose one of the checks not in force yet, then set it up."""
    in_force = {r.code for r in service.list_rules(session)}
    if code not in CHECKS or code in in_force:
        return _new_rule_choice(request, session, principal)
    zh, en = CHECK_DESCRIPTIONS.get(code, ("", ""))
    defaults = CHECKS[code][0]().model_dump()
    form = Form(
        values={
            "code": code,
            "enabled": "yes",
            "description_zh": zh,
            "description_en": en,
            "days": str(DEFAULT_DAYS),
            **params_to_form(defaults),
        }
    )
    return _rule_form_page(request, session, settings, principal, code, form, rule=None)


@router.post("/manage/rules/new", response_model=None)
def create_rule(
    request: Request,
    principal: AdminPage,
    session: SessionDep,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    """Put the rule into force (action=save), or show what it would decide (action=dry_run)."""
    t = _t(request, principal)
    code = form.get("code").strip()
    in_force = {r.code for r in service.list_rules(session)}
    if code not in CHECKS or code in in_force:
        return _new_rule_choice(request, session, principal)
    read = _read_rule_form(request, session, settings, principal, code, form, None)
    if isinstance(read, Response):
        return read
    enabled, params = read
    try:
        data = RuleCreate.model_validate(
            {
                "code": code,
                "enabled": enabled,
                "params": params,
                "description_zh": form.get("description_zh").strip(),
                "description_en": form.get("description_en").strip(),
            }
        )
        service.create_rule(session, principal, data)
    except ValidationError as exc:
        apply_validation(form, t, exc)
    except DomainError as exc:
        undo_changes(session, exc)
        apply_domain(form, t, exc, _param_aliases(code))
    else:
        return redirect("/manage/rules", "rule_created")
    return _rule_form_page(request, session, settings, principal, code, form, rule=None, status=422)


@router.get("/manage/rules/dry-run", response_model=None)
def dry_run_page(
    request: Request,
    principal: AdminPage,
    session: SessionDep,
    settings: SettingsDep,
    days: Annotated[int, Query(ge=1, le=366)] = DEFAULT_DAYS,
) -> Response:
    """The rules in force replayed on the referrals submitted in the last `days` days."""
    t = _t(request, principal)
    result = service.dry_run(session, DryRunIn(days=days))
    return render(
        request,
        "admin/dry_run.html",
        {"dry": _dry_run_view(t, session, settings, result), "form": Form({"days": str(days)})},
        principal=principal,
        title_key="dry_run_title",
    )


# --- the federation's counts ----------------------------------------------------------------


@router.get("/manage/statistics", response_model=None)
def statistics_page(request: Request, principal: AdminPage, session: SessionDep) -> Response:
    """Seekers, postings, referrals by state and hires per centre; small counts hidden."""
    return render(
        request,
        "admin/statistics.html",
        {"counts": statistics.district_counts(session), "states": statistics.STATES},
        principal=principal,
        title_key="stats_title",
    )


# --- employer accounts made by staff ----------------------------------------------------------


def _employer_account_page(
    request: Request, session: Session, principal: Principal, form: Form, status: int = 200
) -> Response:
    t = _t(request, principal)
    centres = [("", t("choose_one"))] + [
        (c.code, t.pick(c.name_zh, c.name_en)) for c in catalog.list_centres(session)
    ]
    return render(
        request,
        "admin/employer_account.html",
        {"form": form, "centres": centres},
        principal=principal,
        status_code=status,
        title_key="employer_account_title",
    )


@router.get("/manage/accounts/employer", response_model=None)
def new_employer_account_page(
    request: Request, principal: AdminPage, session: SessionDep
) -> Response:
    """Create an employer's account and organisation (for employers who cannot register)."""
    return _employer_account_page(request, session, principal, Form(values={"language": "zh"}))


@router.post("/manage/accounts/employer", response_model=None)
def create_employer_account(
    request: Request, principal: AdminPage, session: SessionDep, form: FormDep
) -> Response:
    t = _t(request, principal)
    try:
        data = EmployerRegisterIn.model_validate(
            {
                "role": "employer",
                "email": form.get("email").strip(),
                "password": form.get("password"),
                "display_name": form.get("display_name").strip(),
                "language": form.get("language") or "zh",
                "centre_code": optional(form.get("centre_code")),
                "employer": {
                    "name": form.get("employer_name").strip(),
                    "uscc": form.get("employer_uscc").strip(),
                    "staff_count": optional(form.get("employer_staff_count")) or 0,
                    "industry": form.get("employer_industry").strip(),
                    "address": form.get("employer_address").strip(),
                    "contact_email": form.get("employer_contact_email").strip(),
                },
            }
        )
        account = register(session, data)
        audit.record_by(
            session, principal, "account_created", object_type="account", object_id=account.id or 0
        )
        if form.get("verified") == "yes" and account.employer_id is not None:
            verify_employer(session, principal, account.employer_id)
    except ValidationError as exc:
        apply_validation(form, t, exc, REGISTER_ALIASES)
    except DomainError as exc:
        undo_changes(session, exc)
        apply_domain(form, t, exc, REGISTER_ALIASES)
    else:
        return redirect("/manage/accounts", "account_saved")
    return _employer_account_page(request, session, principal, form, 422)


__all__ = ["router"]
