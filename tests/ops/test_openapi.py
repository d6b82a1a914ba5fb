"""The committed OpenAPI document is the app's, and reads well for a generated client."""

from __future__ import annotations

import json

from app.main import create_app
from app.openapi import export
from tests.conftest import ROOT, make_settings

SPEC_FILE = ROOT / "openapi" / "openapi.json"


def _spec() -> dict:
    return json.loads(export(create_app(make_settings("sqlite+aiosqlite:///./var/unused.db"))))


def test_committed_openapi_equals_the_app() -> None:
    current = export(create_app(make_settings("sqlite+aiosqlite:///./var/unused.db")))
    committed = SPEC_FILE.read_text(encoding="utf-8")
    assert committed == current, (
        "openapi/openapi.json is stale: run `claimdesk openapi > openapi/openapi.json`"
    )


def test_every_operation_has_id_summary_description_and_problems() -> None:
    spec = _spec()
    seen_ids = set()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            assert op.get("operationId"), where
            assert "_" in op["operationId"] and op["operationId"] not in seen_ids, where
            seen_ids.add(op["operationId"])
            assert op.get("summary"), where
            assert op.get("description"), where
            if path.startswith("/v1/"):
                responses = op["responses"]
                for status in ("401", "403", "422"):
                    assert status in responses, f"{where} lacks {status}"
                for status, response in responses.items():
                    if int(status) >= 400:
                        assert list(response["content"]) == ["application/problem+json"], where
                assert op.get("security"), where


def test_request_bodies_have_examples() -> None:
    spec = _spec()
    schemas = spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody")
            if body:
                ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                assert schemas[ref].get("examples"), f"{method.upper()} {path} body has no example"
