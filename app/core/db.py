"""Database engines, column types, the naming convention and the per-request session."""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Request
from sqlalchemy import Connection, Dialect, Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import AsyncAdaptedQueuePool, QueuePool
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import DateTime, Float, Numeric, String, TypeDecorator
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

    def bind_processor(self, dialect: Dialect) -> Any:
        """On SQLite, write the text the dialect's DATETIME writes (`YYYY-MM-DD HH:MM:SS.ffffff`,
        naive UTC) with one `isoformat` call (C) instead of this type's conversion followed by
        the dialect's formatting: an intake binds six."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetimes are not stored")
            if value.tzinfo is not UTC:
                value = value.astimezone(UTC)
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        """On SQLite, parse the stored text once with `fromisoformat` (C) instead of the
        dialect's regular expression and then this type's conversion: a list page has ~400."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, str):
                try:
                    # Stored as naive UTC text: parsed with its offset in one call, a fifth
                    # of the time of parsing and then replacing the tzinfo.
                    value = datetime.fromisoformat(value + "+00:00")
                except ValueError:  # text that carries its own offset
                    value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                return value.replace(tzinfo=UTC)
            return value if value.tzinfo is UTC else value.astimezone(UTC)

        return process


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


def _sqlite_pragmas(dbapi_conn: Any, settings: Settings) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
    cursor.close()


def _install_sqlite_writer_events(engine: Engine, settings: Settings) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so BEGIN is issued below.
        dbapi_conn.isolation_level = None
        _sqlite_pragmas(dbapi_conn, settings)
        # Checkpoints run in a background thread (Database._checkpointer), not inside a commit
        # on the event loop, where copying the WAL back would stall every request.
        dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE: take the write lock at BEGIN, so a transaction never fails half-way on a
        # lock held by another process (the CLI, a second server on the same file).
        conn.exec_driver_sql("BEGIN IMMEDIATE")


_T = TypeVar("_T")


