"""Load benchmark of the claims hot paths against a bare endpoint, measured in the same run.

Serves the app with uvicorn (one worker) on a fresh database, seeds claims in document review,
then drives wrk with 16 connections at:
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
import time

import httpx
from harness import BASE, report, served, wrk

CLAIM = {
    "plate_no": "粵B·12345",
    "insured_name": "張三明",
    "insured_phone": "13812345678",
    "accident_at": "2026-11-02T08:30:00+08:00",
    "reported_at": "2026-11-02T09:05:00+08:00",
    "region": "guangdong",
}


async def seed(key: str, claims: int) -> None:
    """Create claims and move them into document review."""
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=8)
    async with httpx.AsyncClient(base_url=BASE, headers=headers, limits=limits, timeout=30) as http:
        sem = asyncio.Semaphore(8)

        async def one(i: int) -> None:
            async with sem:
                no = f"BENCH-{i:06d}"
                r = await http.put(f"/v1/claims/{no}", json={**CLAIM, "policy_no": f"P{i:08d}"})
                r.raise_for_status()
                for stage, day in (("survey_assessment", 3), ("document_review", 4)):
                    r = await http.post(
                        f"/v1/claims/{no}/stage-events",
                        json={"stage": stage, "occurred_at": f"2026-11-{day:02d}T09:00:00+08:00"},
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


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--claims", type=int, default=2000)
    args = parser.parse_args()
    with served(args.db) as srv:
        started = time.perf_counter()
        asyncio.run(seed(srv.key, args.claims))
        print(f"seeded {args.claims} claims in {time.perf_counter() - started:.1f}s")
        n = args.claims - 1
        results = {
            "GET /healthz (bare)": wrk("/healthz", args.seconds),
            "GET progress": wrk("/", args.seconds, LUA_PROGRESS.format(n=n, key=srv.key)),
            "POST stage-events": wrk("/", args.seconds, LUA_EVENTS.format(n=n, key=srv.key)),
        }
    report("claimdesk claims benchmark", args.db, args.seconds, results)


if __name__ == "__main__":
    main()
