"""Idempotency-Key: a creating POST retried with the same key returns the first response.

The key is claimed with an INSERT in the same transaction as the creation it guards, so the
record and the created rows commit (or vanish) together. A concurrent request with the same
key blocks on the unique index (PostgreSQL) or on the single writer (SQLite) until the first
commits, then finds its record and replays the response: never a second creation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Integer, String, Text, bindparam, text
from sqlmodel import Column, Field, Index, SQLModel

from app.core.db import UTCDateTime
from app.core.errors import Unprocessable

MAX_KEY_LENGTH = 200


class IdempotencyRecord(SQLModel, table=True):
    """A claimed key and, once the request is done, its response."""

    __tablename__ = "idempotency_record"
    __table_args__ = (Index("ix_idempotency_record_expires_at", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # principal name + method + path template + key: one client's key never collides with
    # another's, nor the same key across operations.
    scope_key: str = Field(sa_column=Column(String(400), nullable=False, unique=True))
    request_hash: str = Field(sa_column=Column(String(64), nullable=False))
    status_code: int | None = Field(default=None, sa_column=Column(Integer))
    response_body: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


@dataclass(frozen=True)
class Replay:
    """A stored response to send again."""

    status_code: int
    body: bytes


_CLAIM = text(
    "INSERT INTO idempotency_record (scope_key, request_hash, created_at, expires_at) "
    "VALUES (:scope_key, :request_hash, :created_at, :expires_at) "
    "ON CONFLICT (scope_key) DO NOTHING RETURNING id"
).bindparams(
    bindparam("created_at", type_=UTCDateTime()), bindparam("expires_at", type_=UTCDateTime())
)
# Claim a key together with the response it answers (SQLite intake, whose response is known
# before the key is written): an expired key is taken over in the same statement.
_CLAIM_ANSWERED = text(
    "INSERT INTO idempotency_record (scope_key, request_hash, status_code, response_body, "
    "created_at, expires_at) VALUES (:scope_key, :request_hash, :status_code, :body, "
    ":created_at, :expires_at) ON CONFLICT (scope_key) DO UPDATE SET "
    "request_hash = excluded.request_hash, status_code = excluded.status_code, "
    "response_body = excluded.response_body, created_at = excluded.created_at, "
    "expires_at = excluded.expires_at "
    "WHERE idempotency_record.expires_at < excluded.created_at RETURNING id"
).bindparams(
    bindparam("created_at", type_=UTCDateTime()), bindparam("expires_at", type_=UTCDateTime())
)
_FIND_LIVE = text(
    "SELECT request_hash, status_code, response_body FROM idempotency_record "
    "WHERE scope_key = :scope_key"
)
_FIND = text(
    "SELECT id, request_hash, status_code, response_body, expires_at FROM idempotency_record "
    "WHERE scope_key = :scope_key"
).columns(expires_at=UTCDateTime())
_TAKE_OVER = text(
    "UPDATE idempotency_record SET request_hash = :request_hash, status_code = NULL, "
    "response_body = NULL, created_at = :created_at, expires_at = :expires_at WHERE id = :id"
).bindparams(
    bindparam("created_at", type_=UTCDateTime()), bindparam("expires_at", type_=UTCDateTime())
)
_STORE = text(
    "UPDATE idempotency_record SET status_code = :status_code, response_body = :body WHERE id = :id"
)
_PURGE = text("DELETE FROM idempotency_record WHERE expires_at < :now").bindparams(
    bindparam("now", type_=UTCDateTime())
)


def request_hash(body: Any) -> str:
    """A stable digest of a request body (keys sorted, so field order does not matter)."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def validate_key(key: str) -> str:
    """Refuse keys that are empty, too long or not printable ASCII."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise Unprocessable(
            f"Idempotency-Key must be 1..{MAX_KEY_LENGTH} printable ASCII characters."
        )
    return key


async def claim(
    conn: Any, *, scope_key: str, digest: str, now: datetime, ttl: timedelta
) -> int | Replay:
    """Claim a key in the current transaction: its record id, or the response to replay."""
    params = {
        "scope_key": scope_key,
        "request_hash": digest,
        "created_at": now,
        "expires_at": now + ttl,
    }
    inserted = (await conn.execute(_CLAIM, params)).first()
    if inserted is not None:
        return int(inserted[0])
    found = (await conn.execute(_FIND, {"scope_key": scope_key})).first()
    if found is None:  # pragma: no cover - deleted between the two statements
        raise Unprocessable("Idempotency-Key is being purged; retry.")
    if found.expires_at < now:
        # An expired key is free again: this request takes it over.
        await conn.execute(_TAKE_OVER, {**params, "id": found.id})
        return int(found.id)
    return replay(found.request_hash, found.status_code, found.response_body, digest=digest)


async def claim_answered(
    conn: Any,
    *,
    scope_key: str,
    digest: str,
    now: datetime,
    ttl: timedelta,
    status_code: int,
    body: bytes,
) -> Replay | None:
    """Claim a key with its response in one statement, as the last write of the creation it
    guards: None when claimed (or an expired key taken over); the stored response when the key
    is live, which the caller must answer instead, undoing its own writes (422 for another
    body). For a single writer (SQLite), where no other request can hold the key unfinished."""
    params = {
        "scope_key": scope_key,
        "request_hash": digest,
        "status_code": status_code,
        "body": body.decode(),
        "created_at": now,
        "expires_at": now + ttl,
    }
    if (await conn.execute(_CLAIM_ANSWERED, params)).first() is not None:
        return None
    found = (await conn.execute(_FIND_LIVE, {"scope_key": scope_key})).one()
    return replay(*found, digest=digest)


def replay(stored_hash: str, status_code: int | None, body: str | None, *, digest: str) -> Replay:
    """The stored response of a live key for a request with body digest `digest`; 422 when the
    key was used with another body (or its first request has not finished)."""
    if stored_hash != digest:
        raise Unprocessable(
            "This Idempotency-Key was used with a different request body; use a new key."
        )
    if status_code is None or body is None:  # pragma: no cover - visible only in its transaction
        raise Unprocessable("A request with this Idempotency-Key is still in progress.")
    return Replay(status_code=int(status_code), body=body.encode())


async def store(conn: Any, record_id: int, status_code: int, body: bytes) -> None:
    """Keep the response with its key, in the same transaction as the creation."""
    await conn.execute(_STORE, {"status_code": status_code, "body": body.decode(), "id": record_id})


async def purge_expired(conn: Any, now: datetime) -> int:
    """Delete expired keys; returns how many."""
    result = await conn.execute(_PURGE, {"now": now})
    return int(result.rowcount or 0)


async def run_once(
    conn: Any,
    *,
    owner: str,
    operation: str,
    key: str | None,
    body: Any,
    now: datetime,
    ttl: timedelta,
    create: Callable[[], Awaitable[tuple[int, bytes]]],
) -> tuple[int, bytes]:
    """Run `create` (returning status code and JSON body) at most once per `Idempotency-Key`:
    a retry with the same key and body gets the stored response, another body 422. Without a
    key (`None`) it simply runs. Keys are scoped to their `owner` (the caller) and `operation`;
    `body` must identify the request (include path parameters)."""
    if key is None:
        return await create()
    claimed = await claim(
        conn,
        scope_key=f"{owner}:{operation}:{validate_key(key)}",
        digest=request_hash(body),
        now=now,
        ttl=ttl,
    )
    if isinstance(claimed, Replay):
        return claimed.status_code, claimed.body
    status_code, payload = await create()
    await store(conn, claimed, status_code, payload)
    return status_code, payload
