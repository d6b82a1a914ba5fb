"""Writing audit records inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, bindparam, text

from app.core.db import UTCDateTime

# A prepared text statement: compiled once, no expression building per call (writes are hot).
_INSERT = text(
    "INSERT INTO audit_event "
    "(occurred_at, actor, role, action, entity_type, entity_id, request_id, detail) "
    "VALUES (:occurred_at, :actor, :role, :action, :entity_type, :entity_id, :request_id, :detail)"
).bindparams(
    bindparam("occurred_at", type_=UTCDateTime()),
    bindparam("request_id", type_=String()),
    bindparam("detail", type_=JSON()),
)


async def record(
    conn: Any,
    *,
    actor: str,
    role: str,
    action: str,
    entity_type: str,
    entity_id: str,
    at: datetime,
    request_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit record in the transaction of `conn` (a connection with async execute)."""
    await conn.execute(
        _INSERT,
        {
            "occurred_at": at,
            "actor": actor,
            "role": role,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "request_id": request_id,
            "detail": detail,
        },
    )
