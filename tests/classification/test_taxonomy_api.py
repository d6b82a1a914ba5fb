"""GET /v1/taxonomy: every role, fixed codes, three languages."""

from __future__ import annotations

import httpx
import pytest

from tests.claims.helpers import assert_problem


@pytest.mark.parametrize("role", ["call_center", "claims_system", "portal", "supervisor", "admin"])
async def test_every_role_reads_the_taxonomy(client: httpx.AsyncClient, keys, role) -> None:
    response = await client.get("/v1/taxonomy", headers=keys[role])
    assert response.status_code == 200
    categories = response.json()["categories"]
    assert [c["code"] for c in categories] == [
        "service_quality",
        "payout_dispute",
        "timeliness",
        "other",
    ]
    assert all(len(c["subcauses"]) == 4 for c in categories)
    timeliness = categories[2]
    assert timeliness["labels"] == {
        "zh-Hant": "理賠時效問題",
        "zh-Hans": "理赔时效问题",
        "en": "Claim timeliness",
    }
    assert timeliness["subcauses"][3]["code"] == "timeliness.payment_delay"
    payment = timeliness["subcauses"][3]["descriptions"]
    assert payment["en"].startswith("The payment was agreed")
    assert payment["zh-Hans"] == "赔款已同意或已审批，但没有按时到账。"
    assert payment["zh-Hant"] == "賠款已同意或已審批，但沒有按時到賬。"
    for category in categories:
        assert all(category["descriptions"].values())
        for subcause in category["subcauses"]:
            assert all(subcause["descriptions"].values())


async def test_taxonomy_needs_a_key(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/taxonomy"), 401)
