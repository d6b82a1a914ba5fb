"""FastAPI dependencies that turn a bearer key into a principal with the right permission."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.roles import Permission, allows, roles_with
from app.auth.service import KeyVerifier, Principal
from app.core.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(
    auto_error=False, description="An API key created with `claimdesk keys create`."
)


def require(permission: Permission):
    """A dependency that admits keys whose role carries `permission`."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None or not credentials.credentials:
            raise Unauthorized("Send an API key as `Authorization: Bearer <key>`.")
        verifier: KeyVerifier = request.app.state.keys
        principal = await verifier.verify(credentials.credentials)
        if principal is None:
            raise Unauthorized("The API key is unknown or revoked.")
        request.state.principal = principal
        if not allows(principal.role, permission):
            allowed = ", ".join(r.value for r in roles_with(permission))
            raise Forbidden(
                f"Role {principal.role.value} may not do this; it needs one of: {allowed}."
            )
        return principal

    dependency.__name__ = f"require_{permission.value}"
    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency


ProgressReader = Annotated[Principal, Depends(require(Permission.progress_read))]
ClaimsReader = Annotated[Principal, Depends(require(Permission.claims_read))]
ClaimsLister = Annotated[Principal, Depends(require(Permission.claims_list))]
ClaimsWriter = Annotated[Principal, Depends(require(Permission.claims_write))]
TaxonomyReader = Annotated[Principal, Depends(require(Permission.taxonomy_read))]
