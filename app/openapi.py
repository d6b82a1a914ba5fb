"""The OpenAPI document as a product: problem responses, security, stable export."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.auth.roles import OPERATIONS, allowed_roles
from app.core.errors import PROBLEM_JSON, Problem, ProblemError, problem_doc_responses

DESCRIPTION = """\
claimdesk handles motor-insurance **claim complaints**: the core claims system pushes claims and
their stage changes, the call centre files and follows complaints, the customer portal reads a
claim's live progress.

* Authenticate with `Authorization: Bearer <api key>` (made by `claimdesk keys create`).
* Each key may make `CLAIMDESK_RATE_LIMIT_PER_MINUTE` requests a minute (or its own limit);
  beyond that the answer is 429 with `Retry-After`.
* Each operation's description names the roles that may call it.
* Errors are RFC 9457 `application/problem+json`.
* `Accept-Language: zh-Hans | zh-Hant | en` selects labels; codes never change.
"""

TAGS = [
    {"name": "claims", "description": "Claims and their stages, deadlines and progress."},
    {"name": "complaints", "description": "Complaint intake, lifecycle, assignment, timeline."},
    {"name": "classification", "description": "The cause taxonomy and classification."},
    {"name": "operations", "description": "Health, readiness and metrics."},
]


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """Generate the spec once and post-process it into its published shape."""
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(
        title="claimdesk",
        version=app.version,
        description=DESCRIPTION,
        routes=app.routes,
        tags=TAGS,
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["ProblemError"] = ProblemError.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    problem.pop("$defs", None)
    schemas["Problem"] = problem
    ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values():
            _document_access(operation)
            for status, response in operation.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400 and status != "503":
                    response["content"] = {PROBLEM_JSON: {"schema": ref}}
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    app.openapi_schema = spec
    return spec


def _document_access(operation: dict[str, Any]) -> None:
    """Name the roles that may call a protected operation and document its 429."""
    op = operation.get("operationId")
    if op not in OPERATIONS:
        return
    roles = ", ".join(f"`{role.value}`" for role in allowed_roles(op))
    text = operation.get("description", "").rstrip()
    operation["description"] = f"{text}\n\n**Roles:** {roles}.".lstrip()
    limited = problem_doc_responses(429)[429]
    limited["headers"] = {
        "Retry-After": {
            "description": "Seconds until the key's next one-minute window.",
            "schema": {"type": "integer", "minimum": 1},
        }
    }
    operation.setdefault("responses", {})["429"] = limited


def export(app: FastAPI) -> str:
    """The spec as committed in openapi/openapi.json (stable key order, UTF-8, newline)."""
    return json.dumps(build_openapi(app), indent=2, ensure_ascii=False) + "\n"
