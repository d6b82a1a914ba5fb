"""Webhook delivery: throughput with one and two worker processes, and commit-to-receipt lag.

    .venv/bin/python bench/webhooks_load.py                  # PostgreSQL (a fresh database)
    .venv/bin/python bench/webhooks_load.py --events 4000 --subscriptions 4

What it does, against a fresh PostgreSQL database it creates and drops:
1. A local receiver (a bare ASGI app under uvicorn, in this process) answers 204 and records
   each delivery's arrival time. Its ceiling is measured first: one client POSTing signed
   event bodies to it sequentially, and `lanes` clients concurrently ("bare" rows below);
   worker throughput is printed as a ratio to the concurrent figure of the same run.
2. Backlog: `--events` events are written through the real outbox (so `--subscriptions`
   deliveries each), then 1 (and later 2) `claimdesk worker` processes are started and timed
   until every delivery is acknowledged: events/s and deliveries/s.
3. Lag: with two workers idle and listening, events are committed at `--rate` per second;
   lag is receipt time minus the event's commit time (p50/p99).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import uvicorn
from sqlalchemy import bindparam, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.db import Database, UTCDateTime  # noqa: E402
from app.webhooks import outbox  # noqa: E402
from app.webhooks.delivery import event_body  # noqa: E402
from app.webhooks.events import EventType  # noqa: E402
from app.webhooks.signing import sign  # noqa: E402
from tests.conftest import (  # noqa: E402
    create_pg_database,
    drop_pg_database,
    make_settings,
    migrate_to_head,
)

SECRET = "whsec_bench_0123456789abcdef"


class Receiver:
    """Answers 204 to every POST; remembers (event id, arrival time) per path."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[tuple[int, float]]] = {}
        self.count = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] == "POST" and raw.startswith(b'{"id":'):
            event_id = int(raw[6 : raw.index(b",")])
            self.arrivals.setdefault(scope["path"], []).append((event_id, time.time()))
            self.count += 1
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bare(url: str, seconds: float, clients: int) -> tuple[float, float, float]:
    """POSTs/s, p50 and p99 ms of `clients` sequential senders of signed bodies."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def one(http: httpx.AsyncClient) -> None:
        n = 0
        while time.perf_counter() < stop:
            body = event_body(n, "complaint.created", datetime.now(UTC), {"n": n})
            t0 = time.perf_counter()
            await http.post(url, content=body, headers={"X-Signature": sign(body, SECRET)})
            latencies.append(time.perf_counter() - t0)
            n += 1

    started = time.perf_counter()
    async with httpx.AsyncClient(trust_env=False) as http:
        await asyncio.gather(*(one(http) for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, pct(latencies, 0.5) * 1000, pct(latencies, 0.99) * 1000


async def emit(db: Database, n: int, batch: int = 100) -> None:
    """Write n complaint.created events through the outbox, `batch` per transaction."""
    done = 0
    while done < n:
        async with db.transaction() as conn:
            for _ in range(min(batch, n - done)):
                await outbox.emit(
                    conn, EventType.complaint_created, {"n": done}, at=datetime.now(UTC)
                )
                done += 1


def start_workers(url: str, count: int, lanes: int) -> list[subprocess.Popen[bytes]]:
    """`claimdesk worker` processes on the database."""
    env = {
        **os.environ,
        "CLAIMDESK_DATABASE_URL": url,
        "CLAIMDESK_WORKER_LANES": str(lanes),
        "CLAIMDESK_WORKER_POLL_SECONDS": "1.0",
        "CLAIMDESK_SCAN_INTERVAL_SECONDS": "3600",
        "CLAIMDESK_LOG_LEVEL": "WARNING",
    }
    return [
        subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM, then wait."""
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


async def wait_for(receiver: Receiver, target: int, limit: float) -> float:
    """Seconds until the receiver has `target` deliveries."""
    started = time.perf_counter()
    while receiver.count < target:
        if time.perf_counter() - started > limit:
            raise SystemExit(f"only {receiver.count} of {target} deliveries arrived")
        await asyncio.sleep(0.01)
    return time.perf_counter() - started


