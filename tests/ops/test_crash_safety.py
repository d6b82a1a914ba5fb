"""Crash safety: kill -9 a real server in the middle of concurrent intake, on SQLite and
PostgreSQL, and check that the database lost, doubled and half-wrote nothing.

One `claimdesk serve` process takes N complaint intakes (each with its own Idempotency-Key
and a marker in its text and external_ref) from concurrent clients. While they run, the
server is SIGKILLed a few times at random moments and started again on the same port. A
request whose connection broke is "unacknowledged" and is retried afterwards with the same key
and body until it gets its 201. The server is SIGKILLed once more at the end, and then the
database file / PostgreSQL database is read directly (not through the API):

- every request is stored exactly once (found by its marker), with the id its 201 named, both
  for the ones acknowledged during the load and for the retried ones;
- replaying every request with its key returns the first response (same id, same body);
- every complaint is whole: its two timeline entries, its audit record, its `complaint.created`
  outbox event with one webhook delivery, and its idempotency record holding the response;
- references are unique (and, on SQLite, whose counter is transactional, gap-free);
- SQLite: `PRAGMA integrity_check` is ok, `PRAGMA foreign_key_check` is empty and the FTS5
  index agrees with the complaint table; PostgreSQL: amcheck finds every B-tree index and heap
  sound, no row references a missing parent, and the trigram index finds what a sequential
  scan finds.

The default `sqlite_synchronous` (NORMAL, in WAL mode) is kept on purpose: it is documented to
survive kill -9 with every acknowledged write.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.complaints.helpers import indexed_ids
from tests.conftest import PG_UP, create_pg_database, drop_pg_database
from tests.servers import (
    STARTUP_SECONDS,
    Server,
    create_key,
    kill_server,
    start_server,
    wait_for_admin_key,
    wait_healthy,
)

# A longer run (scripts/test tests/ops/test_crash_safety.py):
#   CLAIMDESK_CRASH_REQUESTS=5000 CLAIMDESK_CRASH_KILLS=20
N_REQUESTS = min(int(os.environ.get("CLAIMDESK_CRASH_REQUESTS", "300")), 9999)
CONCURRENCY = 16
KILLS = int(os.environ.get("CLAIMDESK_CRASH_KILLS", "3"))
KEY_NAME = "crash-intake"
SERVER_ENV = {"CLAIMDESK_RATE_LIMIT_PER_MINUTE": "0"}
REFERENCE = re.compile(r"CMP-\d{8}-(\d{6})")
MARKER = re.compile(r"\[(CRASH-\d{4})\]")
TEXT = "定损拖了两个月还没结果，一直没定损，等了很久也没人通知我进度"
REQUEST_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
RETRY_SECONDS = 60


@dataclass(frozen=True)
class Intake:
    """One complaint intake: its key, its marker and the body it is always sent with."""

    index: int
    key: str
    marker: str
    body: dict[str, Any]


def _intakes(run: str) -> list[Intake]:
    intakes = []
    for i in range(N_REQUESTS):
        marker = f"CRASH-{i:04d}"
        body = {
            "channel": "phone",
            "text": f"{TEXT} [{marker}]",
            "complainant": {"name": "張三明", "phone": "13812345678"},
            "external_ref": marker,
        }
        intakes.append(Intake(i, f"crash-{run}-{i:04d}", marker, body))
    return intakes


@dataclass
class Target:
    """A fresh database of one kind and the server process that currently serves it."""

    kind: str
    url: str
    log: Path
    port: int
    server: Server
    admin: dict[str, str] = field(default_factory=dict)
    caller: dict[str, str] = field(default_factory=dict)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Target]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    else:
        if not PG_UP:  # in CI a missing PostgreSQL fails at session start instead
            pytest.skip("PostgreSQL is not running at 127.0.0.1:5432")
        url = await create_pg_database()
    log = tmp_path / "server.log"
    server = start_server(url, log, env=SERVER_ENV)
    made = Target(request.param, url, log, server.port, server)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        key = await asyncio.to_thread(wait_for_admin_key, server, deadline)
        # The schema exists once the admin key is printed: make the intake key meanwhile.
        made.caller, _ = await asyncio.gather(
            asyncio.to_thread(_create_key, url),
            asyncio.to_thread(wait_healthy, server, deadline),
        )
        made.admin = {"Authorization": f"Bearer {key}"}
        yield made
    finally:
        if made.server.proc.poll() is None:
            await asyncio.to_thread(kill_server, made.server)
        if request.param == "postgresql":
            await drop_pg_database(url)


def _create_key(url: str) -> dict[str, str]:
    """A call_center key made with the CLI (its name scopes the idempotency keys)."""
    return {"Authorization": f"Bearer {create_key(url, 'call_center', KEY_NAME)}"}


# ---------------------------------------------------------------- the load and the kills


@dataclass
class Load:
    """What the clients saw."""

    acked: dict[int, httpx.Response] = field(default_factory=dict)
    unacked: list[int] = field(default_factory=list)
    # (server generation, exception type) of each broken request
    broken: list[tuple[int, str]] = field(default_factory=list)
    unexpected: list[tuple[int, int, str]] = field(default_factory=list)
    in_flight_at_kill: list[int] = field(default_factory=list)
    in_flight: int = 0
    done: int = 0
    generation: int = 0


async def _load_and_kill(target: Target, headers: dict[str, str], intakes: list[Intake]) -> Load:
    """Send every intake from CONCURRENCY clients while the server is killed KILLS times."""
    load = Load()
    queue: asyncio.Queue[Intake] = asyncio.Queue()
    for intake in intakes:
        queue.put_nowait(intake)
    up = asyncio.Event()  # set while the server is running
    up.set()
    progress = asyncio.Event()  # set when a request finishes
    rng = random.Random()
    # Kill when these many requests have finished (spread over the load), plus jitter.
    span = N_REQUESTS // (KILLS + 1)
    thresholds = [span * (k + 1) + rng.randrange(-span // 3, span // 3) for k in range(KILLS)]

    async def client_task(http: httpx.AsyncClient) -> None:
        while True:
            try:
                intake = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await up.wait()
            generation = load.generation
            load.in_flight += 1
            try:
                response = await http.post(
                    "/v1/complaints",
                    json=intake.body,
                    headers={**headers, "Idempotency-Key": intake.key},
                )
            except httpx.TransportError as exc:  # connection reset/refused, timeout
                load.unacked.append(intake.index)
                load.broken.append((generation, type(exc).__name__))
            else:
                if response.status_code == 201:
                    load.acked[intake.index] = response
                else:
                    load.unexpected.append((intake.index, response.status_code, response.text))
            finally:
                load.in_flight -= 1
                load.done += 1
                progress.set()

    async def killer() -> None:
        for threshold in thresholds:
            while load.done < threshold:
                progress.clear()
                await progress.wait()
            await asyncio.sleep(rng.uniform(0, 0.03))
            up.clear()  # no new request until the server is back; those in flight break
            load.in_flight_at_kill.append(load.in_flight)
            await asyncio.to_thread(kill_server, target.server)
            load.generation += 1
            target.server = start_server(target.url, target.log, env=SERVER_ENV, port=target.port)
            deadline = time.monotonic() + STARTUP_SECONDS
            await asyncio.to_thread(wait_healthy, target.server, deadline)
            up.set()

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=target.server.base, timeout=REQUEST_TIMEOUT, limits=limits
    ) as http:
        await asyncio.gather(killer(), *(client_task(http) for _ in range(CONCURRENCY)))
    return load


async def _retry_until_created(
    http: httpx.AsyncClient, headers: dict[str, str], intake: Intake
) -> httpx.Response:
    """The same key and body again until the server answers; anything but 201/200 fails."""
    deadline = time.monotonic() + RETRY_SECONDS
    while True:
        try:
            response = await http.post(
                "/v1/complaints",
                json=intake.body,
                headers={**headers, "Idempotency-Key": intake.key},
            )
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
            continue
        assert response.status_code in (200, 201), (intake.key, response.status_code, response.text)
        return response


# ---------------------------------------------------------------- reading the database


@dataclass
class Stored:
    """The rows one intake writes, read straight from the database."""

    complaints: list[dict[str, Any]]
    events: list[dict[str, Any]]
    audits: list[dict[str, Any]]
    outbox: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]
    idempotency: list[dict[str, Any]]
    subscriptions: list[int]


_READS = {
    "complaints": "SELECT id, reference, text, external_ref, status, subcause, created_by, "
    "version FROM complaint",
    "events": "SELECT complaint_id, seq, kind, to_status, actor, detail FROM complaint_event",
    "audits": "SELECT action, entity_type, entity_id, actor, detail FROM audit_event",
    "outbox": "SELECT id, type, data FROM outbox_event",
    "deliveries": "SELECT event_id, subscription_id, status FROM webhook_delivery",
    "idempotency": "SELECT scope_key, status_code, response_body FROM idempotency_record",
}
_JSON_COLUMNS = {"detail", "data"}


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: json.loads(v) if k in _JSON_COLUMNS and isinstance(v, str) else v for k, v in row.items()
    }


def _pg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite+aiosqlite:///")


def _read_sqlite(url: str) -> tuple[Stored, list[int], int]:
    import sqlite3

    conn = sqlite3.connect(_sqlite_path(url))
    conn.row_factory = sqlite3.Row
    try:
        tables = {
            name: [_decode(dict(r)) for r in conn.execute(sql)] for name, sql in _READS.items()
        }
        subscriptions = [r[0] for r in conn.execute("SELECT id FROM webhook_subscription")]
        # Every complaint is in the FTS5 index or still queued for it, never both or neither.
        indexed = indexed_ids(conn)
        queued = [r[0] for r in conn.execute("SELECT id FROM complaint_fts_pending ORDER BY 1")]
        assert not set(indexed) & set(queued), set(indexed) & set(queued)
        fts_rowids = sorted(indexed + queued)
        (counter,) = conn.execute(
            "SELECT value FROM reference_counter WHERE name = 'complaint'"
        ).fetchone()
    finally:
        conn.close()
    return Stored(**tables, subscriptions=subscriptions), fts_rowids, int(counter)


async def _read_pg(url: str) -> tuple[Stored, int]:
    conn = await asyncpg.connect(_pg_dsn(url))
    try:
        tables = {
            name: [_decode(dict(r)) for r in await conn.fetch(sql)] for name, sql in _READS.items()
        }
        subscriptions = [r[0] for r in await conn.fetch("SELECT id FROM webhook_subscription")]
        last = await conn.fetchrow("SELECT last_value FROM complaint_reference_seq")
    finally:
        await conn.close()
    return Stored(**tables, subscriptions=subscriptions), int(last["last_value"])


def _one(rows: list[dict[str, Any]], what: str) -> dict[str, Any]:
    assert len(rows) == 1, f"{what}: expected exactly one row, found {len(rows)}: {rows}"
    return rows[0]


def _check_stored(stored: Stored, intakes: list[Intake], ids: dict[int, int]) -> list[int]:
    """Every intake stored once and whole, with the id its 201 named; returns reference numbers."""
    by_marker: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in stored.complaints:
        found = MARKER.findall(c["text"])
        assert len(found) == 1, f"complaint {c['id']} has no single marker: {c['text']!r}"
        assert c["external_ref"] == found[0], c
        by_marker[found[0]].append(c)
    assert len(stored.complaints) == len(intakes), (
        f"{len(stored.complaints)} complaints stored for {len(intakes)} requests"
    )
    doubled = {m: [c["id"] for c in cs] for m, cs in by_marker.items() if len(cs) > 1}
    assert not doubled, f"requests stored more than once: {doubled}"

    events = defaultdict(list)
    for e in stored.events:
        events[e["complaint_id"]].append(e)
    audits = defaultdict(list)
    for a in stored.audits:
        if a["action"] == "complaint.created":
            audits[a["entity_id"]].append(a)
    outbox = defaultdict(list)
    for o in stored.outbox:
        if o["type"] == "complaint.created":
            outbox[o["data"]["complaint_id"]].append(o)
    deliveries = defaultdict(list)
    for d in stored.deliveries:
        deliveries[d["event_id"]].append(d)
    records = defaultdict(list)
    for r in stored.idempotency:
        records[r["scope_key"]].append(r)

    assert len(stored.subscriptions) == 1, stored.subscriptions
    complaint_ids = {c["id"] for c in stored.complaints}
    assert set(events) <= complaint_ids, "timeline entries of complaints that do not exist"
    assert {int(k) for k in audits} <= complaint_ids, "audit records of missing complaints"
    assert set(outbox) <= complaint_ids, "outbox events of missing complaints"
    assert len(stored.events) == 2 * len(intakes), len(stored.events)
    assert len(stored.outbox) == len(intakes), [o["type"] for o in stored.outbox]
    assert len(stored.deliveries) == len(intakes), len(stored.deliveries)
    assert len(stored.idempotency) == len(intakes), len(stored.idempotency)

    numbers = []
    for intake in intakes:
        what = f"{intake.marker} (key {intake.key})"
        complaint = _one(by_marker.get(intake.marker, []), what)
        cid, reference = complaint["id"], complaint["reference"]
        assert cid == ids[intake.index], f"{what}: its 201 said id {ids[intake.index]}, row {cid}"
        assert complaint["status"] == "received" and complaint["version"] == 1, complaint
        assert complaint["created_by"] == KEY_NAME, complaint
        match = REFERENCE.fullmatch(reference)
        assert match, reference
        numbers.append(int(match[1]))

        timeline = sorted(events[cid], key=lambda e: e["seq"])
        assert [(e["seq"], e["kind"]) for e in timeline] == [
            (1, "intake"),
            (2, "classification"),
        ], f"{what}: timeline {timeline}"
        assert timeline[0]["to_status"] == "received", timeline
        assert timeline[0]["detail"]["reference"] == reference, timeline
        assert timeline[1]["detail"]["subcause"] == complaint["subcause"], timeline
        assert {e["actor"] for e in timeline} == {KEY_NAME}, timeline

        audit = _one(audits[str(cid)], f"{what}: complaint.created audit record")
        assert audit["entity_type"] == "complaint" and audit["actor"] == KEY_NAME, audit
        assert audit["detail"] == {"reference": reference, "idempotency_key": intake.key}, audit

        event = _one(outbox[cid], f"{what}: complaint.created outbox event")
        assert event["data"]["reference"] == reference, event
        delivery = _one(deliveries[event["id"]], f"{what}: webhook delivery")
        assert delivery["subscription_id"] == stored.subscriptions[0], delivery
        assert delivery["status"] == "pending", delivery

        scope = f"{KEY_NAME}:POST:/v1/complaints:{intake.key}"
        record = _one(records[scope], f"{what}: idempotency record")
        assert record["status_code"] == 201, record
        replay = json.loads(record["response_body"])
        assert (replay["id"], replay["reference"]) == (cid, reference), record
    assert len(set(numbers)) == len(numbers), "reference numbers repeat"
    return numbers


def _check_sqlite_file(url: str) -> None:
    import sqlite3

    conn = sqlite3.connect(_sqlite_path(url))
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # FTS5: the index agrees with its content table (raises SQLITE_CORRUPT_VTAB if not).
        conn.execute("INSERT INTO complaint_fts(complaint_fts) VALUES ('integrity-check')")
        conn.rollback()
        found = conn.execute(
            "SELECT count(*) FROM complaint_fts WHERE complaint_fts MATCH '\"CRASH-01\"'"
        ).fetchone()[0]
        queued = conn.execute(
            "SELECT count(*) FROM complaint_fts_pending p JOIN complaint c ON c.id = p.id "
            "WHERE c.text LIKE '%CRASH-01%'"
        ).fetchone()[0]
        assert found + queued == 100, (found, queued)  # CRASH-0100 … CRASH-0199
    finally:
        conn.close()


# Every foreign key an intake writes, checked with SQL (PostgreSQL enforces them; a violation
# here would mean the constraint itself is broken).
_ORPHANS = (
    "SELECT count(*) FROM complaint_event e LEFT JOIN complaint c ON c.id = e.complaint_id "
    "WHERE c.id IS NULL",
    "SELECT count(*) FROM webhook_delivery d LEFT JOIN outbox_event o ON o.id = d.event_id "
    "WHERE o.id IS NULL",
    "SELECT count(*) FROM webhook_delivery d LEFT JOIN webhook_subscription s "
    "ON s.id = d.subscription_id WHERE s.id IS NULL",
    "SELECT count(*) FROM audit_event a LEFT JOIN complaint c ON CAST(c.id AS VARCHAR) = "
    "a.entity_id WHERE a.action = 'complaint.created' AND c.id IS NULL",
    "SELECT count(*) FROM (SELECT reference FROM complaint GROUP BY reference "
    "HAVING count(*) > 1) AS d",
    "SELECT count(*) FROM (SELECT complaint_id, seq FROM complaint_event "
    "GROUP BY complaint_id, seq HAVING count(*) > 1) AS d",
)
_OUR_TABLES = (
    "complaint",
    "complaint_event",
    "audit_event",
    "outbox_event",
    "webhook_delivery",
    "idempotency_record",
)


async def _check_pg_database(url: str) -> None:
    conn = await asyncpg.connect(_pg_dsn(url))
    try:
        for sql in _ORPHANS:
            assert await conn.fetchval(sql) == 0, sql
        # amcheck: every B-tree index of the written tables matches its heap, and the heaps
        # themselves are sound.
        await conn.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        indexes = await conn.fetch(
            "SELECT i.indexrelid::regclass::text AS name FROM pg_index i "
            "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_class x ON x.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = x.relam WHERE am.amname = 'btree' "
            "AND t.relname = ANY($1::text[])",
            list(_OUR_TABLES),
        )
        assert len(indexes) >= len(_OUR_TABLES)
        for row in indexes:
            await conn.execute("SELECT bt_index_check($1::regclass, true)", row["name"])
        for table in _OUR_TABLES:
            corrupt = await conn.fetch("SELECT * FROM verify_heapam($1::regclass)", table)
            assert corrupt == [], (table, corrupt)
        # The trigram index (pg_trgm GIN) finds exactly what a sequential scan finds.
        query = "SELECT id FROM complaint WHERE text LIKE '%[CRASH-01%' ORDER BY id"
        async with conn.transaction():
            await conn.execute("SET LOCAL enable_seqscan = off")
            await conn.execute("SET LOCAL enable_indexscan = off")
            plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {query}"))
            assert "ix_complaint_text_trgm" in plan, plan
            by_index = [r["id"] for r in await conn.fetch(query)]
        async with conn.transaction():
            await conn.execute("SET LOCAL enable_bitmapscan = off")
            await conn.execute("SET LOCAL enable_indexscan = off")
            by_scan = [r["id"] for r in await conn.fetch(query)]
        assert len(by_scan) == 100 and by_index == by_scan, (by_index, by_scan)
    finally:
        await conn.close()


# ---------------------------------------------------------------- the test


async def test_kill_9_during_intake_loses_doubles_and_half_writes_nothing(target: Target) -> None:
    started = time.monotonic()
    headers = target.caller
    async with httpx.AsyncClient(base_url=target.server.base, timeout=REQUEST_TIMEOUT) as http:
        subscription = await http.post(
            "/v1/webhook-subscriptions",
            json={"url": "http://127.0.0.1:9/hook", "events": ["complaint.created"]},
            headers=target.admin,
        )
    assert subscription.status_code == 201, subscription.text
    intakes = _intakes(f"{time.time_ns():x}")

    load = await _load_and_kill(target, headers, intakes)
    load_seconds = time.monotonic() - started

    # Not vacuous: every kill came while requests were in flight, and some of them broke.
    assert load.generation == KILLS
    assert all(n > 0 for n in load.in_flight_at_kill), load.in_flight_at_kill
    assert load.broken, f"no request was in flight at any kill: {load.in_flight_at_kill}"
    assert not load.unexpected, f"answers other than 201 during the load: {load.unexpected}"
    assert len(load.acked) + len(load.unacked) == N_REQUESTS

    ids = {i: r.json()["id"] for i, r in load.acked.items()}
    retry_started = time.time()
    committed_before_kill = 0
    async with httpx.AsyncClient(base_url=target.server.base, timeout=REQUEST_TIMEOUT) as http:
        for index in sorted(load.unacked):
            response = await _retry_until_created(http, headers, intakes[index])
            ids[index] = response.json()["id"]
            created = datetime.fromisoformat(response.json()["created_at"]).timestamp()
            if created < retry_started:
                committed_before_kill += 1  # a replay: the kill only lost its response
        # Every request again with its key: the first response comes back, nothing is created.
        firsts = {i: r.json() for i, r in load.acked.items()}
        sem = asyncio.Semaphore(CONCURRENCY)

        async def replay(intake: Intake) -> None:
            async with sem:
                again = await _retry_until_created(http, headers, intake)
            assert again.json()["id"] == ids[intake.index], (intake.key, again.json()["id"])
            if intake.index in firsts:
                assert again.json() == firsts[intake.index], intake.key

        await asyncio.gather(*(replay(intake) for intake in intakes))
    assert len(set(ids.values())) == N_REQUESTS, "two requests were given the same complaint id"

    retry_seconds = time.monotonic() - started - load_seconds
    # One more kill -9, then the database itself is the witness.
    await asyncio.to_thread(kill_server, target.server)
    if target.kind == "sqlite":
        stored, fts_rowids, counter = await asyncio.to_thread(_read_sqlite, target.url)
        numbers = _check_stored(stored, intakes, ids)
        # The counter is written in the intake's transaction: a rolled-back intake leaves no gap.
        assert sorted(numbers) == list(range(1, N_REQUESTS + 1)), sorted(numbers)
        assert counter == N_REQUESTS, counter
        assert fts_rowids == sorted(c["id"] for c in stored.complaints)
        await asyncio.to_thread(_check_sqlite_file, target.url)
    else:
        stored, last_value = await _read_pg(target.url)
        numbers = _check_stored(stored, intakes, ids)
        assert max(numbers) <= last_value, (max(numbers), last_value)  # sequences may skip
        await _check_pg_database(target.url)

    kinds = Counter(kind for _, kind in load.broken)
    per_kill = Counter(generation for generation, _ in load.broken)
    print(
        f"\n{target.kind}: {N_REQUESTS} intakes, {KILLS} kills with "
        f"{load.in_flight_at_kill} in flight, broken per kill {dict(sorted(per_kill.items()))} "
        f"({dict(kinds)}), {len(load.acked)} acknowledged, {len(load.unacked)} retried of which "
        f"{committed_before_kill} had committed before the kill; load {load_seconds:.1f} s, "
        f"retries and replays {retry_seconds:.1f} s, total {time.monotonic() - started:.1f} s"
    )
