"""Load benchmark of a realistic request mix against a bare endpoint, measured in the same run.

The mix (by requests):
  70 %  GET  /v1/claims/{no}/progress            portal
  15 %  GET  /v1/complaints/{id} (10 %), GET /v1/complaints?<filter>&limit=20 (5 %)
                                                  call_center / supervisor
  10 %  POST /v1/complaints with an Idempotency-Key   call_center
   5 %  POST /v1/complaints/{id}/transitions with If-Match (3 %),
        POST /v1/complaints/{id}/follow-ups (2 %)   call_center / supervisor

For each database (SQLite file, or a fresh PostgreSQL database created and dropped here) the
script migrates, creates one key per role and seeds through the API (default 2,000 claims spread
over the six stages, 2,000 complaints spread over the six statuses); the seeded database is then
copied afresh for each worker count (SQLite backup / PostgreSQL `CREATE DATABASE … TEMPLATE`).
Each copy is served by `claimdesk serve --workers N` (uvicorn worker processes sharing the
database; webhook delivery and deadline scanners on, as by default;
CLAIMDESK_RATE_LIMIT_PER_MINUTE=0), warmed up, and driven by a lean asyncio HTTP/1.1 client
(one keep-alive connection per concurrent client): first GET /healthz (the bare yardstick), then
the mix, for the same duration at the same concurrency.

Transitions and follow-ups never race: each client owns a disjoint share of the complaints
(and those it files), follows the lifecycle on them (acknowledge → start_investigation →
propose_resolution → a resolution_proposal follow-up → resolve → close → reopen, with an
occasional escalate) and sends the ETag of the last version it saw as If-Match (re-reading the
complaint when a follow-up has moved the version on). So every response should be 2xx: any other
status is an error, 409s are counted apart (they would mean the client's view of the lifecycle
was wrong), and the exit status is 1 when there was any error.

Seeding through the API takes a few minutes per database (every write is a real request);
--claims/--complaints shrink it. The client runs in this process (on uvloop) and shares the
machine with the server and the database, so on a small machine the bare figure is partly the
client's ceiling; compare ratios from the same run rather than figures from different machines.
The server log's WARNING and ERROR lines are printed after each run.

    .venv/bin/python bench/mix_load.py          # SQLite and PostgreSQL, 1 and 2 workers each
    .venv/bin/python bench/mix_load.py --db sqlite --workers 2 --duration 10 --concurrency 32
    .venv/bin/python bench/mix_load.py --db postgresql --duration 5 --claims 500 --complaints 500
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import orjson
import uvloop
from harness import ROOT, _create_key
from sqlalchemy.engine import make_url

from tests.conftest import (
    PG_ADMIN_DSN,
    PG_UP,
    create_pg_database,
    drop_pg_database,
    migrate_to_head,
)
from tests.servers import STARTUP_SECONDS, free_port

T = TypeVar("T")
HOST = "127.0.0.1"
ROLES = ("admin", "call_center", "claims_system", "portal", "supervisor")

# Operation weights (percent of operations; a transition on a complaint whose ETag the client
# no longer knows adds a GET /v1/complaints/{id} first, which shows in the printed shares).
OPS = {
    "progress": 70.0,
    "complaint_get": 10.0,
    "complaint_list": 5.0,
    "intake": 10.0,
    "transition": 3.0,
    "follow_up": 2.0,
}
KINDS = ("progress", "complaint_get", "complaint_list", "intake", "transition", "follow_up")

STAGES = ["reported", "survey_assessment", "document_review", "adjustment", "approval", "settled"]
CHANNELS = ["phone", "app", "web", "email", "regulator_referral", "walk_in", "letter"]
CHANNEL_WEIGHTS = [45, 20, 15, 8, 5, 4, 3]
TEXTS = [
    "定损拖了两个月还没结果，一直没定损，等了很久也没人通知我进度",
    "理赔员态度很差，电话里不耐烦，直接挂电话",
    "你們按二手件的價格給我算的保險槓，這個錢我不認",
    "The deductible was never explained and now 20% was deducted from my payout.",
    "赔款到现在还没到账，打了好几次电话都说在审批",
    "材料要求反复提交，每次都说少一样，各部门互相推诿",
    "查勘员一直没来，车在修理厂放了三周",
    "我对保险公司的理赔结果表示怀疑，觉得有暗箱操作",
]
FILTERS = [
    "status=received",
    "status=investigating",
    "channel=phone",
    "priority=high",
    "category=timeliness",
    "overdue=true",
    "subcause=payout_dispute.assessment_below_expectation",
    "q=%E5%AE%9A%E6%8D%9F",  # 定损
]
LANGUAGES = ["zh-Hans", "zh-Hans", "zh-Hans", "zh-Hant", "en"]


# --------------------------------------------------------------------------- the HTTP client


def run(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on uvloop (the client's own overhead counts against the server's figures)."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


class Connection:
    """One keep-alive HTTP/1.1 connection; requests go one at a time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: str = "", body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request (`headers`: ready "Name: value\\r\\n" lines); status, headers, body."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n{headers}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            payload = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            payload = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                payload += await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            payload = b""
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, fields, payload


