"""The live progress stream of one claim (Server-Sent Events), read from committed rows.

Every stage move is a committed `claim_stage_event` row numbered per claim (`seq`), and that
number is the SSE `id:`: a client reconnecting with `Last-Event-ID` gets exactly the moves
after it, whichever replica recorded them. PostgreSQL wakes the stream with NOTIFY (a trigger
on claim_stage_event); polling covers SQLite and a listener that is reconnecting.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import orjson
from sse_starlette import ServerSentEvent

from app.claims import progress
from app.claims import service as claims_service
from app.core.db import RawReader
from app.core.errors import NotFound
from app.core.notify import KEYS_CHANNEL, STAGE_CHANNEL, Notifier, wait

_CLAIM_ID = "SELECT id FROM claim WHERE claim_no = $1"
_LAST_SEQ = "SELECT coalesce(max(seq), 0) FROM claim_stage_event WHERE claim_id = $1"
_MOVES = (
    "SELECT seq, from_stage, to_stage, occurred_at, event_id FROM claim_stage_event "
    "WHERE claim_id = $1 AND seq > $2 ORDER BY seq LIMIT 200"
)
# With NOTIFY working, polling is only a backstop against a lost wake-up.
_BACKSTOP_FACTOR = 15


async def claim_id_of(raw: RawReader, claim_no: str) -> int:
    """The claim's row id; 404 when there is none (before the stream starts)."""
    row = await raw.fetchrow(_CLAIM_ID, claim_no)
    if row is None:
        raise NotFound(f"No claim {claim_no}.")
    return int(row[0])


async def progress_events(
    raw: RawReader,
    notifier: Notifier,
    *,
    claim_no: str,
    claim_id: int,
    last_event_id: int | None,
    lang: Any,
    clock: Callable[[], datetime],
    ctx: Any,
    poll_seconds: float,
    max_seconds: float,
    still_allowed: Callable[[], Awaitable[bool]],
) -> AsyncIterator[ServerSentEvent]:
    """Missed moves after `last_event_id`, the current progress, then one event per move.

    The stream ends after about `max_seconds` (less up to a tenth, so that streams opened
    together do not all reconnect together); the client reconnects with `Last-Event-ID`
    (EventSource does so by itself), which spreads streams over the replicas again after a
    deploy. It also ends as soon as `still_allowed` says the caller's key was revoked.
    """
    ends_at = time.monotonic() + max_seconds * random.uniform(0.9, 1.0)  # noqa: S311

    async def current() -> dict[str, Any]:
        body = await claims_service.get_progress_json(
            raw, claim_no=claim_no, lang=lang, now=clock(), ctx=ctx
        )
        return orjson.loads(body)

    def moved(row: tuple[Any, ...], view: dict[str, Any]) -> ServerSentEvent:
        seq, from_stage, to_stage, occurred_at, event_id = row
        data = {
            "claim_no": claim_no,
            "seq": seq,
            "from_stage": from_stage,
            "stage": to_stage,
            "stage_label": progress.stage_label(to_stage, lang),
            "occurred_at": claims_service.aware(occurred_at).isoformat(),
            "event_id": event_id,
            "progress": view,
        }
        return ServerSentEvent(data=orjson.dumps(data).decode(), event="stage_changed", id=str(seq))

    # Listen before the first read, so a move committed in between still wakes us.
    # A stage move of this claim wakes the stream; so does any key change (a revocation).
    with notifier.watch(STAGE_CHANNEL, str(claim_id), (KEYS_CHANNEL, "")) as woken:
        last = last_event_id
        if last is not None:
            rows = await raw.fetch(_MOVES, claim_id, last)
            if rows:
                view = await current()
                for row in rows:
                    yield moved(row, view)
                last = rows[-1][0]
        seq_row = await raw.fetchrow(_LAST_SEQ, claim_id)
        seq = int(seq_row[0]) if seq_row else 0
        if last is None or seq <= last:
            yield ServerSentEvent(
                data=orjson.dumps(await current()).decode(), event="progress", id=str(seq)
            )
            last = seq
        while True:
            rows = await raw.fetch(_MOVES, claim_id, last)
            if rows:
                view = await current()
                for row in rows:
                    yield moved(row, view)
                last = rows[-1][0]
                continue
            left = ends_at - time.monotonic()
            if left <= 0 or not await still_allowed():
                return
            timeout = poll_seconds * (_BACKSTOP_FACTOR if notifier.listening else 1)
            await wait(woken, min(timeout, left))
