"""SQLite's trigram text index is filled in batches: a complaint is found by text search from the
moment it is stored (queued), after it is indexed, and while it moves from one to the other —
always exactly once, in newest-first pages."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.complaints import service
from app.main import create_app
from tests.complaints.helpers import indexed_ids
from tests.conftest import make_settings

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """The background indexer stays out of the way: these tests index when they choose."""
    return {"search_index_interval_seconds": 60}


@pytest.fixture(autouse=True)
def _sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the batched FTS5 index is SQLite's (PostgreSQL indexes with pg_trgm)")


async def _file(client: httpx.AsyncClient, keys: Any, text: str) -> int:
    body = {"channel": "web", "text": text, "complainant": {"name": "王五", "phone": "13900000000"}}
    response = await client.post("/v1/complaints", json=body, headers=keys["call_center"])
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _index(app: Any) -> int:
    return int(await app.state.db.grouped_write(service.index_pending_text))


def _path(app: Any) -> str:
    return str(app.state.settings.database_url.removeprefix("sqlite+aiosqlite:///"))


def _file_state(app: Any) -> tuple[list[int], list[int]]:
    """(ids in the FTS5 index, ids still queued), read from the database file."""
    conn = sqlite3.connect(_path(app))
    try:
        conn.execute("INSERT INTO complaint_fts(complaint_fts) VALUES ('integrity-check')")
        indexed = indexed_ids(conn)
        queued = [r[0] for r in conn.execute("SELECT id FROM complaint_fts_pending ORDER BY 1")]
    finally:
        conn.close()
    return indexed, queued


async def _search(client: httpx.AsyncClient, keys: Any, q: str, limit: int = 50) -> list[int]:
    """Every id a search finds, following the cursor page by page."""
    found: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": q, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = await client.get("/v1/complaints", params=params, headers=keys["supervisor"])
        assert page.status_code == 200, page.text
        found += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return found


async def test_found_while_queued_and_once_indexed(app, client: httpx.AsyncClient, keys) -> None:
    first = await _file(client, keys, "定损员说要等配件，暗箱操作的嫌疑很大")
    assert _file_state(app) == ([], [first])
    assert await _search(client, keys, "暗箱操作") == [first]  # queued: read by LIKE
    assert await _index(app) == 1
    assert _file_state(app) == ([first], [])
    assert await _search(client, keys, "暗箱操作") == [first]  # indexed: read by MATCH
    assert await _index(app) == 0


async def test_pages_cross_from_the_queue_into_the_index(
    app, client: httpx.AsyncClient, keys
) -> None:
    older = [await _file(client, keys, f"第{i}次投诉：理赔款迟迟未到账") for i in range(3)]
    await _file(client, keys, "态度很差")  # not a match
    assert await _index(app) == 4
    newer = [await _file(client, keys, f"第{i}次投诉：理赔款迟迟未到账") for i in range(3, 6)]
    indexed, queued = _file_state(app)
    assert set(older) <= set(indexed) and queued == newer
    expected = sorted(older + newer, reverse=True)
    for limit in (1, 2, 4, 50):  # page boundaries inside the queue, across, inside the index
        assert await _search(client, keys, "迟迟未到账", limit=limit) == expected, limit
    # Filters apply to both halves alike.
    assert await _search(client, keys, "第4次投诉") == [newer[1]]
    assert await _search(client, keys, "第1次投诉") == [older[1]]


async def test_a_search_is_one_read_of_queue_and_index(app) -> None:
    """Both halves in one statement: one snapshot, so a complaint moving from the queue into
    the index while a page is read is in exactly one of them."""
    statement = service._list_statement({"q_like": "%x%", "q_match": '"x"'}, None, "fts")
    sql = str(statement.compile())
    assert sql.count("complaint_fts_pending") == 2 and "UNION ALL" in sql, sql  # FROM + IN
    assert "MATCH" in sql


async def test_pages_stay_whole_while_the_queue_is_indexed(
    app, client: httpx.AsyncClient, keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queue is indexed by another writer after every page: the cursor still walks every
    match once, newest first."""
    ids = [await _file(client, keys, "车损定损金额太低，修理厂不认") for _ in range(5)]
    await _index(app)
    ids += [await _file(client, keys, "车损定损金额太低，修理厂不认") for _ in range(5)]
    page_rows = service._page_rows

    async def index_after(session: Any, params: Any, overdue: Any, search: Any, raw: Any):
        rows = await page_rows(session, params, overdue, search, raw)
        conn = sqlite3.connect(_path(app))
        with conn:  # one queued complaint per page enters the index
            upto = conn.execute("SELECT min(id) FROM complaint_fts_pending").fetchone()[0]
            for statement in (service._INDEX_PENDING, service._DEQUEUE_PENDING):
                conn.execute(statement.text.replace(":upto", "?"), (upto or 0,))
        conn.close()
        return rows

    monkeypatch.setattr(service, "_page_rows", index_after)
    assert await _search(client, keys, "定损金额", limit=2) == sorted(ids, reverse=True)
    assert _file_state(app) == (ids, [])  # five pages, one moved after each
    monkeypatch.undo()
    assert await _search(client, keys, "定损金额", limit=3) == sorted(ids, reverse=True)


