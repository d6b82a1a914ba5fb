"""One pure-ASGI middleware: request id, body size limit, metrics and the access log."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PROBLEM_JSON, problem_bytes
from app.core.metrics import LATENCY, REQUESTS

access_log = logging.getLogger("claimdesk.access")

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


class RequestMiddleware:
    """Tags each request with an id, refuses bodies over the limit, measures and logs it."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, access_log_enabled: bool) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.log = access_log_enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        raw_id = _header(scope, b"x-request-id")
        request_id = (
            raw_id.decode("latin-1")[:64]
            if raw_id and raw_id.isascii() and raw_id.strip()
            else uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id
        status_holder = [500]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            if scope["method"] in _BODY_METHODS:
                body = await self._read_body(scope, receive)
                if body is None:
                    await self._too_large(send_wrapper)
                elif b"\\u0000" in body:
                    # PostgreSQL cannot store NUL in text; refuse it for every field alike.
                    await _send_problem(
                        send_wrapper,
                        422,
                        "nul-character",
                        "NUL character",
                        "Text fields must not contain NUL (\\u0000) characters.",
                    )
                else:
                    await self.app(scope, _replay(body, receive), send_wrapper)
            else:
                await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            status = status_holder[0]
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(elapsed)
            if self.log:
                principal = scope.get("state", {}).get("principal")
                access_log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "route": template,
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "key": getattr(principal, "name", None),
                    },
                )

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                if int(declared) > self.max_body:
                    return None
            except ValueError:
                pass
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _too_large(self, send: Any) -> None:
        await _send_problem(
            send,
            413,
            "payload-too-large",
            "Payload too large",
            f"The request body exceeds the limit of {self.max_body} bytes.",
            close=True,
        )


async def _send_problem(
    send: Any, status: int, slug: str, title: str, detail: str, *, close: bool = False
) -> None:
    body = problem_bytes(status, slug, title, detail)
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        # After the body, pass through so a real disconnect is still seen.
        return await receive()

    return replay
