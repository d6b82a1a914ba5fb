"""The OpenAPI document as a product: problem responses, security, stable export."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.core.errors import PROBLEM_JSON, Problem, ProblemError

DESCRIPTION = """\
claimdesk handles motor-insurance **claim complaints**: the core claims system pushes claims and
their stage changes, the call centre files and follows complaints, the customer portal reads a
claim's live progress.

* Authenticate with `Authorization: Bearer <api key>` (made by `claimdesk keys create`).
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
            for status, response in operation.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400 and status != "503":
                    response["content"] = {PROBLEM_JSON: {"schema": ref}}
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    app.openapi_schema = spec
    return spec


def export(app: FastAPI) -> str:
    """The spec as committed in openapi/openapi.json (stable key order, UTF-8, newline)."""
    return json.dumps(build_openapi(app), indent=2, ensure_ascii=False) + "\n"