def run_to_completion(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """The result of a coroutine that never suspends, driven without an event loop (so that
    service code written against async sessions can run in a thread on a synchronous one)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("the coroutine suspended; it needs an event loop")


class _DirectResult:
    """The result of a statement run straight on the sqlite3 cursor: its RETURNING rows (plain
    tuples, raw driver values, as a text statement's rows are) and its row count."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def first(self) -> tuple[Any, ...] | None:
        """The first row, or None."""
        return self._rows[0] if self._rows else None

    def one(self) -> tuple[Any, ...]:
        """The only row."""
        if len(self._rows) != 1:
            raise NoResultFound("no row") if not self._rows else MultipleResultsFound("rows")
        return self._rows[0]

    def scalar_one(self) -> Any:
        """The first column of the only row."""
        return self.one()[0]

    def scalar(self) -> Any:
        """The first column of the first row, or None."""
        return self._rows[0][0] if self._rows else None

    def all(self) -> list[tuple[Any, ...]]:
        """Every row."""
        return list(self._rows)


_V = TypeVar("_V")


def _once(cache: dict[int, tuple[Any, _V]], statement: Any, build: Callable[[], _V]) -> _V:
    """`build()` for `statement`, made once and kept by the statement's identity. Statements
    are module constants or built once per query shape, so a cache never fills up (it is
    cleared if it ever does)."""
    entry = cache.get(id(statement))
    if entry is None or entry[0] is not statement:
        if len(cache) > 256:
            cache.clear()
        entry = (statement, build())
        cache[id(statement)] = entry
    return entry[1]


# Statements compiled for a driver: their SQL, parameter order, the bind processors of their
# typed parameters and their own literal values.
_Compiled = tuple[str, tuple[str, ...], dict[str, Any], dict[str, Any]]
_SQLITE_COMPILED: dict[int, tuple[Any, _Compiled]] = {}
_PG_COMPILED: dict[int, tuple[Any, _Compiled]] = {}

# SQLite: threads for the reads that may scan (Database.fetch_page).
_READ_THREADS = 4


def _compile(statement: Any, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    return (
        compiled.string,
        tuple(compiled.positiontup or ()),
        dict(compiled._bind_processors),
        {name: bind.value for name, bind in compiled.binds.items()},
    )


def _bind(
    cache: dict[int, tuple[Any, _Compiled]],
    statement: Any,
    dialect: Dialect,
    params: dict[str, Any],
) -> tuple[str, list[Any]]:
    """The SQL of `statement` (a text() or a Core select) for `dialect` and its positional
    values: `params` by name, the statement's own literals (a select's `substr(text, 1, 200)`)
    from the statement."""
    sql, names, processors, literals = _once(cache, statement, lambda: _compile(statement, dialect))
    values = []
    for name in names:
        value = params[name] if name in params else literals[name]
        processor = processors.get(name)
        values.append(processor(value) if processor is not None else value)
    return sql, values


def json_dumps(value: Any) -> str:
    """JSON columns' serializer on every engine: orjson (a tenth of json.dumps's time)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


@lru_cache(maxsize=1)
def _sqlite_dialect() -> Dialect:
    from sqlalchemy.dialects.sqlite.pysqlite import dialect

    return dialect(json_serializer=json_dumps)  # type: ignore[no-any-return]


def _sqlite_reader(settings: Settings) -> sqlite3.Connection:
    """A read-only driver connection to the SQLite file, each statement its own snapshot."""
    path = _sqlite_path(settings.database_url) or ":memory:"
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
    conn.execute("PRAGMA query_only=ON")
    return conn


# Per select and dialect: the result processor of each column (None where the driver's value
# is the value).
_Processors = tuple[Callable[[Any], Any] | None, ...]
_ROW_PROCESSORS: dict[str, dict[int, tuple[Any, _Processors]]] = {"sqlite": {}, "postgresql": {}}
_JSON_PAGES: dict[int, tuple[Any, Any]] = {}


def _row_processors(statement: Any, dialect: Dialect) -> _Processors:
    def build() -> _Processors:
        try:
            return tuple(
                c.type.dialect_impl(dialect).result_processor(dialect, None)
                for c in statement.selected_columns
            )
        except TypeError:  # asyncpg's NUMERIC processor needs the driver's type code
            raise TypeError(
                "a column of this select needs the driver's column type to be read; "
                "read it through a session"
            ) from None

    return _once(_ROW_PROCESSORS[dialect.name], statement, build)


def _processed(row: Any, processors: _Processors) -> tuple[Any, ...]:
    return tuple(v if p is None else p(v) for v, p in zip(row, processors, strict=True))


def _json_page(statement: Any) -> tuple[Any, _Processors]:
    """SQLite: `statement` as one row, a JSON array of its rows in its order, and the
    processors of its columns."""

    def build() -> Any:
        if any(isinstance(c.type, (Float, Numeric)) for c in statement.selected_columns):
            # stored as REAL (Money is text, exact): SQLite's JSON text keeps 15 digits
            raise TypeError("a REAL column loses digits in SQLite's JSON text; read it by row")
        page = statement.subquery()
        return select(func.json_group_array(func.json_array(*page.c)))

    wrapped = _once(_JSON_PAGES, statement, build)
    return wrapped, _row_processors(statement, _sqlite_dialect())


@lru_cache(maxsize=1)
def _asyncpg_dialect() -> Dialect:
    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    return dialect(json_serializer=json_dumps)  # type: ignore[no-any-return]


class _SyncConnection:
    """An async-looking face of a sync Connection (see SQLiteWriteSession)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect
        self._driver: Any = None

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Connection.execute; text INSERT/UPDATE/DELETE statements go straight to the cursor.

        SQLAlchemy's execution machinery costs ~100 µs per statement, a third of a stage
        event's time on the single SQLite writer. A write given as plain text (its RETURNING
        rows untyped, as SQLAlchemy would return them too) needs none of it: its SQL and bind
        processors are compiled once and reused. SELECTs, and typed `text().columns()`
        statements, which are not TextClauses, keep the full path.
        """
        if (
            isinstance(statement, TextClause)
            and (parameters is None or isinstance(parameters, dict))
            and not statement.text.lstrip()[:6].upper().startswith(("SELECT", "WITH"))
        ):
            return self._execute_direct(statement, parameters or {})
        return self._conn.execute(statement, parameters)

    def _execute_direct(self, statement: TextClause, parameters: dict[str, Any]) -> _DirectResult:
        sql, values = _bind(_SQLITE_COMPILED, statement, self.dialect, parameters)
        if self._driver is None:
            self._driver = self._conn.connection.driver_connection
        cursor = self._driver.cursor()
        try:
            cursor.execute(sql, values)
            rows = cursor.fetchall() if cursor.description is not None else []
            return _DirectResult(rows, cursor.rowcount)
        finally:
            cursor.close()


class _SyncNested:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._tx: Any = None

    async def __aenter__(self) -> None:
        self._tx = self._session.begin_nested()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self._tx.commit()
        else:
            self._tx.rollback()


class SQLiteWriteSession:
    """The AsyncSession methods the services use, run synchronously on the event loop.

    SQLite takes one writer at a time. Through aiosqlite every statement is a thread hop whose
    result then waits its turn in the event loop, so under load the one write connection is held
    for many loop turns per transaction (measured: ~280 stage events/s). Running the short write
    transactions inline, one at a time under an asyncio lock, holds the file only for the real
    work (a few hundred microseconds). Readers keep their own async engine.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def bind(self) -> Any:
        """Session.bind (the engine; its `dialect` names the database)."""
        return self._session.bind

    async def execute(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        """Session.execute."""
        return self._session.execute(statement, params, **kw)

    async def scalars(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        """Session.scalars."""
        return self._session.scalars(statement, params, **kw)

    async def get(self, entity: Any, ident: Any, **kw: Any) -> Any:
        """Session.get."""
        return self._session.get(entity, ident, **kw)

    async def connection(self) -> _SyncConnection:
        """Session.connection."""
        return _SyncConnection(self._session.connection())

    async def flush(self) -> None:
        """Session.flush."""
        self._session.flush()

    async def commit(self) -> None:
        """Session.commit."""
        self._session.commit()

    async def rollback(self) -> None:
        """Session.rollback."""
        self._session.rollback()

    def begin_nested(self) -> _SyncNested:
        """Session.begin_nested, as an async context manager."""
        return _SyncNested(self._session)

    def add(self, instance: Any) -> None:
        """Session.add."""
        self._session.add(instance)


# At most this many writes share one commit; the rest form the next group.
_GROUP_MAX = 64


class Undo(Exception):
    """Raised by a grouped write: roll back this write's statements, and answer its caller
    with `result` (after the group's commit, like any other answer)."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


class _GroupItem:
    __slots__ = ("context", "future", "work")

    def __init__(self, work: Callable[[Any], Coroutine[Any, Any, Any]], future: Any) -> None:
        self.work = work
        self.future = future
        # The caller's context variables (a tracing span, say), for its work in the group.
        self.context = contextvars.copy_context()


def _settle(
    future: asyncio.Future[Any], *, result: Any = None, exc: BaseException | None = None
) -> None:
    if future.done():  # its caller was cancelled meanwhile
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


class Database:
    """The engines of one process: a writer and a reader (one pool for both on PostgreSQL)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.is_sqlite = settings.is_sqlite
        url = settings.database_url
        self.sync_write_engine: Engine | None = None
        self.sync_read_engine: Engine | None = None
        self.write_engine: AsyncEngine | None = None
        if self.is_sqlite:
            path = _sqlite_path(url)
            if path:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.sync_write_engine = create_engine(
                make_url(url).set(drivername="sqlite"),
                json_serializer=json_dumps,
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=0,
            )
            _install_sqlite_writer_events(self.sync_write_engine, settings)
            self._write_lock = asyncio.Lock()
            self._group: list[_GroupItem] = []
            self._group_flush: asyncio.Task[None] | None = None
            self._sync_sessionmaker = sessionmaker(self.sync_write_engine, expire_on_commit=False)
            self.read_engine = create_async_engine(
                url,
                poolclass=AsyncAdaptedQueuePool,
                pool_size=settings.db_pool_size,
                json_serializer=json_dumps,
            )

            @event.listens_for(self.read_engine.sync_engine, "connect")
            def _on_read_connect(dbapi_conn: Any, _record: Any) -> None:
                _sqlite_pragmas(dbapi_conn, settings)
                # Reports sort up to a million rows; helper threads cut that by a third.
                dbapi_conn.execute(f"PRAGMA threads={int(settings.sqlite_sort_threads)}")

            # Point reads on the event loop's own thread (see point_read_session).
            self.sync_read_engine = create_engine(
                make_url(url).set(drivername="sqlite"),
                json_serializer=json_dumps,
                poolclass=QueuePool,
                pool_size=2,
                max_overflow=8,
                connect_args={"check_same_thread": False},
            )

            @event.listens_for(self.sync_read_engine, "connect")
            def _on_point_read_connect(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
                dbapi_conn.execute("PRAGMA query_only=ON")

            self._sync_read_sessionmaker = sessionmaker(
                self.sync_read_engine, expire_on_commit=False
            )
            self._read_threads = ThreadPoolExecutor(
                max_workers=_READ_THREADS, thread_name_prefix="sqlite-read"
            )
            # Each reader thread's own driver connection, kept for the thread's life (a new
            # connection starts with an empty page cache).
            self._thread_local = threading.local()
            self._thread_conns: list[sqlite3.Connection] = []

        else:
            self.write_engine = create_async_engine(
                url, pool_size=settings.db_pool_size, max_overflow=5, json_serializer=json_dumps
            )
            self._async_sessionmaker = async_sessionmaker(self.write_engine, expire_on_commit=False)
            self.read_engine = self.write_engine
        self.read_sessionmaker = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self.raw = RawReader(settings)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A write session; the caller commits; whatever is left uncommitted is rolled back."""
        if self.is_sqlite:
            async with self._write_lock:
                with self._sync_sessionmaker() as sync_session:
                    try:
                        yield SQLiteWriteSession(sync_session)  # type: ignore[misc]
                    finally:
                        sync_session.rollback()
        else:
            async with self._async_sessionmaker() as session:
                try:
                    yield session
                finally:
                    await session.rollback()

    @asynccontextmanager
    async def point_read_session(self) -> AsyncIterator[Any]:
        """A read session for short indexed reads (a complaint, its timeline, a list page).

        On SQLite it runs on the event loop's thread: an indexed read takes microseconds, while
        each aiosqlite call is a thread hop that waits a turn of the loop, and under load those
        waits added up to 150 ms for a read that takes 3 ms alone. Reads that may scan (text
        search, the overdue filter, reports) stay on the threaded reader so that they never
        block the loop. On PostgreSQL it is the ordinary read session.
        """
        if self.is_sqlite:
            with self._sync_read_sessionmaker() as sync_session:
                try:
                    yield SQLiteWriteSession(sync_session)
                finally:
                    sync_session.rollback()
        else:
            async with self.read_sessionmaker() as session:
                yield session

    async def fetch_page(
        self, statement: Any, params: dict[str, Any], *, may_scan: bool = False
    ) -> list[tuple[Any, ...]]:
        """Every row of a Core select (a list page), through the bare driver, with the values
        the ORM would give (the columns' result processors applied).

        PostgreSQL: on the asyncpg pool. SQLite: an indexed page (`may_scan` false) on the event
        loop's thread, whose reads take microseconds; a read that may scan many rows before a
        page fills (a text search, the overdue filter) in a reader thread, so that it never
        blocks the loop, as one row that SQLite builds: the page as a JSON array of rows,
        decoded on the loop. Read row by row in the thread (each step gives the GIL up and takes
        it back from the busy loop, and the rows' processing competes with the loop's work), a
        page cost far more than its query (overdue: 1.9 ms served, 0.25 ms alone)."""
        if not self.is_sqlite or not may_scan:
            return await self.raw.fetch_statement(statement, params)
        wrapped, processors = _json_page(statement)
        sql, values = _bind(_SQLITE_COMPILED, wrapped, _sqlite_dialect(), params)
        loop = asyncio.get_running_loop()
        page = await loop.run_in_executor(self._read_threads, self._fetch_one_value, sql, values)
        return [_processed(row, processors) for row in orjson.loads(page)]

    def _fetch_one_value(self, sql: str, values: list[Any]) -> Any:
        """In a reader thread: the first column of the statement's only row."""
        conn: sqlite3.Connection | None = getattr(self._thread_local, "conn", None)
        if conn is None:
            conn = _sqlite_reader(self.settings)
            self._thread_local.conn = conn
            self._thread_conns.append(conn)
        return conn.execute(sql, values).fetchone()[0]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        """A bare connection in a transaction, for Core statements on hot write paths.

        Cheaper than a Session (no unit of work, no identity map). Yields an object with
        `dialect` and `async execute(statement, params)`; commits when the block ends cleanly.
        """
        if self.is_sqlite:
            assert self.sync_write_engine is not None
            async with self._write_lock:
                with self.sync_write_engine.begin() as conn:
                    yield _SyncConnection(conn)
        else:
            assert self.write_engine is not None
            async with self.write_engine.begin() as conn:
                yield conn

    async def grouped_write(self, work: Callable[[Any], Coroutine[Any, Any, _T]]) -> _T:
        """SQLite group commit: run `work(conn)` with the other writes of this loop turn.

        Under load the requests of one turn of the event loop each reach this point; their
        writes then run one after another in ONE write transaction, each inside its own
        savepoint, and are committed together. A write that raises is rolled back to its
        savepoint alone and its caller gets the exception; the others commit. Nobody's result
        is returned before the commit, so an acknowledged write is durable, and if the commit
        fails every caller of the group gets the error. One commit and one WAL append per group
        instead of per write: shared index pages (ids, dates, statuses) are written once.
        A write that raises `Undo(result)` is rolled back too, and its caller gets `result`
        once the group has committed (what it answers may rest on an earlier write of the
        same group).

        `work` is an async function whose connection calls never suspend (as `transaction()`'s
        connection's do). Only for SQLite.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._group.append(_GroupItem(work, future))
        if self._group_flush is None:
            self._schedule_group()
        return await future  # type: ignore[no-any-return]

    def _schedule_group(self) -> None:
        flush = self._group_flush = asyncio.get_running_loop().create_task(self._flush_group())
        flush.add_done_callback(self._group_cancelled)

    def _group_cancelled(self, flush: asyncio.Task[None]) -> None:
        """A group cancelled before it wrote (the loop shutting down): fail its callers."""
        if not flush.cancelled():
            return
        if self._group_flush is flush:
            self._group_flush = None
        for item in self._group:
            _settle(item.future, exc=RuntimeError("the database is shutting down"))
        self._group = []

    async def _flush_group(self) -> None:
        async with self._write_lock:
            self._write_group()

    def _write_group(self) -> None:
        assert self.sync_write_engine is not None
        batch, self._group = self._group[:_GROUP_MAX], self._group[_GROUP_MAX:]
        # Writes queued from here on form the next group, queued behind this one on the lock.
        self._group_flush = None
        if self._group:
            self._schedule_group()
        # A caller that gave up (its request was cancelled) before its turn writes nothing.
        batch = [item for item in batch if not item.future.done()]
        if not batch:
            return
        written: list[tuple[_GroupItem, Any]] = []
        try:
            with self.sync_write_engine.begin() as conn:
                wrapped = _SyncConnection(conn)
                driver = conn.connection.driver_connection
                for item in batch:
                    driver.execute("SAVEPOINT grouped_write")
                    try:
                        result = item.context.run(run_to_completion, item.work(wrapped))
                    except Undo as undo:  # undone on purpose, answered after the commit
                        driver.execute("ROLLBACK TO grouped_write")
                        driver.execute("RELEASE grouped_write")
                        written.append((item, undo.result))
                        continue
                    except Exception as exc:  # this write only: undo it, keep the others
                        driver.execute("ROLLBACK TO grouped_write")
                        driver.execute("RELEASE grouped_write")
                        _settle(item.future, exc=exc)
                        continue
                    driver.execute("RELEASE grouped_write")
                    written.append((item, result))
        except BaseException as exc:  # the commit (or the transaction) failed: nothing kept
            for item in batch:
                _settle(item.future, exc=exc)
            if not isinstance(exc, Exception):
                raise
            return
        for item, result in written:
            _settle(item.future, result=result)

    async def start(self) -> None:
        """Open what needs opening at start-up."""
        await self.raw.start()
        if self.is_sqlite and _sqlite_path(self.settings.database_url):
            self._checkpoint_task = asyncio.create_task(self._checkpointer())

    async def _checkpointer(self) -> None:
        """Copy the WAL back into the database file every second, off the event loop."""
        path = _sqlite_path(self.settings.database_url)
        conn = sqlite3.connect(path, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={int(self.settings.sqlite_busy_timeout_ms)}")
        checkpoint: asyncio.Future[Any] | None = None
        try:
            while True:
                await asyncio.sleep(1.0)
                # PASSIVE never blocks the writer; it copies what no reader still needs.
                checkpoint = asyncio.ensure_future(
                    asyncio.to_thread(conn.execute, "PRAGMA wal_checkpoint(PASSIVE)")
                )
                await asyncio.shield(checkpoint)
        except asyncio.CancelledError:
            pass
        finally:
            # Cancelling does not stop the thread: closing the connection under a running
            # checkpoint is a use-after-free in sqlite3 (it crashed the test process).
            if checkpoint is not None:
                await asyncio.gather(checkpoint, return_exceptions=True)
            conn.close()

    async def dispose(self) -> None:
        """Close every pool."""
        task = getattr(self, "_checkpoint_task", None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.raw.close()
        if self.write_engine is not None:
            await self.write_engine.dispose()
        if self.sync_write_engine is not None:
            self.sync_write_engine.dispose()
        if self.sync_read_engine is not None:
            self._read_threads.shutdown(wait=True)
            for conn in self._thread_conns:
                conn.close()
            self._thread_conns.clear()
            self.sync_read_engine.dispose()
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
            self._sqlite = _sqlite_reader(self.settings)
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

    async def run(self, statement: TextClause, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """PostgreSQL: run a `text()` statement with named, typed parameters; its first row.

        Compiled once per statement for asyncpg (SQL with `$n` and casts, the bind processors
        of its typed parameters), then sent through the bare driver: the statement runs on its
        own, atomically, with none of the ORM engine's per-statement work.
        """
        if self._pg is None:
            raise RuntimeError("RawReader.run is for PostgreSQL, after start()")
        sql, values = _bind(_PG_COMPILED, statement, _asyncpg_dialect(), params)
        row = await self._pg.fetchrow(sql, *values)
        return None if row is None else tuple(row)

    async def fetch_statement(
        self, statement: Any, params: dict[str, Any]
    ) -> list[tuple[Any, ...]]:
        """Every row of a Core select with named parameters, compiled once per statement,
        through the bare driver: without the ORM engine's per-statement and per-row work, with
        the values it would give (the columns' result processors applied)."""
        if self._sqlite is not None:
            dialect = _sqlite_dialect()
            sql, values = _bind(_SQLITE_COMPILED, statement, dialect, params)
            processors = _row_processors(statement, dialect)
            return [_processed(r, processors) for r in self._sqlite.execute(sql, values)]
        if self._pg is None:
            raise RuntimeError("RawReader used before start()")
        dialect = _asyncpg_dialect()
        sql, values = _bind(_PG_COMPILED, statement, dialect, params)
        processors = _row_processors(statement, dialect)
        return [_processed(r, processors) for r in await self._pg.fetch(sql, *values)]

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Run a select written with `$1, $2…` placeholders; every row."""
        if self._sqlite is not None:
            return self._sqlite.execute(_qmark(sql), args).fetchall()
        if self._pg is None:
            raise RuntimeError("RawReader used before start()")
        return [tuple(row) for row in await self._pg.fetch(sql, *args)]

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


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    db: Database = request.app.state.db
    async with db.session() as session:
        yield session
        await session.commit()


async def get_transaction(request: Request) -> AsyncIterator[Any]:
    """One bare-connection transaction per request (see Database.transaction)."""
    db: Database = request.app.state.db
    async with db.transaction() as conn:
        yield conn


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read-only session on the reader engine (never committed)."""
    db: Database = request.app.state.db
    async with db.read_sessionmaker() as session:
        yield session


async def get_point_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read session for point reads (see Database.point_read_session)."""
    db: Database = request.app.state.db
    async with db.point_read_session() as session:
        yield session


# Route parameter types. scope="function": the commit happens before the response is sent,
# so an acknowledged write is a committed one.
WriteSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSession = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
PointReadSession = Annotated[AsyncSession, Depends(get_point_read_session, scope="function")]
Transaction = Annotated[Any, Depends(get_transaction, scope="function")]
