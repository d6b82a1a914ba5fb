"""Claims at risk: the ranking and its reasons, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.reports.rules import FACTORS, explain
from tests.claims.helpers import move, put_claim
from tests.followups.helpers import file

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 20:00 Beijing


@pytest.fixture
async def claims(client, keys, clock) -> None:
    h = keys["claims_system"]
    clock.now = NOW
    # R1: sent back from adjustment, asked for a document not asked for before, complained about.
    await put_claim(
        client, h, "CLM-R1", region="guangdong",
        accident_at="2026-11-01T08:00:00+08:00", reported_at="2026-11-01T09:00:00+08:00",
    )  # fmt: skip
    for stage, at, extra in [
        ("survey_assessment", "2026-11-02T09:00:00+08:00", {}),
        ("document_review", "2026-11-03T09:00:00+08:00", {"missing_documents": ["invoice", "id"]}),
        ("adjustment", "2026-11-06T09:00:00+08:00", {}),
        ("document_review", "2026-11-08T09:00:00+08:00", {"missing_documents": ["estimate"]}),
    ]:
        response = await move(client, h, stage, at, "CLM-R1", **extra)
        assert response.status_code in (200, 201), response.text
    await file(client, keys["call_center"], claim_no="CLM-R1")
    # R2: reported this morning, nothing wrong yet.
    await put_claim(
        client, h, "CLM-R2", region="zhejiang",
        accident_at="2026-11-24T08:00:00+08:00", reported_at="2026-11-24T10:00:00+08:00",
    )  # fmt: skip
    # R3: settled, not at risk any more.
    await put_claim(
        client, h, "CLM-R3", region="guangdong",
        accident_at="2026-10-01T08:00:00+08:00", reported_at="2026-10-01T09:00:00+08:00",
    )  # fmt: skip
    for stage, at, extra in [
        ("survey_assessment", "2026-10-02T09:00:00+08:00", {}),
        ("document_review", "2026-10-03T09:00:00+08:00", {}),
        ("adjustment", "2026-10-04T09:00:00+08:00", {}),
        ("approval", "2026-10-05T09:00:00+08:00", {"amount": "3800.00"}),
        ("settled", "2026-10-06T09:00:00+08:00", {}),
    ]:
        response = await move(client, h, stage, at, "CLM-R3", **extra)
        assert response.status_code in (200, 201), response.text


async def test_ranking_and_reasons(client, keys, claims) -> None:
    response = await client.get("/v1/reports/claims-at-risk", headers=keys["supervisor"])
    assert response.status_code == 200, response.text
    report = response.json()
    ranked = [c["claim_no"] for c in report["claims"]]
    assert ranked == ["CLM-R1", "CLM-R2"]
    r1, r2 = report["claims"]
    factors = {f["factor"]: f for f in r1["factors"]}
    assert factors["stage_time"]["value"] == pytest.approx((16 + 11 / 24) / 5, abs=0.001)
    assert factors["stage_time"]["contribution"] == 3.0  # capped
    assert factors["backward_moves"]["value"] == 1
    assert factors["earlier_complaints"]["value"] == 1
    assert factors["outstanding_documents"]["value"] == 1
    assert factors["repeat_document_request"]["value"] == 1
    for claim in report["claims"]:
        # The ranking (in SQL) and the explanation (in Python) agree.
        assert claim["score"] == pytest.approx(claim["database_score"], abs=1e-3)
        assert claim["score"] == pytest.approx(
            sum(f["contribution"] for f in claim["factors"]), abs=1e-3
        )
    # R2's first internal target (a day in `reported`) falls due tomorrow morning.
    assert {f["factor"] for f in r2["factors"]} == {"stage_time", "deadline_due_soon"}
    r2_time = next(f for f in r2["factors"] if f["factor"] == "stage_time")
    assert r2_time["value"] == pytest.approx(10 / 24, abs=0.01)
    assert r1["stage_label"] and r1["region"] == "guangdong"
    assert [f["factor"] for f in report["factors"]] == [f.code for f in FACTORS]


async def test_region_filter_and_limit(client, keys, claims) -> None:
    s = keys["supervisor"]
    region = await client.get(
        "/v1/reports/claims-at-risk", params={"region": "zhejiang"}, headers=s
    )
    assert [c["claim_no"] for c in region.json()["claims"]] == ["CLM-R2"]
    one = await client.get("/v1/reports/claims-at-risk", params={"limit": 1}, headers=s)
    assert [c["claim_no"] for c in one.json()["claims"]] == ["CLM-R1"]


def test_explain_caps_and_weighs() -> None:
    score, parts = explain({"stage_time": 10, "deadline_overdue": 1, "earlier_complaints": 0})
    assert score == 3.0 * 1.0 + 1 * 3.0
    assert [p["factor"] for p in parts] == ["stage_time", "deadline_overdue"]
    assert explain({}) == (0, [])
