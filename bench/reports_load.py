"""Reports over a year of generated data: how long each takes, and how well the claims-at-risk
score finds the claims that go on to produce a complaint.

    .venv/bin/python bench/reports_load.py --db postgresql
    .venv/bin/python bench/reports_load.py --db sqlite --complaints 1000000 --claims 300000

The generator (seeded, so every run builds the same data):
- claims: reported uniformly over the year before "now" (2026-11-24 12:00 UTC); 65 % settled,
  5 % rejected, 2 % withdrawn, the rest open in one of the five open stages, in it for an
  exponentially distributed time around (sometimes far beyond) its internal target; a region
  from 31 provinces (skewed); a next deadline a few days after entering the stage; 0–3
  outstanding documents in document review (10 % asked again for a new one); 8 % of open
  claims moved back a stage once.
- complaints: spread over the same year; 30 % on a known claim (with its stage at the time);
  causes timeliness 35 %, payout 30 %, service 25 %, other 10 %; seven channels (phone 45 %);
  200 handlers; 70 % closed as completed, 5 % withdrawn, 15 % resolved, 10 % open;
  acknowledgement and reply times drawn so roughly 85 % are on time; 3 % extended, 2 %
  escalated, 4 % reopened; a satisfaction survey for 40 % of resolved complaints.
- the back-test: a snapshot is taken 14 days before "now". For each claim open at the
  snapshot, a hidden propensity is built from the same observable facts the score uses (time
  in stage against target, deadline passed, documents, re-requests, earlier complaints, moves
  back) plus noise; claims complain in the 14 days after the snapshot with a probability that
  rises with it. The report is then run "as of" the snapshot, and the figure printed is the
  share of claims that did complain which were in the score's top decile beforehand (random
  ranking: 10 %).

Figures are in-process calls of the report functions on the database's read session (the HTTP
layer adds a constant ~1 ms), median of 3 runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness import index_sqlite_text  # noqa: E402

from app.core.config import Settings  # noqa: E402
from app.core.db import Database  # noqa: E402
from app.main import deadline_context  # noqa: E402
from app.reports import rules, service  # noqa: E402
from tests.conftest import create_pg_database, drop_pg_database, migrate_to_head  # noqa: E402

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
SNAPSHOT = NOW - timedelta(days=14)
REGIONS = [f"region-{i:02d}" for i in range(31)]
REGION_WEIGHTS = [1 / (i + 1) ** 0.8 for i in range(31)]
OPEN = ["reported", "survey_assessment", "document_review", "adjustment", "approval"]
TARGET = {"reported": 1, "survey_assessment": 3, "document_review": 5, "adjustment": 5,
          "approval": 3}  # fmt: skip
CAUSES = {
    "timeliness": (0.35, ["cumbersome_process", "internal_miscommunication", "slow_assessment",
                          "payment_delay"]),
    "payout_dispute": (0.30, ["assessment_below_expectation", "terms_not_explained",
                              "partial_loss_disagreement", "evidence_not_accepted"]),
    "service_quality": (0.25, ["insufficient_knowledge", "progress_not_communicated",
                               "inflexible_handling", "poor_attitude"]),
    "other": (0.10, ["unclear_special_case_policy", "distrust_of_outcome",
                     "malicious_or_fraudulent", "staff_misconduct"]),
}  # fmt: skip
CHANNELS = ["phone", "web", "app", "email", "letter", "walk_in", "regulator_referral"]
CHANNEL_WEIGHTS = [45, 15, 20, 8, 3, 5, 4]


def _subcause(rng: random.Random) -> tuple[str, str]:
    pick = rng.random()
    for category, (share, subs) in CAUSES.items():
        if pick < share:
            return category, f"{category}.{rng.choice(subs)}"
        pick -= share
    return "other", "other.distrust_of_outcome"


def make_claims(rng: random.Random, n: int) -> tuple[list[tuple], list[tuple], dict[int, float]]:
    """Claim rows, backward stage events, and each open claim's hidden propensity."""
    claims, events, propensity = [], [], {}
    for i in range(1, n + 1):
        reported = NOW - YEAR * rng.random()
        outcome = rng.random()
        region = rng.choices(REGIONS, REGION_WEIGHTS)[0]
        docs: list[str] = []
        repeat = False
        next_due = None
        if outcome < 0.65 or reported > SNAPSHOT:
            stage, entered = "settled", min(reported + timedelta(days=rng.uniform(5, 40)), SNAPSHOT)
        elif outcome < 0.70:
            stage, entered = "rejected", reported + timedelta(days=rng.uniform(3, 30))
        elif outcome < 0.72:
            stage, entered = "withdrawn", reported + timedelta(days=rng.uniform(1, 10))
        else:
            stage = rng.choice(OPEN)
            days = rng.expovariate(1 / (TARGET[stage] * rng.choice([0.5, 1, 1, 2, 4])))
            entered = max(SNAPSHOT - timedelta(days=days), reported)
            next_due = entered + timedelta(days=TARGET[stage] + rng.choice([0, 2, 10, 25]))
            if stage == "document_review":
                docs = [f"doc-{k}" for k in range(rng.choice([0, 1, 1, 2, 3]))]
                repeat = bool(docs) and rng.random() < 0.10
            back = rng.random() < 0.08 and stage in ("document_review", "adjustment")
            if back:
                events.append((i, 1, "adjustment" if stage == "document_review" else "approval",
                               stage, entered))  # fmt: skip
            ratio = (SNAPSHOT - entered).total_seconds() / 86400 / TARGET[stage]
            propensity[i] = (
                0.6 * min(ratio, 3) + 2.0 * (next_due < SNAPSHOT) + 0.4 * len(docs)
                + 1.2 * repeat + 0.9 * back + rng.gauss(0, 1.0)
            )  # fmt: skip
        doc = json.dumps({"outstanding_documents": docs})
        claims.append((
            i, f"CLM-{i:07d}", f"POL-{i // 2:07d}", f"粤B·{i % 100000:05d}", "張三明",
            "13812345678", reported - timedelta(hours=2), reported, region, "commercial", None,
            stage, entered, repeat, next_due, doc, 1, reported, entered,
        ))  # fmt: skip
    return claims, events, propensity


