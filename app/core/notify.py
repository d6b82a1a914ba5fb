"""Cross-process wake-ups: PostgreSQL LISTEN/NOTIFY, one listening connection per process.

Waiters register for a channel and a key (the NOTIFY payload; "" hears every payload). A
wake-up is only a hint to look at the database now: nothing is carried in it, so a missed one
costs latency, never correctness, and every waiter also polls (on SQLite it only polls).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import make_url

from app.core.config import Settings

log = logging.getLogger("claimdesk.notify")

STAGE_CHANNEL = "claimdesk_stage"  # payload: the claim's id (a trigger on claim_stage_event)
DELIVERY_CHANNEL = "claimdesk_delivery"  # payload: "" (a trigger on webhook_delivery)
KEYS_CHANNEL = "claimdesk_keys"  # payload: "" (a trigger on api_key: created, revoked, changed)


class Notifier:
    """Listens on the given channels and wakes the in-process waiters of each payload."""

    def __init__(self, settings: Settings, channels: tuple[str, ...]) -> None:
        self.settings = settings
        self.channels = channels
        self._waiters: dict[tuple[str, str], set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None
        self.listening = False

    async def start(self) -> None:
        """Start listening (PostgreSQL); on SQLite there is nothing to listen to."""
        if not self.settings.is_sqlite and self._task is None:
            self._task = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        import asyncpg

        url = make_url(self.settings.database_url).set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while True:
            conn: Any = None
            try:
                conn = await asyncpg.connect(dsn)
                closed = asyncio.Event()
                conn.add_termination_listener(lambda _conn, ev=closed: ev.set())
                for channel in self.channels:
                    await conn.add_listener(channel, self._on_notify)
                self.listening = True
                self._wake_all()  # anything committed while we were not listening
                await closed.wait()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database restarted or is unreachable: retry
                log.warning("LISTEN connection lost; waiters poll until it is back")
            finally:
                self.listening = False
                if conn is not None and not conn.is_closed():
                    await conn.close()
            await asyncio.sleep(1.0)

    def _on_notify(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        for key in (payload, ""):
            for event in self._waiters.get((channel, key), ()):
                event.set()

    def _wake_all(self) -> None:
        for events in self._waiters.values():
            for event in events:
                event.set()

    def subscribe(self, channel: str, key: str = "") -> asyncio.Event:
        """A lasting event, set on every NOTIFY of `channel` and whenever listening resumes."""
        event = asyncio.Event()
        self._waiters.setdefault((channel, key), set()).add(event)
        return event

    @contextmanager
    def watch(self, channel: str, key: str = "", *also: tuple[str, str]) -> Iterator[asyncio.Event]:
        """An event set whenever `channel` is notified with payload `key` (or any, for ""),
        or any of the further (channel, key) pairs in `also`."""
        event = asyncio.Event()
        targets = [(channel, key), *also]
        for target in targets:
            self._waiters.setdefault(target, set()).add(event)
        try:
            yield event
        finally:
            for target in targets:
                waiters = self._waiters.get(target)
                if waiters is not None:
                    waiters.discard(event)
                    if not waiters:
                        self._waiters.pop(target, None)

    async def close(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None


async def wait(event: asyncio.Event, seconds: float) -> bool:
    """Wait for `event` up to `seconds`, then clear it; True when it was set."""
    try:
        await asyncio.wait_for(event.wait(), seconds)
        woken = True
    except TimeoutError:
        woken = False
    event.clear()
    return woken
