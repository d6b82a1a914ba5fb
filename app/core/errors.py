"""Domain errors and RFC 9457 problem responses for every failure the API can answer."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import compile_path

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://problems.claimdesk.dev/"
MAX_LISTED_ERRORS = 50  # a body of 60 000 unknown keys must not answer with 60 000 errors
_MAX_LOC_PART = 100
# Problems echo client input (a path, a key name): with <, > and & as JSON escapes (the same
# string once parsed) no problem body can carry live markup, whatever reads it.
_HTML_ESCAPES = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"))
logger = logging.getLogger("claimdesk.errors")


class ProblemError(BaseModel):
    """One validation failure."""

    loc: list[str | int] = Field(examples=[["body", "stage"]])
    msg: str = Field(examples=["Input should be 'reported', 'survey_assessment' or …"])


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(examples=[PROBLEM_BASE + "validation"])
    title: str = Field(examples=["Request validation failed"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["body.stage: Input should be 'reported', …"])
    instance: str | None = Field(default=None, examples=["/v1/claims/CLM-1/stage-events"])
    errors: list[ProblemError] | None = None
    allowed: list[str] | None = Field(
        default=None, description="For illegal transitions: the moves allowed from here."
    )

    model_config = {"extra": "allow"}


class DomainError(Exception):
    """A refusal that the client can act on; carries its status and problem type."""

    status: ClassVar[int] = 400
    type_slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def headers(self) -> dict[str, str] | None:
        """Response headers the problem needs (none by default)."""
        return None


class NotFound(DomainError):
    """The resource does not exist."""

    status = 404
    type_slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    """The request conflicts with the resource's state."""

    status = 409
    type_slug = "conflict"
    title = "Conflict"


class IllegalTransition(Conflict):
    """A state machine refused the move; `allowed` lists what is possible."""

    type_slug = "illegal-transition"
    title = "Illegal transition"


class PreconditionFailed(DomainError):
    """If-Match did not match the current version."""

    status = 412
    type_slug = "precondition-failed"
    title = "Precondition failed"


class Unprocessable(DomainError):
    """The body parsed and validated but breaks a domain rule."""

    status = 422
    type_slug = "unprocessable"
    title = "Unprocessable request"


class Unauthorized(DomainError):
    """No key, or a key that is unknown or revoked."""

    status = 401
    type_slug = "unauthorized"
    title = "Unauthorized"


class Forbidden(DomainError):
    """The key's role does not carry the right."""

    status = 403
    type_slug = "forbidden"
    title = "Forbidden"


class TooManyRequests(DomainError):
    """The key has used its requests for the current window; `retry_after` seconds."""

    status = 429
    type_slug = "rate-limited"
    title = "Too many requests"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.extra["retry_after"])}


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """Render a problem document."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    response = Response(_dump(body), status_code=status, media_type=PROBLEM_JSON)
    if headers:
        response.headers.update(headers)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="claimdesk"'
    return response


_HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def _loc_text(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return problem_response(
        exc.status,
        exc.type_slug,
        exc.title,
        exc.detail,
        instance=request.url.path,
        headers=exc.headers(),
        **exc.extra,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in raw):
        return problem_response(
            400,
            "malformed-json",
            "Malformed JSON",
            "The request body is not valid JSON in UTF-8.",
            instance=request.url.path,
        )
    errors = [
        {
            "loc": [_loc_part(p) for p in err.get("loc", ()) if isinstance(p, str | int)],
            "msg": err["msg"],
        }
        for err in raw[:MAX_LISTED_ERRORS]
    ]
    detail = "; ".join(f"{_loc_text(tuple(e['loc']))}: {e['msg']}" for e in errors[:5])
    if len(raw) > MAX_LISTED_ERRORS:
        detail += f" ({len(raw)} errors; the first {MAX_LISTED_ERRORS} are listed)"
    return problem_response(
        422,
        "validation",
        "Request validation failed",
        detail or "The request is invalid.",
        instance=request.url.path,
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    slug, title = _HTTP_TITLES.get(exc.status_code, ("http-error", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No resource at {request.url.path}."
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
        allowed = _allowed_methods(request)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    return problem_response(
        exc.status_code, slug, title, detail, instance=request.url.path, headers=headers
    )


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (routing stops at the first partial match,
    so its Allow header names only that route's methods)."""
    table = getattr(request.app.state, "_method_table", None)
    if table is None:
        table = []
        for context in iter_route_contexts(request.app.routes):
            path, methods = getattr(context, "path", None), context.methods
            if path and methods:
                table.append((compile_path(path)[0], methods))
        request.app.state._method_table = table
    found = {m for regex, methods in table if regex.match(request.url.path) for m in methods}
    return sorted(found)


async def _unhandled(request: Request, exc: Exception) -> Response:
    # The trace goes to the log with the request id; the client gets none of it.
    logger.exception("unhandled error", extra={"path": request.url.path})
    return problem_response(
        500,
        "internal",
        "Internal error",
        "The request failed inside the service; it has been logged.",
        instance=request.url.path,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error class through a problem+json renderer."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled)


def problem_bytes(status: int, slug: str, title: str, detail: str, **extra: Any) -> bytes:
    """A problem body for code outside the handlers (ASGI middleware)."""
    return _dump(
        {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    )


def _dump(body: dict[str, Any]) -> bytes:
    data = orjson.dumps(body)
    for raw, escaped in _HTML_ESCAPES:
        data = data.replace(raw, escaped)
    return data


def _loc_part(part: str | int) -> str | int:
    # An unknown key is echoed in `loc`; a megabyte-long one is not echoed whole.
    return part[:_MAX_LOC_PART] if isinstance(part, str) else part


def problem_doc_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the given problem statuses."""
    descriptions = {
        400: "Malformed request (bad JSON, bad header)",
        401: "No API key, or an unknown or revoked one",
        403: "The key's role does not allow this operation",
        404: "No such resource",
        409: "Conflicts with the resource's current state",
        412: "If-Match does not match the current ETag",
        413: "Body larger than the configured limit",
        422: "Validation failed (see `errors`)",
        429: "The key's rate limit is used up for this minute (see `Retry-After`)",
    }
    return {
        s: {
            "description": descriptions.get(s, "Problem"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }
