"""Sending outbox deliveries: claim a subscription, POST its oldest pending events in order.

PostgreSQL: a batch is one transaction that holds the subscription's row lock while it sends
(`FOR NO KEY UPDATE SKIP LOCKED`: a new delivery's foreign-key check takes only a key-share
lock, so changes that write events never wait for a batch). Any number of workers share the
work and no two ever send to one subscription at once; a worker killed mid-batch loses its lock
with its connection, and the batch is sent again by the next one (at least once, never lost).

SQLite: one process runs the worker (a lease, see app/worker.py); sending happens outside any
transaction (SQLite has one write lock and the requests need it), results are written after.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import JSON, Integer, String, Text, bindparam, text

from app.core.config import Settings
from app.core.db import Database, UTCDateTime
from app.core.metrics import EVENT_LAG, WEBHOOK_ATTEMPTS, WEBHOOK_LATENCY
from app.webhooks.signing import SIGNATURE_HEADER, retry_delay, sign


@dataclass(frozen=True)
class DeliveryConfig:
    """How deliveries are sent and retried."""

    timeout: float
    batch_size: int
    retry_base: timedelta
    retry_max_delay: timedelta
    retry_limit: timedelta
    # Stop taking new deliveries into a batch after this long, so transactions stay short.
    batch_seconds: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryConfig:
        """The configuration the settings describe."""
        return cls(
            timeout=settings.webhook_timeout_seconds,
            batch_size=settings.webhook_batch_size,
            retry_base=settings.webhook_retry_base,
            retry_max_delay=settings.webhook_retry_max_delay,
            retry_limit=settings.webhook_retry_limit,
        )


@dataclass
class Outcome:
    """The result of one POST, and what it does to the delivery."""

    delivery_id: int
    attempted_at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None
    status: str  # delivered | pending (retry) | dead
    next_attempt_at: datetime | None


_SUBSCRIPTION_COLUMNS = "s.id, s.url, s.secret"
_DUE = (
    "s.deleted_at IS NULL AND (s.blocked_until IS NULL OR s.blocked_until <= :now) "
    "AND EXISTS (SELECT 1 FROM webhook_delivery d WHERE d.subscription_id = s.id "
    "AND d.status = 'pending')"
)
_ORDER = "ORDER BY s.last_batch_at IS NOT NULL, s.last_batch_at, s.id"
_CLAIM_PG = text(
    f"SELECT {_SUBSCRIPTION_COLUMNS} FROM webhook_subscription s WHERE {_DUE} "  # noqa: S608
    f"{_ORDER} LIMIT 1 FOR NO KEY UPDATE OF s SKIP LOCKED"
).bindparams(bindparam("now", type_=UTCDateTime()))
_DUE_SQLITE = text(
    f"SELECT {_SUBSCRIPTION_COLUMNS} FROM webhook_subscription s WHERE {_DUE} "  # noqa: S608
    f"{_ORDER} LIMIT :limit"
).bindparams(bindparam("now", type_=UTCDateTime()))
_HEAD = text(
    "SELECT d.id, d.attempts, d.window_started_at, e.id AS event_id, e.type, e.occurred_at, "
    "e.data FROM webhook_delivery d JOIN outbox_event e ON e.id = d.event_id "
    "WHERE d.subscription_id = :sid AND d.status = 'pending' ORDER BY d.id LIMIT :limit"
).columns(window_started_at=UTCDateTime(), occurred_at=UTCDateTime(), data=JSON())
_RECORD = text(
    "UPDATE webhook_delivery SET status = :status, attempts = attempts + 1, "
    "window_started_at = CASE WHEN attempts = 0 THEN :at ELSE window_started_at END, "
    "last_attempt_at = :at, last_status_code = :code, last_error = :error, "
    "delivered_at = :delivered_at, next_attempt_at = :next_attempt_at "
    "WHERE id = :id AND status = 'pending'"
).bindparams(
    bindparam("at", type_=UTCDateTime()),
    bindparam("code", type_=Integer()),
    bindparam("error", type_=Text()),
    bindparam("delivered_at", type_=UTCDateTime()),
    bindparam("next_attempt_at", type_=UTCDateTime()),
)
_ATTEMPT = text(
    "INSERT INTO webhook_attempt (delivery_id, attempted_at, status_code, latency_ms, error, "
    "worker) VALUES (:id, :at, :code, :latency_ms, :error, :worker)"
).bindparams(
    bindparam("at", type_=UTCDateTime()),
    bindparam("code", type_=Integer()),
    bindparam("error", type_=Text()),
    bindparam("worker", type_=String()),
)
_RELEASE = text(
    "UPDATE webhook_subscription SET blocked_until = :blocked_until, last_batch_at = :now "
    "WHERE id = :sid"
).bindparams(bindparam("blocked_until", type_=UTCDateTime()), bindparam("now", type_=UTCDateTime()))


def event_body(event_id: int, event_type: str, occurred_at: datetime, data: Any) -> bytes:
    """The delivered JSON body `{id, type, occurred_at, data}` (the exact bytes signed)."""
    return orjson.dumps(
        {"id": event_id, "type": event_type, "occurred_at": occurred_at.isoformat(), "data": data}
    )


class Sender:
    """POSTs batches of one subscription's deliveries, in order, and decides what follows."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        cfg: DeliveryConfig,
        *,
        worker: str,
        clock: Callable[[], datetime],
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.cfg = cfg
        self.worker = worker
        self.clock = clock
        self.jitter = jitter

    async def send_batch(self, subscription: Any, rows: list[Any]) -> list[Outcome]:
        """Send rows in order until one fails and will be retried (the rest wait behind it)."""
        outcomes: list[Outcome] = []
        started = time.monotonic()
        for row in rows:
            if outcomes and time.monotonic() - started > self.cfg.batch_seconds:
                break
            outcome = await self._send_one(subscription, row)
            outcomes.append(outcome)
            if outcome.status == "pending":
                break
        return outcomes

    async def _send_one(self, subscription: Any, row: Any) -> Outcome:
        body = event_body(row.event_id, row.type, row.occurred_at, row.data)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, subscription.secret),
            "X-Claimdesk-Event": row.type,
            "X-Claimdesk-Delivery": str(row.id),
            "X-Claimdesk-Attempt": str(row.attempts + 1),
            "User-Agent": "claimdesk-webhooks",
        }
        attempted_at = self.clock()
        t0 = time.perf_counter()
        code: int | None = None
        error: str | None = None
        try:
            # httpx's timeouts are per read; this bounds the whole exchange (a receiver that
            # trickles bytes cannot hold the batch, and on PostgreSQL its lock, any longer).
            async with asyncio.timeout(self.cfg.timeout):
                response = await self.client.post(subscription.url, content=body, headers=headers)
            code = response.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}"
        except (TimeoutError, httpx.TimeoutException):
            error = f"timeout after {self.cfg.timeout:g} s"
        except Exception as exc:  # any failure to deliver is a failed attempt, never a crash
            error = f"{type(exc).__name__}: {exc}"[:500]
        latency = time.perf_counter() - t0
        WEBHOOK_LATENCY.observe(latency)
        now = self.clock()
        if error is None:
            WEBHOOK_ATTEMPTS.labels("delivered").inc()
            if row.attempts == 0:
                EVENT_LAG.observe(max((now - row.occurred_at).total_seconds(), 0.0))
            status, next_at = "delivered", None
        elif (
            now - (row.window_started_at if row.attempts else attempted_at) >= self.cfg.retry_limit
        ):
            WEBHOOK_ATTEMPTS.labels("dead").inc()
            status, next_at = "dead", None
        else:
            WEBHOOK_ATTEMPTS.labels("failed").inc()
            delay = retry_delay(
                row.attempts + 1,
                base=self.cfg.retry_base,
                cap=self.cfg.retry_max_delay,
                jitter=self.jitter(),
            )
            status, next_at = "pending", now + delay
        return Outcome(row.id, attempted_at, code, latency * 1000, error, status, next_at)


