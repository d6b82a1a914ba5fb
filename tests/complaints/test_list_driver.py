"""List pages read through the bare driver are the ORM session's pages, byte for byte: on
PostgreSQL through asyncpg; on SQLite on the event loop, or for a read that may scan (a text
search, the overdue filter) in a reader thread as one JSON row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.complaints import service

pytestmark = pytest.mark.usefixtures("clock")

TEXTS = [
    "定损拖了两个月还没结果，一直没定损",
    "理赔员态度很差，电话里不耐烦，直接挂电话",
    "对理赔结果表示怀疑，觉得有暗箱操作",
    "The deductible was never explained to me",
]


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"status": "received"},
        {"channel": "web", "priority": "normal"},
        {"q": "暗箱"},
        {"q": "deductible"},
        {"overdue": True},
        {"overdue": False},
        {"received_from": datetime(2026, 11, 1, tzinfo=UTC)},
        {"received_to": datetime(2026, 11, 24, tzinfo=UTC)},
    ],
    ids=lambda f: ",".join(f) or "none",
)
async def test_driver_pages_equal_session_pages(
    app, client: httpx.AsyncClient, keys, filters: dict
) -> None:
    for i in range(7):
        body = {
            "channel": ["phone", "web"][i % 2],
            "text": TEXTS[i % len(TEXTS)],
            "complainant": {"name": "張三明", "phone": "13812345678"},
            # some with microseconds, which the stored text and the JSON page must keep
            "received_at": (
                datetime(2026, 11, 24, tzinfo=UTC) - timedelta(days=3 * i, microseconds=i * 1001)
            ).isoformat(),
        }
        response = await client.post("/v1/complaints", json=body, headers=keys["call_center"])
        assert response.status_code == 201, response.text
    db = app.state.db
    now = datetime(2026, 12, 20, tzinfo=UTC)  # some complaints overdue by then, some not
    cursor = None
    pages = 0
    while True:
        common = {
            "filters": service.ComplaintFilter(**filters),
            "limit": 2,
            "cursor": cursor,
            "lang": "zh-Hans",
            "now": now,
        }
        async with db.read_sessionmaker() as session:
            by_session = await service.list_complaints(db, session=session, **common)
        by_driver = await service.list_complaints(db, **common)
        assert by_driver == by_session
        pages += 1
        next_cursor = httpx.Response(200, content=by_session).json()["next_cursor"]
        if next_cursor is None:
            break
        cursor = next_cursor
    assert pages >= 1
