"""Per-key rate limits: fixed one-minute windows, shared by every process of the service.

Each process serves requests from tokens it has reserved for the current window. When its tokens
run out it reserves the next chunk with one atomic upsert on `rate_window`, so the sum of what
every replica (or uvicorn worker) admits never exceeds the key's limit. The price: a process
that has used its tokens refuses while another may still hold up to a chunk (a twentieth of the
limit) unspent, so with many processes and a small limit a key may get a little less. The hot
path is a dict lookup and a decrement; the database is asked once per chunk (on PostgreSQL
through the bare driver, on SQLite through the one writer connection).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text

from app.core.db import Database

WINDOW_SECONDS = 60
MAX_CHUNK = 100
log = logging.getLogger("claimdesk.ratelimit")

_RESERVE = """
INSERT INTO rate_window (key_id, window_start, requested) VALUES ({}, {}, {})
ON CONFLICT (key_id, window_start)
DO UPDATE SET requested = rate_window.requested + EXCLUDED.requested
RETURNING requested
"""
_RESERVE_PG = _RESERVE.format("$1", "$2", "$3")
_RESERVE_SQLITE = text(_RESERVE.format(":key_id", ":window", ":asked"))
_WARN_EVERY_SECONDS = 60.0


def chunk_size(limit: int) -> int:
    """How many tokens one reservation asks for: a twentieth of the limit, 1 to MAX_CHUNK."""
    return max(1, min(limit // 20, MAX_CHUNK))


def granted(limit: int, requested_after: int, asked: int) -> int:
    """Tokens a reservation got: what was left under the limit before it, at most `asked`.

    `requested_after` is the window's running total including this reservation, so the total
    before it is `requested_after - asked`; reservations are serialised by the row lock.
    """
    return max(0, min(asked, limit - (requested_after - asked)))


@dataclass(slots=True)
class _Bucket:
    window: int
    tokens: int = 0
    exhausted: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RateLimiter:
    """Admit or refuse one request of a key; `check` returns None or seconds to wait."""

    def __init__(
        self, db: Database, *, default_per_minute: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.default = default_per_minute
        self.clock = clock
        self._buckets: dict[int, _Bucket] = {}
        self._warned_at = -_WARN_EVERY_SECONDS

    async def check(self, key_id: int, per_minute: int | None) -> float | None:
        """None when the request may go on; else the seconds until the key's next window."""
        limit = self.default if per_minute is None else per_minute
        if limit <= 0:
            return None
        now = self.clock()
        window = int(now // WINDOW_SECONDS)
        bucket = self._buckets.get(key_id)
        if bucket is None or bucket.window != window:
            bucket = self._buckets[key_id] = _Bucket(window)
        if bucket.tokens > 0:
            bucket.tokens -= 1
            return None
        if not bucket.exhausted:
            async with bucket.lock:  # one reservation at a time per key and process
                if bucket.tokens == 0 and not bucket.exhausted:
                    got = await self._reserve(bucket, key_id, limit)
                    bucket.tokens += got
                    bucket.exhausted = got == 0
            if bucket.tokens > 0:
                bucket.tokens -= 1
                return None
        return max(1.0, math.ceil((window + 1) * WINDOW_SECONDS - now))

    async def _reserve(self, bucket: _Bucket, key_id: int, limit: int) -> int:
        asked = chunk_size(limit)
        try:
            if self.db.is_sqlite:
                async with self.db.session() as session:
                    params = {"key_id": key_id, "window": bucket.window, "asked": asked}
                    total = (await session.execute(_RESERVE_SQLITE, params)).scalar_one()
                    await session.commit()
            else:
                row = await self.db.raw.fetchrow(_RESERVE_PG, key_id, bucket.window, asked)
                assert row is not None
                total = row[0]
        except Exception:  # the store is unreachable: the request fails on its own anyway
            if time.monotonic() - self._warned_at >= _WARN_EVERY_SECONDS:
                self._warned_at = time.monotonic()
                log.warning("rate limit reservation failed; admitting requests", exc_info=True)
            return 1
        return granted(limit, int(total), asked)


_PURGE = text("DELETE FROM rate_window WHERE window_start < :before")


async def purge_windows(conn: Any, now: datetime) -> None:
    """Delete the windows that have ended (the current and the previous one are kept)."""
    await conn.execute(_PURGE, {"before": int(now.timestamp() // WINDOW_SECONDS) - 1})
