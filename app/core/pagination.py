"""Opaque keyset cursors and the page envelope shared by every list."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Generic, TypeVar

import orjson
from pydantic import BaseModel, Field

from app.core.errors import Unprocessable
from app.core.fields import MAX_ID

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


def _is_id(value: object) -> bool:
    # A cursor holds the id of the page's last item: an int4 id, never a bool or a bigger
    # number (which SQLite's driver or an int4 parameter would refuse with a 500).
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def keyset_id(position: list[object]) -> int:
    """The id of a one-id keyset position decoded by `decode_cursor`; 422 when damaged."""
    if len(position) != 1 or not _is_id(position[0]):
        raise Unprocessable("cursor is damaged")
    return position[0]  # type: ignore[return-value]


def time_and_id(position: list[object]) -> tuple[datetime, int]:
    """A (timestamp, id) keyset position decoded by `decode_cursor`; 422 when damaged."""
    try:
        at, last_id = datetime.fromisoformat(str(position[0])), position[1]
    except (IndexError, TypeError, ValueError):
        raise Unprocessable("cursor is damaged") from None
    if len(position) != 2 or at.tzinfo is None or not _is_id(last_id):
        raise Unprocessable("cursor is damaged")
    return at, last_id  # type: ignore[return-value]
