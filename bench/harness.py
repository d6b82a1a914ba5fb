"""Shared pieces of the load benchmarks: a served app on a fresh database, wrk, the report."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import create_pg_database, drop_pg_database, migrate_to_head  # noqa: E402

PORT = 18765
BASE = f"http://127.0.0.1:{PORT}"


@dataclass(frozen=True)
class Served:
    """A running server: its database URL and an admin key."""

    url: str
    key: str
    pid: int


def _create_key(env: dict[str, str], role: str, name: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", "create", "--role", role, "--name", name],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return out.stdout.strip().splitlines()[-1]


@contextmanager
def served(db: str, workers: int = 1, extra_env: dict[str, str] | None = None) -> Iterator[Served]:
    """Migrate a fresh database of kind `db`, create an admin key, serve with uvicorn."""
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp(prefix="claimdesk-bench-"))
    pg_url = None
    if db == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    else:
        url = pg_url = asyncio.run(create_pg_database())
    migrate_to_head(url)
    env = {
        **os.environ,
        "CLAIMDESK_DATABASE_URL": url,
        "CLAIMDESK_ACCESS_LOG": "false",
        "CLAIMDESK_LOG_LEVEL": "WARNING",
        # one key drives every path; its per-minute limit would turn the later paths into 429s
        "CLAIMDESK_RATE_LIMIT_PER_MINUTE": "0",
        **(extra_env or {}),
    }
    key = _create_key(env, "admin", "bench-admin")
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "app.main:app_factory", "--factory"),
            *("--port", str(PORT), "--workers", str(workers), "--no-access-log"),
            *("--log-level", "warning", "--loop", "uvloop", "--http", "httptools"),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120  # a first start may train the classifier
        while True:
            try:
                if httpx.get(BASE + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit("the server did not start")
            time.sleep(0.1)
        yield Served(url=url, key=key, pid=server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if pg_url:
            asyncio.run(drop_pg_database(pg_url))
        shutil.rmtree(workdir, ignore_errors=True)


def index_sqlite_text(conn: Any) -> None:
    """Move every complaint a bulk load queued into SQLite's FTS5 index (a sqlite3 connection;
    the caller commits), as the service's indexer would in its batches."""
    from app.complaints.service import _DEQUEUE_PENDING, _INDEX_PENDING

    for statement in (_INDEX_PENDING, _DEQUEUE_PENDING):
        conn.execute(statement.text.replace(":upto", "?"), (2**62,))


def _to_ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(path: str, seconds: int, script: str | None = None, warmup: int = 2) -> dict[str, float]:
    """Run wrk (2 threads, 16 connections) and parse requests/s, p50, p99 and errors.

    The same load runs `warmup` seconds first, unmeasured: a path's first requests fill the
    statement and schema caches, and each run opens its 16 connections anew. The server's
    event loop (uvloop) accepts one new connection per turn, so while the first connections are
    busy the last one waits ~16 turns for its first answer: those 16 first requests are part of
    every run, which is why the figures come from runs of 10 s and more, not 2.
    """
    cmd = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency"]
    tmp = None
    if script:
        tmp = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        tmp.write(script)
        tmp.close()
        cmd += ["-s", tmp.name]
    if warmup:
        warm = [c if not c.startswith("-d") else f"-d{warmup}s" for c in cmd]
        subprocess.run([*warm, BASE + path], capture_output=True, check=True)
    out = subprocess.run([*cmd, BASE + path], capture_output=True, text=True, check=True).stdout
    if tmp:
        os.unlink(tmp.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(x) for x in sock.groups())
    return {"rps": rps, "p50": p50, "p99": p99, "errors": errors}


def report(title: str, db: str, seconds: int, results: dict[str, dict[str, float]]) -> None:
    """Print the figures with each path's ratio to the first (bare) one."""
    bare = next(iter(results.values()))["rps"]
    print(
        f"{title} — {db}, 1 uvicorn worker, wrk 2 threads × 16 connections, {seconds}s per path, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(f"{'path':24} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs bare':>8}")
    for name, r in results.items():
        print(
            f"{name:24} {r['rps']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f} "
            f"{r['errors']:7.0f} {r['rps'] / bare:8.1%}"
        )
