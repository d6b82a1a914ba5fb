"""ETag / If-Match on versioned rows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Response

from app.core.errors import PreconditionFailed

IfMatch = Annotated[
    str | None,
    Header(description="The ETag last read; a stale one is refused with 412.", examples=['"3"']),
]


_MAX_VERSION_DIGITS = 9


def etag(version: int) -> str:
    """The strong entity tag of a row version."""
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match header demands; None when absent or `*`; 412 when unreadable."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    # ASCII digits only (str.isdigit also takes "９" and "²"), and few enough for the
    # integer version column: a 5000-digit tag is refused here, not by int() or the database.
    if not (tag.isascii() and tag.isdigit() and len(tag) <= _MAX_VERSION_DIGITS):
        raise PreconditionFailed(f"If-Match {if_match[:40]!r} is not an ETag this service issued.")
    return int(tag)


def check_version(expected: int | None, current: int) -> None:
    """Raise 412 when an expected version is given and is not the current one."""
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"If-Match {etag(expected)} does not match the current ETag {etag(current)}.",
            current_etag=etag(current),
        )


def versioned_json(read: Any, status_code: int = 200) -> Response:
    """A single resource as JSON with its `ETag` (the model's `version`)."""
    return Response(
        read.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers={"ETag": etag(read.version)},
    )
