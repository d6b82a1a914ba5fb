"""Rate limits and revocation across real server processes.

Two `claimdesk serve` replicas on one PostgreSQL database share each key's limit (reservations
on `rate_window`) and both refuse a revoked key at once (NOTIFY on `api_key` drops their key
caches, which are set to live for minutes here so that only the notification can explain it).
On SQLite, one server refuses a key revoked by the command-line tool at its next request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI, PG_UP, create_pg_database, drop_pg_database
from tests.servers import (
    STARTUP_SECONDS,
    Server,
    cli,
    create_key,
    start_server,
    stop_server,
    wait_for_admin_key,
    wait_healthy,
)

PATH = "/v1/taxonomy"
CACHE_ENV = {"CLAIMDESK_KEY_CACHE_SECONDS": "600"}


@contextmanager
def _servers(url: str, tmp_path: Path, count: int) -> Iterator[list[Server]]:
    deadline = time.monotonic() + STARTUP_SECONDS
    servers = [start_server(url, tmp_path / "s0.log", env=CACHE_ENV)]
    try:
        wait_for_admin_key(servers[0], deadline)
        for index in range(1, count):
            servers.append(start_server(url, tmp_path / f"s{index}.log", env=CACHE_ENV))
        for server in servers:
            wait_healthy(server, deadline)
        yield servers
    finally:
        for server in servers:
            stop_server(server)


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not PG_UP:
        if IN_CI:
            pytest.fail("PostgreSQL is required in CI")
        pytest.skip("PostgreSQL is not running")
    url = asyncio.run(create_pg_database())
    yield url
    asyncio.run(drop_pg_database(url))


@pytest.fixture
def pg_replicas(pg_url: str, tmp_path: Path) -> Iterator[tuple[str, list[Server]]]:
    with _servers(pg_url, tmp_path, 2) as servers:
        yield pg_url, servers


def _wait_for_a_fresh_window(margin: float = 20) -> None:
    """Start well inside a one-minute window so the count cannot reset mid-test."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.5)


@pytest.mark.pg
def test_two_replicas_share_a_keys_limit_exactly(pg_replicas) -> None:
    url, servers = pg_replicas
    key = create_key(url, "portal", "shared-limit", "--rate-limit", "40")
    headers = {"Authorization": f"Bearer {key}"}
    _wait_for_a_fresh_window()
    statuses: dict[int, list[int]] = {0: [], 1: []}
    with httpx.Client(timeout=10) as http:
        for index in range(90):
            which = index % 2
            response = http.get(servers[which].base + PATH, headers=headers)
            statuses[which].append(response.status_code)
            if response.status_code == 429:
                assert 1 <= int(response.headers["retry-after"]) <= 60
    admitted = sum(s.count(200) for s in statuses.values())
    refused = sum(s.count(429) for s in statuses.values())
    assert (admitted, refused) == (40, 50), statuses
    assert statuses[0].count(200) > 0 and statuses[1].count(200) > 0


@pytest.mark.pg
def test_a_key_revoked_on_the_command_line_stops_working_on_every_replica(pg_replicas) -> None:
    url, servers = pg_replicas
    key = create_key(url, "portal", "doomed")
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(timeout=10) as http:
        for server in servers:  # cached as valid on both (for 600 s)
            assert http.get(server.base + PATH, headers=headers).status_code == 200
        cli(url, "keys", "revoke", "doomed")
        revoked_at = time.monotonic()
        for server in servers:
            while True:
                status = http.get(server.base + PATH, headers=headers).status_code
                if status == 401:
                    break
                assert time.monotonic() - revoked_at < 2, f"{server.base} still admits the key"
                time.sleep(0.01)


def test_sqlite_refuses_a_revoked_key_at_the_next_request(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'one.db'}"
    with _servers(url, tmp_path, 1) as (server,):
        key = create_key(url, "portal", "doomed")
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(timeout=10) as http:
            assert http.get(server.base + PATH, headers=headers).status_code == 200
            cli(url, "keys", "revoke", "doomed")
            assert http.get(server.base + PATH, headers=headers).status_code == 401
