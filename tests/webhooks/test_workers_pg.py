"""Webhook delivery by real `claimdesk worker` processes sharing one PostgreSQL database.

Each test makes its own database, serves local receivers in the test's event loop and runs
the worker as `python -m app.cli worker` subprocesses: two at once must deliver every event
exactly once and in order per subscription; a worker killed mid-batch (SIGKILL) loses nothing,
and only the requests of its uncommitted batch are sent again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.core.db import Database
from app.webhooks import outbox
from app.webhooks.events import EventType
from app.webhooks.models import WebhookSubscription, WebhookSubscriptionEvent
from tests.conftest import (
    PG_UP,
    ROOT,
    create_pg_database,
    drop_pg_database,
    make_settings,
    migrate_to_head,
)
from tests.webhooks.receiver import Receiver

pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(not PG_UP, reason="PostgreSQL is not running at 127.0.0.1:5432"),
]

SECRET = "whsec_workers_0123456789abcdef"


@asynccontextmanager
async def pg_database() -> AsyncIterator[tuple[str, Database]]:
    """A fresh, migrated PostgreSQL database (URL and an open Database), dropped afterwards."""
    url = await create_pg_database()
    db: Database | None = None
    try:
        await asyncio.to_thread(migrate_to_head, url)
        db = Database(make_settings(url))
        yield url, db
    finally:
        if db is not None:
            await db.dispose()
        await drop_pg_database(url)


class WorkerProcess:
    """`python -m app.cli worker` on `url`; its stdout and stderr go to a file."""

    def __init__(
        self, url: str, log_dir: Path, label: str, *, batch_size: int, lanes: int = 4
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMDESK_")}
        env.update(
            {
                "CLAIMDESK_DATABASE_URL": url,
                "CLAIMDESK_WORKER_LANES": str(lanes),
                "CLAIMDESK_WORKER_POLL_SECONDS": "0.2",
                "CLAIMDESK_SCAN_INTERVAL_SECONDS": "3600",
                "CLAIMDESK_LOG_LEVEL": "WARNING",
                "CLAIMDESK_WEBHOOK_BATCH_SIZE": str(batch_size),
                "CLAIMDESK_WEBHOOK_TIMEOUT_SECONDS": "10",
            }
        )
        self.label = label
        self.log_path = log_dir / f"worker-{label}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def name(self) -> str:
        """What the worker records in webhook_attempt.worker (app.worker.worker_name)."""
        return f"{socket.gethostname()}:{self.proc.pid}"

    def output(self) -> str:
        """Everything the process wrote so far."""
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def check_alive(self) -> None:
        """Fail the test with the worker's output if it exited."""
        if self.proc.poll() is not None:
            pytest.fail(f"worker {self.label} exited with {self.proc.returncode}:\n{self.output()}")

    async def wait_running(self, seconds: float = 30) -> None:
        """Until the worker printed its start-up line."""
        await wait_until(lambda: "running" in self.output(), seconds, "worker start", [self])

    async def terminate(self, seconds: float = 15) -> int:
        """SIGTERM, then wait for the exit status (SIGKILL if it does not stop in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.proc.wait, seconds)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait)
            pytest.fail(f"worker {self.label} ignored SIGTERM:\n{self.output()}")

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind in the worker."""
        os.kill(self.proc.pid, signal.SIGKILL)
        await asyncio.to_thread(self.proc.wait)

    async def close(self) -> None:
        """Make sure the process is gone and the log file closed."""
        if self.proc.poll() is None:
            self.proc.kill()
        await asyncio.to_thread(self.proc.wait)
        self._log.close()


async def wait_until(
    predicate: Callable[[], bool | Awaitable[bool]],
    seconds: float,
    what: str,
    workers: Sequence[WorkerProcess] = (),
) -> None:
    """Poll `predicate` (sync or async) until true; fail on timeout or a dead worker."""
    deadline = time.monotonic() + seconds
    while True:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        for worker in workers:
            worker.check_alive()
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds:g} s waiting for {what}")
        await asyncio.sleep(0.02)


