"""Deadline scanners: each breach and due time announced exactly once, on both databases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text

from app.deadlines import scanner
from tests.claims.helpers import put_claim
from tests.followups.helpers import act, file, follow_up


async def events(app, event_type: str) -> list[dict]:
    """Data of the outbox events of one type, oldest first."""
    import orjson

    async with app.state.db.read_engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT data FROM outbox_event WHERE type = :t ORDER BY id"), {"t": event_type}
        )
        return [orjson.loads(r[0]) if isinstance(r[0], str) else r[0] for r in rows]


async def scan(app, clock) -> dict[str, int]:
    """One scanner round at the frozen time."""
    return await scanner.scan(app.state.db, ctx=app.state.deadlines, now=clock.now)


async def test_complaint_breaches_are_announced_once_each(app, client, keys, clock):
    complaint = await file(client, keys["call_center"])
    ack_due = complaint["due"]["acknowledge_by"]
    reply_due = complaint["due"]["reply_by"]
    assert (await scan(app, clock))["complaint.sla_breached"] == 0
    from datetime import datetime

    clock.now = datetime.fromisoformat(ack_due) + timedelta(seconds=1)
    assert (await scan(app, clock))["complaint.sla_breached"] == 1
    assert (await scan(app, clock))["complaint.sla_breached"] == 0  # once
    clock.now += timedelta(hours=1)
    assert (await scan(app, clock))["complaint.sla_breached"] == 0
    (breach,) = await events(app, "complaint.sla_breached")
    assert breach["complaint_id"] == complaint["id"]
    assert breach["deadline"] == "complaint.acknowledge"
    assert datetime.fromisoformat(breach["due_at"]) == datetime.fromisoformat(ack_due)
    # acknowledged late: the reply clock still runs and breaches on its own due time
    assert (
        await act(client, keys["call_center"], complaint["id"], "acknowledge")
    ).status_code == 200
    clock.now = datetime.fromisoformat(reply_due) + timedelta(minutes=1)
    assert (await scan(app, clock))["complaint.sla_breached"] == 1
    assert (await scan(app, clock))["complaint.sla_breached"] == 0
    kinds = [e["deadline"] for e in await events(app, "complaint.sla_breached")]
    assert kinds == ["complaint.acknowledge", "complaint.reply"]


async def test_a_met_deadline_is_never_announced(app, client, keys, clock):
    complaint = await file(client, keys["call_center"])
    assert (
        await act(client, keys["call_center"], complaint["id"], "acknowledge")
    ).status_code == 200
    from datetime import datetime

    clock.now = datetime.fromisoformat(complaint["due"]["acknowledge_by"]) + timedelta(hours=1)
    assert (await scan(app, clock))["complaint.sla_breached"] == 0


async def test_concurrent_scans_announce_once(app, client, keys, clock):
    for _ in range(30):
        await file(client, keys["call_center"])
    clock.now += timedelta(days=3)  # every acknowledge-by has passed
    results = await asyncio.gather(*(scan(app, clock) for _ in range(4)))
    assert sum(r["complaint.sla_breached"] for r in results) == 30
    assert len(await events(app, "complaint.sla_breached")) == 30
    async with app.state.db.read_engine.connect() as conn:
        notices = (await conn.execute(text("SELECT count(*) FROM deadline_notice"))).scalar()
    assert notices == 30


async def test_claim_deadline_breach_is_announced_once(app, client, keys, clock):
    # reported 60 days before the frozen now: the statutory decision limit has passed
    reported = (clock.now - timedelta(days=60)).isoformat()
    response = await put_claim(
        client, keys["claims_system"], "CLM-SCAN", reported_at=reported, accident_at=reported
    )
    assert response.status_code == 201, response.text
    overdue = [d for d in response.json()["deadlines"] if d["overdue"]]
    assert overdue, response.json()["deadlines"]
    counts = await scan(app, clock)
    assert counts["claim.deadline_breached"] == len(overdue)
    assert (await scan(app, clock))["claim.deadline_breached"] == 0
    announced = await events(app, "claim.deadline_breached")
    assert {e["deadline"] for e in announced} == {d["code"] for d in overdue}
    assert all(e["claim_no"] == "CLM-SCAN" for e in announced)
    # a later change of the claim makes the scanner look again, but nothing is repeated
    again = await put_claim(
        client, keys["claims_system"], "CLM-SCAN", reported_at=reported, accident_at=reported,
        region="beijing",
    )  # fmt: skip
    assert again.status_code == 200
    assert (await scan(app, clock))["claim.deadline_breached"] == 0


async def test_follow_up_due_is_announced_once_per_due_time(app, client, keys, clock):
    complaint = await file(client, keys["call_center"])
    due = clock.now + timedelta(hours=2)
    created = await follow_up(
        client, keys["call_center"], complaint["id"], "contact", due_at=due.isoformat()
    )
    assert created.status_code == 201, created.text
    fid = created.json()["id"]
    assert (await scan(app, clock))["follow_up.due"] == 0
    clock.now = due + timedelta(seconds=1)
    assert (await scan(app, clock))["follow_up.due"] == 1
    assert (await scan(app, clock))["follow_up.due"] == 0
    (event,) = await events(app, "follow_up.due")
    assert event["follow_up_id"] == fid and event["reference"] == complaint["reference"]
    # rescheduled: the new due time is announced when it comes
    later = clock.now + timedelta(hours=1)
    version = created.json()["version"]
    moved = await client.patch(
        f"/v1/follow-ups/{fid}",
        json={"due_at": later.isoformat()},
        headers={**keys["call_center"], "If-Match": f'"{version}"'},
    )
    assert moved.status_code == 200, moved.text
    clock.now = later + timedelta(seconds=1)
    assert (await scan(app, clock))["follow_up.due"] == 1
    # done follow-ups are never announced
    done = await follow_up(
        client, keys["call_center"], complaint["id"], "analysis",
        due_at=(clock.now + timedelta(minutes=5)).isoformat(),
    )  # fmt: skip
    finished = await client.patch(
        f"/v1/follow-ups/{done.json()['id']}",
        json={"status": "done", "outcome": "analysed"},
        headers=keys["call_center"],
    )
    assert finished.status_code == 200, finished.text
    clock.now += timedelta(hours=1)
    assert (await scan(app, clock))["follow_up.due"] == 0
