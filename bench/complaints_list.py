"""List benchmark: `GET /v1/complaints` with filters over a generated table of complaints.

Generates N complaints (default 1,000,000) straight into a fresh database with realistic
distributions, serves the app, and drives wrk at a set of list queries, printing requests/s,
p50/p99 and the ratio to the bare endpoint. Target: p99 under 50 ms for filtered lists.

The generator: received_at uniform over the past year; channels weighted as a call centre sees
them (phone 45 %, app 20 %, web 15 %, email 8 %, regulator referral 5 %, walk-in 4 %, letter 3 %);
sub-causes with timeliness and payout disputes most common; most complaints closed, the recent
ones open; 200 handlers; texts assembled from fragments in the three languages.

    .venv/bin/python bench/complaints_list.py --db postgresql --rows 1000000
    .venv/bin/python bench/complaints_list.py --db sqlite --rows 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from harness import index_sqlite_text, report, served, wrk
from sqlalchemy.engine import make_url

CHANNELS = [("phone", 45), ("app", 20), ("web", 15), ("email", 8), ("regulator_referral", 5),
            ("walk_in", 4), ("letter", 3)]  # fmt: skip
SUBCAUSES = [
    ("timeliness.slow_assessment", 14), ("timeliness.payment_delay", 10),
    ("timeliness.cumbersome_process", 7), ("timeliness.internal_miscommunication", 5),
    ("payout_dispute.assessment_below_expectation", 12), ("payout_dispute.terms_not_explained", 8),
    ("payout_dispute.partial_loss_disagreement", 6), ("payout_dispute.evidence_not_accepted", 5),
    ("service_quality.progress_not_communicated", 9), ("service_quality.poor_attitude", 7),
    ("service_quality.insufficient_knowledge", 4), ("service_quality.inflexible_handling", 4),
    ("other.distrust_of_outcome", 4), ("other.unclear_special_case_policy", 3),
    ("other.staff_misconduct", 1), ("other.malicious_or_fraudulent", 1),
]  # fmt: skip
FRAGMENTS = [
    "定损拖了两个月还没结果", "理赔员态度很差", "你們按二手件的價格給我算的保險槓",
    "免赔额从来没人跟我解释过", "发票被拒收了", "赔款到现在还没到账", "各部门互相推诿",
    "The deductible was never explained", "nobody told me about the progress",
    "材料要求反复提交", "查勘员一直没来", "对理赔结果表示怀疑，觉得有暗箱操作",
]  # fmt: skip
COLUMNS = (
    "reference", "status", "channel", "text", "complainant_name", "complainant_phone",
    "claim_no", "received_at", "category", "subcause", "classification", "priority",
    "priority_reasons", "route_to_supervisor", "assignee", "extensions", "acknowledge_due_at",
    "reply_due_at", "acknowledged_at", "replied_at", "closed_at", "reopen_count", "version",
    "created_by", "created_at", "updated_at",
)  # fmt: skip


def _pick(weighted: list[tuple[str, int]], rng: random.Random) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def rows(n: int, now: datetime, seed: int = 7):
    """Generate n complaint rows as tuples in COLUMNS order."""
    rng = random.Random(seed)
    for i in range(1, n + 1):
        received = now - timedelta(seconds=rng.randrange(365 * 86400))
        age = (now - received).days
        status = (
            rng.choice(["received", "acknowledged", "investigating", "resolution_proposed"])
            if age < 20
            else rng.choice(["closed"] * 8 + ["resolved"])
        )
        subcause = _pick(SUBCAUSES, rng)
        classification = {"category": subcause.split(".")[0], "subcause": subcause,
                          "confidence": 0.8, "method": "model", "model_version": "gen",
                          "evidence": [], "alternatives": [], "needs_review": False}  # fmt: skip
        acknowledged = (
            received + timedelta(hours=rng.randrange(1, 30)) if status != "received" else None
        )
        replied = (
            received + timedelta(days=rng.randrange(2, 20))
            if status in ("resolved", "closed")
            else None
        )
        yield (
            f"CMP-{received:%Y%m%d}-{i:06d}", status, _pick(CHANNELS, rng),
            "，".join(rng.sample(FRAGMENTS, 3)), "張三明", "13812345678",
            f"CLM-{rng.randrange(300_000):06d}", received, subcause.split(".")[0], subcause,
            json.dumps(classification), rng.choice(["normal"] * 6 + ["high"] * 3 + ["urgent"]),
            "[]", False, f"handler-{rng.randrange(200):03d}", "[]",
            received + timedelta(hours=24), received + timedelta(days=15), acknowledged, replied,
            replied + timedelta(days=3) if status == "closed" and replied else None,
            0, 1, "generator", received, received,
        )  # fmt: skip


def load_sqlite(url: str, n: int, now: datetime) -> None:
    """Bulk-insert into SQLite (datetimes stored as SQLAlchemy stores them)."""
    conn = sqlite3.connect(make_url(url).database)
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    marks = ", ".join("?" for _ in COLUMNS)
    sql = f"INSERT INTO complaint ({', '.join(COLUMNS)}) VALUES ({marks})"
    batch = []
    for row in rows(n, now):
        batch.append(
            tuple(v.astimezone(UTC).strftime(fmt) if isinstance(v, datetime) else v for v in row)
        )
        if len(batch) == 50_000:
            conn.executemany(sql, batch)
            index_sqlite_text(conn)
            conn.commit()
            batch.clear()
    if batch:
        conn.executemany(sql, batch)
    index_sqlite_text(conn)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


async def load_postgresql(url: str, n: int, now: datetime) -> None:
    """COPY into PostgreSQL."""
    import asyncpg

    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        batch = []
        for row in rows(n, now):
            batch.append(row)
            if len(batch) == 50_000:
                await conn.copy_records_to_table("complaint", records=batch, columns=COLUMNS)
                batch.clear()
        if batch:
            await conn.copy_records_to_table("complaint", records=batch, columns=COLUMNS)
        await conn.execute("ANALYZE complaint")
    finally:
        await conn.close()


QUERIES = {
    "newest page": "/v1/complaints?limit=50",
    "status=investigating": "/v1/complaints?status=investigating&limit=50",
    "channel+priority": "/v1/complaints?channel=regulator_referral&priority=urgent&limit=50",
    "assignee": "/v1/complaints?assignee=handler-042&limit=50",
    "overdue=true": "/v1/complaints?overdue=true&limit=50",
    "subcause+received": "/v1/complaints?subcause=timeliness.payment_delay"
    "&received_from=2026-06-01T00:00:00Z&received_to=2026-07-01T00:00:00Z&limit=50",
    "q=暗箱操作 (trigram)": "/v1/complaints?q=" + quote("暗箱操作") + "&limit=50",
}

LUA_GET = """
request = function()
  return wrk.format("GET", "{path}", {{["Authorization"] = "Bearer {key}"}})
end
"""


def main() -> None:
    """Generate, serve, measure."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with served(args.db) as srv:
        started = time.perf_counter()
        if args.db == "sqlite":
            load_sqlite(srv.url, args.rows, now)
        else:
            asyncio.run(load_postgresql(srv.url, args.rows, now))
        print(f"generated {args.rows:,} complaints in {time.perf_counter() - started:.0f}s")
        results = {"GET /healthz (bare)": wrk("/healthz", args.seconds)}
        for name, path in QUERIES.items():
            results[name] = wrk("/", args.seconds, LUA_GET.format(path=path, key=srv.key))
    report(f"claimdesk list benchmark, {args.rows:,} complaints", args.db, args.seconds, results)


if __name__ == "__main__":
    main()
