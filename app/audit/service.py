"""Writing audit records inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, bindparam, text

from app.auth.service import Actor
from app.core.db import UTCDateTime

_COLUMNS = (
    "occurred_at",
    "actor",
    "role",
    "action",
    "entity_type",
    "entity_id",
    "request_id",
    "detail",
)


def insert_sql(prefix: str = "") -> str:
    """The audit INSERT with `:<prefix><column>` placeholders (also used inside CTEs)."""
    names = ", ".join(_COLUMNS)
    values = ", ".join(f":{prefix}{c}" for c in _COLUMNS)
    return f"INSERT INTO audit_event ({names}) VALUES ({values})"  # noqa: S608 - constant


def insert_bindparams(prefix: str = "") -> list[Any]:
    """Typed bind parameters for insert_sql(prefix)."""
    return [
        bindparam(f"{prefix}occurred_at", type_=UTCDateTime()),
        bindparam(f"{prefix}request_id", type_=String()),
        bindparam(f"{prefix}detail", type_=JSON()),
    ]


def insert_params(
    actor: Actor,
    *,
    action: str,
    entity_type: str,
    entity_id: str,
    at: datetime,
    detail: dict[str, Any] | None,
    prefix: str = "",
) -> dict[str, Any]:
    """Parameters for insert_sql(prefix)."""
    values = {
        "occurred_at": at,
        "actor": actor.principal.name,
        "role": actor.principal.role.value,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "request_id": actor.request_id,
        "detail": detail,
    }
    return {f"{prefix}{k}": v for k, v in values.items()}


# A prepared text statement: compiled once, no expression building per call (writes are hot).
_INSERT = text(insert_sql()).bindparams(*insert_bindparams())


async def record(
    conn: Any,
    actor: Actor,
    *,
    action: str,
    entity_type: str,
    entity_id: str,
    at: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit record in the transaction of `conn` (a connection with async execute)."""
    await conn.execute(
        _INSERT,
        insert_params(
            actor, action=action, entity_type=entity_type, entity_id=entity_id, at=at, detail=detail
        ),
    )
