"""Roles and their rights: the one table the API's authorization is checked against.

`OPERATIONS` maps every operation of the API (its OpenAPI operationId) to the permission it
needs, `ROLE_PERMISSIONS` maps every role to the permissions it carries; together they are the
role × operation matrix (`matrix()`). The auth dependency looks the calling route's operationId
up here on every request, and the application refuses to start if a route and this table
disagree, so there is no second place where a right is granted.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """The role an API key carries."""

    call_center = "call_center"
    claims_system = "claims_system"
    portal = "portal"
    supervisor = "supervisor"
    admin = "admin"


class Permission(StrEnum):
    """A right that an operation requires."""

    taxonomy_read = "taxonomy_read"
    progress_read = "progress_read"
    claims_read = "claims_read"
    claims_list = "claims_list"
    claims_write = "claims_write"
    complaints_read = "complaints_read"
    complaints_write = "complaints_write"
    complaints_assign = "complaints_assign"
    follow_ups = "follow_ups"
    surveys = "surveys"
    surveys_review = "surveys_review"
    teaching_cases = "teaching_cases"
    classify = "classify"
    classification_override = "classification_override"
    classifier_read = "classifier_read"
    classifier_retrain = "classifier_retrain"
    reports = "reports"
    improvements = "improvements"
    webhooks_admin = "webhooks_admin"


_CALL_CENTER = frozenset(
    {
        Permission.taxonomy_read,
        Permission.progress_read,
        Permission.claims_read,
        Permission.complaints_read,
        Permission.complaints_write,
        Permission.follow_ups,
        Permission.surveys,
        Permission.classify,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.call_center: _CALL_CENTER,
    Role.claims_system: frozenset(
        {
            Permission.taxonomy_read,
            Permission.progress_read,
            Permission.claims_read,
            Permission.claims_list,
            Permission.claims_write,
        }
    ),
    Role.portal: frozenset({Permission.taxonomy_read, Permission.progress_read}),
    Role.supervisor: _CALL_CENTER
    | {
        Permission.claims_list,
        Permission.complaints_assign,
        Permission.classification_override,
        Permission.classifier_read,
        Permission.reports,
        Permission.improvements,
        Permission.surveys_review,
        Permission.teaching_cases,
    },
    Role.admin: frozenset(Permission),
}

# Roles that see personal data in clear; everyone else gets masked values.
SEES_PERSONAL_DATA: frozenset[Role] = frozenset(
    {Role.call_center, Role.claims_system, Role.supervisor, Role.admin}
)


# Operations anyone may call without a key (probes and metrics for the platform).
PUBLIC: frozenset[str] = frozenset({"ops_health", "ops_ready", "ops_metrics"})

P = Permission
OPERATIONS: dict[str, Permission] = {
    # claims: the core claims system writes, the call centre reads, the portal sees progress
    "claims_upsert": P.claims_write,
    "claims_list": P.claims_list,
    "claims_get": P.claims_read,
    "claims_record_stage_event": P.claims_write,
    "claims_get_progress": P.progress_read,
    "claims_stream_progress": P.progress_read,
    # classification
    "classification_get_taxonomy": P.taxonomy_read,
    "classification_classify": P.classify,
    "classification_get_classifier": P.classifier_read,
    "classification_retrain": P.classifier_retrain,
    # complaints
    "complaints_create": P.complaints_write,
    "complaints_list": P.complaints_read,
    "complaints_get": P.complaints_read,
    "complaints_update": P.complaints_write,
    "complaints_apply_action": P.complaints_write,
    "complaints_override_classification": P.classification_override,
    "complaints_get_timeline": P.complaints_read,
    # follow-ups and surveys
    "follow_ups_create": P.follow_ups,
    "follow_ups_list": P.follow_ups,
    "follow_ups_get": P.follow_ups,
    "follow_ups_update": P.follow_ups,
    "surveys_create": P.surveys,
    "surveys_list": P.surveys_review,
    # prevention
    "improvements_create": P.improvements,
    "improvements_list": P.improvements,
    "improvements_get": P.improvements,
    "improvements_update": P.improvements,
    "improvements_delete": P.improvements,
    "teaching_cases_mark": P.teaching_cases,
    "teaching_cases_unmark": P.teaching_cases,
    "teaching_cases_list": P.teaching_cases,
    # reports (supervisors; the handler report is 考核 and nobody else's business)
    "reports_summary": P.reports,
    "reports_sla": P.reports,
    "reports_handlers": P.reports,
    "reports_claims_at_risk": P.reports,
    "reports_regulatory": P.reports,
    # webhooks (admin)
    "webhooks_create_subscription": P.webhooks_admin,
    "webhooks_list_subscriptions": P.webhooks_admin,
    "webhooks_get_subscription": P.webhooks_admin,
    "webhooks_delete_subscription": P.webhooks_admin,
    "webhooks_list_deliveries": P.webhooks_admin,
    "webhooks_get_delivery": P.webhooks_admin,
    "webhooks_redeliver": P.webhooks_admin,
}
del P


def allowed_roles(operation_id: str) -> list[Role]:
    """The roles that may call an operation (every role for a public one)."""
    if operation_id in PUBLIC:
        return list(Role)
    return roles_with(OPERATIONS[operation_id])


def matrix() -> dict[str, dict[Role, bool]]:
    """The role × operation table: operationId → role → allowed."""
    every = sorted(PUBLIC | OPERATIONS.keys())
    return {op: {role: role in allowed_roles(op) for role in Role} for op in every}


def allows(role: Role, permission: Permission) -> bool:
    """Whether a role carries a permission."""
    return permission in ROLE_PERMISSIONS[role]


def roles_with(permission: Permission) -> list[Role]:
    """The roles that carry a permission, in declaration order."""
    return [role for role in Role if permission in ROLE_PERMISSIONS[role]]
