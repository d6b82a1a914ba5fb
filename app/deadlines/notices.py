"""Recording that a breach was announced, so it is announced once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text

from app.core.db import UTCDateTime

_NOTICE = text(
    "INSERT INTO deadline_notice (event_type, entity_id, deadline, due_at, noticed_at) "
    "VALUES (:event_type, :entity_id, :deadline, :due_at, :now) "
    "ON CONFLICT (event_type, entity_id, deadline, due_at) DO NOTHING RETURNING id"
).bindparams(bindparam("due_at", type_=UTCDateTime()), bindparam("now", type_=UTCDateTime()))


async def first_notice(
    executor: Any,
    *,
    event_type: str,
    entity_id: str,
    deadline: str,
    due_at: datetime,
    now: datetime,
) -> bool:
    """Record a notice; True when this is the first for (type, entity, deadline, due time).

    The unique key decides between replicas scanning at once: the second insert waits for the
    first transaction and then inserts nothing.
    """
    row = (
        await executor.execute(
            _NOTICE,
            {
                "event_type": event_type,
                "entity_id": entity_id,
                "deadline": deadline,
                "due_at": due_at,
                "now": now,
            },
        )
    ).first()
    return row is not None
