"""The application factory: routers, middleware, problem handlers, lifespan."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import holidays
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.auth.dependencies import check_routes
from app.auth.ratelimit import RateLimiter, purge_windows
from app.auth.service import KeyVerifier
from app.claims import router as claims_router
from app.claims.service import DeadlineContext
from app.classification import router as classification_router
from app.classification import service as classification_service
from app.complaints import router as complaints_router
from app.complaints import service as complaints_service
from app.core import idempotency
from app.core.config import Settings, get_settings
from app.core.db import Database
from app.core.deps import system_clock
from app.core.errors import install_problem_handlers
from app.core.logging import configure_logging
from app.core.middleware import RequestMiddleware
from app.core.notify import KEYS_CHANNEL, STAGE_CHANNEL, Notifier
from app.deadlines.calendar import WorkCalendar, load_schedule_file
from app.deadlines.rules import get_profile
from app.followups import router as followups_router
from app.improvements import router as improvements_router
from app.openapi import build_openapi
from app.ops import router as ops_router
from app.ops import service as ops_service
from app.reports import router as reports_router
from app.surveys import router as surveys_router
from app.teaching import router as teaching_router
from app.webhooks import router as webhooks_router
from app.worker import Worker

VERSION = "0.1.0"


def deadline_context(settings: Settings) -> DeadlineContext:
    """The jurisdiction profile and calendar selected by settings."""
    profile = get_profile(settings.jurisdiction)
    if settings.internal_stage_days:
        profile = profile.with_internal_targets(settings.internal_stage_days)
    overrides = (
        load_schedule_file(settings.holiday_schedule_file)
        if settings.holiday_schedule_file
        else None
    )
    calendar = WorkCalendar(
        profile.calendar_country, subdiv=profile.calendar_subdiv, overrides=overrides
    )
    schedule = (
        settings.holiday_schedule_file.read_bytes() if settings.holiday_schedule_file else b""
    )
    fingerprint = hashlib.sha256(
        repr((profile, holidays.__version__)).encode() + schedule
    ).hexdigest()[:16]
    return DeadlineContext(profile=profile, calendar=calendar, fingerprint=fingerprint)


async def _maintenance(db: Database, settings: Settings) -> None:
    """Housekeeping every few minutes: expired idempotency keys and rate windows are deleted.

    Safe on several replicas at once (a DELETE of expired rows is idempotent).
    """
    while True:
        await asyncio.sleep(settings.maintenance_interval_seconds)
        try:
            async with db.transaction() as conn:
                now = system_clock()
                await idempotency.purge_expired(conn, now)
                await purge_windows(conn, now)
        except Exception:  # keep the loop alive; the next round retries
            logging.getLogger("claimdesk.maintenance").exception("maintenance round failed")


async def _follow_classifier(app: FastAPI, db: Database, settings: Settings) -> None:
    """Keep this replica on the model the database says is in use (a retrain elsewhere)."""
    while True:
        await asyncio.sleep(settings.classifier_refresh_seconds)
        try:
            await classification_service.refresh(app.state.classifier, db, settings)
        except Exception:  # keep the loop alive; the next round retries
            logging.getLogger("claimdesk.classifier").exception("classifier refresh failed")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI application for the given settings (default: the environment's)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings)
        await db.start()
        app.state.db = db
        notifier = app.state.notifier = Notifier(settings, (STAGE_CHANNEL, KEYS_CHANNEL))
        app.state.keys = KeyVerifier(
            db.raw,
            settings.key_cache_seconds,
            changes=notifier.subscribe(KEYS_CHANNEL),
            listening=lambda: notifier.listening,
        )
        app.state.rate_limiter = RateLimiter(db, default_per_minute=settings.rate_limit_per_minute)
        app.state.classifier = await classification_service.load_runtime(db, settings)
        await notifier.start()
        # Everything imported and built so far lives as long as the process: keep it out of
        # the collector's scans, which otherwise stall requests for milliseconds (p99).
        gc.collect()
        gc.freeze()
        tasks = [
            asyncio.create_task(_maintenance(db, settings)),
            asyncio.create_task(_follow_classifier(app, db, settings)),
        ]
        if db.is_sqlite:
            tasks.append(
                asyncio.create_task(
                    complaints_service.keep_text_index(db, settings.search_index_interval_seconds)
                )
            )
        worker = None
        if settings.worker_enabled:
            worker = Worker(db, settings, ctx=app.state.deadlines, clock=lambda: app.state.clock())
            tasks.append(asyncio.create_task(worker.run()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if worker is not None:
                await worker.release()
            await app.state.notifier.close()
            await db.dispose()

    app = FastAPI(
        title="claimdesk",
        version=VERSION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.clock = system_clock
    app.state.deadlines = deadline_context(settings)
    app.state.alembic_heads = ops_service.code_heads()
    install_problem_handlers(app)
    app.include_router(ops_router.router)
    app.include_router(claims_router.router)
    app.include_router(complaints_router.router)
    app.include_router(followups_router.router)
    app.include_router(surveys_router.router)
    app.include_router(improvements_router.router)
    app.include_router(teaching_router.router)
    app.include_router(reports_router.router)
    app.include_router(classification_router.router)
    app.include_router(webhooks_router.router)
    check_routes(app)
    app.mount("/docs/assets", StaticFiles(directory=ops_router.SWAGGER_ASSETS), name="docs-assets")
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    app.add_middleware(
        RequestMiddleware,
        max_body_bytes=settings.max_body_bytes,
        access_log_enabled=settings.access_log,
    )
    return app


def app_factory() -> FastAPI:
    """Entry point for uvicorn workers (`--factory`): logging set up, settings from env."""
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
