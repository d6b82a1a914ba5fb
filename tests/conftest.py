"""Test fixtures: every API test runs on SQLite and on PostgreSQL, freshly migrated."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import SQLModel

import app.audit.models
import app.auth.models
import app.claims.models
from app.auth import service as auth_service
from app.auth.roles import Role
from app.core.config import Settings
from app.core.db import Database
from app.main import create_app
from app.ops.service import alembic_config

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_ADMIN_DSN = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


PG_UP = _pg_reachable()


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI a missing PostgreSQL fails the run instead of skipping half the suite."""
    if IN_CI and not PG_UP:
        raise pytest.UsageError(
            f"CI=true but PostgreSQL is not reachable at {PG_HOST}:{PG_PORT}; refusing to skip."
        )


def migrate_to_head(url: str) -> None:
    """alembic upgrade head on `url` (runs its own event loop: call from a thread)."""
    command.upgrade(alembic_config(url), "head")


async def create_pg_database() -> str:
    """Create an empty PostgreSQL database; returns its SQLAlchemy URL."""
    name = f"claimdesk_test_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"


async def drop_pg_database(url: str) -> None:
    """Drop a database made by create_pg_database."""
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A migrated database of each kind, shared by the session and cleaned per test."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "claimdesk.db"
        url = f"sqlite+aiosqlite:///{path}"
        await asyncio.to_thread(migrate_to_head, url)
        yield url
        return
    if not PG_UP:
        pytest.skip("PostgreSQL is not running at 127.0.0.1:5432")
    url = await create_pg_database()
    try:
        await asyncio.to_thread(migrate_to_head, url)
        yield url
    finally:
        await drop_pg_database(url)


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for a test app: no access log, keys re-verified on every request."""
    values: dict[str, object] = {
        "database_url": database_url,
        "access_log": False,
        "key_cache_seconds": 0,
        # Tests drive the worker themselves (tests/webhooks) instead of a background one.
        "worker_enabled": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


async def clean_database(url: str) -> None:
    """Empty every table (keeps the schema and alembic_version)."""
    db = Database(make_settings(url))
    tables = [t.name for t in SQLModel.metadata.sorted_tables]
    try:
        async with db.session() as session:
            if db.is_sqlite:
                for name in reversed(tables):
                    await session.execute(text(f'DELETE FROM "{name}"'))
            else:
                joined = ", ".join(f'"{t}"' for t in tables)
                await session.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))
            await session.commit()
    finally:
        await db.dispose()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Per-test settings overrides (override this fixture in a module)."""
    return {}


@pytest.fixture
async def app(database_url: str, settings_overrides: dict[str, object]):
    """A started application on a clean database."""
    await clean_database(database_url)
    application = create_app(make_settings(database_url, **settings_overrides))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
async def keys(app) -> dict[str, dict[str, str]]:
    """One key per role: role name → Authorization header."""
    db: Database = app.state.db
    headers: dict[str, dict[str, str]] = {}
    async with db.session() as session:
        for role in Role:
            _, key = await auth_service.create_key(
                session, name=f"test-{role.value}", role=role, now=datetime.now(UTC)
            )
            headers[role.value] = {"Authorization": f"Bearer {key}"}
        await session.commit()
    return headers


class FrozenClock:
    """A settable clock for the app's `now` dependency."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(app) -> Iterator[FrozenClock]:
    """Freeze the app's clock (default 2026-11-24T12:00Z); set `clock.now` to move it."""
    frozen = FrozenClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    original = app.state.clock
    app.state.clock = frozen
    yield frozen
    app.state.clock = original


ROOT = Path(__file__).resolve().parents[1]
