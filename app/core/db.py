"""Database engines, column types, the naming convention and the per-request session."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlalchemy import Dialect, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.types import DateTime, Numeric, String, TypeDecorator
from sqlmodel import SQLModel

from app.core.config import Settings

# Stable constraint names so Alembic revisions are reproducible on both databases.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """Exact decimal money: NUMERIC on PostgreSQL, text on SQLite (which has no decimal type)."""

    impl = Numeric(14, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(24))
        return dialect.type_descriptor(Numeric(14, 2))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value).quantize(Decimal("0.01"))
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


def _sqlite_path(url: str) -> str | None:
    database = make_url(url).database
    return None if database in (None, "", ":memory:") else database


def _install_sqlite_pragmas(engine: AsyncEngine, settings: Settings) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # aiosqlite's adapter begins transactions itself; WAL lets readers run beside the writer.
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
        cursor.close()


class Database:
    """The engines of one process: a writer and a reader (one and the same on PostgreSQL)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.is_sqlite = settings.is_sqlite
        url = settings.database_url
        if self.is_sqlite:
            path = _sqlite_path(url)
            if path:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # One writer connection: writers queue in the process instead of sleeping on
            # SQLite's file lock (p99 of seconds under load with a pool of writers).
            self.write_engine = create_async_engine(
                url, poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0, pool_timeout=30
            )
            self.read_engine = create_async_engine(
                url, poolclass=AsyncAdaptedQueuePool, pool_size=settings.db_pool_size
            )
            _install_sqlite_pragmas(self.write_engine, settings)
            _install_sqlite_pragmas(self.read_engine, settings)
        else:
            self.write_engine = create_async_engine(
                url, pool_size=settings.db_pool_size, max_overflow=5, pool_pre_ping=False
            )
            self.read_engine = self.write_engine
        self.sessionmaker = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self.read_sessionmaker = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self.raw = RawReader(settings)

    async def start(self) -> None:
        """Open what needs opening at start-up."""
        await self.raw.start()

    async def dispose(self) -> None:
        """Close every pool."""
        await self.raw.close()
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


class RawReader:
    """One-row reads through the bare driver, for the hottest read paths.

    An ORM session costs ~1 ms of Python per request here; a primary-key select through
    the driver costs a few tens of microseconds. SQLite is read on the event loop's thread:
    a WAL reader never waits for the writer and an indexed lookup is shorter than a thread hop.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._sqlite: sqlite3.Connection | None = None
        self._pg: Any = None

    async def start(self) -> None:
        """Open the driver connection or pool."""
        if self.settings.is_sqlite:
            path = _sqlite_path(self.settings.database_url) or ":memory:"
            conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout={int(self.settings.sqlite_busy_timeout_ms)}")
            conn.execute("PRAGMA query_only=ON")
            self._sqlite = conn
        else:
            import asyncpg

            url = make_url(self.settings.database_url).set(drivername="postgresql")
            self._pg = await asyncpg.create_pool(
                url.render_as_string(hide_password=False),
                min_size=1,
                max_size=self.settings.db_pool_size,
            )

    async def fetchrow(self, sql: str, *args: Any) -> tuple[Any, ...] | None:
        """Run a one-row select written with `$1, $2…` placeholders."""
        if self._sqlite is not None:
            return self._sqlite.execute(_qmark(sql), args).fetchone()
        if self._pg is None:
            raise RuntimeError("RawReader used before start()")
        row = await self._pg.fetchrow(sql, *args)
        return None if row is None else tuple(row)

    async def close(self) -> None:
        """Close the connection or pool."""
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pg is not None:
            await self._pg.close()
            self._pg = None


_QMARK_CACHE: dict[str, str] = {}


def _qmark(sql: str) -> str:
    cached = _QMARK_CACHE.get(sql)
    if cached is None:
        import re

        cached = re.sub(r"\$\d+", "?", sql)
        _QMARK_CACHE[sql] = cached
    return cached


def get_db(request: Request) -> Database:
    """The process's Database (set up by the application's lifespan)."""
    return request.app.state.db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    db: Database = request.app.state.db
    async with db.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read-only session on the reader engine (never committed)."""
    db: Database = request.app.state.db
    async with db.read_sessionmaker() as session:
        yield session
