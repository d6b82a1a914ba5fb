"""Key management and verification."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import ApiKey
from app.auth.roles import Role
from app.core.db import RawReader
from app.core.errors import Conflict, NotFound

KEY_PREFIX = "cdk_"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's name and role."""

    key_id: int
    name: str
    role: Role
    rate_limit: int | None = None  # requests per minute; None: the configured default


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change, for timelines and the audit log: the principal and the request."""

    principal: Principal
    request_id: str | None


def hash_key(key: str) -> str:
    """The stored digest of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh random key (256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def create_key(
    session: AsyncSession,
    *,
    name: str,
    role: Role,
    now: datetime,
    rate_limit: int | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the key in clear (shown once, never stored)."""
    key = new_key()
    row = ApiKey(
        name=name,
        role=role.value,
        key_hash=hash_key(key),
        prefix=key[:10],
        created_at=now,
        rate_limit=rate_limit,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"a key named {name!r} already exists") from None
    return row, key


async def list_keys(session: AsyncSession) -> list[ApiKey]:
    """Every key, revoked ones included, oldest first."""
    return list((await session.scalars(select(ApiKey).order_by(ApiKey.id))).all())


async def count_active_admin_keys(session: AsyncSession) -> int:
    """How many unrevoked admin keys exist."""
    stmt = select(func.count()).where(ApiKey.role == Role.admin.value, ApiKey.revoked_at.is_(None))
    return int((await session.execute(stmt)).scalar_one())


async def revoke_key(session: AsyncSession, *, name: str, now: datetime) -> None:
    """Revoke a key by name; every replica refuses it from the next request on.

    On PostgreSQL a trigger on `api_key` NOTIFYs every replica, which drops its key cache; on
    SQLite keys are not cached (the lookup is a local indexed read).
    """
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"no active key named {name!r}")


class KeyVerifier:
    """Bearer key → principal.

    Verification runs on every request. On PostgreSQL verdicts are cached for
    CLAIMDESK_KEY_CACHE_SECONDS, but only while this process listens for key changes: a
    trigger on `api_key` NOTIFYs every replica and the cache is dropped before the next lookup,
    so a revoked key stops working at once. Without a listener (SQLite, or the LISTEN
    connection reconnecting) every request looks its key up (on SQLite an indexed read on the
    event loop's thread, a few microseconds).
    """

    _MAX_ENTRIES = 10_000
    _SQL = "SELECT id, name, role, revoked_at, rate_limit FROM api_key WHERE key_hash = $1"

    def __init__(
        self,
        raw: RawReader,
        ttl_seconds: float,
        changes: asyncio.Event | None = None,
        listening: Callable[[], bool] = lambda: False,
    ) -> None:
        self.raw = raw
        self.ttl = ttl_seconds
        self.changes = changes
        self.listening = listening
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        # Bumped whenever the cache is dropped: a lookup that started before a key changed
        # must not store what it read (it may be the verdict from before a revocation).
        self._generation = 0

    def _drop_if_changed(self) -> None:
        assert self.changes is not None
        if self.changes.is_set():  # a key changed somewhere: forget every verdict
            self.changes.clear()
            self._cache.clear()
            self._generation += 1

    async def verify(self, key: str) -> Principal | None:
        """The principal of an active key, or None."""
        digest = hash_key(key)
        now = time.monotonic()
        cacheable = self.ttl > 0 and self.changes is not None and self.listening()
        if cacheable:
            self._drop_if_changed()
            hit = self._cache.get(digest)
            if hit is not None and hit[0] > now:
                return hit[1]
        generation = self._generation
        row = await self.raw.fetchrow(self._SQL, digest)
        principal = None
        if row is not None and row[3] is None:
            principal = Principal(key_id=row[0], name=row[1], role=Role(row[2]), rate_limit=row[4])
        if cacheable and self.listening():
            self._drop_if_changed()
            if generation == self._generation:
                if len(self._cache) >= self._MAX_ENTRIES:
                    self._cache.clear()
                self._cache[digest] = (now + self.ttl, principal)
        return principal
