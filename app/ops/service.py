"""Readiness: the database answers and its schema is at the code's migration head."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app.core.db import Database

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic configuration pointing at this project's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url)
    return config


def code_heads() -> set[str]:
    """The migration heads this code expects."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


async def readiness(db: Database, expected_heads: set[str]) -> tuple[bool, dict[str, str]]:
    """Whether the service can serve: database reachable and migrated to head."""
    checks: dict[str, str] = {}
    try:
        async with db.read_engine.connect() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        checks["database"] = "ok"
        current = {r[0] for r in rows}
        checks["migrations"] = (
            "ok"
            if current == expected_heads
            else f"at {sorted(current)}, head is {sorted(expected_heads)}"
        )
    except Exception as exc:  # any failure to reach or read the database means not ready
        checks.setdefault("database", f"unreachable: {type(exc).__name__}")
        checks.setdefault("migrations", "unknown")
    ready = all(v == "ok" for v in checks.values())
    return ready, checks
