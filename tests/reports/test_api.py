"""Reports on known data with hand-computed figures, on SQLite and PostgreSQL.

The data (Beijing time, UTC+8), all complaints received in 2026Q3 unless noted:
  C1 Jul 10 10:00 phone   timeliness.slow_assessment          amy  ack +2 h, replied +4 d,
                                                                   resolved +5 d, survey 4
  C2 Jul 15 10:00 web     timeliness.payment_delay            amy  ack +30 h (late), replied
                                                                   +20 d (late), resolved +20 d,
                                                                   survey 3
  C3 Aug 01 09:00 regulator_referral
                          payout_dispute.terms_not_explained  bob  escalated to the regulator,
                                                                   extended (complex), never
                                                                   acknowledged: overdue
  C4 Aug 20 09:00 app     other.staff_misconduct              bob  ack +1 h, withdrawn +3 d
  C5 Sep 10 09:00 phone   service_quality.poor_attitude       –    ack +1 h, resolved +2 d,
                                                                   reopened, resolved +4 d
  C6 Sep 30 23:00 email   timeliness.slow_assessment          amy  claim CLM-R1 (guangdong,
                                                                   survey_assessment), open
  P1 May 05 10:00 phone   timeliness.slow_assessment (previous period)
  P2 Jun 30 23:30 web     service_quality.poor_attitude (previous period)
  X1 Oct 01 00:00 phone   (next quarter: excluded)
"Now" is 2026-11-24 12:00 UTC.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.claims.helpers import assert_problem, move, put_claim
from tests.followups.helpers import act, follow_up

BJT = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
Q3 = {"from": "2026-07-01T00:00:00+08:00", "to": "2026-10-01T00:00:00+08:00"}


def bjt(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BJT)


class Builder:
    """Drives the API at chosen instants (the app's clock is moved before each call)."""

    def __init__(self, client, keys, clock) -> None:
        self.client, self.keys, self.clock = client, keys, clock
        self.cc, self.sup = keys["call_center"], keys["supervisor"]

    async def at(self, when: datetime, coroutine_factory):
        self.clock.now = when
        response = await coroutine_factory()
        assert response.status_code < 300, response.text
        return response

    async def complaint(self, received: datetime, channel: str, subcause: str, **extra) -> int:
        body = {
            "channel": channel,
            "text": "投诉",
            "complainant": {"name": "張三明", "phone": "13812345678"},
            "received_at": received.isoformat(),
            **extra,
        }
        self.clock.now = received
        created = await self.client.post("/v1/complaints", json=body, headers=self.cc)
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        overridden = await self.client.put(
            f"/v1/complaints/{cid}/classification",
            json={"subcause": subcause, "reason": "report fixture"},
            headers=self.sup,
        )
        assert overridden.status_code == 200, overridden.text
        return cid

    async def assign(self, cid: int, handler: str) -> None:
        response = await self.client.patch(
            f"/v1/complaints/{cid}", json={"assignee": handler}, headers=self.sup
        )
        assert response.status_code == 200, response.text

    async def action(self, cid: int, when: datetime, action: str, **extra) -> None:
        await self.at(when, lambda: act(self.client, self.cc, cid, action, **extra))

    async def resolve(self, cid: int, replied: datetime, resolved: datetime) -> None:
        await self.at(replied, lambda: follow_up(self.client, self.cc, cid, "resolution_proposal"))
        await self.action(cid, replied, "propose_resolution", notified=True)
        await self.action(cid, resolved, "resolve", notified=True)

    async def survey(self, cid: int, when: datetime, score: int) -> None:
        await self.at(
            when,
            lambda: self.client.post(
                f"/v1/complaints/{cid}/surveys",
                json={"method": "questionnaire", "score": score, "resolved": True},
                headers=self.cc,
            ),
        )


@pytest.fixture
async def data(client, keys, clock) -> dict[str, int]:
    b = Builder(client, keys, clock)
    ids = {}
    c1 = ids["C1"] = await b.complaint(bjt(7, 10, 10), "phone", "timeliness.slow_assessment")
    await b.assign(c1, "amy")
    await b.action(c1, bjt(7, 10, 12), "acknowledge")
    await b.action(c1, bjt(7, 11, 10), "start_investigation")
    await b.resolve(c1, bjt(7, 14, 10), bjt(7, 15, 10))
    await b.survey(c1, bjt(7, 16, 10), 4)

    c2 = ids["C2"] = await b.complaint(bjt(7, 15, 10), "web", "timeliness.payment_delay")
    await b.assign(c2, "amy")
    await b.action(c2, bjt(7, 16, 16), "acknowledge")
    await b.action(c2, bjt(7, 17, 10), "start_investigation")
    await b.resolve(c2, bjt(8, 4, 10), bjt(8, 4, 10))
    await b.survey(c2, bjt(8, 5, 10), 3)

    c3 = ids["C3"] = await b.complaint(
        bjt(8, 1, 9), "regulator_referral", "payout_dispute.terms_not_explained"
    )
    await b.assign(c3, "bob")
    await b.action(c3, bjt(8, 2, 9), "escalate", level="regulator")
    await b.action(c3, bjt(8, 3, 9), "extend_deadline", reason="complex", note="told by phone")

    c4 = ids["C4"] = await b.complaint(bjt(8, 20, 9), "app", "other.staff_misconduct")
    await b.assign(c4, "bob")
    await b.action(c4, bjt(8, 20, 10), "acknowledge")
    await b.action(c4, bjt(8, 23, 9), "close", reason="withdrawn")

    c5 = ids["C5"] = await b.complaint(bjt(9, 10, 9), "phone", "service_quality.poor_attitude")
    await b.action(c5, bjt(9, 10, 10), "acknowledge")
    await b.action(c5, bjt(9, 10, 11), "start_investigation")
    await b.resolve(c5, bjt(9, 11, 9), bjt(9, 12, 9))
    await b.action(c5, bjt(9, 12, 12), "reopen")
    await b.resolve(c5, bjt(9, 14, 9), bjt(9, 14, 9))

    clock.now = bjt(9, 25, 9)
    claims = keys["claims_system"]
    assert (
        await put_claim(
            client,
            claims,
            "CLM-R1",
            region="guangdong",
            accident_at="2026-09-24T08:00:00+08:00",
            reported_at="2026-09-25T09:00:00+08:00",
        )
    ).status_code in (200, 201)
    clock.now = bjt(9, 26, 9)
    moved = await move(client, claims, "survey_assessment", "2026-09-26T09:00:00+08:00", "CLM-R1")
    assert moved.status_code in (200, 201), moved.text
    c6 = ids["C6"] = await b.complaint(
        bjt(9, 30, 23), "email", "timeliness.slow_assessment", claim_no="CLM-R1"
    )
    await b.assign(c6, "amy")

    ids["P1"] = await b.complaint(bjt(5, 5, 10), "phone", "timeliness.slow_assessment")
    ids["P2"] = await b.complaint(bjt(6, 30, 23, 30), "web", "service_quality.poor_attitude")
    ids["X1"] = await b.complaint(bjt(10, 1, 0), "phone", "timeliness.slow_assessment")
    clock.now = NOW
    return ids


async def get(client, keys, path: str, **params):
    response = await client.get(f"/v1/reports/{path}", params=params, headers=keys["supervisor"])
    assert response.status_code == 200, response.text
    return response.json()


async def test_summary_by_category_with_previous_period(client, keys, data) -> None:
    report = await get(client, keys, "summary", group_by="category", **Q3)
    assert (report["total"], report["previous_total"], report["change"]) == (6, 2, 4)
    assert report["previous_from"] == "2026-03-30T16:00:00Z"  # 92 days before 1 July
    groups = {g["key"]: g for g in report["groups"]}
    assert [g["key"] for g in report["groups"]] == [
        "timeliness",
        "other",
        "payout_dispute",
        "service_quality",
    ]
    assert groups["timeliness"]["count"] == 3 and groups["timeliness"]["share"] == 0.5
    assert groups["timeliness"]["previous_count"] == 1 and groups["timeliness"]["change"] == 2
    assert groups["timeliness"]["change_ratio"] == 2.0
    assert groups["service_quality"]["previous_count"] == 1
    assert groups["service_quality"]["change"] == 0
    assert groups["payout_dispute"]["previous_count"] == 0
    assert groups["payout_dispute"]["change_ratio"] is None
    assert groups["timeliness"]["label"] == "理赔时效问题"
    assert sum(g["count"] for g in report["groups"]) == report["total"]


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ("channel", {"phone": 2, "web": 1, "regulator_referral": 1, "app": 1, "email": 1}),
        ("handler", {"amy": 3, "bob": 2, "unassigned": 1}),
        ("stage", {"unknown": 5, "survey_assessment": 1}),
        ("month", {"2026-07": 2, "2026-08": 2, "2026-09": 2}),
        (
            "week",
            {
                "2026-07-06": 1,
                "2026-07-13": 1,
                "2026-07-27": 1,
                "2026-08-17": 1,
                "2026-09-07": 1,
                "2026-09-28": 1,
            },
        ),
        (
            "subcause",
            {
                "timeliness.slow_assessment": 2,
                "timeliness.payment_delay": 1,
                "payout_dispute.terms_not_explained": 1,
                "other.staff_misconduct": 1,
                "service_quality.poor_attitude": 1,
            },
        ),
    ],
)
async def test_summary_groupings(client, keys, data, group_by, expected) -> None:
    report = await get(client, keys, "summary", group_by=group_by, **Q3)
    assert {g["key"]: g["count"] for g in report["groups"]} == expected