async def run(args: argparse.Namespace) -> None:
    receiver = Receiver()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(receiver, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
        await asyncio.sleep(0.01)
    base = f"http://127.0.0.1:{port}"
    url = args.url or await create_pg_database()
    try:
        if not args.url:
            await asyncio.to_thread(migrate_to_head, url)
        db = Database(make_settings(url))
        await db.start()
        async with db.transaction() as conn:
            for i in range(args.subscriptions):
                sid = (
                    await conn.execute(
                        *_subscription_sql(f"{base}/s{i}"),
                    )
                ).scalar_one()
                await conn.execute(*_subscription_event_sql(sid, EventType.complaint_created.value))

        print(f"receiver ceiling (same run), {args.seconds:g} s each:")
        seq = await bare(f"{base}/bare", args.seconds, 1)
        conc = await bare(f"{base}/bare", args.seconds, args.lanes)
        print(f"  bare, 1 sender:  {seq[0]:8.0f} POST/s  p50 {seq[1]:.2f} ms  p99 {seq[2]:.2f} ms")
        print(
            f"  bare, {args.lanes} senders: {conc[0]:8.0f} POST/s  "
            f"p50 {conc[1]:.2f} ms  p99 {conc[2]:.2f} ms"
        )
        receiver.count = 0

        deliveries = args.events * args.subscriptions
        for workers in (1, 2):
            receiver.count = 0
            receiver.arrivals.clear()
            await emit(db, args.events)
            procs = start_workers(url, workers, args.lanes)
            try:
                # from the processes' start: includes their ~1 s start-up, so warm up first
                elapsed = await wait_for(receiver, deliveries, 300)
            finally:
                if workers == 1:
                    stop_workers(procs)
            dup = sum(len(v) - len({e for e, _ in v}) for v in receiver.arrivals.values())
            ordered = all(
                [e for e, _ in v] == sorted(e for e, _ in v) for v in receiver.arrivals.values()
            )
            print(
                f"backlog, {workers} worker(s) x {args.lanes} lanes, {args.subscriptions} subs: "
                f"{args.events / elapsed:7.0f} events/s  {deliveries / elapsed:7.0f} "
                f"deliveries/s  ({deliveries / elapsed / conc[0]:.0%} of bare concurrent)  "
                f"duplicates {dup}  in order per subscription: {ordered}"
            )

        # lag: two idle, listening workers (still running from the last round)
        await asyncio.sleep(1.0)
        receiver.count = 0
        receiver.arrivals.clear()
        committed: dict[int, float] = {}
        interval = 1 / args.rate
        for i in range(args.lag_events):
            async with db.transaction() as conn:
                await outbox.emit(conn, EventType.complaint_created, {"n": i}, at=datetime.now(UTC))
            committed[i] = time.time()
            await asyncio.sleep(interval)
        await wait_for(receiver, args.lag_events * args.subscriptions, 60)
        stop_workers(procs)
        # event ids are sequential in commit order here; map the k-th to its commit time
        ids = sorted({e for v in receiver.arrivals.values() for e, _ in v})
        commit_of = {event_id: committed[k] for k, event_id in enumerate(ids)}
        lags = [(at - commit_of[e]) * 1000 for v in receiver.arrivals.values() for e, at in v]
        print(
            f"lag at {args.rate:g} events/s ({args.lag_events} events x {args.subscriptions} "
            f"subs): p50 {statistics.median(lags):.1f} ms  p99 {pct(lags, 0.99):.1f} ms  "
            f"max {max(lags):.1f} ms"
        )
        await db.dispose()
    finally:
        server.should_exit = True
        await serving
        if not args.url:
            await drop_pg_database(url)


def _subscription_sql(url: str) -> tuple:
    now = datetime.now(UTC)
    return (
        text(
            "INSERT INTO webhook_subscription (url, events, secret, created_by, created_at) "
            "VALUES (:url, :events, :secret, 'bench', :now) RETURNING id"
        ).bindparams(bindparam("now", type_=UTCDateTime())),
        {
            "url": url,
            "events": orjson.dumps(["complaint.created"]).decode(),
            "secret": SECRET,
            "now": now,
        },
    )


def _subscription_event_sql(sid: int, event_type: str) -> tuple:
    return (
        text(
            "INSERT INTO webhook_subscription_event (subscription_id, event_type) "
            "VALUES (:sid, :type)"
        ),
        {"sid": sid, "type": event_type},
    )


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an existing, migrated PostgreSQL URL (else a fresh one)")
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--subscriptions", type=int, default=4)
    parser.add_argument("--lanes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--lag-events", type=int, default=500)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
