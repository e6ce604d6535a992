"""Domain errors (no HTTP in them) and the one table that maps them to responses."""

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of the errors services raise; `code` is the machine-readable name."""

    code = "error"
    # When True the request's transaction is committed before the error is answered:
    # for records that must survive the failure (a failed login, a refused access).
    keep_changes = False

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class NotFound(DomainError):
    code = "not_found"


class HiddenNotFound(NotFound):
    """Another person's object: answered as not found, and the attempt is audited."""

    keep_changes = True


class Conflict(DomainError):
    code = "conflict"


class PermissionDenied(DomainError):
    code = "forbidden"


class NotAuthenticated(DomainError):
    code = "not_authenticated"


class LoginFailed(NotAuthenticated):
    keep_changes = True


class InvalidState(DomainError):
    code = "invalid_state"


class InvalidInput(DomainError):
    code = "invalid_input"


class TooManyRequests(DomainError):
    code = "too_many_requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    code = "service_unavailable"
    retry_after = 5


class InsufficientStorage(ServiceUnavailable):
    """The database's disk is full: changes fail until space is freed; reading goes on."""

    code = "insufficient_storage"
    retry_after = 60


class FieldError(BaseModel):
    field: str
    reason: str
    type: str = ""


class ErrorBody(BaseModel):
    """The one shape of every error response."""

    model_config = ConfigDict(extra="allow")

    error: str
    detail: str
    field: str | None = None
    errors: list[FieldError] | None = None
    reason: str | None = None  # why the database cannot serve (503, 507): disk_full, read_only…


def document_errors(app: FastAPI) -> None:
    """Make the OpenAPI document say what error bodies really look like."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (FieldError, ErrorBody):
            components[model.__name__] = model.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
        ref = {"$ref": "#/components/schemas/ErrorBody"}
        components["HTTPValidationError"] = ref
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if status[0] in "45":
                        response["content"] = {"application/json": {"schema": ref}}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Conflict: 409,
    PermissionDenied: 403,
    NotAuthenticated: 401,
    InvalidState: 409,
    InvalidInput: 422,
    TooManyRequests: 429,
    InsufficientStorage: 507,
    ServiceUnavailable: 503,
}


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The one error body shape: {"error", "detail", and maybe "field", "errors", ...}."""
    body: dict[str, Any] = {"error": code, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def _domain_response(exc: DomainError) -> JSONResponse:
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    headers: dict[str, str] = {}
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, ServiceUnavailable):
        headers["Retry-After"] = str(exc.retry_after)
    body = error_body(exc.code, exc.detail, field=exc.field, **jsonable_encoder(exc.extra))
    return JSONResponse(body, status_code=status, headers=headers)


# Errors of the database's availability, by machine-readable reason: (detail, disk is full).
_REASONS = {
    "disk_full": (
        "the database's disk is full; nothing was changed, reading still works; "
        "try again once space is freed",
        True,
    ),
    "read_only": ("the database is read-only; nothing was changed, reading still works", False),
    "disk_error": ("the database's disk failed to read or write; nothing was changed", False),
    "cannot_open": (
        "the database file cannot be opened (missing, unreadable or on a read-only disk)",
        False,
    ),
    "busy": ("the database is busy; try again", False),
    "unavailable": ("the database is unavailable; try again", False),
    "connection_lost": ("the database connection was lost; try again", False),
}

# PostgreSQL's SQLSTATE codes of such errors.
_SQLSTATES = {
    "53100": "disk_full",
    "25006": "read_only",
    "55P03": "busy",
    "57014": "busy",  # statement timeout
    "53300": "unavailable",  # too many connections
    "57P01": "unavailable",  # the server is shutting down
    "57P02": "unavailable",
    "57P03": "unavailable",  # the server is starting up
}

