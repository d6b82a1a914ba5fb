"""Migrations: upgrade from empty, no drift (alembic check), down and up again — both databases."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command

from app.ops.service import alembic_config
from tests.conftest import PG_UP, create_pg_database, drop_pg_database


def _roundtrip(url: str) -> None:
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.check(config)  # raises when the models and the migrations disagree
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    command.check(config)


async def test_sqlite_upgrade_check_downgrade(tmp_path) -> None:
    await asyncio.to_thread(_roundtrip, f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


async def test_postgresql_upgrade_check_downgrade() -> None:
    if not PG_UP:
        pytest.skip("PostgreSQL is not running")
    url = await create_pg_database()
    try:
        await asyncio.to_thread(_roundtrip, url)
    finally:
        await drop_pg_database(url)