TRANSPORT_ERRORS = (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError)


class Stats:
    """Latencies and statuses per kind of request; a few samples of what went wrong."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        self.statuses: dict[str, Counter[int]] = {}
        self.samples: list[str] = []

    def record(self, kind: str, status: int, seconds: float, what: str, body: bytes) -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        self.statuses.setdefault(kind, Counter())[status] += 1
        if not 200 <= status < 300 and len(self.samples) < 12:
            self.samples.append(f"{what} -> {status}: {body[:300].decode(errors='replace')}")


async def call(
    conn: Connection,
    stats: Stats,
    kind: str,
    method: str,
    path: str,
    headers: str,
    body: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One timed request, recorded under `kind`; a transport failure is status 0."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(60):
            status, fields, payload = await conn.request(method, path, headers, body)
    except (*TRANSPORT_ERRORS, TimeoutError) as exc:
        conn.close()
        status, fields, payload = 0, {}, repr(exc).encode()
    stats.record(kind, status, time.perf_counter() - started, f"{method} {path}", payload)
    return status, fields, payload


# --------------------------------------------------------------------------- the data


@dataclass
class Owned:
    """What the owning client knows of one of its complaints."""

    id: int
    status: str
    version: int | None  # None: a follow-up moved it on; read it again before acting
    proposal: bool = False  # a resolution_proposal follow-up in the current round


@dataclass
class World:
    """The seeded data as the clients see it."""

    claims: list[str]
    complaints: list[Owned]
    keys: dict[str, str]
    ids: list[int] = field(default_factory=list)  # every complaint id, for reads

    def copy(self) -> World:
        """A fresh copy for a fresh copy of the database."""
        return replace(self, complaints=[replace(c) for c in self.complaints], ids=[])


def auth(world: World, role: str, extra: str = "") -> str:
    return f"Authorization: Bearer {world.keys[role]}\r\n{extra}"


def intake_body(rng: random.Random, claims: list[str]) -> bytes:
    body: dict[str, object] = {
        "channel": rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0],
        "text": rng.choice(TEXTS),
        "complainant": {"name": "張三明", "phone": "13812345678"},
    }
    if rng.random() < 0.3:
        body["claim_no"] = rng.choice(claims)
    if rng.random() < 0.5:
        body["disputed_amount"] = f"{rng.randrange(500, 80000)}.00"
    return orjson.dumps(body)


# --------------------------------------------------------------------------- the operations


class Client:
    """One concurrent client: a connection, the complaints it owns, a random stream."""

    def __init__(self, n: int, port: int, world: World, stats: Stats, tag: str) -> None:
        self.n = n
        self.conn = Connection(port)
        self.world = world
        self.stats = stats
        self.rng = random.Random(f"{tag}-{n}")
        self.tag = tag
        self.owned: list[Owned] = []
        self.counter = 0

    async def progress(self) -> None:
        no = self.rng.choice(self.world.claims)
        lang = self.rng.choice(LANGUAGES)
        headers = auth(self.world, "portal", f"Accept-Language: {lang}\r\n")
        await call(self.conn, self.stats, "progress", "GET", f"/v1/claims/{no}/progress", headers)

    async def complaint_get(self) -> None:
        cid = self.rng.choice(self.world.ids)
        role = self.rng.choice(("call_center", "call_center", "supervisor"))
        await call(
            self.conn,
            self.stats,
            "complaint_get",
            "GET",
            f"/v1/complaints/{cid}",
            auth(self.world, role),
        )

    async def complaint_list(self) -> None:
        query = self.rng.choice(FILTERS)
        if self.rng.random() < 0.15:
            query = f"claim_no={self.rng.choice(self.world.claims)}"
        role = self.rng.choice(("call_center", "supervisor"))
        await call(
            self.conn,
            self.stats,
            "complaint_list",
            "GET",
            f"/v1/complaints?{query}&limit=20",
            auth(self.world, role),
        )

    async def intake(self) -> None:
        self.counter += 1
        key = f"Idempotency-Key: mix-{self.tag}-{self.n}-{self.counter}\r\n"
        status, _, payload = await call(
            self.conn,
            self.stats,
            "intake",
            "POST",
            "/v1/complaints",
            auth(self.world, "call_center", key),
            intake_body(self.rng, self.world.claims),
        )
        if status == 201:
            created = orjson.loads(payload)
            self.owned.append(Owned(created["id"], created["status"], created["version"]))
            self.world.ids.append(created["id"])

    async def _refresh(self, c: Owned) -> bool:
        status, _, payload = await call(
            self.conn,
            self.stats,
            "complaint_get",
            "GET",
            f"/v1/complaints/{c.id}",
            auth(self.world, "call_center"),
        )
        if status != 200:
            return False
        read = orjson.loads(payload)
        c.status, c.version = read["status"], read["version"]
        return True

    async def transition(self, c: Owned | None = None) -> None:
        c = c or self.rng.choice(self.owned)
        if c.status == "resolution_proposed" and not c.proposal:
            await self.follow_up(c)  # the method: record the remedy offered before resolving
            return
        if c.version is None and not await self._refresh(c):
            return
        body: dict[str, object]
        if c.status != "closed" and self.rng.random() < 0.1:
            body = {"action": "escalate", "level": "supervisor"}
        else:
            body = {
                "received": {"action": "acknowledge"},
                "acknowledged": {"action": "start_investigation"},
                "investigating": {"action": "propose_resolution", "notified": True},
                "resolution_proposed": {"action": "resolve", "notified": True},
                "resolved": {"action": "close"},
                "closed": {"action": "reopen", "note": "the complainant called again"},
            }[c.status]
        role = "supervisor" if body["action"] == "escalate" else "call_center"
        status, _, payload = await call(
            self.conn,
            self.stats,
            "transition",
            "POST",
            f"/v1/complaints/{c.id}/transitions",
            auth(self.world, role, f'If-Match: "{c.version}"\r\n'),
            orjson.dumps(body),
        )
        if status == 200:
            read = orjson.loads(payload)
            if body["action"] == "reopen":
                c.proposal = False
            c.status, c.version = read["status"], read["version"]
        else:
            c.version = None  # whatever happened, read it again next time

    async def follow_up(self, c: Owned | None = None) -> None:
        c = c or self.rng.choice(self.owned)
        if c.status == "closed":  # no follow-ups on a closed complaint: reopen it instead
            await self.transition(c)
            return
        if c.status in ("investigating", "resolution_proposed") and not c.proposal:
            kind = "resolution_proposal"
        else:
            kind = self.rng.choice(("contact", "analysis", "callback", "note"))
        self.counter += 1
        body = {"kind": kind, "note": "回电客户，说明定损进度", "assignee": f"handler-{self.n:02d}"}
        status, _, _ = await call(
            self.conn,
            self.stats,
            "follow_up",
            "POST",
            f"/v1/complaints/{c.id}/follow-ups",
            auth(
                self.world,
                "call_center",
                f"Idempotency-Key: fu-{self.tag}-{self.n}-{self.counter}\r\n",
            ),
            orjson.dumps(body),
        )
        c.version = None  # the complaint's timeline (and version) moved on
        if status == 201 and kind == "resolution_proposal":
            c.proposal = True

    async def bare(self) -> None:
        await call(self.conn, self.stats, "healthz", "GET", "/healthz", "")

    async def run(self, ops: list[str], weights: list[float], stop: float) -> None:
        while time.perf_counter() < stop:
            await getattr(self, self.rng.choices(ops, weights)[0])()


async def drive(
    port: int, world: World, concurrency: int, seconds: float, bare: bool, tag: str
) -> tuple[Stats, float]:
    """Run `concurrency` clients for `seconds`: the mix, or GET /healthz alone."""
    stats = Stats()
    clients = [Client(n, port, world, stats, tag) for n in range(concurrency)]
    if not world.ids:
        world.ids.extend(c.id for c in world.complaints)
    for i, c in enumerate(world.complaints):
        clients[i % concurrency].owned.append(c)
    ops, weights = (["bare"], [1.0]) if bare else (list(OPS), list(OPS.values()))
    started = time.perf_counter()
    await asyncio.gather(*(c.run(ops, weights, started + seconds) for c in clients))
    elapsed = time.perf_counter() - started
    for c in clients:
        c.conn.close()
    # what the clients filed joins the shared pool for the next phase
    known = {c.id for c in world.complaints}
    world.complaints.extend(o for c in clients for o in c.owned if o.id not in known)
    return stats, elapsed


# --------------------------------------------------------------------------- seeding


async def seed(port: int, world: World, claims: int, complaints: int, parallel: int = 8) -> None:
    """Claims over the six stages, complaints over the six statuses, through the API."""
    stats = Stats()
    conns = [Connection(port) for _ in range(parallel)]

    async def ok(conn: Connection, method: str, path: str, role: str, body: object) -> dict:
        status, _, payload = await call(
            conn, stats, "seed", method, path, auth(world, role), orjson.dumps(body)
        )
        if not 200 <= status < 300:
            raise SystemExit(f"seeding failed: {method} {path} -> {status} {payload[:300]!r}")
        return orjson.loads(payload)

    async def claim(conn: Connection, i: int) -> None:
        no = world.claims[i]
        await ok(
            conn,
            "PUT",
            f"/v1/claims/{no}",
            "claims_system",
            {
                "policy_no": f"PDAA2026{i:011d}",
                "plate_no": "粵B·12345",
                "insured_name": "張三明",
                "insured_phone": "13812345678",
                "accident_at": "2026-11-02T08:30:00+08:00",
                "reported_at": "2026-11-02T09:05:00+08:00",
                "region": random.Random(i).choice(["guangdong", "beijing", "shanghai"]),
            },
        )
        for day, stage in enumerate(STAGES[1 : 1 + i % len(STAGES)], start=3):
            event = {"stage": stage, "occurred_at": f"2026-11-{day:02d}T09:00:00+08:00"}
            if stage == "approval":
                event["amount"] = "12800.00"
            await ok(conn, "POST", f"/v1/claims/{no}/stage-events", "claims_system", event)

    async def complaint(conn: Connection, i: int) -> None:
        rng = random.Random(i)
        body = orjson.loads(intake_body(rng, world.claims))
        read = await ok(conn, "POST", "/v1/complaints", "call_center", body)
        c = Owned(read["id"], read["status"], read["version"])
        target = (
            i % 10
        )  # 4 received, 2 acknowledged, 2 investigating, 1 proposed, 1 resolved/closed
        steps: list[dict[str, object]] = []
        if target >= 4:
            steps.append({"action": "acknowledge"})
        if target >= 6:
            steps.append({"action": "start_investigation"})
        if target >= 8:
            steps.append({"action": "propose_resolution", "notified": True})
        if target == 9:
            steps += [{"kind": "resolution_proposal", "note": "按4S店报价重新定损"}]
            steps += [{"action": "resolve", "notified": True}]
            if i % 20 == 19:
                steps.append({"action": "close"})
        for step in steps:
            if "kind" in step:
                await ok(conn, "POST", f"/v1/complaints/{c.id}/follow-ups", "call_center", step)
                c.proposal = True
                continue
            read = await ok(conn, "POST", f"/v1/complaints/{c.id}/transitions", "call_center", step)
            c.version = read["version"]
        c.status, c.version = read["status"], read["version"]
        world.complaints[i] = c

    world.claims[:] = [f"MIX-{i:06d}" for i in range(claims)]
    world.complaints[:] = [Owned(0, "", 0)] * complaints
    queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
    for i in range(claims):
        queue.put_nowait(("claim", i))
    for i in range(complaints):
        queue.put_nowait(("complaint", i))

    async def worker(conn: Connection) -> None:
        while not queue.empty():
            what, i = queue.get_nowait()
            await (claim if what == "claim" else complaint)(conn, i)
        conn.close()

    await asyncio.gather(*(worker(c) for c in conns))


# --------------------------------------------------------------------------- servers, databases


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path


def start_server(url: str, workers: int, log: Path) -> Server:
    """`claimdesk serve --workers N` on `url` (its own process group, output to `log`)."""
    port = free_port()
    env = {
        **os.environ,
        "CLAIMDESK_DATABASE_URL": url,
        "CLAIMDESK_ACCESS_LOG": "false",
        "CLAIMDESK_LOG_LEVEL": "INFO",  # quiet without the access log; shows worker starts
        "CLAIMDESK_RATE_LIMIT_PER_MINUTE": "0",
    }
    cmd = [sys.executable, "-m", "app.cli", "serve", "--host", HOST, "--port", str(port)]
    cmd += ["--workers", str(workers)]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(proc, port, log)
    deadline = time.monotonic() + STARTUP_SECONDS

    async def healthy() -> bool:
        conn = Connection(port)
        try:
            status, _, _ = await conn.request("GET", "/healthz")
            return status == 200
        except TRANSPORT_ERRORS:
            return False
        finally:
            conn.close()

    # every worker process logs this once its app has started (classifier loaded)
    while log.read_text(errors="replace").count("Application startup complete") < workers:
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(server)
            sys.exit(f"the server did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    while not run(healthy()):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(server)
            sys.exit(f"the server did not answer:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    return server


def stop_server(server: Server) -> None:
    """SIGTERM to the server's process group (uvicorn's supervisor and its workers)."""
    if server.proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.proc.pid, signal.SIGTERM)
        try:
            server.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait(timeout=10)
    # workers left behind by a supervisor that did not wait for them
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.proc.pid, signal.SIGKILL)


def log_problems(log: Path, limit: int = 8) -> list[str]:
    """WARNING and ERROR lines of a server log (JSON lines), shortened."""
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            if "Traceback" in line or "Error" in line:
                found.append(line[:400])
            continue
        if isinstance(entry, dict) and entry.get("level") in ("WARNING", "ERROR", "CRITICAL"):
            exc = str(entry.pop("exception", "")).strip().splitlines()
            text = orjson.dumps(entry).decode()[:400]
            found.append(text + (f"  [{exc[-1][:200]}]" if exc else ""))
    return found[:limit] + ([f"... and {len(found) - limit} more"] if len(found) > limit else [])


async def pg_clone(golden_url: str) -> str:
    """A new PostgreSQL database copied from `golden_url` (which nobody may be connected to)."""
    base, golden = golden_url.rsplit("/", 1)
    name = f"claimdesk_test_{uuid.uuid4().hex[:10]}"  # the name create_pg_database would give
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{golden}"')
    finally:
        await conn.close()
    return f"{base}/{name}"


@contextmanager
def databases(db: str, workdir: Path) -> Iterator[tuple[str, list[str]]]:
    """A golden database URL, and a list the caller appends clones to; all dropped at the end."""
    clones: list[str] = []
    if db == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'golden.db'}", clones
        return
    golden = run(create_pg_database())
    try:
        yield golden, clones
    finally:
        for url in [*clones, golden]:
            run(drop_pg_database(url))


def clone(db: str, golden: str, workdir: Path, n: int) -> str:
    if db == "sqlite":
        target = workdir / f"run{n}.db"
        src = sqlite3.connect(make_url(golden).database)
        dst = sqlite3.connect(target)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
        return f"sqlite+aiosqlite:///{target}"
    return run(pg_clone(golden))


# --------------------------------------------------------------------------- the report


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@dataclass
class Result:
    db: str
    workers: int
    bare_rps: float
    bare: dict[str, Any]
    mix: dict[str, dict[str, Any]]  # kind -> figures, plus "total"
    samples: list[str]
    log: list[str]


def figures(stats: Stats, elapsed: float) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    every: list[float] = []
    total = Counter[int]()
    count = sum(len(v) for v in stats.latencies.values())
    for kind in [*KINDS, "healthz"]:
        if kind not in stats.latencies:
            continue
        lat, st = stats.latencies[kind], stats.statuses[kind]
        every += lat
        total.update(st)
        out[kind] = _row(lat, st, elapsed, count)
    out["total"] = _row(every, total, elapsed, count)
    return out


def _row(lat: list[float], st: Counter[int], elapsed: float, count: int) -> dict[str, Any]:
    conflicts = st[409]
    errors = sum(n for s, n in st.items() if not 200 <= s < 300 and s != 409)
    return {
        "share": len(lat) / count,
        "rps": len(lat) / elapsed,
        "p50": pct(lat, 0.5) * 1000,
        "p99": pct(lat, 0.99) * 1000,
        "errors": errors,
        "409": conflicts,
        "n": len(lat),
        "statuses": dict(st),
    }


def print_result(r: Result, seconds: float, concurrency: int) -> None:
    print(
        f"\nclaimdesk mix benchmark — {r.db}, {r.workers} uvicorn worker(s), "
        f"{concurrency} keep-alive connections (asyncio client), {seconds:g}s per phase, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(
        f"{'kind':18} {'share':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>7} {'409':>5} {'vs bare':>8}"
    )
    rows = {"healthz (bare)": r.bare, **r.mix}
    for name, f in rows.items():
        share = "" if name == "healthz (bare)" else f"{f['share']:6.1%}"
        print(
            f"{name:18} {share:>6} {f['rps']:8.0f} {f['p50']:8.2f} {f['p99']:8.2f} "
            f"{f['errors']:7.0f} {f['409']:5.0f} {f['rps'] / r.bare_rps:8.1%}"
        )
    odd = {
        kind: f["statuses"]
        for kind, f in r.mix.items()
        if kind != "total" and set(f["statuses"]) - {200, 201}
    }
    if odd:
        print(f"statuses other than 200/201 by kind: {odd}")
    for s in r.samples:
        print(f"  sample: {s}")
    if r.log:
        print("server log, WARNING and above:")
        for line in r.log:
            print(f"  {line}")


def print_summary(results: list[Result]) -> None:
    print("\nsummary (total of the mix; ratio = mix req/s ÷ bare req/s in the same run)")
    print(
        f"{'db':11} {'workers':>7} {'bare req/s':>11} {'mix req/s':>10} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'errors':>7} {'409':>5} {'ratio':>7}"
    )
    for r in results:
        t = r.mix["total"]
        print(
            f"{r.db:11} {r.workers:7d} {r.bare_rps:11.0f} {t['rps']:10.0f} {t['p50']:7.2f} "
            f"{t['p99']:7.2f} {t['errors']:7.0f} {t['409']:5.0f} {t['rps'] / r.bare_rps:7.1%}"
        )


# --------------------------------------------------------------------------- main


def run_db(db: str, args: argparse.Namespace) -> list[Result]:
    results = []
    workdir = Path(tempfile.mkdtemp(prefix="claimdesk-mix-"))
    try:
        with databases(db, workdir) as (golden, clones):
            migrate_to_head(golden)
            env = {**os.environ, "CLAIMDESK_DATABASE_URL": golden}
            keys = {role: _create_key(env, role, f"bench-{role}") for role in ROLES}
            world = World(claims=[], complaints=[], keys=keys)
            # PostgreSQL takes concurrent writers; SQLite's writes queue for the file anyway
            server = start_server(golden, 2 if db == "postgresql" else 1, workdir / "seed.log")
            try:
                started = time.perf_counter()
                run(seed(server.port, world, args.claims, args.complaints))
                print(
                    f"{db}: seeded {args.claims} claims and {args.complaints} complaints in "
                    f"{time.perf_counter() - started:.1f}s"
                )
            finally:
                stop_server(server)
            for n, workers in enumerate(args.workers):
                url = clone(db, golden, workdir, n)
                clones.append(url)
                results.append(measure(db, url, workers, world.copy(), workdir, args))
                print_result(results[-1], args.duration, args.concurrency)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def measure(
    db: str, url: str, workers: int, world: World, workdir: Path, args: argparse.Namespace
) -> Result:
    log = workdir / f"serve-{workers}.log"
    server = start_server(url, workers, log)
    tag = f"{os.getpid()}-{workers}"
    try:
        conc, secs = args.concurrency, args.duration
        run(drive(server.port, world, conc, args.warmup, False, f"{tag}w"))  # warm-up
        run(drive(server.port, world, conc, 1.0, True, tag))
        bare = figures(*run(drive(server.port, world, conc, secs, True, tag)))
        stats, elapsed = run(drive(server.port, world, conc, secs, False, tag))
    finally:
        stop_server(server)
    mix = figures(stats, elapsed)
    mix_bare = bare["healthz"]
    if mix_bare["errors"]:
        stats.samples.append(f"healthz errors: {mix_bare['statuses']}")
    return Result(
        db=db,
        workers=workers,
        bare_rps=mix_bare["rps"],
        bare=mix_bare,
        mix=mix,
        samples=stats.samples,
        log=log_problems(log),
    )


def main() -> None:
    """Parse arguments and run every requested combination."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--db", choices=["sqlite", "postgresql"], action="append", help="repeatable; default both"
    )
    parser.add_argument(
        "--workers", type=int, choices=[1, 2], action="append", help="repeatable; default 1 and 2"
    )
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of mix before")
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--complaints", type=int, default=2000)
    args = parser.parse_args()
    args.db = args.db or ["sqlite", "postgresql"]
    args.workers = args.workers or [1, 2]
    if "postgresql" in args.db and not PG_UP:
        sys.exit("PostgreSQL is not reachable (see tests/conftest.py for host and port)")
    results = [r for db in args.db for r in run_db(db, args)]
    print_summary(results)
    if any(r.mix["total"]["errors"] or r.bare["errors"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
