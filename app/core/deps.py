"""Small request-scoped dependencies: the clock, the language, the request id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header, Request

from app.core.i18n import Lang, negotiate

AcceptLanguage = Annotated[
    str | None,
    Header(
        description="zh-Hans (default), zh-Hant or en: selects labels; codes never change.",
        examples=["zh-Hant"],
    ),
]


# Clocks of the calling systems and ours differ a little; beyond this a time is in the future.
CLOCK_SKEW = timedelta(minutes=5)


def system_clock() -> datetime:
    """The current instant (UTC)."""
    return datetime.now(UTC)


def now_of(request: Request) -> datetime:
    """The app's clock (`app.state.clock`, which tests replace to freeze time)."""
    return request.app.state.clock()


def lang_of(request: Request, accept_language: str | None) -> Lang:
    """The response language for an Accept-Language value."""
    return negotiate(accept_language, request.app.state.settings.default_language)


async def get_now(request: Request) -> datetime:
    """The current instant by the app's clock."""
    return now_of(request)


async def get_lang(request: Request, accept_language: AcceptLanguage = None) -> Lang:
    """The response language negotiated from Accept-Language."""
    return lang_of(request, accept_language)


async def get_request_id(request: Request) -> str | None:
    """The request id set by the request-id middleware."""
    return request.scope.get("state", {}).get("request_id")


Now = Annotated[datetime, Depends(get_now)]
Language = Annotated[Lang, Depends(get_lang)]
RequestId = Annotated[str | None, Depends(get_request_id)]

IdempotencyKey = Annotated[
    str | None,
    Header(
        description="Retry-safe creation: the same key with the same body returns the first "
        "response; with another body, 422. Kept at least 24 h.",
        examples=["3f0c9a52-6c1e-4d1e-9a43-2f1d1c0b7e11"],
    ),
]
