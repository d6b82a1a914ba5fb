"""Per-key rate limits and revocation, in-process on both databases.

Across real replicas: tests/auth/test_replicas.py.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text

from app.auth import service as auth_service
from app.auth.ratelimit import WINDOW_SECONDS, RateLimiter, chunk_size, granted, purge_windows
from app.auth.roles import Role
from app.core.db import Database

PROGRESS = "/v1/taxonomy"
T0 = 1_800_000_000.0  # a window boundary (divisible by 60)


def test_chunk_size_is_a_twentieth_of_the_limit_within_bounds() -> None:
    assert chunk_size(1) == 1
    assert chunk_size(40) == 2
    assert chunk_size(12_000) == 100
    assert chunk_size(10**9) == 100


@pytest.mark.parametrize(
    ("limit", "after", "asked", "expected"),
    [
        (10, 5, 5, 5),  # the first reservation of a window
        (10, 10, 5, 5),  # exactly up to the limit
        (10, 12, 5, 3),  # only 3 were left
        (10, 15, 5, 0),  # none were left
        (10, 40, 5, 0),  # far past (asks keep being counted)
    ],
)
def test_a_reservation_gets_what_was_left_under_the_limit(limit, after, asked, expected) -> None:
    assert granted(limit, after, asked) == expected


async def _key(app, name: str, rate_limit: int | None, role: Role = Role.portal) -> dict:
    db: Database = app.state.db
    async with db.session() as session:
        _, key = await auth_service.create_key(
            session, name=name, role=role, now=datetime.now(UTC), rate_limit=rate_limit
        )
        await session.commit()
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def frozen_window(app) -> list[float]:
    """The limiter's clock, at the start of a window; append to move it."""
    now = [T0]
    app.state.rate_limiter.clock = lambda: now[-1]
    return now


async def test_a_key_gets_its_limit_then_429_with_retry_after(
    app, client: httpx.AsyncClient, frozen_window: list[float]
) -> None:
    limited = await _key(app, "limited", 5)
    other = await _key(app, "other", 5)
    for _ in range(5):
        assert (await client.get(PROGRESS, headers=limited)).status_code == 200
    frozen_window.append(T0 + 15.2)
    refused = await client.get(PROGRESS, headers=limited)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "45"
    body = refused.json()
    assert body["type"].endswith("/rate-limited")
    assert body["retry_after"] == 45
    assert "limited" in body["detail"]
    # another key has its own count
    assert (await client.get(PROGRESS, headers=other)).status_code == 200
    # the next window starts afresh
    frozen_window.append(T0 + WINDOW_SECONDS)
    assert (await client.get(PROGRESS, headers=limited)).status_code == 200


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_per_minute": 3}])
async def test_keys_without_their_own_limit_take_the_default_and_zero_is_unlimited(
    app, client: httpx.AsyncClient, frozen_window: list[float]
) -> None:
    default = await _key(app, "default", None)
    unlimited = await _key(app, "unlimited", 0)
    statuses = [(await client.get(PROGRESS, headers=default)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    for _ in range(20):
        assert (await client.get(PROGRESS, headers=unlimited)).status_code == 200


async def test_refusals_count_too_and_a_forbidden_call_still_uses_a_request(
    app, client: httpx.AsyncClient, frozen_window: list[float]
) -> None:
    key = await _key(app, "portal", 2)
    assert (await client.get("/v1/complaints", headers=key)).status_code == 403
    assert (await client.get(PROGRESS, headers=key)).status_code == 200
    assert (await client.get(PROGRESS, headers=key)).status_code == 429


async def test_concurrent_requests_never_exceed_the_limit(
    app, client: httpx.AsyncClient, frozen_window: list[float]
) -> None:
    key = await _key(app, "burst", 40)
    responses = await asyncio.gather(*(client.get(PROGRESS, headers=key) for _ in range(100)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 40
    assert statuses.count(429) == 60


async def test_a_revoked_key_stops_working_at_the_next_request(
    app, client: httpx.AsyncClient
) -> None:
    key = await _key(app, "to-revoke", None)
    assert (await client.get(PROGRESS, headers=key)).status_code == 200
    db: Database = app.state.db
    async with db.session() as session:
        await auth_service.revoke_key(session, name="to-revoke", now=datetime.now(UTC))
        await session.commit()
    # in-process keys are not cached (conftest); caches and NOTIFY: test_key_cache, test_replicas
    response = await client.get(PROGRESS, headers=key)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


async def test_two_processes_on_one_database_share_the_limit(app) -> None:
    """Two limiters on one database (two replicas, or two uvicorn workers on SQLite): their
    interleaved and concurrent requests together get exactly the limit."""
    key_id = 4242
    now = [T0 + 1]
    first, second = (
        RateLimiter(app.state.db, default_per_minute=0, clock=lambda: now[-1]) for _ in range(2)
    )
    verdicts = [await limiter.check(key_id, 40) for _ in range(30) for limiter in (first, second)]
    assert verdicts.count(None) == 40
    now.append(T0 + WINDOW_SECONDS + 1)  # the next window, this time all at once
    burst = await asyncio.gather(
        *(limiter.check(key_id, 40) for _ in range(50) for limiter in (first, second))
    )
    assert burst.count(None) == 40


async def test_maintenance_purges_ended_windows_and_keeps_the_current_two(app) -> None:
    db: Database = app.state.db
    now = datetime.fromtimestamp(T0 + 10 * WINDOW_SECONDS, UTC)
    current = int(now.timestamp() // WINDOW_SECONDS)
    for window in (current - 3, current - 2, current - 1, current):
        limiter = RateLimiter(db, default_per_minute=0, clock=lambda w=window: w * WINDOW_SECONDS)
        assert await limiter.check(7, 10) is None
    async with db.transaction() as conn:
        await purge_windows(conn, now)
    async with db.read_sessionmaker() as session:
        rows = await session.execute(text("SELECT window_start FROM rate_window ORDER BY 1"))
        assert [r[0] for r in rows] == [current - 1, current]
