"""Opaque keyset cursors and the page envelope shared by every list."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Generic, TypeVar

import orjson
from pydantic import BaseModel, Field

from app.core.errors import Unprocessable

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next one."""

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Opaque cursor of the next page; null on the last page."
    )


def encode_cursor(kind: str, position: list[object]) -> str:
    """Encode a keyset position (the sort key of the last item) as an opaque string."""
    raw = orjson.dumps({"k": kind, "p": position})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> list[object] | None:
    """Decode a cursor made by `encode_cursor` for the same list; 422 when it is not one."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise Unprocessable("cursor is not a cursor this service issued") from None
    if not isinstance(data, dict) or data.get("k") != kind or not isinstance(data.get("p"), list):
        raise Unprocessable("cursor belongs to another list or is damaged")
    return data["p"]


def time_and_id(position: list[object]) -> tuple[datetime, int]:
    """A (timestamp, id) keyset position decoded by `decode_cursor`; 422 when damaged."""
    try:
        return datetime.fromisoformat(str(position[0])), int(position[1])  # type: ignore[call-overload]
    except (IndexError, TypeError, ValueError):
        raise Unprocessable("cursor is damaged") from None