# Fragments of driver messages (SQLite's have no codes in Python 3.11), first match wins.
_HINTS = (
    ("database or disk is full", "disk_full"),
    ("no space left", "disk_full"),
    ("readonly", "read_only"),
    ("read-only", "read_only"),
    ("disk i/o error", "disk_error"),
    ("unable to open database", "cannot_open"),
    ("locked", "busy"),
    ("busy", "busy"),
    ("connect", "unavailable"),
    ("server closed", "unavailable"),
    ("terminat", "unavailable"),
)


def _unavailable_reason(exc: DBAPIError) -> str | None:
    """The reason (a `_REASONS` key) of an error of the database's availability, else None."""
    state = getattr(exc.orig, "sqlstate", None)
    if state in _SQLSTATES:
        return _SQLSTATES[state]
    if isinstance(state, str) and state.startswith("08"):  # connection exceptions
        return "unavailable"
    message = str(exc.orig).lower()
    for hint, reason in _HINTS:
        if hint in message:
            return reason
    if exc.connection_invalidated:
        return "connection_lost"
    return None


def unavailable_error(exc: DBAPIError) -> ServiceUnavailable | None:
    """The domain error for an error of the database's availability; None for other errors
    (those are bugs)."""
    reason = _unavailable_reason(exc)
    if reason is None:
        return None
    detail, storage = _REASONS[reason]
    cls = InsufficientStorage if storage else ServiceUnavailable
    return cls(detail, reason=reason)


def database_error_response(exc: DBAPIError) -> JSONResponse:
    """503 or 507 with the reason for errors of the database's availability, else 500."""
    error = unavailable_error(exc)
    if error is None:
        log.error("database error: %s", type(exc.orig).__name__)
        return JSONResponse(
            error_body("database_error", "the request could not be stored"), status_code=500
        )
    log.warning("database unavailable: %s", error.extra["reason"])
    return _domain_response(error)


def _loc_to_field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    if loc and loc[0] == "body" and all(isinstance(p, int) for p in loc[1:]):
        return "body"  # the body as a whole (not JSON, or not an object)
    return ".".join(parts) or str(loc[0] if loc else "")


def _error_field(error: Any) -> str:
    """The field an error is about; for a choice between shapes, the field that chooses."""
    field = _loc_to_field(error.get("loc", ()))
    if error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        tag = str((error.get("ctx") or {}).get("discriminator", "")).strip("'\"")
        if tag:
            return f"{field}.{tag}" if field != "body" else tag
    return field


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the OpenAPI document lists for the path (for a 405's Allow header)."""
    table: list[tuple[re.Pattern[str], list[str]]] | None = getattr(
        app.state, "allowed_methods_table", None
    )
    if table is None:
        table = []
        for template, operations in app.openapi().get("paths", {}).items():
            pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template))
            methods = sorted(m.upper() for m in operations)
            if "GET" in methods:
                methods.append("HEAD")
            table.append((re.compile(f"^{pattern}$"), methods))
        app.state.allowed_methods_table = table
    return next((methods for regex, methods in table if regex.match(path)), [])


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn errors into the one body shape."""

    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        return _domain_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": _error_field(e),
                "reason": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "", "reason": "invalid request"}
        body = error_body(
            "validation_error",
            f"{first['field']}: {first['reason']}" if first["field"] else first["reason"],
            field=first["field"],
            errors=errors,
        )
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            # The framework's answer to a body that is not UTF-8: a validation error like
            # any other malformed body.
            return JSONResponse(
                error_body(
                    "validation_error",
                    "body: the body is not valid UTF-8 JSON",
                    field="body",
                    errors=[
                        {"field": "body", "type": "json_invalid", "reason": "not valid UTF-8 JSON"}
                    ],
                ),
                status_code=422,
            )
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(StaleDataError)
    async def _stale(_request: Request, _exc: StaleDataError) -> JSONResponse:
        return _domain_response(
            Conflict("the record was changed by someone else; reload and try again")
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity error: %s", type(exc.orig).__name__)
        return _domain_response(Conflict("this conflicts with an existing record"))

    @app.exception_handler(DBAPIError)
    async def _dbapi(_request: Request, exc: DBAPIError) -> JSONResponse:
        return database_error_response(exc)
