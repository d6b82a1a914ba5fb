"""Every follow-up, survey, improvement and teaching-case change is audited, with who did it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from tests.followups.helpers import file, follow_up, resolve

pytestmark = pytest.mark.usefixtures("clock")


async def test_changes_leave_audit_records(app, client, keys) -> None:
    cc, sup = keys["call_center"], keys["supervisor"]
    cid = (await file(client, cc))["id"]
    fid = (await follow_up(client, cc, cid)).json()["id"]
    await client.patch(
        f"/v1/follow-ups/{fid}", json={"status": "done", "outcome": "ok"}, headers=cc
    )
    await resolve(client, cc, cid)
    await client.post(
        f"/v1/complaints/{cid}/surveys",
        json={"method": "questionnaire", "score": 5, "resolved": True},
        headers=cc,
    )
    action = await client.post(
        "/v1/improvement-actions",
        json={
            "subcause": "timeliness.slow_assessment",
            "title": "Same-day survey slots",
            "owner": "ops",
            "due_at": "2026-12-31T00:00:00Z",
            "complaint_ids": [cid],
        },
        headers=sup,
    )
    await client.patch(
        f"/v1/improvement-actions/{action.json()['id']}",
        json={"status": "in_progress"},
        headers=sup,
    )
    await client.put(
        f"/v1/complaints/{cid}/teaching-case",
        json={"title": "t", "what_went_wrong": "w", "remedy": "r", "outcome": "o"},
        headers=sup,
    )
    async with app.state.db.read_sessionmaker() as session:
        rows = (await session.execute(select(AuditEvent.action, AuditEvent.actor))).all()
    audited = {(action, actor) for action, actor in rows}
    for expected in [
        ("follow_up.created", "test-call_center"),
        ("follow_up.done", "test-call_center"),
        ("complaint.resolve", "test-call_center"),
        ("survey.recorded", "test-call_center"),
        ("improvement_action.created", "test-supervisor"),
        ("improvement_action.updated", "test-supervisor"),
        ("teaching_case.marked", "test-supervisor"),
    ]:
        assert expected in audited, expected