async def test_summary_by_day_uses_local_days(client, keys, data) -> None:
    report = await get(client, keys, "summary", group_by="day", **Q3)
    days = [g["key"] for g in report["groups"]]
    assert days == sorted(days) and "2026-09-30" in days  # 23:00 Beijing, 15:00 UTC
    assert all(g["previous_count"] is None for g in report["groups"])


async def test_summary_filters(client, keys, data) -> None:
    phone = await get(client, keys, "summary", group_by="category", channel="phone", **Q3)
    assert {g["key"]: g["count"] for g in phone["groups"]} == {
        "timeliness": 1,
        "service_quality": 1,
    }
    assert phone["previous_total"] == 1  # P1
    region = await get(client, keys, "summary", group_by="channel", region="guangdong", **Q3)
    assert region["total"] == 1 and region["groups"][0]["key"] == "email"
    category = await get(client, keys, "summary", group_by="handler", category="timeliness", **Q3)
    # P1 (previous period, unassigned) keeps its group with a count of 0 and a change of -1.
    assert {g["key"]: (g["count"], g["change"]) for g in category["groups"]} == {
        "amy": (3, 3),
        "unassigned": (0, -1),
    }


async def test_sla_figures(client, keys, data) -> None:
    report = await get(client, keys, "sla", **Q3)
    overall = report["overall"]
    assert overall["received"] == 6
    assert (overall["acknowledged_on_time"], overall["acknowledgements_due"]) == (3, 6)
    assert overall["acknowledged_on_time_share"] == 0.5 and overall["acknowledge_breaches"] == 3
    assert (overall["replied_on_time"], overall["replies_due"]) == (2, 5)
    assert overall["replied_on_time_share"] == 0.4 and overall["reply_breaches"] == 3
    assert overall["currently_overdue"] == 2 and overall["extended"] == 1
    # Handling (receipt → resolution or closure): 120 h, 480 h, 72 h, 96 h.
    assert overall["mean_handling_hours"] == 192.0
    assert overall["p90_handling_hours"] == 480.0
    by_handler = {g["key"]: g for g in report["by_handler"]}
    assert by_handler["amy"]["received"] == 3 and by_handler["amy"]["currently_overdue"] == 1
    assert by_handler["bob"]["extended"] == 1
    assert by_handler["unassigned"]["mean_handling_hours"] == 96.0
    by_category = {g["key"]: g for g in report["by_category"]}
    assert by_category["timeliness"]["p90_handling_hours"] == 480.0
    assert by_category["timeliness"]["mean_handling_hours"] == 300.0


