"""SQLite group commit (Database.grouped_write): one transaction per loop turn, one savepoint
per write; a failed write is undone alone, a failed commit fails every caller of the group."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from app.core import db as db_module
from app.core.db import Database
from tests.conftest import make_settings


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'group.db'}"))
    assert db.sync_write_engine is not None
    with db.sync_write_engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        conn.exec_driver_sql(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, t_id INTEGER NOT NULL REFERENCES t(id))"
        )
    await db.start()
    yield db
    await db.dispose()


def _commits(db: Database) -> list[int]:
    seen: list[int] = []
    event.listen(db.sync_write_engine, "commit", lambda _conn: seen.append(1))
    return seen


def _insert(value: str, *, fail: bool = False) -> Any:
    async def work(conn: Any) -> int:
        row = await conn.execute(text("INSERT INTO t (v) VALUES (:v) RETURNING id"), {"v": value})
        if fail:
            raise ValueError(f"{value} failed after its insert")
        return int(row.scalar_one())

    return work


def _values(db: Database) -> list[str]:
    assert db.sync_write_engine is not None
    with db.sync_write_engine.connect() as conn:
        return [row[0] for row in conn.exec_driver_sql("SELECT v FROM t ORDER BY id")]


async def test_writes_of_one_loop_turn_share_one_commit(database: Database) -> None:
    commits = _commits(database)
    ids = await asyncio.gather(*(database.grouped_write(_insert(f"w{i}")) for i in range(5)))
    assert sorted(ids) == list(range(1, 6))
    assert _values(database) == [f"w{i}" for i in range(5)]
    assert len(commits) == 1


async def test_a_failed_write_is_undone_alone(database: Database) -> None:
    commits = _commits(database)
    results = await asyncio.gather(
        database.grouped_write(_insert("first")),
        database.grouped_write(_insert("broken", fail=True)),
        database.grouped_write(_insert("third")),
        return_exceptions=True,
    )
    assert isinstance(results[1], ValueError)
    assert results[0] == 1 and isinstance(results[2], int)
    assert _values(database) == ["first", "third"]
    assert len(commits) == 1


async def test_a_failed_commit_fails_every_caller_and_keeps_nothing(database: Database) -> None:
    async def orphan(conn: Any) -> None:
        # A deferred foreign key is checked at COMMIT: the whole group's commit fails.
        await conn.execute(text("PRAGMA defer_foreign_keys = ON"))
        await conn.execute(text("INSERT INTO child (t_id) VALUES (:t)"), {"t": 999})

    results = await asyncio.gather(
        database.grouped_write(_insert("kept only if the commit succeeds")),
        database.grouped_write(orphan),
        return_exceptions=True,
    )
    assert all(isinstance(r, IntegrityError) for r in results), results
    assert _values(database) == []
    # The writer is usable again afterwards.
    assert await database.grouped_write(_insert("after")) == 1
    assert _values(database) == ["after"]


async def test_a_caller_cancelled_before_its_turn_writes_nothing(database: Database) -> None:
    kept = asyncio.ensure_future(database.grouped_write(_insert("kept")))
    dropped = asyncio.ensure_future(database.grouped_write(_insert("dropped")))
    await asyncio.sleep(0)  # both are queued; the group has not run yet
    dropped.cancel()
    assert await kept == 1
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert _values(database) == ["kept"]


async def test_a_large_burst_is_split_into_bounded_groups(database: Database) -> None:
    commits = _commits(database)
    n = db_module._GROUP_MAX + 6
    ids = await asyncio.gather(*(database.grouped_write(_insert(f"b{i}")) for i in range(n)))
    assert len(set(ids)) == n
    assert len(_values(database)) == n
    assert len(commits) == 2


async def test_other_writers_wait_for_the_group(database: Database) -> None:
    """The group holds the same write lock as transaction(): no interleaving."""
    order: list[str] = []

    async def other() -> None:
        async with database.transaction() as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "other"})
            order.append("other")

    async def grouped(conn: Any) -> None:
        await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "grouped"})
        order.append("grouped")

    await asyncio.gather(database.grouped_write(grouped), other())
    assert sorted(order) == ["grouped", "other"]
    assert sorted(_values(database)) == ["grouped", "other"]


async def test_each_write_runs_in_its_callers_context(database: Database) -> None:
    """Context variables (a tracing span, say) are the caller's, not the group's first's."""
    caller: contextvars.ContextVar[str] = contextvars.ContextVar("caller")

    async def submit(name: str) -> str:
        caller.set(name)

        async def work(conn: Any) -> str:
            await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": name})
            return caller.get()

        return await database.grouped_write(work)

    assert await asyncio.gather(submit("a"), submit("b"), submit("c")) == ["a", "b", "c"]


@pytest.mark.parametrize("turns", [1, 3], ids=["before-it-starts", "waiting-for-the-lock"])
async def test_a_group_cancelled_while_waiting_for_the_writer_fails_its_callers(
    database: Database, turns: int
) -> None:
    """Shutdown cancels a waiting group: its callers get an error, later writes still run."""
    async with database.transaction():  # another writer holds the lock
        waiting = asyncio.ensure_future(database.grouped_write(_insert("never")))
        for _ in range(turns):
            await asyncio.sleep(0)
        assert database._group_flush is not None
        database._group_flush.cancel()
        with pytest.raises(RuntimeError, match="shutting down"):
            await waiting
    assert await database.grouped_write(_insert("later")) == 1
    assert _values(database) == ["later"]


async def test_an_undone_write_keeps_nothing_and_answers_after_the_commit(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Undo(result)`: the write's statements are rolled back, its caller gets `result`, and
    not before the group's commit (the answer may rest on an earlier write of the group)."""
    log: list[str] = []
    event.listen(database.sync_write_engine, "commit", lambda _conn: log.append("commit"))
    settle = db_module._settle

    def logged_settle(future: Any, **kw: Any) -> None:
        log.append("answer")
        settle(future, **kw)

    monkeypatch.setattr(db_module, "_settle", logged_settle)

    async def undone(conn: Any) -> str:
        await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "undone"})
        seen = (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one()
        raise db_module.Undo(f"saw {seen} rows, kept none")

    results = await asyncio.gather(
        database.grouped_write(_insert("first")), database.grouped_write(undone)
    )
    assert results == [1, "saw 2 rows, kept none"]  # it saw the first's row and its own
    assert log == ["commit", "answer", "answer"]
    assert _values(database) == ["first"]
