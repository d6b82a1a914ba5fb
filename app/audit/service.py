"""Writing audit records inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent


async def record(
    session: AsyncSession,
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
    """Append one audit record in the current transaction."""
    await session.execute(
        insert(AuditEvent).values(
            occurred_at=at,
            actor=actor,
            role=role,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            request_id=request_id,
            detail=detail,
        )
    )
