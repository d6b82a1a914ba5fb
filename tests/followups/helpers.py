"""Builders shared by follow-up, survey and improvement tests."""

from __future__ import annotations

from typing import Any

import httpx

COMPLAINT = {
    "channel": "phone",
    "text": "定损拖了两个月还没结果，一直没定损",
    "complainant": {"name": "張三明", "phone": "13812345678"},
}


async def file(client: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> dict:
    """A new complaint (status received)."""
    response = await client.post("/v1/complaints", json={**COMPLAINT, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def act(
    client: httpx.AsyncClient, headers: dict[str, str], cid: int, action: str, **extra: Any
) -> httpx.Response:
    """Apply a lifecycle action."""
    return await client.post(
        f"/v1/complaints/{cid}/transitions", json={"action": action, **extra}, headers=headers
    )


async def follow_up(
    client: httpx.AsyncClient, headers: dict[str, str], cid: int, kind: str = "contact", **extra
) -> httpx.Response:
    """Add a follow-up."""
    body = {"kind": kind, "note": f"{kind} note", **extra}
    return await client.post(f"/v1/complaints/{cid}/follow-ups", json=body, headers=headers)


async def resolve(client: httpx.AsyncClient, headers: dict[str, str], cid: int) -> dict:
    """Take a complaint from wherever it is (received or investigating) to resolved."""
    current = (await client.get(f"/v1/complaints/{cid}", headers=headers)).json()["status"]
    if current == "received":
        assert (await act(client, headers, cid, "acknowledge")).status_code == 200
        assert (await act(client, headers, cid, "start_investigation")).status_code == 200
    proposal = await follow_up(client, headers, cid, "resolution_proposal")
    assert proposal.status_code == 201, proposal.text
    proposed = await act(client, headers, cid, "propose_resolution", notified=True)
    assert proposed.status_code == 200, proposed.text
    response = await act(client, headers, cid, "resolve", notified=True)
    assert response.status_code == 200, response.text
    return response.json()


async def resolved_complaint(client: httpx.AsyncClient, headers: dict[str, str]) -> dict:
    """A new complaint, resolved."""
    complaint = await file(client, headers)
    return await resolve(client, headers, complaint["id"])


async def timeline(client: httpx.AsyncClient, headers: dict[str, str], cid: int) -> list[dict]:
    """The complaint's timeline entries."""
    response = await client.get(f"/v1/complaints/{cid}/timeline", headers=headers)
    assert response.status_code == 200
    return response.json()["items"]