async def test_handler_report_sorted(client, keys, data) -> None:
    report = await get(client, keys, "handlers", **Q3)
    amy, bob = report["handlers"]
    assert (amy["handler"], amy["handled"], amy["replied"], amy["on_time_rate"]) == (
        "amy",
        3,
        2,
        0.5,
    )
    assert (amy["surveys"], amy["mean_satisfaction"], amy["resolved"]) == (2, 3.5, 2)
    assert (amy["survey_response_rate"], amy["reopen_rate"], amy["escalations"]) == (1.0, 0.0, 0)
    assert (bob["handler"], bob["handled"], bob["escalations"]) == ("bob", 2, 1)
    assert bob["on_time_rate"] is None and bob["mean_satisfaction"] is None
    ascending = await get(client, keys, "handlers", sort="escalations", order="desc", **Q3)
    assert [h["handler"] for h in ascending["handlers"]] == ["bob", "amy"]


async def test_regulatory_return_adds_up(client, keys, data) -> None:
    report = await get(client, keys, "regulatory", period="2026Q3")
    assert report["total"] == 6 and report["line_of_business"] == "机动车辆保险"
    assert {r["key"]: r["count"] for r in report["by_dispute_type"]} == {
        "claims": 4,
        "sales": 1,
        "surrender": 0,
        "other": 1,
    }
    for section in ("by_dispute_type", "by_category", "by_channel", "by_claim_stage", "by_region"):
        assert sum(r["count"] for r in report[section]) == report["total"], section
    assert {r["key"]: r["count"] for r in report["by_region"]} == {"guangdong": 1, "unknown": 5}
    assert (report["replied"], report["handled_within_limit"]) == (3, 2)
    assert report["extended"] == 1 and report["withdrawn"] == 1
    assert report["forwarded_by_regulator"] == 1 and report["escalated_to_regulator"] == 1


