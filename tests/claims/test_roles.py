"""Each role against each claims endpoint: allowed, 401 (no or bad key), 403 (no right)."""

from __future__ import annotations

import httpx
import pytest

from tests.claims.helpers import CLAIM, assert_problem, put_claim

ALL_ROLES = ["call_center", "claims_system", "portal", "supervisor", "admin"]

# (method, path, body, roles allowed)
MATRIX = [
    ("PUT", "/v1/claims/CLM-R", CLAIM, {"claims_system", "admin"}),
    ("GET", "/v1/claims/CLM-1", None, {"claims_system", "call_center", "supervisor", "admin"}),
    (
        "POST",
        "/v1/claims/CLM-1/stage-events",
        {"stage": "withdrawn", "occurred_at": "2026-11-03T09:00:00+08:00"},
        {"claims_system", "admin"},
    ),
    ("GET", "/v1/claims/CLM-1/progress", None, set(ALL_ROLES)),
    ("GET", "/v1/claims", None, {"claims_system", "supervisor", "admin"}),
]


@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize(("method", "path", "body", "allowed"), MATRIX)
@pytest.mark.parametrize("role", ALL_ROLES)
async def test_role_matrix(
    client: httpx.AsyncClient, keys, method, path, body, allowed, role
) -> None:
    await put_claim(client, keys["claims_system"])
    response = await client.request(method, path, json=body, headers=keys[role])
    if role in allowed:
        assert response.status_code in (200, 201), response.text
    else:
        problem = assert_problem(response, 403)
        assert role in problem["detail"]


@pytest.mark.parametrize(("method", "path", "body", "allowed"), MATRIX)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer cdk_not-a-key"}, {"Authorization": "Basic dXNlcjpwdw=="}],
)
async def test_missing_or_bad_key_is_401(
    client: httpx.AsyncClient, keys, method, path, body, allowed, headers
) -> None:
    response = await client.request(method, path, json=body, headers=headers)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_revoked_key_stops_working(client: httpx.AsyncClient, app, keys) -> None:
    from datetime import UTC, datetime

    from app.auth import service

    assert (await client.get("/v1/claims", headers=keys["supervisor"])).status_code == 200
    async with app.state.db.session() as session:
        await service.revoke_key(session, name="test-supervisor", now=datetime.now(UTC))
        await session.commit()
    assert_problem(await client.get("/v1/claims", headers=keys["supervisor"]), 401)


async def test_keys_are_stored_hashed(app, keys) -> None:
    from sqlalchemy import text

    async with app.state.db.read_engine.connect() as conn:
        rows = (await conn.execute(text("SELECT key_hash, prefix FROM api_key"))).all()
    plain = [h["Authorization"].removeprefix("Bearer ") for h in keys.values()]
    stored = " ".join(f"{r[0]} {r[1]}" for r in rows)
    assert rows and not any(p in stored for p in plain)
