"""Roles and their rights: the one table the API's authorization is checked against."""

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
    keys_admin = "keys_admin"
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


def allows(role: Role, permission: Permission) -> bool:
    """Whether a role carries a permission."""
    return permission in ROLE_PERMISSIONS[role]


def roles_with(permission: Permission) -> list[Role]:
    """The roles that carry a permission, in declaration order."""
    return [role for role in Role if permission in ROLE_PERMISSIONS[role]]
