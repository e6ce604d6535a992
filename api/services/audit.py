"""Writing the append-only audit log."""

from typing import Any, Protocol

from sqlmodel import Session

from models import AuditLog


class Actor(Protocol):
    """Who acts: the request's principal (api.deps.Principal) or a job's stand-in."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> Any: ...

    @property
    def request_id(self) -> str: ...


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None = None,
    actor_role: str = "",
    object_type: str = "",
    object_id: str | int = "",
    purpose: str = "",
    request_id: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Add one audit row to the session (committed with the request's unit of work)."""
    row = AuditLog(
        actor_id=actor_id,
        actor_role=actor_role,
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        purpose=purpose[:200],
        request_id=request_id[:64],
        detail=detail or {},
    )
    session.add(row)
    return row


def record_by(
    session: Session,
    actor: Actor,
    action: str,
    *,
    object_type: str,
    object_id: str | int,
    purpose: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Audit an action of the request's principal (who, role and request id filled in)."""
    return record(
        session,
        action,
        actor_id=actor.id,
        actor_role=str(getattr(actor.role, "value", actor.role)),
        object_type=object_type,
        object_id=object_id,
        purpose=purpose,
        request_id=actor.request_id,
        detail=detail,
    )
