"""No stack trace leaves the process; logs are JSON with request ids and masked personal data."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from app.claims import service as claims_service
from app.core.logging import JsonFormatter
from app.core.masking import MaskingFilter
from tests.claims.helpers import assert_problem


async def test_unexpected_error_is_a_bare_500_problem(
    client: httpx.AsyncClient, keys, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    async def explode(*args, **kwargs):
        raise RuntimeError("secret internals for 13812345678")

    monkeypatch.setattr(claims_service, "get_claim", explode)
    with caplog.at_level(logging.ERROR, logger="claimdesk.errors"):
        response = await client.get(
            "/v1/claims/CLM-1", headers={**keys["supervisor"], "X-Request-ID": "req-500"}
        )
    body = assert_problem(response, 500)
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert body["title"] == "Internal error"
    # the answer and the one log record carry the request id, so support can find the trace
    assert response.headers["x-request-id"] == "req-500"
    assert "req-500" in body["detail"]
    logged = [r for r in caplog.records if "unhandled" in r.getMessage()]
    assert len(logged) == 1 and logged[0].request_id == "req-500"


@pytest.mark.parametrize("settings_overrides", [{"access_log": True}])
async def test_access_log_carries_request_id_route_and_key(
    client: httpx.AsyncClient, keys, caplog
) -> None:
    with caplog.at_level(logging.INFO, logger="claimdesk.access"):
        await client.get(
            "/v1/claims/CLM-9/progress", headers={**keys["portal"], "X-Request-ID": "req-42"}
        )
    record = next(r for r in caplog.records if r.name == "claimdesk.access")
    assert record.request_id == "req-42"
    assert record.route == "/v1/claims/{claim_no}/progress"
    assert record.status == 404
    assert record.key == "test-portal"


def test_json_formatter_masks_personal_data_in_message_and_fields() -> None:
    logger_record = logging.LogRecord(
        "claimdesk.test", logging.WARNING, __file__, 1, "caller %s", ("13812345678",), None
    )
    logger_record.note = "ID 44030119900101123X called"
    MaskingFilter().filter(logger_record)
    line = JsonFormatter().format(logger_record)
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "claimdesk.test"
    assert "13812345678" not in line and "44030119900101123X" not in line
    assert entry["message"] == "caller 138****5678"