def make_complaints(
    rng: random.Random, n: int, claims: list[tuple], propensity: dict[int, float]
) -> tuple[list[tuple], list[tuple]]:
    """Complaint rows (before the snapshot spread over the year; after it, the back-test's
    outcomes) and survey rows."""
    rows, surveys = [], []
    outcomes = []
    for claim_id, p in propensity.items():
        if rng.random() < 1 / (1 + math.exp(-(p - 4.0))):
            outcomes.append(claim_id)
    for i in range(1, n + len(outcomes) + 1):
        if i <= n:
            received = NOW - YEAR * rng.random()
            if received >= SNAPSHOT:
                received = SNAPSHOT - timedelta(seconds=rng.uniform(1, 86400 * 300))
            claim = claims[rng.randrange(len(claims))] if rng.random() < 0.30 else None
        else:
            claim = claims[outcomes[i - n - 1] - 1]
            received = SNAPSHOT + timedelta(seconds=rng.uniform(1, 86400 * 14 - 10))
        category, subcause = _subcause(rng)
        channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
        fate = rng.random() if received < NOW - timedelta(days=20) else 1.0
        ack_due, reply_due = received + timedelta(hours=24), received + timedelta(days=15)
        acknowledged = received + timedelta(hours=rng.expovariate(1 / 10))
        replied = received + timedelta(days=rng.expovariate(1 / 8))
        status, resolved, closed, close_reason = "investigating", None, None, None
        if fate < 0.70:
            status, resolved, closed, close_reason = (
                "closed",
                replied,
                replied + timedelta(days=3),
                "completed",
            )
        elif fate < 0.75:
            status, closed, close_reason, replied = (
                "closed",
                acknowledged + timedelta(days=2),
                "withdrawn",
                None,
            )
        elif fate < 0.90:
            status, resolved = "resolved", replied
        else:
            replied = None
            if acknowledged > NOW:
                acknowledged = None
        if resolved and resolved > NOW:
            status, resolved, closed, close_reason, replied = (
                "investigating",
                None,
                None,
                None,
                None,
            )
        if closed and closed > NOW:
            closed, close_reason, status = None, None, "resolved" if resolved else "investigating"
        extensions = (
            '[{"reason": "complex", "at": "2026-01-01T00:00:00+00:00"}]'
            if rng.random() < 0.03
            else "[]"
        )
        escalation = (
            "regulator" if rng.random() < 0.01 else ("supervisor" if rng.random() < 0.01 else None)
        )
        reopen = 1 if rng.random() < 0.04 else 0
        finished = resolved or closed
        hours = (finished - received).total_seconds() / 3600 if finished else None
        rows.append((
            i, f"CMP-{received:%Y%m%d}-{i:07d}", status, channel, "投诉内容", "張三明",
            "13812345678", None, claim[1] if claim else None, claim[0] if claim else None,
            claim[11] if claim else None, claim[2] if claim else None, claim[3] if claim else None,
            None, None, received, category, subcause,
            json.dumps({"category": category, "subcause": subcause, "confidence": 0.9,
                        "method": "model", "model_version": "bench", "evidence": [],
                        "alternatives": [], "needs_review": False}),
            "normal", "[]", False, f"handler-{rng.randrange(200):03d}", None, escalation,
            acknowledged, replied, resolved, closed, close_reason, extensions, "[]", False, None,
            ack_due, reply_due, reopen, None, 1, "bench", received, received,
            hours,
        ))  # fmt: skip
        if resolved and rng.random() < 0.4:
            score = rng.choices([1, 2, 3, 4, 5], [5, 7, 15, 38, 35])[0]
            surveys.append((len(surveys) + 1, i, 0, "questionnaire", score, rng.random() < 0.85,
                            None, None, False, "bench", resolved + timedelta(days=1)))  # fmt: skip
    # dissatisfied: score ≤ 2 or not resolved
    surveys = [(*s[:7], s[4] <= 2 or not s[5], *s[8:]) for s in surveys]
    return rows, surveys


