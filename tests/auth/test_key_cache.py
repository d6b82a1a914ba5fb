"""KeyVerifier's cache: used only while key changes are heard, never stores a stale verdict."""

from __future__ import annotations

import asyncio
from typing import Any

from app.auth.service import KeyVerifier, hash_key

KEY = "cdk_test"


class FakeReader:
    """The api_key row as the database has it; `gate` holds a lookup mid-flight."""

    def __init__(self) -> None:
        self.revoked = False
        self.lookups = 0  # of KEY
        self.gate: asyncio.Event | None = None

    async def fetchrow(self, _sql: str, digest: str) -> tuple[Any, ...] | None:
        if digest != hash_key(KEY):
            return (2, "other", "portal", None, None)
        self.lookups += 1
        row = (1, "portal", "portal", "2026-11-24" if self.revoked else None, None)
        if self.gate is not None:
            await self.gate.wait()
        return row


def _verifier(reader: FakeReader, listening: bool = True) -> tuple[KeyVerifier, asyncio.Event]:
    changes = asyncio.Event()
    return KeyVerifier(reader, 600, changes=changes, listening=lambda: listening), changes  # type: ignore[arg-type]


async def test_verdicts_are_cached_until_a_key_change_is_heard() -> None:
    reader = FakeReader()
    verifier, changes = _verifier(reader)
    assert await verifier.verify(KEY) is not None
    assert await verifier.verify(KEY) is not None
    assert reader.lookups == 1
    reader.revoked = True
    changes.set()  # the NOTIFY
    assert await verifier.verify(KEY) is None
    assert reader.lookups == 2


async def test_nothing_is_cached_while_not_listening() -> None:
    reader = FakeReader()
    verifier, _ = _verifier(reader, listening=False)
    assert await verifier.verify(KEY) is not None
    reader.revoked = True
    assert await verifier.verify(KEY) is None
    assert reader.lookups == 2


async def test_a_lookup_overtaken_by_a_revocation_does_not_cache_its_old_verdict() -> None:
    reader = FakeReader()
    verifier, changes = _verifier(reader)
    reader.gate = asyncio.Event()
    slow = asyncio.create_task(verifier.verify(KEY))  # reads "active", then waits
    await asyncio.sleep(0)
    reader.revoked = True
    changes.set()  # the revocation's NOTIFY arrives while the lookup is in flight
    # any other request hears the change first and drops the cache
    assert await verifier.verify("cdk_another_key") is not None
    reader.gate.set()
    assert await slow is not None  # it answered from what it read
    reader.gate = None
    assert await verifier.verify(KEY) is None  # but did not keep that verdict
    assert reader.lookups == 2