async def _record(conn: Any, subscription_id: int, outcomes: list[Outcome], sender: Sender) -> None:
    if not outcomes:
        return
    await conn.execute(
        _RECORD,
        [
            {
                "id": o.delivery_id,
                "status": o.status,
                "at": o.attempted_at,
                "code": o.status_code,
                "error": o.error,
                "delivered_at": o.attempted_at if o.status == "delivered" else None,
                "next_attempt_at": o.next_attempt_at,
            }
            for o in outcomes
        ],
    )
    await conn.execute(
        _ATTEMPT,
        [
            {
                "id": o.delivery_id,
                "at": o.attempted_at,
                "code": o.status_code,
                "latency_ms": round(o.latency_ms, 3),
                "error": o.error,
                "worker": sender.worker,
            }
            for o in outcomes
        ],
    )
    last = outcomes[-1]
    await conn.execute(
        _RELEASE,
        {
            "sid": subscription_id,
            "blocked_until": last.next_attempt_at if last.status == "pending" else None,
            "now": sender.clock(),
        },
    )


async def deliver_batch_pg(db: Database, sender: Sender) -> int:
    """Claim one due subscription and send a batch to it; the number of attempts (0: idle)."""
    async with db.transaction() as conn:
        subscription = (await conn.execute(_CLAIM_PG, {"now": sender.clock()})).first()
        if subscription is None:
            return 0
        rows = (
            await conn.execute(_HEAD, {"sid": subscription.id, "limit": sender.cfg.batch_size})
        ).all()
        outcomes = await sender.send_batch(subscription, rows)
        await _record(conn, subscription.id, outcomes, sender)
        return len(outcomes)


async def due_subscriptions_sqlite(db: Database, now: datetime, limit: int) -> list[Any]:
    """Subscriptions with a pending delivery whose turn has come (SQLite: read, not claimed)."""
    async with db.read_engine.connect() as conn:
        return list((await conn.execute(_DUE_SQLITE, {"now": now, "limit": limit})).all())


async def deliver_batch_sqlite(db: Database, sender: Sender, subscription: Any) -> int:
    """Send a batch to one subscription (the caller makes sure nobody else does)."""
    async with db.read_engine.connect() as conn:
        rows = (
            await conn.execute(_HEAD, {"sid": subscription.id, "limit": sender.cfg.batch_size})
        ).all()
    if not rows:
        return 0
    outcomes = await sender.send_batch(subscription, rows)
    async with db.transaction() as conn:
        await _record(conn, subscription.id, outcomes, sender)
    return len(outcomes)