CLAIM_COLUMNS = ["id", "claim_no", "policy_no", "plate_no", "insured_name", "insured_phone",
                 "accident_at", "reported_at", "region", "coverage_type", "advance_paid_at",
                 "stage", "stage_entered_at", "repeat_document_request", "next_due_at",
                 "progress_doc", "version", "created_at", "updated_at"]  # fmt: skip
EVENT_COLUMNS = ["claim_id", "seq", "from_stage", "to_stage", "occurred_at"]
COMPLAINT_COLUMNS = ["id", "reference", "status", "channel", "text", "complainant_name",
                     "complainant_phone", "complainant_id_number", "claim_no", "claim_id",
                     "claim_stage", "policy_no", "plate_no", "disputed_amount", "external_ref",
                     "received_at", "category", "subcause", "classification", "priority",
                     "priority_reasons", "route_to_supervisor", "assignee", "team",
                     "escalation_level", "acknowledged_at", "replied_at", "resolved_at",
                     "closed_at", "close_reason", "extensions", "pauses", "reply_paused",
                     "restarted_at", "acknowledge_due_at", "reply_due_at", "reopen_count",
                     "notes", "version", "created_by", "created_at", "updated_at",
                     "handling_hours"]  # fmt: skip
SURVEY_COLUMNS = ["id", "complaint_id", "round", "method", "score", "resolved", "comment",
                  "dissatisfied", "reopened", "created_by", "created_at"]  # fmt: skip


async def load_postgresql(url: str, tables: dict[str, tuple[list[str], list[tuple]]]) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute("SET session_replication_role = replica")  # skip FK checks on load
        for table, (columns, rows) in tables.items():
            if table == "claim_stage_event":
                rows = [(*r[:4], r[4], r[4], None, None, None, None, "bench") for r in rows]
                columns = [*columns, "recorded_at", "event_id", "note", "actor",
                           "missing_documents", "recorded_by"]  # fmt: skip
            await conn.copy_records_to_table(table, records=rows, columns=columns)
        for table in ("claim", "complaint", "survey", "claim_stage_event"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        await conn.execute("VACUUM ANALYZE")  # what autovacuum does: index-only scans work
    finally:
        await conn.close()


def load_sqlite(path: str, tables: dict[str, tuple[list[str], list[tuple]]]) -> None:
    import sqlite3

    def value(v):
        if isinstance(v, datetime):
            return v.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        return v

    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA foreign_keys = OFF")
        for table, (columns, rows) in tables.items():
            if table == "claim_stage_event":
                rows = [(*r[:4], r[4], r[4], "bench") for r in rows]
                columns = [*columns, "recorded_at", "recorded_by"]
            marks = ", ".join("?" for _ in columns)
            db.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                ([value(v) for v in row] for row in rows),
            )
        index_sqlite_text(db)
        db.commit()
        db.execute("ANALYZE")
    finally:
        db.close()


