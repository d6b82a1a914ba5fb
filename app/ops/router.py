"""Operations: health, readiness, metrics and the self-hosted API docs."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BaseModel, Field

from app.ops import service

# Swagger UI's files ship inside a PyPI package, so /docs works on a closed network.
SWAGGER_ASSETS = Path(fastapi_offline.__file__).parent / "static"

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    """Liveness."""

    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    """Readiness with the result of each check."""

    status: str = Field(examples=["ready"])
    checks: dict[str, str] = Field(examples=[{"database": "ok", "migrations": "ok"}])


@router.get("/healthz", operation_id="ops_health", summary="Liveness", response_model=Health)
async def health() -> Response:
    """The process is up and answering."""
    return Response(b'{"status":"ok"}', media_type="application/json")


@router.get(
    "/readyz",
    operation_id="ops_ready",
    summary="Readiness",
    response_model=Readiness,
    responses={503: {"description": "Not ready", "model": Readiness}},
)
async def ready(request: Request) -> JSONResponse:
    """The database is reachable and its schema is at the migration head."""
    ok, checks = await service.readiness(request.app.state.db, request.app.state.alembic_heads)
    return JSONResponse(
        {"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503
    )


@router.get(
    "/metrics",
    operation_id="ops_metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics() -> Response:
    """Request counts and latency histograms by route template and status."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


@router.get("/docs", include_in_schema=False)
async def docs(request: Request) -> HTMLResponse:
    """Swagger UI, served with its assets from this service."""
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json",
        title="claimdesk API",
        swagger_js_url=f"{root}/docs/assets/swagger-ui-bundle.js",
        swagger_css_url=f"{root}/docs/assets/swagger-ui.css",
        swagger_favicon_url=f"{root}/docs/assets/favicon.png",
        swagger_ui_parameters={"persistAuthorization": True, "displayOperationId": True},
    )
