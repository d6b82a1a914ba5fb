"""Survey API: record a survey; supervisors review them (dissatisfied ones first of all)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth.dependencies import Caller
from app.auth.service import Actor
from app.complaints.router import ComplaintId
from app.core.db import ReadSession, WriteSession
from app.core.deps import IdempotencyKey, Now, RequestId
from app.core.errors import problem_doc_responses
from app.core.fields import MAX_ID, DateTimeQuery
from app.core.idempotency import run_once
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.surveys import service
from app.surveys.rules import Method
from app.surveys.schemas import SurveyCreate, SurveyPage, SurveyRead

router = APIRouter(prefix="/v1", tags=["surveys"])


@router.post(
    "/complaints/{complaint_id}/surveys",
    operation_id="surveys_create",
    summary="Record a satisfaction survey",
    status_code=201,
    response_model=SurveyRead,
    responses=problem_doc_responses(400, 401, 403, 404, 409, 413, 422),
)
async def create_survey(
    complaint_id: ComplaintId,
    body: SurveyCreate,
    request: Request,
    principal: Caller,
    session: WriteSession,
    now: Now,
    request_id: RequestId,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """By questionnaire or phone callback, score 1–5, resolved yes or no. One survey per
    method per resolution round (409 for a second); the complaint must be resolved or closed
    as completed (409 otherwise). A dissatisfied survey (score ≤ 2 or not resolved) reopens
    the complaint when `CLAIMDESK_DISSATISFIED_SURVEY_REOPENS` is on (the default), and is
    listed for supervisors. Retry-safe with `Idempotency-Key`."""
    settings = request.app.state.settings
    actor = Actor(principal, request_id)

    async def create() -> tuple[int, bytes]:
        read = await service.create(
            session,
            complaint_id=complaint_id,
            body=body,
            actor=actor,
            now=now,
            ctx=request.app.state.deadlines,
            reopen_when_dissatisfied=settings.dissatisfied_survey_reopens,
        )
        return 201, read.model_dump_json().encode()

    status_code, payload = await run_once(
        await session.connection(),
        owner=principal.name,
        operation="POST:/v1/complaints/surveys",
        key=idempotency_key,
        body={"complaint_id": complaint_id, **body.model_dump(mode="json")},
        now=now,
        ttl=settings.idempotency_ttl,
        create=create,
    )
    return Response(payload, status_code=status_code, media_type="application/json")


@router.get(
    "/surveys",
    operation_id="surveys_list",
    summary="List satisfaction surveys",
    response_model=SurveyPage,
    responses=problem_doc_responses(401, 403, 422),
)
async def list_surveys(
    principal: Caller,
    session: ReadSession,
    dissatisfied: bool | None = None,
    method: Method | None = None,
    complaint_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    created_from: DateTimeQuery | None = None,
    created_to: DateTimeQuery | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> SurveyPage:
    """Newest first; `dissatisfied=true` is the supervisor's review queue."""
    return await service.list_surveys(
        session,
        filters=service.SurveyFilter(
            dissatisfied=dissatisfied,
            method=method.value if method else None,
            complaint_id=complaint_id,
            created_from=created_from,
            created_to=created_to,
        ),
        limit=limit,
        cursor=cursor,
    )
