"""Claims API: thin routes over claims.service."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from sse_starlette import EventSourceResponse

from app.auth.dependencies import Caller, bearer_key
from app.auth.service import Actor
from app.claims import service, stream
from app.claims.schemas import (
    CLAIM_NO_PATTERN,
    ClaimPage,
    ClaimRead,
    ClaimUpsert,
    ProgressRead,
    StageEventCreate,
    StageEventRead,
    progress_event_schema,
)
from app.claims.stages import Stage
from app.core.concurrency import IfMatch, etag, expected_version
from app.core.db import ReadSession, Transaction, WriteSession
from app.core.deps import (
    AcceptLanguage,
    IdempotencyKey,
    Language,
    Now,
    RequestId,
    lang_of,
    now_of,
)
from app.core.errors import problem_doc_responses
from app.core.idempotency import run_once
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/v1/claims", tags=["claims"])

ClaimNoPath = Annotated[
    str,
    Path(
        pattern=CLAIM_NO_PATTERN,
        description="The core claims system's claim number (ASCII letters, digits, `.`, `_`, `-`).",
        examples=["CLM-2026-000123"],
    ),
]


async def _ctx(request: Request) -> service.DeadlineContext:
    return request.app.state.deadlines


Ctx = Annotated[service.DeadlineContext, Depends(_ctx)]


@router.put(
    "/{claim_no}",
    operation_id="claims_upsert",
    summary="Create or update a claim",
    response_model=ClaimRead,
    status_code=200,
    responses={
        201: {"description": "Created", "model": ClaimRead},
        **problem_doc_responses(400, 401, 403, 412, 413, 422),
    },
)
async def upsert_claim(
    claim_no: ClaimNoPath,
    body: ClaimUpsert,
    response: Response,
    principal: Caller,
    session: WriteSession,
    now: Now,
    lang: Language,
    ctx: Ctx,
    request_id: RequestId,
    if_match: IfMatch = None,
) -> ClaimRead:
    """Create a claim (201) or replace its details (200) as the core claims system holds them."""
    claim, created = await service.upsert_claim(
        session,
        claim_no=claim_no,
        body=body,
        expected_version=expected_version(if_match),
        actor=Actor(principal, request_id),
        now=now,
        ctx=ctx,
        lang=lang,
    )
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag(claim.version)
    if created:
        response.headers["Location"] = f"/v1/claims/{claim_no}"
    return claim


@router.get(
    "",
    operation_id="claims_list",
    summary="List claims",
    response_model=ClaimPage,
    responses=problem_doc_responses(401, 403, 422),
)
async def list_claims(
    principal: Caller,
    session: ReadSession,
    now: Now,
    lang: Language,
    stage: Annotated[Stage | None, Query(description="Only claims in this stage.")] = None,
    overdue: Annotated[
        bool | None,
        Query(description="Only claims with (true) or without (false) an overdue deadline."),
    ] = None,
    region: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ClaimPage:
    """Claims newest first, filtered by stage, overdue and region, in cursor pages."""
    return await service.list_claims(
        session,
        stage=stage,
        overdue=overdue,
        region=region,
        limit=limit,
        cursor=cursor,
        lang=lang,
        now=now,
    )


@router.get(
    "/{claim_no}",
    operation_id="claims_get",
    summary="Get a claim",
    response_model=ClaimRead,
    responses=problem_doc_responses(401, 403, 404, 422),
)
async def get_claim(
    claim_no: ClaimNoPath,
    response: Response,
    principal: Caller,
    session: ReadSession,
    now: Now,
    lang: Language,
    ctx: Ctx,
) -> ClaimRead:
    """The claim with its stage, full stage history and deadlines (with ETag)."""
    claim = await service.get_claim(session, claim_no=claim_no, lang=lang, now=now, ctx=ctx)
    response.headers["ETag"] = etag(claim.version)
    return claim


@router.post(
    "/{claim_no}/stage-events",
    operation_id="claims_record_stage_event",
    summary="Record a stage change",
    response_model=StageEventRead,
    status_code=201,
    responses={
        200: {
            "description": "This event_id was already recorded; nothing changed",
            "model": StageEventRead,
        },
        **problem_doc_responses(400, 401, 403, 404, 409, 412, 413, 422),
    },
)
async def record_stage_event(
    claim_no: ClaimNoPath,
    body: StageEventCreate,
    request: Request,
    principal: Caller,
    conn: Transaction,
    if_match: IfMatch = None,
    accept_language: AcceptLanguage = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Move the claim to a stage; 409 names the allowed next stages when the move is illegal.
    Retry-safe by `event_id` (recorded once) and by `Idempotency-Key` (the first response)."""
    # Hot write path: clock, language and rules come off the app state rather than through
    # dependencies, and the result is serialised once (pydantic's JSON, no re-validation).
    now = now_of(request)

    async def create() -> tuple[int, bytes]:
        result, created = await service.record_stage_event(
            conn,
            claim_no=claim_no,
            body=body,
            expected_version=expected_version(if_match),
            actor=Actor(principal, request.state.request_id),
            now=now,
            ctx=request.app.state.deadlines,
            lang=lang_of(request, accept_language),
        )
        return (201 if created else 200), result.model_dump_json().encode()

    status_code, payload = await run_once(
        conn,
        owner=principal.name,
        operation="POST:/v1/claims/stage-events",
        key=idempotency_key,
        body={"claim_no": claim_no, **body.model_dump(mode="json")},
        now=now,
        ttl=request.app.state.settings.idempotency_ttl,
        create=create,
    )
    return Response(
        payload,
        status_code=status_code,
        media_type="application/json",
        headers={"ETag": etag(orjson.loads(payload)["version"])},
    )