async def timed(label: str, work, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(f"  {label:44} {median * 1000:8.0f} ms")
    return median


async def measure(url: str, open_at_snapshot: int, outcome_claims: set[int]) -> None:
    settings = Settings(database_url=url)
    db = Database(settings)
    await db.start()
    ctx = deadline_context(settings)
    quarter = tuple(t.astimezone(UTC) for t in rules.quarter("2026Q3", ctx.profile.tz))
    year = (NOW - YEAR, NOW)
    try:
        async with db.read_sessionmaker() as session:
            for name, (start, end) in (("quarter 2026Q3", quarter), ("year to 2026-11-24", year)):
                print(f"{name}:")
                for group_by in ("category", "subcause", "channel", "handler", "month"):
                    await timed(
                        f"summary by {group_by}",
                        lambda g=group_by, s=start, e=end: service.summary(
                            session, ctx=ctx, start=s, end=e,
                            previous=rules.previous_period(s, e), group_by=g,
                            filters=service.SummaryFilter(), lang="en",
                        ),
                    )  # fmt: skip
                await timed("sla", lambda s=start, e=end: service.sla(
                    session, ctx=ctx, start=s, end=e, now=NOW))  # fmt: skip
                await timed("handlers", lambda s=start, e=end: service.handlers(
                    session, start=s, end=e, sort="handled", descending=True))  # fmt: skip
            await timed("regulatory 2026Q3", lambda: service.regulatory(
                session, ctx=ctx, period="2026Q3", start=quarter[0], end=quarter[1],
                lang="en"))  # fmt: skip
            await timed("claims at risk (top 50)", lambda: service.claims_at_risk(
                session, ctx=ctx, now=NOW, limit=50, region=None, lang="en"))  # fmt: skip
            decile = max(open_at_snapshot // 10, 1)
            ranked = await service.claims_at_risk(
                session, ctx=ctx, now=SNAPSHOT, limit=decile, region=None, lang="en"
            )
            top = {int(c["claim_no"][4:]) for c in ranked["claims"]}
            caught = len(top & outcome_claims)
            print(
                f"back-test: {len(outcome_claims)} of {open_at_snapshot} claims open at the "
                f"snapshot complained in the next 14 days; {caught} "
                f"({caught / max(len(outcome_claims), 1):.0%}) were in the score's top decile "
                f"({decile} claims) beforehand (random ranking: 10%)"
            )
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--claims", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--keep", action="store_true", help="keep the database, print its URL")
    parser.add_argument("--url", help="measure an existing database made with --keep")
    args = parser.parse_args()
    if args.url:
        rng = random.Random(args.seed)
        claims, _, propensity = make_claims(rng, args.claims)
        complaints, _ = make_complaints(rng, args.complaints, claims, propensity)
        outcome_claims = {row[9] for row in complaints[args.complaints :]}
        asyncio.run(measure(args.url, len(propensity), outcome_claims))
        return
    rng = random.Random(args.seed)
    started = time.perf_counter()
    claims, events, propensity = make_claims(rng, args.claims)
    complaints, surveys = make_complaints(rng, args.complaints, claims, propensity)
    outcome_claims = {row[9] for row in complaints[args.complaints :]}
    print(f"generated {len(claims)} claims, {len(complaints)} complaints, {len(surveys)} "
          f"surveys in {time.perf_counter() - started:.0f} s")  # fmt: skip
    tables = {
        "claim": (CLAIM_COLUMNS, claims),
        "claim_stage_event": (EVENT_COLUMNS, events),
        "complaint": (COMPLAINT_COLUMNS, complaints),
        "survey": (SURVEY_COLUMNS, surveys),
    }
    workdir = Path(tempfile.mkdtemp(prefix="claimdesk-reports-"))
    if args.db == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'reports.db'}"
    else:
        url = asyncio.run(create_pg_database())
    try:
        migrate_to_head(url)
        started = time.perf_counter()
        if args.db == "sqlite":
            load_sqlite(str(workdir / "reports.db"), tables)
        else:
            asyncio.run(load_postgresql(url, tables))
        print(f"loaded into {args.db} in {time.perf_counter() - started:.0f} s")
        asyncio.run(measure(url, len(propensity), outcome_claims))
    finally:
        if args.keep:
            print(f"kept: {url}")
        elif args.db == "postgresql":
            asyncio.run(drop_pg_database(url))
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
