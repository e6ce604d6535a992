"""Writing the append-only audit log."""

from typing import Any

from sqlmodel import Session

from models import AuditLog


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
