"""Shared builders for claims API tests."""

from __future__ import annotations

from typing import Any

import httpx

CLAIM = {
    "policy_no": "PDAA202644010000123",
    "plate_no": "粵B·12345",
    "insured_name": "張三明",
    "insured_phone": "13812345678",
    "accident_at": "2026-11-02T08:30:00+08:00",
    "reported_at": "2026-11-02T09:05:00+08:00",
    "region": "guangdong",
}


async def put_claim(
    client: httpx.AsyncClient, headers: dict[str, str], claim_no: str = "CLM-1", **fields: Any
) -> httpx.Response:
    """PUT a claim with the default body, fields overridden."""
    body = {**CLAIM, **fields}
    return await client.put(f"/v1/claims/{claim_no}", json=body, headers=headers)


async def move(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    stage: str,
    occurred_at: str,
    claim_no: str = "CLM-1",
    **fields: Any,
) -> httpx.Response:
    """POST a stage event."""
    body = {"stage": stage, "occurred_at": occurred_at, **fields}
    return await client.post(f"/v1/claims/{claim_no}/stage-events", json=body, headers=headers)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["type"] and body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body
