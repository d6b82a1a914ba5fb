"""Load benchmark of the claims hot paths against a bare endpoint, measured in the same run.

Serves the app with uvicorn (one worker) on a fresh database, seeds claims, then drives
wrk (Debian package `wrk`) with 16 connections at:
  - GET /healthz                          the bare endpoint (the yardstick)
  - GET /v1/claims/{no}/progress          the customer's progress read
  - POST /v1/claims/{no}/stage-events     a stage event (document list update in review)
and prints requests/s, p50, p99 and each path's ratio to the bare endpoint.

    .venv/bin/python bench/claims_load.py --db sqlite --seconds 10
    .venv/bin/python bench/claims_load.py --db postgresql --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import create_pg_database, drop_pg_database, migrate_to_head  # noqa: E402

PORT = 18765
BASE = f"http://127.0.0.1:{PORT}"


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


async def _seed(key: str, claims: int) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=8)
    async with httpx.AsyncClient(base_url=BASE, headers=headers, limits=limits, timeout=30) as http:
        sem = asyncio.Semaphore(8)

        async def one(i: int) -> None:
            async with sem:
                no = f"BENCH-{i:06d}"
                r = await http.put(
                    f"/v1/claims/{no}",
                    json={
                        "policy_no": f"P{i:08d}",
                        "plate_no": "粵B·12345",
                        "insured_name": "張三明",
                        "insured_phone": "13812345678",
                        "accident_at": "2026-11-02T08:30:00+08:00",
                        "reported_at": "2026-11-02T09:05:00+08:00",
                        "region": "guangdong",
                    },
                )
                r.raise_for_status()
                for stage, day in (("survey_assessment", 3), ("document_review", 4)):
                    r = await http.post(
                        f"/v1/claims/{no}/stage-events",
                        json={
                            "stage": stage,
                            "occurred_at": f"2026-11-{day:02d}T09:00:00+08:00",
                            "missing_documents": ["事故認定書"]
                            if stage == "document_review"
                            else None,
                        },
                    )
                    r.raise_for_status()

        await asyncio.gather(*(one(i) for i in range(claims)))


LUA_PROGRESS = """
math.randomseed(os.time())
request = function()
  local no = string.format("BENCH-%06d", math.random(0, {n}))
  local headers = {{["Authorization"] = "Bearer {key}"}}
  return wrk.format("GET", "/v1/claims/" .. no .. "/progress", headers)
end
"""

LUA_EVENTS = """
math.randomseed(os.time() + 7)
request = function()
  local no = string.format("BENCH-%06d", math.random(0, {n}))
  local body = '{{"stage":"document_review","occurred_at":"2026-11-05T09:00:00+08:00",' ..
               '"missing_documents":["事故認定書"]}}'
  return wrk.format("POST", "/v1/claims/" .. no .. "/stage-events",
    {{["Authorization"] = "Bearer {key}", ["Content-Type"] = "application/json"}}, body)
end
"""


def _to_ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(path: str, seconds: int, script: str | None = None) -> dict[str, float]:
    """Run wrk (2 threads, 16 connections) and parse requests/s, p50, p99 and errors."""
    cmd = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency"]
    tmp = None
    if script:
        tmp = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        tmp.write(script)
        tmp.close()
        cmd += ["-s", tmp.name]
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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--claims", type=int, default=2000)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="claimdesk-bench-"))
    pg_url = None
    if args.db == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    else:
        url = pg_url = asyncio.run(create_pg_database())
    migrate_to_head(url)
    env = {
        **os.environ,
        "CLAIMDESK_DATABASE_URL": url,
        "CLAIMDESK_ACCESS_LOG": "false",
        "CLAIMDESK_LOG_LEVEL": "WARNING",
    }
    key = _create_key(env, "admin", "bench-admin")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app_factory",
            "--factory",
            "--port",
            str(PORT),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                if httpx.get(BASE + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        started = time.perf_counter()
        asyncio.run(_seed(key, args.claims))
        print(
            f"seeded {args.claims} claims in document_review "
            f"in {time.perf_counter() - started:.1f}s"
        )
        n = args.claims - 1
        wrk("/healthz", 2)  # warm-up
        results = {
            "GET /healthz (bare)": wrk("/healthz", args.seconds),
            "GET progress": wrk("/", args.seconds, LUA_PROGRESS.format(n=n, key=key)),
            "POST stage-events": wrk("/", args.seconds, LUA_EVENTS.format(n=n, key=key)),
        }
    finally:
        server.terminate()
        server.wait(timeout=10)
        if pg_url:
            asyncio.run(drop_pg_database(pg_url))
        shutil.rmtree(workdir, ignore_errors=True)

    bare = results["GET /healthz (bare)"]["rps"]
    print(
        textwrap.dedent(f"""
        claimdesk claims benchmark — {args.db}, 1 uvicorn worker, wrk 2 threads × 16 connections,
        {args.seconds}s per path, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
    """).strip()
    )
    print(f"{'path':24} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs bare':>8}")
    for name, r in results.items():
        print(
            f"{name:24} {r['rps']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f} "
            f"{r['errors']:7d} {r['rps'] / bare:8.1%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
