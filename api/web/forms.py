"""Turning what the user typed into service inputs, and errors into messages per field."""

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from api.errors import DomainError
from api.web.core import Form
from api.web.i18n import SERVICE_MESSAGES, Translator

# Messages of whole-model validators that belong next to one field.
MESSAGE_FIELDS: dict[str, str] = {
    "wage_min is above wage_max": "wage_min",
    "ends_on is before starts_on": "ends_on",
    "give both lat and lon, or neither": "location_text",
    "give both quiet_start and quiet_end, or neither": "quiet_start",
    "quiet hours must not start and end at the same time": "quiet_end",
}


def lines(value: str) -> list[str]:
    """One item per line (commas and Chinese commas also split)."""
    out: list[str] = []
    for raw in value.replace("，", "\n").replace(",", "\n").replace("、", "\n").splitlines():
        item = raw.strip()
        if item:
            out.append(item)
    return out


def optional(value: str) -> str | None:
    """An empty field as None (so the model reports a number or date that is not one)."""
    value = value.strip()
    return value or None


def message_for(t: Translator, error: Mapping[str, Any]) -> str:
    """A plain message in the page's language for one pydantic error."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    msg = str(error.get("msg", ""))
    if kind == "missing":
        return t("err_required")
    if kind == "string_too_short":
        return (
            t("err_required")
            if ctx.get("min_length") == 1
            else t("err_too_short", n=ctx.get("min_length"))
        )
    if kind in ("string_too_long", "too_long"):
        return t("err_too_long", n=ctx.get("max_length", ""))
    if kind in ("int_parsing", "float_parsing", "int_from_float", "float_type", "int_type"):
        return t("err_number")
    if kind in ("greater_than_equal", "greater_than"):
        return t("err_number_min", n=ctx.get("ge", ctx.get("gt", "")))
    if kind in ("less_than_equal", "less_than"):
        return t("err_number_max", n=ctx.get("le", ctx.get("lt", "")))
    if kind.startswith(("date", "datetime")):
        return t("err_date")
    if kind in ("literal_error", "enum"):
        return t("err_choose")
    if kind == "value_error":
        text = msg.removeprefix("Value error, ")
        if "email" in text and ("valid" in text or "@" in text):
            return t("err_email")
        key = SERVICE_MESSAGES.get(text)
        return t(key) if key else t("err_invalid")
    return t("err_invalid")


def field_name(loc: tuple[Any, ...] | list[Any], aliases: Mapping[str, str]) -> str:
    """The form field for a model location: the first part, or an alias of the dotted path."""
    parts = [str(p) for p in loc]
    dotted = ".".join(parts)
    if dotted in aliases:
        return aliases[dotted]
    return aliases.get(parts[0], parts[0]) if parts else ""


def apply_validation(
    form: Form,
    t: Translator,
    exc: ValidationError,
    aliases: Mapping[str, str] | None = None,
    *,
    tags: tuple[str, ...] = (),
) -> None:
    """Put each pydantic error next to its field (the first error per field wins); `tags` are
    the tags of a discriminated union, dropped from the front of locations."""
    aliases = aliases or {}
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        if loc and loc[0] in tags:
            loc = loc[1:]
        kind = str(error.get("type", ""))
        name = field_name(loc, aliases)
        if kind.startswith("union_tag"):
            name = aliases.get("__tag__", "role")
        if not name:
            text = str(error.get("msg", "")).removeprefix("Value error, ")
            name = MESSAGE_FIELDS.get(text, "")
        message = message_for(t, error)
        if kind.startswith("union_tag"):
            message = t("err_choose")
        elif name and not form.get(name).strip() and kind.startswith("string"):
            message = t("err_required")  # an empty field: say so, not "too short"
        elif name.endswith("email") and kind in ("string_pattern_mismatch", "value_error"):
            message = t("err_email")
        if name:
            form.errors.setdefault(name, message)
        elif not form.summary:
            form.summary = message


def apply_domain(
    form: Form, t: Translator, exc: DomainError, aliases: Mapping[str, str] | None = None
) -> None:
    """Put a service's refusal next to its field, in the page's language where known."""
    aliases = aliases or {}
    key = SERVICE_MESSAGES.get(exc.detail)
    if exc.detail.startswith("unknown centre code"):
        key = "err_unknown_centre"
    if "health_needs consent" in exc.detail:
        key = "err_health_consent"
    if key == "err_too_long":
        message = t(key, n=128)
    else:
        message = t(key) if key else t("err_invalid") + " (" + exc.detail + ")"
    name = field_name(exc.field.split("."), aliases) if exc.field else ""
    if exc.field and exc.field in aliases:
        name = aliases[exc.field]
    if name:
        form.errors.setdefault(name, message)
    else:
        form.summary = message
