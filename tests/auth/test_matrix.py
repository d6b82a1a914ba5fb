"""The authorization matrix: every operation of the OpenAPI, called with every role and no key.

`app.auth.roles` is the single source of truth (operationId → permission, role → permissions).
This test reads the operations from the served OpenAPI document, so an operation missing from
the table fails it, and checks for each one that the roles the table allows get past
authorization, every other role gets 403 naming itself, and no key or a bad key gets 401.
It also pins the contract's rules (api-contract.md "roles") so that a grant added to the table
by mistake fails here too.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.auth.roles import OPERATIONS, PUBLIC, Role, allowed_roles, matrix
from app.classification import service as classification_service
from app.core.errors import Conflict

ROLES = [role.value for role in Role]
PATH_VALUES = {
    "claim_no": "CLM-MATRIX",
    "complaint_id": "999999",
    "follow_up_id": "999999",
    "action_id": "999999",
    "subscription_id": "999999",
    "delivery_id": "999999",
}


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(operationId, method, concrete path, has a body) for every operation."""
    found = []
    for template, item in spec["paths"].items():
        for method, operation in item.items():
            path = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], template)
            found.append(
                (operation["operationId"], method.upper(), path, "requestBody" in operation)
            )
    return sorted(found)


@pytest.fixture
def no_retrain(monkeypatch: pytest.MonkeyPatch) -> None:
    """An authorized retrain answers 409 at once instead of training a model."""

    async def refuse(*_args: object, **_kwargs: object) -> None:
        raise Conflict("matrix probe: authorization passed")

    monkeypatch.setattr(classification_service, "retrain", refuse)


async def _call(
    client: httpx.AsyncClient, method: str, path: str, has_body: bool, headers: dict[str, str]
) -> httpx.Response:
    # A body that never validates: an authorized call ends in 422 before doing anything.
    kwargs: dict[str, Any] = {"json": []} if has_body else {}
    return await client.request(method, path, headers=headers, **kwargs)


@pytest.mark.usefixtures("no_retrain")
async def test_every_operation_with_every_role_and_without_a_key(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    spec = (await client.get("/openapi.json")).json()
    operations = _operations(spec)
    served = {op for op, *_ in operations}
    assert served - (OPERATIONS.keys() | PUBLIC) == set(), "operations missing from the table"
    assert (OPERATIONS.keys() | PUBLIC) - served == set(), "table entries with no operation"

    failures: list[str] = []
    for op, method, path, has_body in operations:
        allowed = {role.value for role in allowed_roles(op)}
        for role in ROLES:
            response = await _call(client, method, path, has_body, keys[role])
            status = response.status_code
            if status >= 500:
                failures.append(f"{op} as {role}: {status}")
            elif role in allowed and status in (401, 403):
                failures.append(f"{op} as {role}: {status}, expected to pass authorization")
            elif role not in allowed:
                if status != 403:
                    failures.append(f"{op} as {role}: {status}, expected 403")
                elif role not in response.json()["detail"]:
                    failures.append(f"{op} as {role}: 403 does not name the role")
        for label, headers in (
            ("no key", {}),
            ("unknown key", {"Authorization": "Bearer cdk_unknown"}),
            ("basic auth", {"Authorization": "Basic dXNlcjpwdw=="}),
        ):
            response = await _call(client, method, path, has_body, headers)
            if op in PUBLIC:
                status = response.status_code
                if status in (401, 403) or (status >= 500 and status != 503):
                    failures.append(f"{op} with {label}: {response.status_code}")
            elif response.status_code != 401:
                failures.append(f"{op} with {label}: {response.status_code}, expected 401")
            elif "Bearer" not in response.headers.get("www-authenticate", ""):
                failures.append(f"{op} with {label}: 401 without WWW-Authenticate")
    assert failures == []


async def test_every_operation_documents_its_roles_and_refusals(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for item in spec["paths"].values():
        for operation in item.values():
            op = operation["operationId"]
            if op in PUBLIC:
                continue
            roles = ", ".join(f"`{role.value}`" for role in allowed_roles(op))
            assert f"**Roles:** {roles}." in operation["description"], op
            for status in ("401", "403", "429"):
                assert status in operation["responses"], (op, status)
            assert "Retry-After" in operation["responses"]["429"]["headers"], op


def _granted(role: Role) -> set[str]:
    return {op for op, row in matrix().items() if row[role]}


def test_the_table_keeps_the_contracts_role_rules() -> None:
    every = set(matrix())
    # portal: claim progress read only (and the taxonomy's labels to show it)
    assert _granted(Role.portal) - PUBLIC == {
        "claims_get_progress",
        "claims_stream_progress",
        "classification_get_taxonomy",
    }
    # claims_system: claims read/write
    assert {op for op in _granted(Role.claims_system) - PUBLIC} == {
        "claims_upsert",
        "claims_list",
        "claims_get",
        "claims_record_stage_event",
        "claims_get_progress",
        "claims_stream_progress",
        "classification_get_taxonomy",
    }
    # supervisor: everything of call_center, plus reports, override, assignment
    assert _granted(Role.call_center) < _granted(Role.supervisor)
    assert {op for op in every if op.startswith("reports_")} <= _granted(Role.supervisor)
    assert not {op for op in every if op.startswith("reports_")} & _granted(Role.call_center)
    assert "complaints_override_classification" in _granted(Role.supervisor)
    assert "complaints_override_classification" not in _granted(Role.call_center)
    # admin: everything; keys, webhooks and retraining are admin's alone
    assert _granted(Role.admin) == every
    admin_only = {op for op in every if op.startswith("webhooks_")} | {"classification_retrain"}
    for role in Role:
        if role is not Role.admin:
            assert not admin_only & _granted(role), role