async def rows(db: Database, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of a query."""
    async with db.read_engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql), params)).all()]


async def subscribe(db: Database, url: str) -> int:
    """A live subscription to complaint.created at `url`, signed with SECRET; its id."""
    async with db.session() as session:
        subscription = WebhookSubscription(
            url=url,
            events=[EventType.complaint_created.value],
            secret=SECRET,
            created_by="test",
            created_at=datetime.now(UTC),
        )
        session.add(subscription)
        await session.flush()
        assert subscription.id is not None
        session.add(
            WebhookSubscriptionEvent(
                subscription_id=subscription.id, event_type=EventType.complaint_created.value
            )
        )
        await session.commit()
        return subscription.id


async def emit_events(db: Database, numbers: range, per_transaction: int = 50) -> None:
    """complaint.created events {"n": n} through the real outbox, in order of n."""
    now = datetime.now(UTC)
    for start in range(numbers.start, numbers.stop, per_transaction):
        async with db.transaction() as conn:
            for n in range(start, min(start + per_transaction, numbers.stop)):
                await outbox.emit(conn, EventType.complaint_created, {"n": n}, at=now)


async def event_ids(db: Database) -> list[int]:
    """Every outbox event id, ascending (checked to follow the order of emission)."""
    found = await rows(db, "SELECT id, data FROM outbox_event ORDER BY id")
    assert [data["n"] for _, data in found] == list(range(len(found)))
    return [event_id for event_id, _ in found]


async def pending(db: Database) -> int:
    """Deliveries not yet delivered (or dead)."""
    return (await rows(db, "SELECT count(*) FROM webhook_delivery WHERE status = 'pending'"))[0][0]


async def test_two_worker_processes_deliver_each_event_exactly_once_in_order(
    tmp_path: Path,
) -> None:
    events = 1000
    receivers = [Receiver(secret=SECRET) for _ in range(3)]
    workers: list[WorkerProcess] = []
    async with pg_database() as (url, db):
        try:
            for receiver in receivers:
                await receiver.start()
            subscriptions = [await subscribe(db, r.url) for r in receivers]
            # Half the events wait as a backlog; the rest are written while both workers run.
            await emit_events(db, range(events // 2))
            # One lane each: a worker holds one of the three subscriptions at a time, so the
            # work is shared (with more lanes than subscriptions one worker may take it all).
            workers = [
                WorkerProcess(url, tmp_path, label, batch_size=50, lanes=1) for label in "ab"
            ]
            for worker in workers:
                await worker.wait_running()
            await emit_events(db, range(events // 2, events))
            ids = await event_ids(db)
            assert len(ids) == events

            await wait_until(
                lambda: all(len(r.requests) >= events for r in receivers),
                60,
                "every receiver to get every event",
                workers,
            )

            async def all_recorded() -> bool:
                return await pending(db) == 0

            await wait_until(all_recorded, 30, "every delivery recorded", workers)
            await asyncio.sleep(1.0)  # any late duplicate would arrive now
            for worker in workers:
                assert await worker.terminate() == 0, worker.output()
                assert '"ERROR"' not in worker.output(), worker.output()
        finally:
            for worker in workers:
                await worker.close()
            for receiver in receivers:
                await receiver.stop()

        for receiver in receivers:
            assert all(r.signature_ok and r.answered == 200 for r in receiver.requests)
            assert {r.headers["x-claimdesk-attempt"] for r in receiver.requests} == {"1"}
            bodies = receiver.delivered
            # exactly once (no duplicate, none missing) and in event order, per subscription
            assert [b["id"] for b in bodies] == ids
            assert [b["data"]["n"] for b in bodies] == list(range(events))
            assert {b["type"] for b in bodies} == {"complaint.created"}

        by_status = await rows(
            db, "SELECT subscription_id, status, count(*), min(attempts), max(attempts) "
            "FROM webhook_delivery GROUP BY subscription_id, status ORDER BY subscription_id"
        )  # fmt: skip
        assert by_status == [(s, "delivered", events, 1, 1) for s in subscriptions]
        attempts = await rows(
            db, "SELECT worker, count(*), count(DISTINCT delivery_id) FROM webhook_attempt "
            "GROUP BY worker"
        )  # fmt: skip
        assert sum(n for _, n, _ in attempts) == len(subscriptions) * events
        assert all(n == distinct for _, n, distinct in attempts)
        # both processes took a share of the work
        assert {worker for worker, _, _ in attempts} == {w.name for w in workers}, attempts


async def test_killed_worker_loses_nothing(tmp_path: Path) -> None:
    events, batch = 300, 25
    receiver = Receiver(secret=SECRET, delay=0.05)  # 25 × 50 ms: a batch takes 1.25 s
    workers: list[WorkerProcess] = []
    async with pg_database() as (url, db):
        try:
            await receiver.start()
            await subscribe(db, receiver.url)
            await emit_events(db, range(events))
            ids = await event_ids(db)

            a = WorkerProcess(url, tmp_path, "a", batch_size=batch)
            workers.append(a)
            # 35 requests: the first batch is committed, the second one is half sent.
            await wait_until(lambda: len(receiver.requests) >= 35, 30, "worker A to send", [a])
            await a.kill()
            await asyncio.sleep(0.3)  # a request A had in flight is answered and recorded
            receiver.delay = 0
            sent_by_a = [r.body["id"] for r in receiver.requests]
            committed_by_a = [
                event_id
                for (event_id,) in await rows(
                    db,
                    "SELECT d.event_id FROM webhook_attempt t "
                    "JOIN webhook_delivery d ON d.id = t.delivery_id "
                    "WHERE t.worker = :worker ORDER BY d.id",
                    worker=a.name,
                )
            ]

            b = WorkerProcess(url, tmp_path, "b", batch_size=batch)
            workers.append(b)

            async def all_delivered() -> bool:
                return {body["id"] for body in receiver.delivered} == set(ids) and (
                    await pending(db) == 0
                )

            await wait_until(all_delivered, 40, "worker B to deliver the rest", [b])
            await asyncio.sleep(0.5)  # any late duplicate would arrive now
            assert await b.terminate() == 0, b.output()
            assert '"ERROR"' not in b.output(), b.output()
            assert a.proc.returncode == -signal.SIGKILL
        finally:
            for worker in workers:
                await worker.close()
            await receiver.stop()

        assert all(r.signature_ok and r.answered == 200 for r in receiver.requests)
        delivered = [body["id"] for body in receiver.delivered]
        assert set(delivered) == set(ids)  # nothing lost
        # A recorded whole batches only, exactly the first requests it sent, in order.
        assert committed_by_a and len(committed_by_a) % batch == 0
        assert committed_by_a == ids[: len(committed_by_a)] == sent_by_a[: len(committed_by_a)]
        killed_batch = sent_by_a[len(committed_by_a) :]
        assert killed_batch, "worker A was not killed mid-batch"
        assert len(killed_batch) < batch
        # Only the killed batch's requests arrive twice; B starts again at its first one.
        counts = Counter(delivered)
        assert {i for i, n in counts.items() if n > 1} == set(killed_batch)
        assert max(counts.values()) == 2
        assert delivered[len(sent_by_a) :] == ids[len(committed_by_a) :]
        assert list(dict.fromkeys(delivered)) == ids  # first occurrences in event order

        by_status = await rows(
            db, "SELECT status, count(*), min(attempts), max(attempts) FROM webhook_delivery "
            "GROUP BY status"
        )  # fmt: skip
        assert by_status == [("delivered", events, 1, 1)]  # A's unfinished batch rolled back
        attempts = dict(await rows(db, "SELECT worker, count(*) FROM webhook_attempt GROUP BY 1"))
        assert attempts == {a.name: len(committed_by_a), b.name: events - len(committed_by_a)}
