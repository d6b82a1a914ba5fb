"""Operations endpoints, problem responses for unknown routes, request ids, metrics, docs."""

from __future__ import annotations

import httpx

from tests.claims.helpers import assert_problem


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_checks_database_and_migrations(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok"}


async def test_readyz_is_503_when_schema_is_behind(client: httpx.AsyncClient, app) -> None:
    app.state.alembic_heads = {"not-a-revision"}
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"


async def test_unknown_route_is_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/nothing-here"), 404)


async def test_wrong_method_is_405_problem(client: httpx.AsyncClient) -> None:
    response = await client.delete("/healthz")
    assert_problem(response, 405)
    assert "GET" in response.headers["allow"]


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32


async def test_metrics_count_by_route_template(client: httpx.AsyncClient, keys) -> None:
    await client.get("/v1/claims/CLM-404/progress", headers=keys["portal"])
    text = (await client.get("/metrics")).text
    assert (
        'claimdesk_http_requests_total{method="GET",route="/v1/claims/{claim_no}/progress",status="404"}'
        in text
    )
    assert "claimdesk_http_request_duration_seconds_bucket" in text


async def test_docs_are_served_without_a_cdn(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    asset = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    assert (await client.get("/docs/assets/swagger-ui.css")).status_code == 200
