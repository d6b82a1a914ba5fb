"""The background worker: webhook delivery, the deadline scanners and webhook housekeeping.

Runs as `claimdesk worker`, and inside `claimdesk serve` unless CLAIMDESK_WORKER_ENABLED is
false. On PostgreSQL every replica may run one: deliveries are claimed with SKIP LOCKED and
the scanners announce each breach once. On SQLite a lease row lets one process at a time run
it (a second process on the same file, which SQLite setups should avoid anyway, waits for it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import bindparam, text

from app.core.config import Settings
from app.core.db import Database, UTCDateTime
from app.core.deps import system_clock
from app.core.notify import DELIVERY_CHANNEL, Notifier, wait
from app.deadlines import scanner
from app.webhooks import delivery
from app.webhooks import service as webhooks_service

log = logging.getLogger("claimdesk.worker")

LEASE = "worker"
_ACQUIRE = text(
    "INSERT INTO worker_lease (name, holder, expires_at) VALUES (:name, :holder, :expires_at) "
    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
    "WHERE worker_lease.holder = excluded.holder OR worker_lease.expires_at < :now "
    "RETURNING holder"
).bindparams(bindparam("expires_at", type_=UTCDateTime()), bindparam("now", type_=UTCDateTime()))
_RELEASE = text("DELETE FROM worker_lease WHERE name = :name AND holder = :holder")


def worker_name() -> str:
    """This process, as recorded on delivery attempts and leases."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    """Delivery lanes, the scanner loop and housekeeping, for one process."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        ctx: Any,
        clock: Callable[[], datetime] = system_clock,
        name: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.ctx = ctx
        self.clock = clock
        self.name = name or worker_name()
        self.notifier = Notifier(settings, (DELIVERY_CHANNEL,))
        self._busy: set[int] = set()  # SQLite: subscriptions a lane of this process is sending

    async def run(self) -> None:
        """Work until cancelled."""
        await self.notifier.start()
        try:
            if self.db.is_sqlite:
                await self._run_with_lease()
            else:
                await self._run_all()
        finally:
            await self.notifier.close()

    async def _run_with_lease(self) -> None:
        period = self.settings.worker_lease_seconds / 3
        while True:
            if not await self._acquire():
                await asyncio.sleep(period)
                continue
            log.info("worker lease taken by %s", self.name)
            work = asyncio.create_task(self._run_all())
            try:
                while not work.done():
                    await asyncio.sleep(period)
                    if not await self._acquire():
                        log.warning("worker lease lost by %s", self.name)
                        break
            finally:
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
                if work.done() and not work.cancelled() and work.exception() is not None:
                    log.error("worker stopped", exc_info=work.exception())

    async def _acquire(self) -> bool:
        now = self.clock()
        expires = now + timedelta(seconds=self.settings.worker_lease_seconds)
        try:
            async with self.db.transaction() as conn:
                row = (
                    await conn.execute(
                        _ACQUIRE,
                        {"name": LEASE, "holder": self.name, "expires_at": expires, "now": now},
                    )
                ).first()
        except Exception:
            log.exception("worker lease check failed")
            return False
        return row is not None

    async def release(self) -> None:
        """Give the lease up (a clean shutdown lets another process take over at once)."""
        if self.db.is_sqlite:
            async with self.db.transaction() as conn:
                await conn.execute(_RELEASE, {"name": LEASE, "holder": self.name})

    async def _run_all(self) -> None:
        cfg = delivery.DeliveryConfig.from_settings(self.settings)
        limits = httpx.Limits(max_connections=self.settings.worker_lanes * 2)
        async with httpx.AsyncClient(
            timeout=cfg.timeout, limits=limits, follow_redirects=False, trust_env=False
        ) as client:
            sender = delivery.Sender(client, cfg, worker=self.name, clock=self.clock)
            tasks = [
                asyncio.create_task(self._lane(sender)) for _ in range(self.settings.worker_lanes)
            ]
            tasks.append(asyncio.create_task(self._scan_loop()))
            tasks.append(asyncio.create_task(self._housekeeping_loop()))
            try:
                await asyncio.gather(*tasks)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def deliver_once(self, sender: delivery.Sender) -> int:
        """Send one batch to one due subscription; the number of attempts (0: nothing due)."""
        if not self.db.is_sqlite:
            return await delivery.deliver_batch_pg(self.db, sender)
        due = await delivery.due_subscriptions_sqlite(self.db, self.clock(), len(self._busy) + 1)
        for subscription in due:
            if subscription.id in self._busy:
                continue
            self._busy.add(subscription.id)
            try:
                return await delivery.deliver_batch_sqlite(self.db, sender, subscription)
            finally:
                self._busy.discard(subscription.id)
        return 0

    async def _lane(self, sender: delivery.Sender) -> None:
        with self.notifier.watch(DELIVERY_CHANNEL) as woken:
            while True:
                try:
                    sent = await self.deliver_once(sender)
                except Exception:
                    log.exception("delivery batch failed")
                    sent = 0
                    await asyncio.sleep(1.0)
                if sent == 0:
                    await wait(woken, self.settings.worker_poll_seconds)

    async def _scan_loop(self) -> None:
        while True:
            try:
                counts = await scanner.scan(self.db, ctx=self.ctx, now=self.clock())
                if any(counts.values()):
                    log.info("deadline scan: %s", counts)
            except Exception:
                log.exception("deadline scan failed")
            await asyncio.sleep(self.settings.scan_interval_seconds)

    async def _housekeeping_loop(self) -> None:
        while True:
            try:
                cutoff = self.clock() - self.settings.webhook_retention
                while True:
                    # One short transaction per batch: SQLite's one writer is not held long.
                    async with self.db.transaction() as conn:
                        deleted = await webhooks_service.purge_batch(conn, cutoff)
                    if not deleted:
                        break
                    await asyncio.sleep(0.05)
            except Exception:
                log.exception("webhook housekeeping failed")
            await asyncio.sleep(self.settings.maintenance_interval_seconds)
