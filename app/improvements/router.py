"""Improvement action API (supervisors)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from app.auth.dependencies import Caller
from app.auth.service import Actor
from app.classification.schemas import SubcauseCode
from app.core.concurrency import IfMatch, expected_version, versioned_json
from app.core.db import ReadSession, WriteSession
from app.core.deps import Now, RequestId
from app.core.errors import problem_doc_responses
from app.core.fields import MAX_ID
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.improvements import service
from app.improvements.schemas import (
    ImprovementCreate,
    ImprovementPage,
    ImprovementRead,
    ImprovementUpdate,
)

router = APIRouter(prefix="/v1/improvement-actions", tags=["improvement actions"])

ActionId = Annotated[int, Path(ge=1, le=MAX_ID, description="The improvement action's id.")]


@router.post(
    "",
    operation_id="improvements_create",
    summary="Create an improvement action",
    status_code=201,
    response_model=ImprovementRead,
    responses=problem_doc_responses(400, 401, 403, 413, 422),
)
async def create_action(
    body: ImprovementCreate,
    principal: Caller,
    session: WriteSession,
    now: Now,
    request_id: RequestId,
) -> Response:
    """A change to prevent a cause from recurring, with owner and due date, linked to the
    complaints that fed it (each complaint's timeline shows the link)."""
    read = await service.create(session, body=body, actor=Actor(principal, request_id), now=now)
    return versioned_json(read, 201)


@router.get(
    "",
    operation_id="improvements_list",
    summary="List improvement actions",
    response_model=ImprovementPage,
    responses=problem_doc_responses(401, 403, 422),
)
async def list_actions(
    principal: Caller,
    session: ReadSession,
    now: Now,
    status: Literal["open", "in_progress", "done", "cancelled"] | None = None,
    subcause: SubcauseCode | None = None,
    owner: Annotated[str | None, Query(max_length=100)] = None,
    complaint_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> ImprovementPage:
    """By due date; filter by status, sub-cause, owner, linked complaint and overdue."""
    return await service.list_actions(
        session,
        filters=service.ImprovementFilter(
            status=status,
            subcause=subcause,
            owner=owner,
            complaint_id=complaint_id,
            overdue=overdue,
        ),
        limit=limit,
        cursor=cursor,
        now=now,
    )


@router.get(
    "/{action_id}",
    operation_id="improvements_get",
    summary="Get an improvement action",
    response_model=ImprovementRead,
    responses=problem_doc_responses(401, 403, 404, 422),
)
async def get_action(
    action_id: ActionId, principal: Caller, session: ReadSession, now: Now
) -> Response:
    """One action with its linked complaints and `ETag`."""
    return versioned_json(await service.get(session, action_id=action_id, now=now))


@router.patch(
    "/{action_id}",
    operation_id="improvements_update",
    summary="Update an improvement action",
    response_model=ImprovementRead,
    responses=problem_doc_responses(400, 401, 403, 404, 409, 412, 422),
)
async def update_action(
    action_id: ActionId,
    body: ImprovementUpdate,
    principal: Caller,
    session: WriteSession,
    now: Now,
    request_id: RequestId,
    if_match: IfMatch = None,
) -> Response:
    """Edit, move `status` (open → in_progress → done, or cancelled; done needs `outcome`;
    409 names the allowed statuses) or replace `complaint_ids`. A stale `If-Match` is 412."""
    read = await service.update(
        session,
        action_id=action_id,
        body=body,
        expected_version=expected_version(if_match),
        actor=Actor(principal, request_id),
        now=now,
    )
    return versioned_json(read)


@router.delete(
    "/{action_id}",
    operation_id="improvements_delete",
    summary="Delete an improvement action",
    status_code=204,
    response_class=Response,
    responses=problem_doc_responses(401, 403, 404, 412, 422),
)
async def delete_action(
    action_id: ActionId,
    principal: Caller,
    session: WriteSession,
    now: Now,
    request_id: RequestId,
    if_match: IfMatch = None,
) -> Response:
    """Remove an action recorded by mistake; linked complaints' timelines record it."""
    await service.remove(
        session,
        action_id=action_id,
        expected_version=expected_version(if_match),
        actor=Actor(principal, request_id),
        now=now,
    )
    return Response(status_code=204)
