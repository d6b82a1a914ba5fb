"""The deadline scanners: complaint SLA breaches, claim deadline breaches, due follow-ups.

Each announces a breach once: the scanned row records when to look next, and a unique notice
row makes a second announcement impossible even when replicas scan at the same time (on
PostgreSQL they also skip each other's rows with SKIP LOCKED).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from app.claims import service as claims_service
from app.complaints import service as complaints_service
from app.core.db import Database
from app.followups import service as followups_service

BATCH = 500


async def _drain(
    db: Database, scan: Callable[[Any], Awaitable[tuple[int, int]]], limit: int
) -> int:
    events = 0
    while True:
        async with db.session() as session:
            seen, written = await scan(session)
            await session.commit()
        events += written
        if seen < limit:
            return events


async def scan(db: Database, *, ctx: Any, now: datetime, limit: int = BATCH) -> dict[str, int]:
    """One round of every scanner, in batches of `limit` rows (one transaction each).

    Returns the number of events written per scanner.
    """
    return {
        "complaint.sla_breached": await _drain(
            db,
            lambda s: complaints_service.scan_breaches(s, ctx=ctx, now=now, limit=limit),
            limit,
        ),
        "claim.deadline_breached": await _drain(
            db, lambda s: claims_service.scan_breaches(s, now=now, ctx=ctx, limit=limit), limit
        ),
        "follow_up.due": await _drain(
            db, lambda s: followups_service.scan_due(s, now=now, limit=limit), limit
        ),
    }
