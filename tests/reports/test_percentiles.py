"""The SLA report's p90 against the nearest-rank p90 computed in Python, on both databases.

Complaints are filed through the API; their handling time, category and handler are then set
in the database (the report reads only those columns), so group sizes can be chosen where
the rank is not the last value: overall through a bounded top-N on SQLite, per group through a
ranking window, and PostgreSQL's percentile_disc.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import text

from app.reports.rules import p90

CATEGORIES = ("timeliness", "payout_dispute", "service_quality", "other")
HANDLERS = ("amy", "bob", "cai", None)  # None: unassigned
WINDOW = {"from": "2026-07-01T00:00:00+00:00", "to": "2026-10-01T00:00:00+00:00"}


async def test_sla_p90s_match_nearest_rank(app, client, keys, clock) -> None:
    rng = random.Random(20261125)
    rows = []
    for i in range(47):
        clock.now = datetime(2026, 7, 1 + i % 28, 9, i % 60, tzinfo=UTC)
        created = await client.post(
            "/v1/complaints",
            json={
                "channel": "phone",
                "text": "投诉",
                "complainant": {"name": "王", "phone": "13812345678"},
            },
            headers=keys["call_center"],
        )
        assert created.status_code == 201, created.text
        # Ties on purpose (whole hours from a small range), and some still open (no hours).
        hours = None if i % 9 == 0 else float(rng.randint(1, 30) * 6)
        rows.append(
            {
                "id": created.json()["id"],
                "category": CATEGORIES[rng.randrange(len(CATEGORIES))],
                "assignee": HANDLERS[rng.randrange(len(HANDLERS))],
                "hours": hours,
            }
        )
    async with app.state.db.session() as session:
        for row in rows:
            await session.execute(
                text(
                    "UPDATE complaint SET category = :category, assignee = :assignee, "
                    "handling_hours = :hours WHERE id = :id"
                ),
                row,
            )
        await session.commit()

    response = await client.get("/v1/reports/sla", params=WINDOW, headers=keys["supervisor"])
    assert response.status_code == 200, response.text
    report = response.json()

    def expected(pick) -> float | None:
        return p90([r["hours"] for r in rows if pick(r) and r["hours"] is not None])

    finished = sum(r["hours"] is not None for r in rows)
    assert finished > 30  # the overall rank is well inside the list, not its last value
    assert report["overall"]["p90_handling_hours"] == expected(lambda r: True)
    for group in report["by_category"]:
        assert group["p90_handling_hours"] == expected(lambda r, k=group["key"]: r["category"] == k)
    for group in report["by_handler"]:
        key = group["key"]
        assert group["p90_handling_hours"] == expected(
            lambda r, k=key: (r["assignee"] or "unassigned") == k
        ), key
    assert {g["key"] for g in report["by_handler"]} == {"amy", "bob", "cai", "unassigned"}
