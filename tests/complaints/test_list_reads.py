"""How SQLite answers list pages: which index each filter walks, and the reader threads that
read a page which may scan."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Float, Numeric, literal, select
from sqlalchemy.dialects import sqlite

from app.complaints import service
from app.complaints.models import Complaint
from app.core import db as db_module

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture(autouse=True)
def _sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's plans and reader threads")


def _path(app: Any) -> str:
    return str(app.state.settings.database_url.removeprefix("sqlite+aiosqlite:///"))


def _plan(app: Any, params: dict[str, Any], overdue: bool | None) -> list[str]:
    compiled = service._list_statement(params, overdue, None).compile(dialect=sqlite.dialect())
    values = [
        "x" if compiled.binds[n].value is None else str(compiled.binds[n].value)
        for n in compiled.positiontup
    ]
    conn = sqlite3.connect(_path(app))
    try:
        return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + compiled.string, values)]
    finally:
        conn.close()


@pytest.mark.parametrize("cursor", [False, True], ids=["first page", "next page"])
async def test_overdue_walks_only_the_open_complaints(app, cursor: bool) -> None:
    """Most complaints are closed: the overdue filter reads the partial index of open ones
    (it scanned every complaint newest first before)."""
    params = {"now": 1, "limit": 51, **({"before": 10**6} if cursor else {})}
    plan = _plan(app, params, True)
    assert len(plan) == 1 and "USING INDEX ix_complaint_open_id" in plan[0], plan


@pytest.mark.parametrize("cause", ["subcause", "category"])
async def test_a_cause_over_a_period_reads_received_at_from_the_index(app, cause: str) -> None:
    params = {"now": 1, "limit": 51, cause: "x", "received_from": 1, "received_to": 1}
    plan = _plan(app, params, None)
    assert plan == [f"SEARCH complaint USING INDEX ix_complaint_{cause}_id_received ({cause}=?)"]


async def _file(client: httpx.AsyncClient, keys: Any, i: int) -> int:
    body = {
        "channel": "web",
        "text": f"定损拖了{i}个月还没有结果",
        "complainant": {"name": "王五", "phone": "13900000000"},
        "received_at": (datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=i)).isoformat(),
    }
    response = await client.post("/v1/complaints", json=body, headers=keys["call_center"])
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_reader_threads_keep_their_connections(app, client, keys) -> None:
    """Pages that may scan are read in the reader threads, each on its own connection kept
    for the thread's life: opening one per read started each with an empty page cache."""
    ids = [await _file(client, keys, i) for i in range(6)]
    db = app.state.db
    filters = service.ComplaintFilter(overdue=True)
    common = {"limit": 4, "cursor": None, "lang": "en", "now": datetime(2026, 12, 30, tzinfo=UTC)}
    pages = await asyncio.gather(
        *(service.list_complaints(db, filters=filters, **common) for _ in range(40))
    )
    assert len(set(pages)) == 1
    page = httpx.Response(200, content=pages[0]).json()
    assert [item["id"] for item in page["items"]] == sorted(ids, reverse=True)[:4]
    assert all(item["overdue"] is True for item in page["items"])
    assert 1 <= len(db._thread_conns) <= db_module._READ_THREADS


async def test_each_reader_thread_reads_on_its_own_connection(app) -> None:
    db = app.state.db
    seen: dict[int, tuple[Any, Any]] = {}

    def twice(n: int) -> None:
        first = db._fetch_one_value("SELECT 1", [])
        conn = db._thread_local.conn
        assert first == 1 and db._fetch_one_value("SELECT 2", []) == 2
        seen[n] = (conn, db._thread_local.conn)

    threads = [threading.Thread(target=twice, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (a1, a2), (b1, b2) = seen[0], seen[1]
    assert a1 is a2 and b1 is b2 and a1 is not b1


async def test_dispose_closes_the_reader_threads_connections(app) -> None:
    db = db_module.Database(app.state.settings)
    await db.start()
    try:
        page = await db.fetch_page(select(literal(7).label("x")), {}, may_scan=True)
        assert page == [(7,)]
        conns = list(db._thread_conns)
    finally:
        await db.dispose()
    assert len(conns) == 1
    with pytest.raises(sqlite3.ProgrammingError):
        conns[0].execute("SELECT 1")


async def test_a_json_page_refuses_real_columns() -> None:
    """SQLite writes a REAL into JSON text with 15 significant digits: such a column is read
    row by row, never through the JSON page. Money is text on SQLite, exact in JSON."""
    for type_ in (Float(), Numeric(10, 2)):
        with pytest.raises(TypeError, match="REAL"):
            db_module._json_page(select(literal(0.1, type_).label("x")))
    db_module._json_page(select(Complaint.__table__.c.disputed_amount))


async def test_a_column_the_bare_driver_cannot_convert_is_refused_by_name() -> None:
    """asyncpg's NUMERIC conversion needs the driver's type code, which a select compiled
    ahead does not have: a clear error, not a wrong value."""
    amount = select(Complaint.__table__.c.disputed_amount)
    with pytest.raises(TypeError, match="read it through a session"):
        db_module._row_processors(amount, db_module._asyncpg_dialect())
