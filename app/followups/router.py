"""Follow-up API: add to a complaint, complete or reschedule, and the work list."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from app.auth.dependencies import Caller
from app.auth.service import Actor
from app.complaints.router import ComplaintId
from app.core.concurrency import IfMatch, expected_version, versioned_json
from app.core.db import ReadSession, WriteSession
from app.core.deps import IdempotencyKey, Now, RequestId
from app.core.errors import problem_doc_responses
from app.core.fields import MAX_ID, DateTimeQuery
from app.core.idempotency import run_once
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.followups import service
from app.followups.rules import Kind
from app.followups.schemas import FollowUpCreate, FollowUpPage, FollowUpRead, FollowUpUpdate

router = APIRouter(prefix="/v1", tags=["follow-ups"])

FollowUpId = Annotated[int, Path(ge=1, le=MAX_ID, description="The follow-up's id.")]


@router.post(
    "/complaints/{complaint_id}/follow-ups",
    operation_id="follow_ups_create",
    summary="Add a follow-up to a complaint",
    status_code=201,
    response_model=FollowUpRead,
    responses=problem_doc_responses(400, 401, 403, 404, 409, 413, 422),
)
async def create_follow_up(
    complaint_id: ComplaintId,
    body: FollowUpCreate,
    request: Request,
    principal: Caller,
    session: WriteSession,
    now: Now,
    request_id: RequestId,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Contact, analysis, resolution proposal, third-party assessment (with its assessor),
    callback or note, with an optional due time and assignee. Every status but `closed`
    takes follow-ups (409 otherwise). A third-party assessment with `notified: true` pauses
    the reply limit until its result is recorded; `new_materials: true` restarts the reply
    period. Retry-safe with `Idempotency-Key`."""
    actor = Actor(principal, request_id)

    async def create() -> tuple[int, bytes]:
        read = await service.create(
            session,
            complaint_id=complaint_id,
            body=body,
            actor=actor,
            now=now,
            ctx=request.app.state.deadlines,
        )
        return 201, read.model_dump_json().encode()

    status_code, payload = await run_once(
        await session.connection(),
        owner=principal.name,
        operation="POST:/v1/complaints/follow-ups",
        key=idempotency_key,
        body={"complaint_id": complaint_id, **body.model_dump(mode="json")},
        now=now,
        ttl=request.app.state.settings.idempotency_ttl,
        create=create,
    )
    return Response(payload, status_code=status_code, media_type="application/json")


@router.get(
    "/follow-ups",
    operation_id="follow_ups_list",
    summary="List follow-ups (the work list)",
    response_model=FollowUpPage,
    responses=problem_doc_responses(401, 403, 422),
)
async def list_follow_ups(
    principal: Caller,
    session: ReadSession,
    now: Now,
    assignee: Annotated[str | None, Query(max_length=100)] = None,
    status: Literal["open", "done", "cancelled"] | None = None,
    kind: Kind | None = None,
    complaint_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    due_before: Annotated[DateTimeQuery | None, Query(description="Due strictly before.")] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> FollowUpPage:
    """By due time (open-ended ones last), then id; filter by assignee, status, kind,
    complaint, due-before and overdue (open and past due)."""
    return await service.work_list(
        session,
        filters=service.WorkListFilter(
            assignee=assignee,
            status=status,
            kind=kind.value if kind else None,
            complaint_id=complaint_id,
            due_before=due_before,
            overdue=overdue,
        ),
        limit=limit,
        cursor=cursor,
        now=now,
    )


@router.get(
    "/follow-ups/{follow_up_id}",
    operation_id="follow_ups_get",
    summary="Get a follow-up",
    response_model=FollowUpRead,
    responses=problem_doc_responses(401, 403, 404, 422),
)
async def get_follow_up(
    follow_up_id: FollowUpId, principal: Caller, session: ReadSession, now: Now
) -> Response:
    """One follow-up, with its `ETag` for `If-Match`."""
    return versioned_json(await service.get(session, follow_up_id=follow_up_id, now=now))


@router.patch(
    "/follow-ups/{follow_up_id}",
    operation_id="follow_ups_update",
    summary="Complete, cancel, reschedule or reassign a follow-up",
    response_model=FollowUpRead,
    responses=problem_doc_responses(400, 401, 403, 404, 409, 412, 422),
)
async def update_follow_up(
    follow_up_id: FollowUpId,
    body: FollowUpUpdate,
    request: Request,
    principal: Caller,
    session: WriteSession,
    now: Now,
    request_id: RequestId,
    if_match: IfMatch = None,
) -> Response:
    """`status: done` (with `outcome`; a third-party assessment also with `result_amount`) or
    `cancelled`; `due_at` reschedules, `assignee` reassigns. Only an open follow-up changes: a
    done or cancelled one is final (409). A stale `If-Match` is 412."""
    read = await service.update(
        session,
        follow_up_id=follow_up_id,
        body=body,
        expected_version=expected_version(if_match),
        actor=Actor(principal, request_id),
        now=now,
        ctx=request.app.state.deadlines,
    )
    return versioned_json(read)
