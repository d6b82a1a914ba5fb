"""Deadlines counted on an unannounced holiday year firm up once a schedule is loaded."""

from __future__ import annotations

import json

import httpx

from app.main import create_app
from tests.claims.helpers import move, put_claim
from tests.conftest import make_settings


async def test_provisional_deadline_firms_up_with_a_schedule_file(
    client: httpx.AsyncClient, keys, clock, database_url, tmp_path
) -> None:
    h = keys["claims_system"]
    await put_claim(client, h)
    await move(client, h, "survey_assessment", "2026-11-03T09:00:00+08:00")
    await move(client, h, "document_review", "2026-11-04T09:00:00+08:00")
    before = (await client.get("/v1/claims/CLM-1/progress", headers=keys["portal"])).json()
    advance = {d["code"]: d for d in before["deadlines"]}["claim.advance_payment"]
    # 60 days from 2026-11-04 ends on Sunday 2027-01-03, in a year not announced in the
    # library: counted as weekends plus statutory holidays, the last day moves to Monday.
    assert advance["provisional"] is True
    assert advance["due_at"] == "2027-01-05T00:00:00+08:00"

    # The operator loads 2027's schedule, which makes Monday 2027-01-04 a holiday.
    schedule = tmp_path / "holidays.json"
    schedule.write_text(
        json.dumps({"years": {"2027": {"holidays": ["2027-01-01", "2027-01-04"], "workdays": []}}})
    )
    announced = create_app(make_settings(database_url, holiday_schedule_file=schedule))
    async with announced.router.lifespan_context(announced):
        transport = httpx.ASGITransport(app=announced)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
            after = (await other.get("/v1/claims/CLM-1/progress", headers=keys["portal"])).json()
    firmed = {d["code"]: d for d in after["deadlines"]}["claim.advance_payment"]
    assert firmed["provisional"] is False
    # 2027-01-03 is a Sunday, 01-04 a declared holiday: the last day moves to Tuesday 01-05.
    assert firmed["due_at"] == "2027-01-06T00:00:00+08:00"
