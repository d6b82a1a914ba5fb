"""FastAPI dependencies that turn a bearer key into a principal with the right permission."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from app.auth.roles import Permission, allows, roles_with
from app.auth.service import KeyVerifier, Principal
from app.core.errors import Forbidden, Unauthorized


class Require(HTTPBearer):
    """Admit keys whose role carries one permission.

    A security scheme and the check in one dependency: it documents the bearer scheme in
    OpenAPI and costs a single dependency resolution per request (this runs on every call).
    """

    def __init__(self, permission: Permission) -> None:
        super().__init__(
            scheme_name="ApiKey",
            description="An API key created with `claimdesk keys create`.",
            auto_error=False,
        )
        self.permission = permission

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise Unauthorized("Send an API key as `Authorization: Bearer <key>`.")
        verifier: KeyVerifier = request.app.state.keys
        principal = await verifier.verify(key)
        if principal is None:
            raise Unauthorized("The API key is unknown or revoked.")
        request.state.principal = principal
        if not allows(principal.role, self.permission):
            allowed = ", ".join(r.value for r in roles_with(self.permission))
            raise Forbidden(
                f"Role {principal.role.value} may not do this; it needs one of: {allowed}."
            )
        return principal


def require(permission: Permission) -> Require:
    """The dependency for one permission."""
    return Require(permission)


ProgressReader = Annotated[Principal, Depends(require(Permission.progress_read))]
ClaimsReader = Annotated[Principal, Depends(require(Permission.claims_read))]
ClaimsLister = Annotated[Principal, Depends(require(Permission.claims_list))]
ClaimsWriter = Annotated[Principal, Depends(require(Permission.claims_write))]
ComplaintsReader = Annotated[Principal, Depends(require(Permission.complaints_read))]
ComplaintsWriter = Annotated[Principal, Depends(require(Permission.complaints_write))]
TaxonomyReader = Annotated[Principal, Depends(require(Permission.taxonomy_read))]
FollowUpWorker = Annotated[Principal, Depends(require(Permission.follow_ups))]
SurveyTaker = Annotated[Principal, Depends(require(Permission.surveys))]
SurveyReviewer = Annotated[Principal, Depends(require(Permission.surveys_review))]
ImprovementManager = Annotated[Principal, Depends(require(Permission.improvements))]
TeachingCaseEditor = Annotated[Principal, Depends(require(Permission.teaching_cases))]
Reporter = Annotated[Principal, Depends(require(Permission.reports))]
Classifier = Annotated[Principal, Depends(require(Permission.classify))]
ClassifierReader = Annotated[Principal, Depends(require(Permission.classifier_read))]
ClassifierTrainer = Annotated[Principal, Depends(require(Permission.classifier_retrain))]
ClassificationOverrider = Annotated[Principal, Depends(require(Permission.classification_override))]
WebhooksAdmin = Annotated[Principal, Depends(require(Permission.webhooks_admin))]
