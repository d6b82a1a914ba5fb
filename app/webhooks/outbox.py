"""Writing events into the outbox, inside the transaction of the change they report.

An event is one `outbox_event` row plus one pending `webhook_delivery` per live subscription
to its type, all in the caller's transaction: if the change commits, its deliveries exist;
if it rolls back, nothing was announced. The worker (webhooks/delivery.py) sends them later.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, bindparam, text

from app.core.db import UTCDateTime
from app.webhooks.events import EventType

_DELIVERY_COLUMNS = (
    "subscription_id, event_id, status, attempts, window_started_at, next_attempt_at, created_at"
)
_INSERT_EVENT = text(
    "INSERT INTO outbox_event (type, occurred_at, data) VALUES (:o_type, :o_at, :o_data)"
).bindparams(bindparam("o_at", type_=UTCDateTime()), bindparam("o_data", type_=JSON()))
# SQLite: the transaction holds the database's only write lock (BEGIN IMMEDIATE), so the
# newest outbox row is the one just inserted; no RETURNING round trip through the ORM layer.
_FAN_OUT_SQLITE = text(
    f"INSERT INTO webhook_delivery ({_DELIVERY_COLUMNS}) "  # noqa: S608 - constant
    "SELECT se.subscription_id, (SELECT max(id) FROM outbox_event), 'pending', 0, "
    ":o_at, :o_at, :o_at FROM webhook_subscription_event se WHERE se.event_type = :o_type"
).bindparams(bindparam("o_at", type_=UTCDateTime()))


def pg_ctes(data_sql: str = "CAST(:o_data AS JSON)", source: str | None = None) -> str:
    """`o` and `od` common table expressions that emit one event inside a larger statement.

    `data_sql` is the event's data as a SQL expression (it may read `source`, e.g. the row a
    preceding CTE inserted). Parameters: see `pg_params`.
    """
    from_clause = f" FROM {source}" if source else ""
    return (
        "o AS (INSERT INTO outbox_event (type, occurred_at, data) "  # noqa: S608 - constant
        f"SELECT :o_type, CAST(:o_at AS TIMESTAMPTZ), {data_sql}{from_clause} "
        "RETURNING id, type, occurred_at), "
        f"od AS (INSERT INTO webhook_delivery ({_DELIVERY_COLUMNS}) "
        "SELECT se.subscription_id, o.id, 'pending', 0, o.occurred_at, o.occurred_at, "
        "o.occurred_at FROM o JOIN webhook_subscription_event se ON se.event_type = o.type)"
    )


def pg_bindparams() -> list[Any]:
    """Typed bind parameters for `pg_ctes`."""
    return [bindparam("o_at", type_=UTCDateTime()), bindparam("o_data", type_=JSON())]


def pg_params(event_type: EventType, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """Parameters for `pg_ctes`."""
    return {"o_type": event_type.value, "o_at": at, "o_data": data}


_EMIT_PG = text(f"WITH {pg_ctes()} SELECT 1").bindparams(*pg_bindparams())


def _dialect(executor: Any) -> str:
    dialect = getattr(executor, "dialect", None) or executor.bind.dialect
    return dialect.name


async def emit(executor: Any, event_type: EventType, data: dict[str, Any], *, at: datetime) -> None:
    """Record an event in the caller's transaction (`executor`: a session or a connection)."""
    params = pg_params(event_type, at, data)
    if _dialect(executor) == "postgresql":
        await executor.execute(_EMIT_PG, params)
    else:
        await executor.execute(_INSERT_EVENT, params)
        await executor.execute(_FAN_OUT_SQLITE, params)