async def test_regulatory_csv_matches_the_json(client, keys, data) -> None:
    response = await client.get(
        "/v1/reports/regulatory",
        params={"period": "2026Q3"},
        headers={**keys["supervisor"], "Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    total = int(next(r["count"] for r in rows if r["section"] == "total"))
    assert total == 6
    for section in ("by_dispute_type", "by_category", "by_channel", "by_claim_stage", "by_region"):
        assert sum(int(r["count"]) for r in rows if r["section"] == section) == total


async def test_empty_period(client, keys) -> None:
    params = {"from": "2025-01-01T00:00:00+08:00", "to": "2025-04-01T00:00:00+08:00"}
    summary = await get(client, keys, "summary", **params)
    assert summary["total"] == 0 and summary["groups"] == []
    sla = await get(client, keys, "sla", **params)
    assert sla["overall"]["received"] == 0 and sla["overall"]["p90_handling_hours"] is None
    assert (await get(client, keys, "handlers", **params))["handlers"] == []
    regulatory = await get(client, keys, "regulatory", period="2025Q1")
    assert regulatory["total"] == 0
    assert all(r["count"] == 0 for r in regulatory["by_dispute_type"])


async def test_a_period_with_only_reopened_complaints(client, keys, clock) -> None:
    b = Builder(client, keys, clock)
    cid = await b.complaint(bjt(3, 2, 9), "phone", "service_quality.poor_attitude")
    await b.assign(cid, "amy")
    await b.action(cid, bjt(3, 2, 10), "acknowledge")
    await b.action(cid, bjt(3, 2, 11), "start_investigation")
    await b.resolve(cid, bjt(3, 3, 9), bjt(3, 3, 9))
    await b.action(cid, bjt(3, 4, 9), "reopen")
    clock.now = NOW
    params = {"from": "2026-03-01T00:00:00+08:00", "to": "2026-04-01T00:00:00+08:00"}
    [amy] = (await get(client, keys, "handlers", **params))["handlers"]
    assert (amy["handled"], amy["reopened"], amy["reopen_rate"], amy["resolved"]) == (1, 1, 1.0, 1)
    sla = (await get(client, keys, "sla", **params))["overall"]
    assert sla["mean_handling_hours"] is None  # reopened: no resolution now
    assert sla["replied_on_time"] == 1 and sla["currently_overdue"] == 0


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("summary", {"from": "2026-10-01T00:00:00Z", "to": "2026-07-01T00:00:00Z"}),
        ("summary", {"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}),
        ("summary", {**Q3, "group_by": "year"}),
        ("summary", {"to": "2026-07-01T00:00:00Z"}),
        ("handlers", {**Q3, "sort": "name"}),
        ("regulatory", {"period": "2026Q5"}),
        ("regulatory", {}),
        ("claims-at-risk", {"limit": 0}),
    ],
)
async def test_bad_report_parameters_are_422(client, keys, path, params) -> None:
    response = await client.get(f"/v1/reports/{path}", params=params, headers=keys["supervisor"])
    assert_problem(response, 422)


@pytest.mark.parametrize(
    ("role", "status"),
    [("supervisor", 200), ("admin", 200), ("call_center", 403), ("portal", 403), (None, 401)],
)
@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("summary", Q3),
        ("sla", Q3),
        ("handlers", Q3),
        ("regulatory", {"period": "2026Q3"}),
        ("claims-at-risk", {}),
    ],
)
async def test_report_roles(client, keys, role, status, path, params) -> None:
    response = await client.get(
        f"/v1/reports/{path}", params=params, headers=keys[role] if role else {}
    )
    assert response.status_code == status