@router.get(
    "/{claim_no}/progress",
    operation_id="claims_get_progress",
    summary="Get a claim's progress (customer view)",
    response_model=ProgressRead,
    responses=problem_doc_responses(401, 403, 404, 422),
)
async def get_progress(
    claim_no: ClaimNoPath,
    request: Request,
    principal: Caller,
    accept_language: AcceptLanguage = None,
) -> Response:
    """Where the claim is, what comes next, what is missing and by when; personal data masked."""
    # The portal's hot path: one dependency (the key check), the rest read off the app state.
    lang = lang_of(request, accept_language)
    body = await service.get_progress_json(
        request.app.state.db.raw,
        claim_no=claim_no,
        lang=lang,
        now=now_of(request),
        ctx=request.app.state.deadlines,
    )
    return Response(body, media_type="application/json", headers={"Content-Language": lang})


LastEventId = Annotated[
    str | None,
    Header(
        alias="Last-Event-ID",
        pattern=r"^[0-9]{1,9}$",
        description="The `id` of the last event received: the stream resumes after it (sent "
        "by EventSource on reconnect).",
        examples=["3"],
    ),
]

_SSE_EXAMPLE = (
    'event: progress\nid: 2\ndata: {"claim_no":"CLM-2026-000123","stage":"document_review"'
    ',...}\n\nevent: stage_changed\nid: 3\ndata: {"claim_no":"CLM-2026-000123","seq":3,'
    '"from_stage":"document_review","stage":"adjustment","progress":{...}}\n\n'
)


async def _key_still_valid(request: Request) -> bool:
    """Whether the key that opened a stream is still active (a revocation ends its streams)."""
    key = bearer_key(request)
    return key is not None and await request.app.state.keys.verify(key) is not None


@router.get(
    "/{claim_no}/progress/stream",
    operation_id="claims_stream_progress",
    summary="Stream a claim's progress (Server-Sent Events)",
    response_class=Response,
    responses={
        200: {
            "description": "An event stream: `progress` at once (the same view as GET "
            "…/progress), then `stage_changed` per move with the current view. Every event "
            "has `id:` (the claim's move number); comment lines keep an idle stream open.",
            "content": {
                "text/event-stream": {
                    "schema": progress_event_schema(),
                    "example": _SSE_EXAMPLE,
                }
            },
        },
        **problem_doc_responses(401, 403, 404, 422),
    },
)
async def stream_progress(
    claim_no: ClaimNoPath,
    request: Request,
    principal: Caller,
    accept_language: AcceptLanguage = None,
    last_event_id: LastEventId = None,
) -> Response:
    """The customer's progress view, live: sent at once, then again with every stage move;
    a reconnect with `Last-Event-ID` first replays the moves it missed."""
    resume = None if last_event_id is None else int(last_event_id)
    state = request.app.state
    raw = state.db.raw
    claim_id = await stream.claim_id_of(raw, claim_no)
    lang = lang_of(request, accept_language)
    events = stream.progress_events(
        raw,
        state.notifier,
        claim_no=claim_no,
        claim_id=claim_id,
        last_event_id=resume,
        lang=lang,
        clock=lambda: now_of(request),
        ctx=state.deadlines,
        poll_seconds=state.settings.sse_poll_seconds,
        max_seconds=state.settings.sse_max_seconds,
        still_allowed=lambda: _key_still_valid(request),
    )
    return EventSourceResponse(
        events,
        ping=state.settings.sse_heartbeat_seconds,
        headers={"Content-Language": lang, "Cache-Control": "no-store"},
    )