async def test_deleting_or_rewording_takes_a_text_out_of_either_place(app, client, keys) -> None:
    indexed = await _file(client, keys, "理赔员的态度非常恶劣")
    await _index(app)
    queued = await _file(client, keys, "理赔员的态度非常恶劣")
    assert _file_state(app) == ([indexed], [queued])
    conn = sqlite3.connect(_path(app))
    try:
        with conn:
            conn.execute("UPDATE complaint SET text = '保险公司拖延赔付' WHERE id = ?", (indexed,))
        # The reworded text left the index and waits to enter it again.
        assert _file_state(app) == ([], [indexed, queued])
        assert await _search(client, keys, "态度非常恶劣") == [queued]
        assert await _search(client, keys, "拖延赔付") == [indexed]
        await _index(app)
        with conn:
            conn.execute("DELETE FROM complaint WHERE id = ?", (queued,))
        assert _file_state(app) == ([indexed], [])
        with conn:
            conn.execute("DELETE FROM complaint WHERE id = ?", (indexed,))
        assert _file_state(app) == ([], [])  # integrity-check passed each time
    finally:
        conn.close()


async def test_the_service_indexes_the_queue_by_itself(database_url: str, keys) -> None:
    """With the background indexer on, the queue empties within a few intervals."""
    application = create_app(make_settings(database_url, search_index_interval_seconds=0.05))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            filed = [await _file(http, keys, f"定损拖了{i}个月还没有结果") for i in range(5)]
            for _ in range(100):
                if not _file_state(application)[1]:
                    break
                await asyncio.sleep(0.02)
            indexed, queued = _file_state(application)
            assert queued == [] and set(filed) <= set(indexed)
            assert await _search(http, keys, "个月还没有") == sorted(filed, reverse=True)


@pytest.mark.parametrize(
    "filters",
    [{}, {"status": "investigating"}, {"assignee": "handler-7", "before": 10**6}],
    ids=["none", "status", "assignee+cursor"],
)
async def test_the_queue_drives_its_half_of_a_search(app, filters: dict[str, Any]) -> None:
    """The queued half reads the queue and looks each complaint up by id, whatever the
    filters (at most a sort of the queue's matches): with a million complaints, walking the
    table and probing the queue for each made every search take seconds."""
    from sqlalchemy.dialects import sqlite

    params = {"q_like": "%暗箱操作%", "now": datetime.now(UTC), "limit": 51, **filters}
    compiled = service._list_statement(params, None, "fts_pending").compile(
        dialect=sqlite.dialect()
    )
    conn = sqlite3.connect(_path(app))
    try:
        plan = [
            row[3]
            for row in conn.execute(
                "EXPLAIN QUERY PLAN " + compiled.string,
                [str(params.get(n, compiled.binds[n].value)) for n in compiled.positiontup],
            )
        ]
    finally:
        conn.close()
    assert any("complaint_fts_pending FOR IN-OPERATOR" in step for step in plan), plan
    assert not any(step.startswith("SCAN complaint") for step in plan), plan
