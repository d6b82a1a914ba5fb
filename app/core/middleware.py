"""One pure-ASGI middleware: request id, input limits, metrics and the access log."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PROBLEM_JSON, problem_bytes
from app.core.fields import CONTROL_CHARACTERS, CONTROL_CHARACTERS_RULE
from app.core.metrics import LATENCY, REQUESTS

access_log = logging.getLogger("claimdesk.access")
errors_log = logging.getLogger("claimdesk.errors")

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# All request header names and values together. The HTTP server in front (httptools) sets no
# limit of its own; an API client needs a few hundred bytes.
MAX_HEADER_BYTES = 16 * 1024
_NOT_PRINTABLE_ASCII = re.compile(rb"[^ -~]")
# A query string worth decoding to look for control characters: escapes or raw controls.
_QUERY_SUSPECT = re.compile(rb"[%\x00-\x1f\x7f]")


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


class RequestMiddleware:
    """Tags each request with an id, refuses input no route should see (oversized headers or
    body, a body that is not UTF-8, control characters in the query), measures and logs it."""

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
        # Echoed in a response header and the log: printable ASCII only, or a fresh id.
        request_id = (
            raw_id.decode("ascii")[:64]
            if raw_id and raw_id.strip() and not _NOT_PRINTABLE_ASCII.search(raw_id)
            else uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id
        status_holder = [500]
        response_started = [False]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_started[0] = True
                status_holder[0] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("ascii")))
                # Bodies echo client text (JSON only): never let a browser sniff them as HTML.
                headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            if sum(len(name) + len(value) for name, value in scope["headers"]) > MAX_HEADER_BYTES:
                await _send_problem(
                    send_wrapper,
                    431,
                    "header-fields-too-large",
                    "Request header fields too large",
                    f"The request headers exceed the limit of {MAX_HEADER_BYTES} bytes.",
                    close=True,
                )
            elif query_error := _query_control_character(scope.get("query_string", b"")):
                await _send_problem(send_wrapper, *query_error)
            elif scope["method"] in _BODY_METHODS:
                body = await self._read_body(scope, receive)
                if body is None:
                    await self._too_large(send_wrapper)
                elif not _utf8_json_text(body):
                    await _send_problem(
                        send_wrapper,
                        400,
                        "malformed-json",
                        "Malformed JSON",
                        "The request body is not valid JSON in UTF-8.",
                    )
                else:
                    await self.app(scope, _replay(body, receive), send_wrapper)
            else:
                await self.app(scope, receive, send_wrapper)
        except Exception:
            # A bug: logged once with the request id, answered with a problem that carries it.
            errors_log.exception(
                "unhandled error", extra={"request_id": request_id, "path": scope["path"]}
            )
            if response_started[0]:
                raise
            await _send_problem(
                send_wrapper,
                500,
                "internal",
                "Internal error",
                "The request failed inside the service; it has been logged "
                f"(request id {request_id}).",
            )
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


def _utf8_json_text(body: bytes) -> bool:
    """False for a body that cannot be JSON in UTF-8 (RFC 8259 §8.1): invalid UTF-8, or a raw
    NUL byte, which JSON never holds and which UTF-16/32 (that `json.loads` would guess and
    accept) always carry for ASCII text."""
    if b"\x00" in body:
        return False
    if body.isascii():
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _query_control_character(query: bytes) -> tuple[Any, ...] | None:
    """The problem for a query string that is not percent-encoded ASCII (400) or has a
    parameter holding a control character (422: the text-field rule; PostgreSQL cannot even
    compare with a NUL), or None."""
    if not query:
        return None
    if not query.isascii():
        # Raw bytes would reach the route as Latin-1 mojibake; RFC 3986 wants them escaped.
        return (
            400,
            "bad-request",
            "Bad request",
            "The query string must be ASCII: percent-encode other characters as UTF-8 "
            "(e.g. q=%E5%AE%9A%E6%8D%9F for q=定损).",
            None,
        )
    if not _QUERY_SUSPECT.search(query):
        return None
    # Decoded as Starlette decodes it for the route.
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if CONTROL_CHARACTERS.search(name) or CONTROL_CHARACTERS.search(value):
            shown = CONTROL_CHARACTERS.sub("?", name)[:100]
            return (
                422,
                "validation",
                "Request validation failed",
                f"query.{shown}: {CONTROL_CHARACTERS_RULE}",
                {"errors": [{"loc": ["query", shown], "msg": CONTROL_CHARACTERS_RULE}]},
            )
    return None


async def _send_problem(
    send: Any,
    status: int,
    slug: str,
    title: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    *,
    close: bool = False,
) -> None:
    body = problem_bytes(status, slug, title, detail, **(extra or {}))
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
