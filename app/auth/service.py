"""Key management and verification."""

from __future__ import annotations

import hashlib
import secrets
import time
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
    session: AsyncSession, *, name: str, role: Role, now: datetime
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the key in clear (shown once, never stored)."""
    key = new_key()
    row = ApiKey(
        name=name, role=role.value, key_hash=hash_key(key), prefix=key[:10], created_at=now
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
    """Revoke a key by name; it stops working within the key cache's lifetime."""
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"no active key named {name!r}")


class KeyVerifier:
    """Bearer key → principal, cached in-process for a few seconds.

    Verification runs on every request, so a hit costs a dict lookup; a revoked key stops
    working once its cache entry expires (CLAIMDESK_KEY_CACHE_SECONDS, default 5 s).
    """

    _MAX_ENTRIES = 10_000

    def __init__(self, raw: RawReader, ttl_seconds: float) -> None:
        self.raw = raw
        self.ttl = ttl_seconds
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def verify(self, key: str) -> Principal | None:
        """The principal of an active key, or None."""
        digest = hash_key(key)
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        row = await self.raw.fetchrow(
            "SELECT id, name, role, revoked_at FROM api_key WHERE key_hash = $1", digest
        )
        principal = None
        if row is not None and row[3] is None:
            principal = Principal(key_id=row[0], name=row[1], role=Role(row[2]))
        if self.ttl > 0:
            if len(self._cache) >= self._MAX_ENTRIES:
                self._cache.clear()
            self._cache[digest] = (now + self.ttl, principal)
        return principal

    def forget(self) -> None:
        """Drop every cached verdict."""
        self._cache.clear()
