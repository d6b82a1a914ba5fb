"""Complaints API: thin routes over complaints.service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from app.auth.dependencies import Caller
from app.auth.roles import Permission, allows
from app.auth.service import Actor
from app.classification.schemas import ClassificationOverrideCreate
from app.complaints import service
from app.complaints.schemas import (
    Channel,
    ComplaintCreate,
    ComplaintPage,
    ComplaintPatch,
    ComplaintRead,
    Timeline,
    TransitionCreate,
)
from app.core.concurrency import IfMatch, expected_version, versioned_json
from app.core.db import PointReadSession, WriteSession
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
from app.core.fields import MAX_ID, DateTimeQuery
from app.core.idempotency import validate_key
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/v1/complaints", tags=["complaints"])

ComplaintId = Annotated[int, Path(ge=1, le=MAX_ID, description="The complaint's id.")]


def _ctx(request: Request) -> Any:
    return request.app.state.deadlines


@router.post(
    "",
    operation_id="complaints_create",
    summary="File a complaint",
    status_code=201,
    response_model=ComplaintRead,
    responses=problem_doc_responses(400, 401, 403, 413, 422),
)
async def create_complaint(
    body: ComplaintCreate,
    request: Request,
    principal: Caller,
    idempotency_key: IdempotencyKey = None,
    accept_language: AcceptLanguage = None,
) -> Response:
    """Intake: classify, prioritise, set the due dates and record the complaint atomically."""
    settings = request.app.state.settings
    # Classified before the write: the model's work holds no lock and no transaction open.
    classification = request.app.state.classifier.classify(body.text)
    status_code, payload = await service.intake(
        request.app.state.db,
        body=body,
        raw_body=body.model_dump(mode="json"),
        idempotency_key=validate_key(idempotency_key) if idempotency_key is not None else None,
        actor=Actor(principal, request.state.request_id),
        now=now_of(request),
        ctx=_ctx(request),
        cfg=service.IntakeSettings(
            amount_threshold=settings.priority_amount_threshold,
            idempotency_ttl=settings.idempotency_ttl,
        ),
        lang=lang_of(request, accept_language),
        classification=classification,
    )
    response = Response(payload, status_code=status_code, media_type="application/json")
    return response


@router.get(
    "",
    operation_id="complaints_list",
    summary="List complaints",
    response_model=ComplaintPage,
    responses=problem_doc_responses(401, 403, 422),
)
async def list_complaints(
    request: Request,
    principal: Caller,
    now: Now,
    lang: Language,
    status: Annotated[
        str | None,
        Query(
            pattern="^(received|acknowledged|investigating|resolution_proposed|resolved|closed)$"
        ),
    ] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    subcause: Annotated[str | None, Query(max_length=60)] = None,
    channel: Channel | None = None,
    priority: Annotated[str | None, Query(pattern="^(low|normal|high|urgent)$")] = None,
    assignee: Annotated[str | None, Query(max_length=100)] = None,
    claim_no: Annotated[str | None, Query(max_length=40)] = None,
    overdue: bool | None = None,
    received_from: DateTimeQuery | None = None,
    received_to: DateTimeQuery | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="Text search")] = (
        None
    ),
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Complaints newest first with the contract's filters, in cursor pages."""
    filters = service.ComplaintFilter(
        status=status,
        category=category,
        subcause=subcause,
        channel=channel.value if channel else None,
        priority=priority,
        assignee=assignee,
        claim_no=claim_no,
        overdue=overdue,
        received_from=received_from,
        received_to=received_to,
        q=q,
    )

    page = await service.list_complaints(
        request.app.state.db, filters=filters, limit=limit, cursor=cursor, lang=lang, now=now
    )
    return Response(page, media_type="application/json")


