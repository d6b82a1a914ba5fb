"""Small request-scoped dependencies: the clock, the language, the request id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request

from app.core.i18n import Lang, negotiate


async def get_now() -> datetime:
    """The current instant (UTC); tests override this dependency to freeze time."""
    return datetime.now(UTC)


async def get_lang(
    request: Request,
    accept_language: Annotated[
        str | None,
        Header(
            description="zh-Hans (default), zh-Hant or en: selects labels; codes never change.",
            examples=["zh-Hant"],
        ),
    ] = None,
) -> Lang:
    """The response language negotiated from Accept-Language."""
    return negotiate(accept_language, request.app.state.settings.default_language)


async def get_request_id(request: Request) -> str | None:
    """The request id set by the request-id middleware."""
    return request.scope.get("state", {}).get("request_id")


Now = Annotated[datetime, Depends(get_now)]
Language = Annotated[Lang, Depends(get_lang)]
RequestId = Annotated[str | None, Depends(get_request_id)]
