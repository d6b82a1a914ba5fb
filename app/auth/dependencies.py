"""The auth dependency: bearer key → principal, checked against the operation table."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPBearer

from app.auth.ratelimit import RateLimiter
from app.auth.roles import OPERATIONS, PUBLIC, allows, roles_with
from app.auth.service import KeyVerifier, Principal
from app.core.errors import Forbidden, TooManyRequests, Unauthorized


def bearer_key(request: Request) -> str | None:
    """The key of an `Authorization: Bearer <key>` header, or None."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


class Authorize(HTTPBearer):
    """Admit a key whose role may call this operation, within the key's rate limit.

    A security scheme and the check in one dependency: it documents the bearer scheme in
    OpenAPI and costs one dependency resolution per request. The permission comes from
    `app.auth.roles.OPERATIONS` by the route's operationId, so the table is the only place a
    right is granted (`check_routes` makes the application refuse to start otherwise).
    """

    def __init__(self) -> None:
        super().__init__(
            scheme_name="ApiKey",
            description="An API key created with `claimdesk keys create`.",
            auto_error=False,
        )

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        key = bearer_key(request)
        if key is None:
            raise Unauthorized("Send an API key as `Authorization: Bearer <key>`.")
        verifier: KeyVerifier = request.app.state.keys
        principal = await verifier.verify(key)
        if principal is None:
            raise Unauthorized("The API key is unknown or revoked.")
        request.state.principal = principal
        limiter: RateLimiter = request.app.state.rate_limiter
        wait = await limiter.check(principal.key_id, principal.rate_limit)
        if wait is not None:
            raise TooManyRequests(
                f"Key {principal.name!r} has used its requests for this minute; "
                f"retry in {int(wait)} s.",
                retry_after=int(wait),
            )
        permission = OPERATIONS[request.scope["route"].operation_id]
        if not allows(principal.role, permission):
            allowed = ", ".join(r.value for r in roles_with(permission))
            raise Forbidden(
                f"Role {principal.role.value} may not do this; it needs one of: {allowed}."
            )
        return principal


authorize = Authorize()

# The principal of an authorized call; every protected route takes one parameter of this type.
Caller = Annotated[Principal, Depends(authorize)]


def _uses_authorize(route: APIRoute) -> bool:
    return any(dep.call is authorize for dep in route.dependant.dependencies)


def check_routes(app: FastAPI) -> None:
    """Refuse to start when a route and the operation table disagree.

    Every route with the auth dependency must be in `OPERATIONS`, every public route in
    `PUBLIC` and without it, and every entry of either must name a route.
    """
    seen: set[str] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        op = route.operation_id
        if _uses_authorize(route):  # hidden routes too: they would fail at the first call
            if op not in OPERATIONS:
                raise RuntimeError(f"route {route.path}: {op} is not in app.auth.roles.OPERATIONS")
        elif not route.include_in_schema:
            continue
        elif op not in PUBLIC:
            raise RuntimeError(f"operation {op} has no auth dependency and is not PUBLIC")
        seen.add(op)  # type: ignore[arg-type]
    missing = (OPERATIONS.keys() | PUBLIC) - seen
    if missing:
        raise RuntimeError(f"the operation table names unknown operations: {sorted(missing)}")