@router.get(
    "/{complaint_id}",
    operation_id="complaints_get",
    summary="Get a complaint",
    response_model=ComplaintRead,
    responses=problem_doc_responses(401, 403, 404, 422),
)
async def get_complaint(
    complaint_id: ComplaintId,
    request: Request,
    principal: Caller,
    session: PointReadSession,
    now: Now,
    lang: Language,
) -> Response:
    """One complaint with its cause, priority, deadlines and allowed actions (with ETag)."""
    read = await service.get_complaint(
        session, complaint_id=complaint_id, ctx=_ctx(request), lang=lang, now=now
    )
    return versioned_json(read)


@router.patch(
    "/{complaint_id}",
    operation_id="complaints_update",
    summary="Update a complaint",
    response_model=ComplaintRead,
    responses=problem_doc_responses(400, 401, 403, 404, 412, 422),
)
async def patch_complaint(
    complaint_id: ComplaintId,
    body: ComplaintPatch,
    request: Request,
    principal: Caller,
    session: WriteSession,
    now: Now,
    lang: Language,
    request_id: RequestId,
    if_match: IfMatch = None,
) -> Response:
    """Assign a handler and team or set priority (supervisor); edit contact and notes."""
    read = await service.patch_complaint(
        session,
        complaint_id=complaint_id,
        body=body,
        expected_version=expected_version(if_match),
        actor=Actor(principal, request_id),
        can_assign=allows(principal.role, Permission.complaints_assign),
        now=now,
        ctx=_ctx(request),
        lang=lang,
    )
    return versioned_json(read)


@router.post(
    "/{complaint_id}/transitions",
    operation_id="complaints_apply_action",
    summary="Apply a lifecycle action",
    response_model=ComplaintRead,
    responses=problem_doc_responses(400, 401, 403, 404, 409, 412, 422),
)
async def apply_action(
    complaint_id: ComplaintId,
    body: TransitionCreate,
    request: Request,
    principal: Caller,
    session: WriteSession,
    now: Now,
    lang: Language,
    request_id: RequestId,
    if_match: IfMatch = None,
) -> Response:
    """Acknowledge, investigate, propose, resolve, close, reopen, escalate or extend.
    `resolve` needs a `resolution_proposal` follow-up in the current round (409 naming what is
    missing) and schedules a `callback` follow-up to check the remedy."""
    read = await service.apply_action(
        session,
        complaint_id=complaint_id,
        body=body,
        expected_version=expected_version(if_match),
        actor=Actor(principal, request_id),
        now=now,
        ctx=_ctx(request),
        lang=lang,
        callback_delay=request.app.state.settings.callback_delay,
    )
    return versioned_json(read)


@router.put(
    "/{complaint_id}/classification",
    operation_id="complaints_override_classification",
    summary="Correct a complaint's cause",
    response_model=ComplaintRead,
    responses=problem_doc_responses(400, 401, 403, 404, 412, 422),
)
async def override_classification(
    complaint_id: ComplaintId,
    body: ClassificationOverrideCreate,
    request: Request,
    principal: Caller,
    session: WriteSession,
    now: Now,
    lang: Language,
    request_id: RequestId,
    if_match: IfMatch = None,
) -> Response:
    """A supervisor's override: the complaint is counted under the new cause from now on,
    the timeline records who changed it and why, and the text becomes a labelled example for
    the next retrain (`POST /v1/classifier/retrain`)."""
    read = await service.override_classification(
        session,
        complaint_id=complaint_id,
        body=body,
        expected_version=expected_version(if_match),
        actor=Actor(principal, request_id),
        now=now,
        ctx=_ctx(request),
        lang=lang,
    )
    return versioned_json(read)


@router.get(
    "/{complaint_id}/timeline",
    operation_id="complaints_get_timeline",
    summary="Get a complaint's timeline",
    response_model=Timeline,
    responses=problem_doc_responses(401, 403, 404, 422),
)
async def get_timeline(
    complaint_id: ComplaintId, principal: Caller, session: PointReadSession
) -> Timeline:
    """Every event of the complaint in order (intake, classification, actions) with actor, time."""
    return await service.timeline(session, complaint_id=complaint_id)
